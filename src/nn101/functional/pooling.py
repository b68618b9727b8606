"""Max- and average-pooling as pure functions on channels-last images (N, H, W, C).

The layers (``nn101.layers.pooling``) take images (N, C, H, W) and hand these functions the
(N, H, W, C) view, as the convolution does (``nn101.functional.conv``, whose geometry and
``window_slices`` they share): a pooling window's offset (i, j) reads one strided slice of the
padded image for all output positions at once, so each pass is a loop over the kh·kw window
offsets, each one elementwise operation on a whole slice. When the windows tile the image
(kernel == stride, the usual 2 x 2), max-pooling takes a reshape fast path instead.
"""

from __future__ import annotations

import numpy as np

from nn101.functional.conv import Pair, window_slices

__all__ = [
    "tiles",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
]


def tiles(shape: tuple[int, ...], kernel: Pair, stride: Pair, out: Pair) -> bool:
    """Whether the windows cut the (N, Hp, Wp, C) image into exact, disjoint tiles."""
    return kernel == stride and (shape[1], shape[2]) == (out[0] * kernel[0], out[1] * kernel[1])


def max_pool_forward(
    xp: np.ndarray, kernel: Pair, stride: Pair, out: Pair, *, argmax: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """y = the maximum of each window and, if ``argmax``, where its first maximum is (row-major
    order within the window: PyTorch's choice among ties), for ``max_pool_backward``:

    * windows that tile x: a boolean mask (N, Ho, kh, Wo, kw, C), True at each first maximum
      (the reshape fast path: the whole backward is then one multiplication);
    * otherwise: the offset index i·kw + j of each window's first maximum, uint8 (N, Ho, Wo, C).

    Shapes: xp (N, Hp, Wp, C) -> y (N, Ho, Wo, C).
    """
    if tiles(xp.shape, kernel, stride, out):
        y = tiled_max(xp, kernel, out)
        return y, (first_max_mask(xp, y, kernel) if argmax else None)
    slices = window_slices(kernel, stride, (1, 1), out)
    _, first = next(slices)
    y = xp[first].copy()
    index = np.zeros(y.shape, dtype=np.uint8) if argmax else None
    for k, window in slices:
        candidate = xp[window]
        if index is None:
            np.maximum(y, candidate, out=y)
            continue
        greater = candidate > y  # strictly: the first maximum wins ties
        np.copyto(y, candidate, where=greater)
        np.copyto(index, k, where=greater)
    return y, index


def tiled_max(xp: np.ndarray, kernel: Pair, out: Pair) -> np.ndarray:
    """Maxima of tiling windows in two passes of whole-row maxima: first over the kh rows of
    each window (contiguous rows of Wp·C floats), then over the kw pixels of each row."""
    N, _, Wp, C = xp.shape
    (kh, kw), (Ho, Wo) = kernel, out
    rows = xp.reshape(N, Ho, kh, Wp * C)  # (N, Hp, Wp, C) -> (N, Ho, kh, Wp·C)
    y_rows = np.maximum.reduce([rows[:, :, i] for i in range(kh)]) if kh > 1 else rows[:, :, 0]
    pixels = y_rows.reshape(N, Ho, Wo, kw * C)  # (N, Ho, Wp·C) -> (N, Ho, Wo, kw·C)
    y = pixels[..., :C].copy()
    for j in range(1, kw):
        np.maximum(y, pixels[..., j * C : (j + 1) * C], out=y)
    return y  # (N, Ho, Wo, C)


def first_max_mask(xp: np.ndarray, y: np.ndarray, kernel: Pair) -> np.ndarray:
    """(N, Ho, kh, Wo, kw, C): True where x equals its window's maximum, ties resolved to the
    first in row-major order (a later match counts only if no earlier one was taken)."""
    N, _, _, C = xp.shape
    (kh, kw), (Ho, Wo) = kernel, y.shape[1:3]
    mask = xp.reshape(N, Ho, kh, Wo, kw, C) == y[:, :, None, :, None, :]
    if np.count_nonzero(mask) == y.size:  # one maximum per window: no ties to resolve
        return mask
    taken = mask[:, :, 0, :, 0, :].copy()
    for i in range(kh):
        for j in range(kw):
            if i or j:
                later = mask[:, :, i, :, j, :]
                np.greater(later, taken, out=later)  # later and not taken
                taken |= later
    return mask


def max_pool_backward(
    grad_output: np.ndarray,
    argmax: np.ndarray,
    padded_shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
) -> np.ndarray:
    """dL/dx: each window's gradient goes to its (first) maximum, the others get 0.

    ``argmax`` is what ``max_pool_forward`` returned: a mask (tiling windows) or indices.
    Shapes: grad_output (N, Ho, Wo, C) -> (N, Hp, Wp, C).
    """
    if argmax.dtype == np.bool_:  # (N, Ho, kh, Wo, kw, C) · (N, Ho, 1, Wo, 1, C)
        return (argmax * grad_output[:, :, None, :, None, :]).reshape(padded_shape)
    out = grad_output.shape[1:3]
    dxp = np.zeros(padded_shape, dtype=grad_output.dtype)
    overlapping = any(s < k for s, k in zip(stride, kernel, strict=True))
    for k, window in window_slices(kernel, stride, (1, 1), out):
        routed = np.where(argmax == k, grad_output, 0)
        if overlapping:
            dxp[window] += routed
        else:
            dxp[window] = routed
    return dxp


def avg_pool_forward(xp: np.ndarray, kernel: Pair, stride: Pair, out: Pair) -> np.ndarray:
    """y = the mean of each window, padding included (PyTorch's count_include_pad=True).

    Shapes: xp (N, Hp, Wp, C) -> y (N, Ho, Wo, C).
    """
    slices = window_slices(kernel, stride, (1, 1), out)
    _, first = next(slices)
    y = xp[first].copy()
    for _, window in slices:
        y += xp[window]
    y *= xp.dtype.type(1.0 / (kernel[0] * kernel[1]))
    return y


def avg_pool_backward(
    grad_output: np.ndarray, padded_shape: tuple[int, ...], kernel: Pair, stride: Pair
) -> np.ndarray:
    """dL/dx: each window spreads g / (kh·kw) evenly over its pixels.

    Shapes: grad_output (N, Ho, Wo, C) -> (N, Hp, Wp, C).
    """
    share = grad_output * grad_output.dtype.type(1.0 / (kernel[0] * kernel[1]))
    dxp = np.zeros(padded_shape, dtype=grad_output.dtype)
    for _, window in window_slices(kernel, stride, (1, 1), grad_output.shape[1:3]):
        dxp[window] += share
    return dxp
