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


def input_projection(x: np.ndarray, W_ih: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x W_ih + b for every step at once: (T, N, D) -> (T, N, G), one matrix product."""
    T, N, D = x.shape
    z = x.reshape(T * N, D) @ W_ih  # (T*N, D) @ (D, G) -> (T*N, G)
    z += b
    return z.reshape(T, N, -1)


def input_gradients(
    x: np.ndarray, dZ: np.ndarray, W_ih: np.ndarray, need_dx: bool
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dx = dZ W_ihᵀ, dW_ih = xᵀ dZ, db = Σ dZ: one product each, over all steps."""
    T, N, D = x.shape
    dZ2 = dZ.reshape(T * N, -1)  # (T*N, G)
    dW_ih = x.reshape(T * N, D).T @ dZ2  # (D, T*N) @ (T*N, G) -> (D, G)
    db = dZ2.sum(axis=0)
    dx = (dZ2 @ W_ih.T).reshape(T, N, D) if need_dx else None
    return dx, dW_ih, db


def recurrent_weight_gradient(hs: np.ndarray, dZ: np.ndarray) -> np.ndarray:
    """dW_hh = Σ_t h_(t-1)ᵀ dZ_t as one product: (H, T*N) @ (T*N, G) -> (H, G)."""
    T, N, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    return hs[:-1].reshape(T * N, H).T @ dZ.reshape(T * N, -1)


def gradient_from_outside(
    dhs: np.ndarray | None, dh_last: np.ndarray | None, t: int, T: int
) -> float:
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
    z = input_projection(x, W_ih, b)  # (T, N, H)
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
        carry += gradient_from_outside(dhs, dh_last, t, T)
        np.multiply(carry, derivative[t], out=dZ[t])
        np.matmul(dZ[t], W_hh.T, out=carry)  # (N, H) @ (H, H)
    dx, dW_ih, db = input_gradients(x, dZ, W_ih, need_dx)
    return dx, dW_ih, recurrent_weight_gradient(hs, dZ), db, carry


# -- LSTM -----------------------------------------------------------------------------------------


def sigmoid_scale(H: int, n_sigmoid: int, n_total: int, dtype: np.dtype) -> np.ndarray:
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
    scale = sigmoid_scale(H, 3, 4, W_hh.dtype)
    a = input_projection(x, W_ih * scale, b * scale)  # (T, N, 4H): becomes the gate activations
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


def lstm_backward(
    dhs: np.ndarray | None,
    dh_last: np.ndarray | None,
    dc_last: np.ndarray | None,
    cache: tuple,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``lstm_forward``. With c_t = f c_(t-1) + i g and
    h_t = o tanh(c_t), going backwards from dh (= dL/dh_t) and dc (= dL/dc_t):

        dc += dh ⊙ o ⊙ (1 - tanh²c_t)
        dz_i = dc ⊙ g ⊙ i(1 - i),  dz_f = dc ⊙ c_(t-1) ⊙ f(1 - f),
        dz_o = dh ⊙ tanh(c_t) ⊙ o(1 - o),  dz_g = dc ⊙ i ⊙ (1 - g²)
        dh_(t-1) = dz_t W_hhᵀ (+ the gradient from above),  dc_(t-1) = dc ⊙ f

    Every step's arrays are small and stay in cache; the gate gradients of all steps go into
    one (T, N, 4H) buffer, from which dW_ih, dW_hh and dx are one product each.
    Shapes: dhs (T, N, H) or None; dh_last, dc_last (N, H) or None (final-state gradients).
    Returns (dx or None, dW_ih, dW_hh, db, dh0, dc0).
    """
    x, a, hs, cs, tanh_cs = cache
    T, N, H = tanh_cs.shape
    dZ = np.empty_like(a)  # (T, N, 4H): the gate gradients of every step
    dh = np.zeros((N, H), dtype=a.dtype)  # dL/dh_t through the recurrence
    dc = np.zeros_like(dh) if dc_last is None else np.array(dc_last, dtype=a.dtype)
    tmp, slope = np.empty_like(dh), np.empty((N, 4 * H), dtype=a.dtype)
    for t in range(T - 1, -1, -1):
        dh += gradient_from_outside(dhs, dh_last, t, T)
        gates, dz, tc = a[t], dZ[t], tanh_cs[t]
        i, o, g = gates[:, :H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        if t < T - 1:
            dc *= a[t + 1, :, H : 2 * H]  # dc_t = dc_(t+1) f_(t+1) + ...
        np.multiply(tc, tc, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp  # ... + dh o (1 - tanh²c)
        np.multiply(dc, g, out=dz[:, :H])
        np.multiply(dc, cs[t], out=dz[:, H : 2 * H])
        np.multiply(dh, tc, out=dz[:, 2 * H : 3 * H])
        np.multiply(dc, i, out=dz[:, 3 * H :])
        np.multiply(gates, gates, out=slope)  # σ' = σ - σ², tanh' = 1 - g²
        np.subtract(gates[:, : 3 * H], slope[:, : 3 * H], out=slope[:, : 3 * H])
        np.subtract(1.0, slope[:, 3 * H :], out=slope[:, 3 * H :])
        dz *= slope
        np.matmul(dz, W_hh.T, out=dh)  # (N, 4H) @ (4H, H): dh_(t-1)
    dc *= a[0, :, H : 2 * H]
    dx, dW_ih, db = input_gradients(x, dZ, W_ih, need_dx)
    return dx, dW_ih, recurrent_weight_gradient(hs, dZ), db, dh, dc


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
    scale = sigmoid_scale(H, 2, 3, W_hh.dtype)
    bias = b_ih * scale
    bias[: 2 * H] += b_hh[: 2 * H] * 0.5  # b_hr, b_hz add up; b_hn stays inside r ⊙ (·)
    a = input_projection(x, W_ih * scale, bias)  # (T, N, 3H): becomes r, z, n
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


def gru_backward(
    dhs: np.ndarray | None,
    dh_last: np.ndarray | None,
    cache: tuple,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    need_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``gru_forward``. With h_t = n + z (h_(t-1) - n) and
    hn = h_(t-1) W_hn + b_hn, going backwards from dh = dL/dh_t:

        dz_n = dh ⊙ (1 - z) ⊙ (1 - n²)           (the input side's n gradient)
        dz_z = dh ⊙ (h_(t-1) - n) ⊙ z(1 - z)
        dz_r = dz_n ⊙ hn ⊙ r(1 - r),   d(hn) = dz_n ⊙ r
        dh_(t-1) = dh ⊙ z + [dz_r, dz_z, d(hn)] W_hhᵀ (+ the gradient from above)

    Shapes: dhs (T, N, H) or None, dh_last (N, H) or None.
    Returns (dx or None, dW_ih, dW_hh, db_ih, db_hh, dh0).
    """
    x, a, hs, hn = cache
    T, N, H = hn.shape
    dRec = np.empty_like(a)  # (T, N, 3H): gradients of h W_hh + b_hh, every step
    dn_all = np.empty((T, N, H), dtype=a.dtype)  # dz_n, every step
    dh = np.zeros((N, H), dtype=a.dtype)
    tmp, rec = np.empty_like(dh), np.empty_like(dh)
    slope = np.empty((N, 2 * H), dtype=a.dtype)
    for t in range(T - 1, -1, -1):
        dh += gradient_from_outside(dhs, dh_last, t, T)
        gates, d, dn = a[t], dRec[t], dn_all[t]
        r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        np.multiply(gates[:, : 2 * H], gates[:, : 2 * H], out=slope)
        np.subtract(gates[:, : 2 * H], slope, out=slope)  # σ' = σ - σ² for r and z
        np.multiply(n, n, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        np.subtract(1.0, z, out=dn)
        dn *= tmp
        dn *= dh  # dz_n
        np.subtract(hs[t], n, out=d[:, H : 2 * H])
        d[:, H : 2 * H] *= slope[:, H:]
        d[:, H : 2 * H] *= dh  # dz_z
        np.multiply(dn, hn[t], out=d[:, :H])
        d[:, :H] *= slope[:, :H]  # dz_r
        np.multiply(dn, r, out=d[:, 2 * H :])  # d(hn)
        np.matmul(d, W_hh.T, out=rec)  # (N, 3H) @ (3H, H)
        dh *= z
        dh += rec  # dh_(t-1)
    dZ = dRec.copy()  # input side: r, z as above, n gets dz_n instead of d(hn)
    dZ[..., 2 * H :] = dn_all
    dx, dW_ih, db_ih = input_gradients(x, dZ, W_ih, need_dx)
    db_hh = dRec.reshape(T * N, 3 * H).sum(axis=0)
    return dx, dW_ih, recurrent_weight_gradient(hs, dRec), db_ih, db_hh, dh
