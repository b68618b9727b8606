"""Convolution and pooling as pure functions on channels-last images (N, H, W, C).

The layers (``nn101.layers.conv``, ``nn101.layers.pooling``) take and return images (N, C, H, W)
as everywhere in nn101, but keep them *channels-last in memory*: a layer's output is the view
``y_nhwc.transpose(0, 3, 1, 2)`` of a contiguous (N, H, W, C) array (PyTorch calls this the
``channels_last`` memory format). The functions here work on that (N, H, W, C) array, where one
pixel's channels are contiguous, so that:

* im2col is one copy with long contiguous runs (kw·C floats for stride 1), and the convolution
  is then ONE matrix product, (N·Ho·Wo, kh·kw·C) @ (kh·kw·C, C_out) -> (N·Ho·Wo, C_out), whose
  result already is the next layer's channels-last input;
* col2im is a loop over the kh·kw kernel offsets, each one strided ``+=`` of a whole slice.

Pooling, on the same (N, H, W, C) arrays, is in ``nn101.functional.pooling``.

Geometry, for one spatial axis: input size n, padding p_lo + p_hi, kernel k, stride s,
dilation d. The kernel spans d·(k - 1) + 1 pixels, and the output has
n_out = ⌊(n + p_lo + p_hi - d·(k - 1) - 1) / s⌋ + 1 positions; output position o reads the
padded input at o·s + i·d for kernel offsets i = 0 .. k - 1.

Source: Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks for
document processing" (unrolling convolutions into a matrix product).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "pair",
    "output_size",
    "same_padding",
    "to_nhwc",
    "from_nhwc",
    "pad",
    "im2col",
    "blocked_conv",
    "col2im",
    "window_slices",
    "conv_input_grad",
    "patch_weight_grad",
    "weight_from_torch",
    "weight_to_torch",
]

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def pair(value: Any, name: str, *, minimum: int = 1) -> Pair:
    """An int or a pair of ints (each >= ``minimum``) as a pair: 3 -> (3, 3)."""
    values = value if isinstance(value, tuple | list) else (value, value)
    if len(values) != 2 or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= minimum for v in values
    ):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int = 1) -> int:
    """n_out = ⌊(n + p - d·(k - 1) - 1) / s⌋ + 1 (may be <= 0 when the kernel does not fit)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(kernel: Pair, dilation: Pair) -> Padding:
    """Padding that keeps the size at stride 1: d·(k - 1) pixels in all, the odd one at the end
    (bottom / right), as PyTorch's ``padding="same"``."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return (totals[0] // 2, totals[0] - totals[0] // 2), (
        totals[1] // 2,
        totals[1] - totals[1] // 2,
    )


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W, C), a view (contiguous when x is channels-last in memory)."""
    return x.transpose(0, 2, 3, 1)


def from_nhwc(y: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, C, H, W), a view: the layers' outputs are these views."""
    return y.transpose(0, 3, 1, 2)


def pad(x: np.ndarray, padding: Padding, value: float = 0.0, dtype: Any = None) -> np.ndarray:
    """A new contiguous (N, H + top + bottom, W + left + right, C) array: x framed by ``value``.

    Without padding it is x itself when x is already contiguous in ``dtype`` (no copy).
    """
    (top, bottom), (left, right) = padding
    dtype = x.dtype if dtype is None else dtype
    if top == bottom == left == right == 0:
        return np.ascontiguousarray(x, dtype=dtype)
    N, H, W, C = x.shape
    xp = np.empty((N, H + top + bottom, W + left + right, C), dtype=dtype)
    xp[:, :top] = value
    xp[:, top + H :] = value
    xp[:, top : top + H, :left] = value
    xp[:, top : top + H, left + W :] = value
    xp[:, top : top + H, left : left + W] = x  # the one copy (and cast) of x
    return xp


def im2col(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out: Pair) -> np.ndarray:
    """The patch matrix of a padded channels-last image: row (n, ho, wo) holds the kh·kw·C
    inputs that output position (ho, wo) of image n sees, ordered (i, j, c).

    A strided view of ``xp`` (no copy) whose reshape is the only copy.
    Shapes: xp (N, Hp, Wp, C) -> (N·Ho·Wo, kh·kw·C).
    With one input channel the rows would be only kw floats long, so the copy is made in the
    transposed order, whose runs are image rows (Wo floats), and returned as a transposed view:
    matrix products take either order without a copy.
    """
    N, _, _, C = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out
    s0, s1, s2, s3 = xp.strides
    windows = as_strided(
        xp,
        shape=(N, Ho, Wo, kh, kw, C),
        strides=(s0, sh * s1, sw * s2, dh * s1, dw * s2, s3),
        writeable=False,
    )
    if C == 1:  # (kh, kw, C, N, Ho, Wo) copy, seen as (N·Ho·Wo, kh·kw·C)
        return windows.transpose(3, 4, 5, 0, 1, 2).reshape(kh * kw * C, N * Ho * Wo).T
    return windows.reshape(N * Ho * Wo, kh * kw * C)  # the copy


