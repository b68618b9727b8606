"""Recurrent cells over a whole sequence: forward / backward pairs of pure functions.

Everything here is time-major, ``(T, N, ·)``: step t is the contiguous block ``seq[t]``. The
layers (``nn101.layers.recurrent``) transpose batch-first input once at their boundary.

How the work is arranged (the matrix products dominate; the rest is Python overhead per step):

* forward: the input projection of every step, x W_ih + b, is one product before the loop; in
  the loop only h W_hh (one product for all gates) and the elementwise gate math;
* backward: the loop computes only what is sequential (dh, dc and the gate gradients of one step,
  then dh_prev = dZ_t W_hhᵀ); every factor that does not depend on dh is computed for all steps
  at once before the loop; dW_ih, dW_hh and dx are one product each after it.

Sigmoid gates use σ(z) = ½ + ½ tanh(z/2): one ``tanh`` over all gates of a step (the sigmoid
columns of the weights are halved once per call) is cheaper than exp and a division, and is
stable for any z.

Notation: x_t (N, D), h_t (N, H), gate pre-activations z_t (N, kH), dZ = dL/dz.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
]


def _project(x: np.ndarray, W_ih: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x W_ih + b for every step at once: (T, N, D) -> (T, N, G), one matrix product."""
    T, N, D = x.shape
    z = x.reshape(T * N, D) @ W_ih  # (T*N, D) @ (D, G) -> (T*N, G)
    z += b
    return z.reshape(T, N, -1)


def _input_grads(
    x: np.ndarray, dZ: np.ndarray, W_ih: np.ndarray, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dx = dZ W_ihᵀ, dW_ih = xᵀ dZ, db = Σ dZ: one product each, over all steps."""
    T, N, D = x.shape
    dZ2 = dZ.reshape(T * N, -1)  # (T*N, G)
    dW_ih = x.reshape(T * N, D).T @ dZ2  # (D, T*N) @ (T*N, G) -> (D, G)
    db = dZ2.sum(axis=0)
    dx = (dZ2 @ W_ih.T).reshape(T, N, D) if need_dx else None
    return dx, dW_ih, db


def _recurrent_weight_grad(hs: np.ndarray, dZ: np.ndarray) -> np.ndarray:
    """dW_hh = Σ_t h_(t-1)ᵀ dZ_t as one product: (H, T*N) @ (T*N, G) -> (H, G)."""
    T, N, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    return hs[:-1].reshape(T * N, H).T @ dZ.reshape(T * N, -1)


def _sequence_grad(dhs: np.ndarray | None, dh_last: np.ndarray | None, t: int, T: int) -> float:
    """The gradient arriving at h_t from outside the recurrence (0 when there is none)."""
    g = 0.0 if dhs is None else dhs[t]
    if t == T - 1 and dh_last is not None:
        g = g + dh_last
    return g


# -- vanilla RNN --------------------------------------------------------------------------------


def rnn_forward(
    x: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b: np.ndarray,
    h0: np.ndarray,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, tuple]:
    """h_t = φ(x_t W_ih + h_(t-1) W_hh + b), φ = tanh or relu.

    Shapes: x (T, N, D), W_ih (D, H), W_hh (H, H), b (H,), h0 (N, H) -> hs (T + 1, N, H)
    with hs[0] = h0 and hs[t + 1] = h_t. Returns (hs, cache).
    """
    T, N, _ = x.shape
    hs = np.empty((T + 1, N, W_hh.shape[0]), dtype=W_hh.dtype)
    hs[0] = h0
    z = _project(x, W_ih, b)  # (T, N, H)
    rec = np.empty_like(hs[0])
    for t in range(T):
        np.matmul(hs[t], W_hh, out=rec)  # (N, H) @ (H, H)
        np.add(z[t], rec, out=hs[t + 1])
        if nonlinearity == "tanh":
            np.tanh(hs[t + 1], out=hs[t + 1])
        else:
            np.maximum(hs[t + 1], 0, out=hs[t + 1])
    return hs, (x, hs, nonlinearity)


def rnn_backward(
    dhs: np.ndarray | None,
    dh_last: np.ndarray | None,
    cache: tuple,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``rnn_forward``.

    dZ_t = (dL/dh_t) ⊙ φ'(z_t), with dL/dh_t = dhs[t] + dZ_(t+1) W_hhᵀ;
    φ'(z) = 1 - h² for tanh, [h > 0] for relu.
    Shapes: dhs (T, N, H) or None, dh_last (N, H) or None (gradient of the final state).
    Returns (dx or None, dW_ih, dW_hh, db, dh0).
    """
    x, hs, nonlinearity = cache
    T = x.shape[0]
    h = hs[1:]  # (T, N, H)
    derivative = 1.0 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)
    dZ = np.empty_like(h)
    carry = np.zeros_like(hs[0])  # dL/dh_t through the recurrence
    for t in range(T - 1, -1, -1):
        carry += _sequence_grad(dhs, dh_last, t, T)
        np.multiply(carry, derivative[t], out=dZ[t])
        np.matmul(dZ[t], W_hh.T, out=carry)  # (N, H) @ (H, H)
    dx, dW_ih, db = _input_grads(x, dZ, W_ih, need_dx)
    return dx, dW_ih, _recurrent_weight_grad(hs, dZ), db, carry