def blocked_conv(
    xp: np.ndarray,
    weight: np.ndarray,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out: Pair,
    block_bytes: int = 8 << 20,
) -> np.ndarray:
    """im2col(xp) @ W, one block of images at a time, for a forward pass with no backward pass
    to follow: no more than ``block_bytes`` (8 MiB) of the patch matrix exists at once.

    The whole patch matrix is kh·kw times the input (170 MB for a batch of 256 at the second
    layer of PyTorch's MNIST network); a block of it also stays closer to the cache, which
    measured 10-30% faster for inference.
    Shapes: xp (N, Hp, Wp, C_in), weight (kh·kw·C_in, C_out) -> (N·Ho·Wo, C_out).
    """
    rows_per_image = out[0] * out[1]
    images = max(1, block_bytes // (rows_per_image * weight.shape[0] * xp.itemsize))
    Y = np.empty((len(xp) * rows_per_image, weight.shape[1]), dtype=np.result_type(xp, weight))
    for start in range(0, len(xp), images):
        stop = min(start + images, len(xp))
        X_block = im2col(xp[start:stop], kernel, stride, dilation, out)  # (images·Ho·Wo, K)
        np.matmul(X_block, weight, out=Y[start * rows_per_image : stop * rows_per_image])
    return Y


def window_slices(
    kernel: Pair, stride: Pair, dilation: Pair, out: Pair
) -> Iterator[tuple[int, tuple[slice, slice, slice]]]:
    """For each kernel offset (i, j), in row-major order: its index i·kw + j and the slice of
    the padded (N, Hp, Wp, C) image that it reads for all output positions at once."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
        for j in range(kw):
            yield i * kw + j, (slice(None), rows, slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out: Pair,
) -> np.ndarray:
    """The adjoint of im2col: add every patch-matrix entry back onto the pixel it came from.

    One strided ``+=`` of a whole (N, Ho, Wo, C) slice per kernel offset: kh·kw of them.
    Shapes: cols (N·Ho·Wo, kh·kw·C) -> (N, Hp, Wp, C).
    """
    N, _, _, C = padded_shape
    (kh, kw), (Ho, Wo) = kernel, out
    patches = cols.reshape(N, Ho, Wo, kh * kw, C)  # (N·Ho·Wo, kh·kw·C) -> (N, Ho, Wo, kh·kw, C)
    dxp = np.zeros(padded_shape, dtype=cols.dtype)
    for k, window in window_slices(kernel, stride, dilation, out):
        dxp[window] += patches[:, :, :, k]
    return dxp


def patch_weight_grad(X_col: np.ndarray, grad: np.ndarray, rows: int | None = None) -> np.ndarray:
    """dL/dW = X_colᵀ G, summed over blocks of ``rows`` rows: Σ_blocks X_blockᵀ G_block.

    The shared dimension N·Ho·Wo is long (36,864 for 64 images of 24 x 24); in blocks of about
    512 KiB of X_col (512 rows of 288 floats) both operands of each product stay in cache, which
    measured 1.5-2.5x faster than one product on one OpenBLAS thread. Narrow patch matrices get
    longer blocks (5,242 rows for a 5 x 5 kernel on one channel): fewer, larger products.
    Shapes: X_col (M, K), grad (M, C_out) -> (K, C_out).
    """
    if rows is None:
        rows = max(512, (512 * 1024) // (X_col.shape[1] * X_col.itemsize))
    dW = X_col[:rows].T @ grad[:rows]
    for start in range(rows, len(grad), rows):
        dW += X_col[start : start + rows].T @ grad[start : start + rows]
    return dW


def conv_input_grad(
    grad: np.ndarray,
    weight: np.ndarray,
    padded_shape: tuple[int, ...],
    stride: Pair,
    dilation: Pair,
    out: Pair,
) -> np.ndarray:
    """dL/dx_pad = col2im(G Wᵀ), computed one kernel offset at a time:

        dL/dx_pad[window(i, j)] += G W[i, j]ᵀ     (N·Ho·Wo, C_out) @ (C_out, C_in)

    Each product lands in one contiguous (N, Ho, Wo, C_in) buffer that is added to its window
    slice in long runs (Wo·C_in floats at stride 1), never the (N·Ho·Wo, kh·kw·C_in) matrix
    whose C_in-long pieces col2im would gather: 2-6x faster than ``col2im(G @ W.T, ...)``.
    Shapes: grad G (N·Ho·Wo, C_out), weight (kh, kw, C_in, C_out) -> (N, Hp, Wp, C_in).
    """
    N, _, _, C = padded_shape
    kh, kw = weight.shape[:2]
    W = weight.reshape(kh * kw, C, -1)  # (kh·kw, C_in, C_out)
    dxp = np.zeros(padded_shape, dtype=grad.dtype)
    product = np.empty((len(grad), C), dtype=grad.dtype)  # (N·Ho·Wo, C_in), reused
    for k, window in window_slices((kh, kw), stride, dilation, out):
        np.matmul(grad, W[k].T, out=product)
        dxp[window] += product.reshape(N, *out, C)
    return dxp


def weight_from_torch(weight: Any) -> np.ndarray:
    """PyTorch's Conv2d weight (out, in, kh, kw) -> nn101's (kh, kw, in, out), contiguous."""
    return np.ascontiguousarray(np.asarray(weight).transpose(2, 3, 1, 0))


def weight_to_torch(weight: np.ndarray) -> np.ndarray:
    """nn101's Conv2d weight (kh, kw, in, out) -> PyTorch's (out, in, kh, kw), contiguous."""
    return np.ascontiguousarray(np.asarray(weight).transpose(3, 2, 0, 1))