# -- LSTM -----------------------------------------------------------------------------------------


def _sigmoid_scale(H: int, n_sigmoid: int, n_total: int, dtype: np.dtype) -> np.ndarray:
    """½ for the columns of sigmoid gates (σ(z) = ½ + ½ tanh(z/2)), 1 for tanh gates."""
    scale = np.ones(n_total * H, dtype=dtype)
    scale[: n_sigmoid * H] = 0.5
    return scale


def lstm_forward(
    x: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """LSTM over a sequence, gates in the column order (i, f, o, g):

        [i f o] = σ(x_t W_ih + h_(t-1) W_hh + b)[:3H],  g = tanh(...)[3H:]
        c_t = f ⊙ c_(t-1) + i ⊙ g,  h_t = o ⊙ tanh(c_t)

    Shapes: x (T, N, D), W_ih (D, 4H), W_hh (H, 4H), b (4H,), h0 and c0 (N, H)
    -> hs, cs (T + 1, N, H) with hs[0] = h0, cs[0] = c0. Returns (hs, cs, cache).
    """
    T, N, _ = x.shape
    H = W_hh.shape[0]
    scale = _sigmoid_scale(H, 3, 4, W_hh.dtype)
    a = _project(x, W_ih * scale, b * scale)  # (T, N, 4H): becomes the gate activations
    W_scaled = W_hh * scale
    hs = np.empty((T + 1, N, H), dtype=W_hh.dtype)
    cs = np.empty_like(hs)
    tanh_cs = np.empty((T, N, H), dtype=W_hh.dtype)
    hs[0], cs[0] = h0, c0
    rec, ig = np.empty((N, 4 * H), dtype=W_hh.dtype), np.empty((N, H), dtype=W_hh.dtype)
    for t in range(T):
        gates = a[t]  # (N, 4H)
        np.matmul(hs[t], W_scaled, out=rec)  # (N, H) @ (H, 4H): one product for all gates
        gates += rec
        np.tanh(gates, out=gates)
        sig = gates[:, : 3 * H]
        sig *= 0.5
        sig += 0.5  # σ(z) = ½ + ½ tanh(z/2)
        i, f, o, g = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        np.multiply(f, cs[t], out=cs[t + 1])
        np.multiply(i, g, out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    return hs, cs, (x, a, hs, cs, tanh_cs)


def _lstm_factors(a: np.ndarray, cs: np.ndarray, tanh_cs: np.ndarray) -> tuple[np.ndarray, ...]:
    """Everything in the LSTM's backward that does not depend on dh, for all steps at once.

    With c_t = f c_(t-1) + i g and h_t = o tanh(c_t):
    dc_t = dc_(t+1) f_(t+1) + dh_t ⊙ o (1 - tanh²c_t)                (K = o (1 - tanh²c))
    dz_i = dc g σ', dz_f = dc c_(t-1) σ', dz_g = dc i (1 - g²)       (P, per gate block)
    dz_o = dh tanh(c) σ'                                             (Q)
    """
    H = cs.shape[-1]
    i, f, o, g = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]
    P = np.empty(a.shape[:2] + (4, H), dtype=a.dtype)  # (T, N, 4, H)
    np.multiply(g, i - i * i, out=P[:, :, 0])
    np.multiply(cs[:-1], f - f * f, out=P[:, :, 1])
    P[:, :, 2] = 0.0  # the o gate follows dh, not dc: filled by Q in the loop
    np.multiply(i, 1.0 - g * g, out=P[:, :, 3])
    Q = tanh_cs * (o - o * o)
    K = o * (1.0 - tanh_cs * tanh_cs)
    return P, Q, K, f


def lstm_backward(
    dhs: np.ndarray | None,
    dh_last: np.ndarray | None,
    dc_last: np.ndarray | None,
    cache: tuple,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``lstm_forward``.

    Shapes: dhs (T, N, H) or None; dh_last, dc_last (N, H) or None (final-state gradients).
    Returns (dx or None, dW_ih, dW_hh, db, dh0, dc0).
    """
    x, a, hs, cs, tanh_cs = cache
    T, N, H = tanh_cs.shape
    P, Q, K, f = _lstm_factors(a, cs, tanh_cs)
    dZ = np.empty_like(a)  # (T, N, 4H): the gate gradients of every step
    dZ4 = dZ.reshape(T, N, 4, H)
    dh = np.zeros((N, H), dtype=a.dtype)  # dL/dh_t through the recurrence
    dc = np.zeros_like(dh) if dc_last is None else np.array(dc_last, dtype=a.dtype)
    tmp = np.empty_like(dh)
    for t in range(T - 1, -1, -1):
        dh += _sequence_grad(dhs, dh_last, t, T)
        if t < T - 1:
            dc *= f[t + 1]
        np.multiply(dh, K[t], out=tmp)
        dc += tmp
        np.multiply(dc[:, None, :], P[t], out=dZ4[t])  # i, f, g blocks
        np.multiply(dh, Q[t], out=dZ[t, :, 2 * H : 3 * H])  # o block
        np.matmul(dZ[t], W_hh.T, out=dh)  # (N, 4H) @ (4H, H): dh_(t-1)
    dc *= f[0]
    dx, dW_ih, db = _input_grads(x, dZ, W_ih, need_dx)
    return dx, dW_ih, _recurrent_weight_grad(hs, dZ), db, dh, dc


# -- GRU ------------------------------------------------------------------------------------------


def gru_forward(
    x: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    h0: np.ndarray,
) -> tuple[np.ndarray, tuple]:
    """GRU over a sequence, gates in the column order (r, z, n), as PyTorch:

        r = σ(x W_ir + b_ir + h W_hr + b_hr),  z = σ(x W_iz + b_iz + h W_hz + b_hz)
        n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_(t-1)

    Shapes: x (T, N, D), W_ih (D, 3H), W_hh (H, 3H), b_ih, b_hh (3H,), h0 (N, H)
    -> hs (T + 1, N, H) with hs[0] = h0. Returns (hs, cache).
    """
    T, N, _ = x.shape
    H = W_hh.shape[0]
    scale = _sigmoid_scale(H, 2, 3, W_hh.dtype)
    bias = b_ih * scale
    bias[: 2 * H] += b_hh[: 2 * H] * 0.5  # b_hr, b_hz add up; b_hn stays inside r ⊙ (·)
    a = _project(x, W_ih * scale, bias)  # (T, N, 3H): becomes r, z, n
    W_scaled, b_hn = W_hh * scale, b_hh[2 * H :]
    hs = np.empty((T + 1, N, H), dtype=W_hh.dtype)
    hn = np.empty((T, N, H), dtype=W_hh.dtype)  # h W_hn + b_hn, saved for dr
    hs[0] = h0
    rec, tmp = np.empty((N, 3 * H), dtype=W_hh.dtype), np.empty((N, H), dtype=W_hh.dtype)
    for t in range(T):
        gates = a[t]  # (N, 3H)
        np.matmul(hs[t], W_scaled, out=rec)  # (N, H) @ (H, 3H): one product for all gates
        rz = gates[:, : 2 * H]
        rz += rec[:, : 2 * H]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # σ(z) = ½ + ½ tanh(z/2)
        np.add(rec[:, 2 * H :], b_hn, out=hn[t])
        r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        np.multiply(r, hn[t], out=tmp)
        n += tmp
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=hs[t + 1])
        hs[t + 1] *= z
        hs[t + 1] += n  # n + z (h - n) = (1 - z) n + z h
    return hs, (x, a, hs, hn)


def _gru_factors(a: np.ndarray, hs: np.ndarray, hn: np.ndarray) -> tuple[np.ndarray, ...]:
    """The GRU's backward factors that do not depend on dh, for all steps at once.

    With h_t = n + z (h_(t-1) - n), for g = dL/dh_t:
    dz_n = g (1 - z)(1 - n²)                   (K1, the input-side n gradient)
    dz_z = g (h_(t-1) - n) z (1 - z)           (K2)
    dz_r = dz_n ⊙ hn ⊙ r (1 - r)               (K1 K3)
    d(hn) = dz_n ⊙ r                           (K1 r)
    dL/dh_(t-1) = g z + [dz_r, dz_z, d(hn)] W_hhᵀ
    Returns (R, K1): R (T, N, 3, H) multiplies g into [dz_r, dz_z, d(hn)].
    """
    H = hs.shape[-1]
    r, z, n = a[..., :H], a[..., H : 2 * H], a[..., 2 * H :]
    K1 = (1.0 - z) * (1.0 - n * n)
    R = np.empty(a.shape[:2] + (3, H), dtype=a.dtype)  # (T, N, 3, H)
    np.multiply(K1 * hn, r - r * r, out=R[:, :, 0])
    np.multiply(hs[:-1] - n, z - z * z, out=R[:, :, 1])
    np.multiply(K1, r, out=R[:, :, 2])
    return R, K1


def gru_backward(
    dhs: np.ndarray | None,
    dh_last: np.ndarray | None,
    cache: tuple,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``gru_forward``.

    Shapes: dhs (T, N, H) or None, dh_last (N, H) or None.
    Returns (dx or None, dW_ih, dW_hh, db_ih, db_hh, dh0).
    """
    x, a, hs, hn = cache
    T, N, H = hn.shape
    R, K1 = _gru_factors(a, hs, hn)
    z = a[..., H : 2 * H]
    dRec = np.empty_like(a)  # (T, N, 3H): gradients of h W_hh + b_hh
    dRec3 = dRec.reshape(T, N, 3, H)
    dH = np.empty((T, N, H), dtype=a.dtype)  # dL/dh_t, all steps
    dh = np.zeros((N, H), dtype=a.dtype)
    tmp = np.empty_like(dh)
    for t in range(T - 1, -1, -1):
        dh += _sequence_grad(dhs, dh_last, t, T)
        dH[t] = dh
        np.multiply(dh[:, None, :], R[t], out=dRec3[t])
        np.matmul(dRec[t], W_hh.T, out=tmp)  # (N, 3H) @ (3H, H)
        dh *= z[t]
        dh += tmp  # dh_(t-1)
    dZ = dRec.copy()  # input side: r, z as above, n gets dz_n instead of d(hn)
    np.multiply(dH, K1, out=dZ[..., 2 * H :])
    dx, dW_ih, db_ih = _input_grads(x, dZ, W_ih, need_dx)
    db_hh = dRec.reshape(T * N, 3 * H).sum(axis=0)
    return dx, dW_ih, _recurrent_weight_grad(hs, dRec), db_ih, db_hh, dh
