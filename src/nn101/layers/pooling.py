"""Pooling: MaxPool2d, AvgPool2d (over windows) and GlobalAvgPool2d (over the whole image)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.functional.conv import from_nhwc, output_size, pad, pair, to_nhwc
from nn101.functional.pooling import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import register_layer

__all__ = ["MaxPool2d", "AvgPool2d", "GlobalAvgPool2d"]


class _Pool2d(Layer):
    """Window geometry, validation and padding shared by MaxPool2d and AvgPool2d."""

    pad_value = 0.0

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, f"{name}: kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, f"{name}: stride")
        self.padding = pair(padding, f"{name}: padding", minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"{name}: padding must be at most half the kernel size, got padding "
                f"{padding!r} for kernel_size {kernel_size!r}"
            )
        self.saved: Any = None

    def label(self) -> str:
        return f"{type(self).__name__}({self.kernel_size})"

    def padded(self, x: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """x (N, C, H, W) -> the padded channels-last image (N, Hp, Wp, C) and (Ho, Wo)."""
        if np.ndim(x) != 4:
            raise shape_error(self.label(), "(N, C, H, W)", x)
        x = np.asarray(x)
        (ph, pw), (kh, kw), (sh, sw) = self.padding, self.kernel_size, self.stride
        out = output_size(x.shape[2], kh, sh, 2 * ph), output_size(x.shape[3], kw, sw, 2 * pw)
        if min(out) < 1:
            raise shape_error(self.label(), "an image at least as large as the window", x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        return pad(to_nhwc(x), ((ph, ph), (pw, pw)), self.pad_value, dtype), out

    def crop(self, dxp: np.ndarray) -> np.ndarray:
        """(N, Hp, Wp, C) gradient -> dL/dx (N, C, H, W): drop the padding."""
        ph, pw = self.padding
        return from_nhwc(dxp[:, ph : dxp.shape[1] - ph, pw : dxp.shape[2] - pw])

    def config(self) -> dict[str, Any]:
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
        }


@register_layer
class MaxPool2d(_Pool2d):
    """y[n, c, h, w] = max_{i, j} x_pad[n, c, h·sh + i, w·sw + j]  (x_pad: padded with -∞)

    Backward: dL/dx gets g at the first maximum of each window (row-major order, as PyTorch
    routes ties), 0 elsewhere; overlapping windows add up.
    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = ⌊(H + 2·ph - kh) / sh⌋ + 1.
    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel.
    As PyTorch's ``nn.MaxPool2d`` (dilation 1, ceil_mode False). Output channels-last in memory.
    """

    pad_value = -np.inf

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        xp, out = self.padded(x)
        y, argmax = max_pool_forward(xp, self.kernel_size, self.stride, out, argmax=training)
        self.saved = (argmax, xp) if training else (None, xp)
        return from_nhwc(y)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.saved is None:
            raise backward_before_forward(self.label())
        if not input_grad:
            return None
        argmax, xp = self.saved
        if argmax is None:  # forward ran in inference mode: find the maxima now
            _, argmax = max_pool_forward(xp, self.kernel_size, self.stride, grad_output.shape[2:])
        g = to_nhwc(np.asarray(grad_output))  # (N, Ho, Wo, C)
        return self.crop(max_pool_backward(g, argmax, xp.shape, self.kernel_size, self.stride))


@register_layer
class AvgPool2d(_Pool2d):
    """y[n, c, h, w] = (1 / kh·kw) Σ_{i, j} x_pad[n, c, h·sh + i, w·sw + j]  (x_pad: zeros)

    Backward: every pixel of a window gets g / (kh·kw); overlapping windows add up.
    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = ⌊(H + 2·ph - kh) / sh⌋ + 1.
    As PyTorch's ``nn.AvgPool2d`` (count_include_pad=True: the padding counts in the mean).
    """

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        xp, out = self.padded(x)
        self.saved = xp.shape
        return from_nhwc(avg_pool_forward(xp, self.kernel_size, self.stride, out))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.saved is None:
            raise backward_before_forward(self.label())
        if not input_grad:
            return None
        g = to_nhwc(np.asarray(grad_output))  # (N, Ho, Wo, C)
        return self.crop(avg_pool_backward(g, self.saved, self.kernel_size, self.stride))


@register_layer
class GlobalAvgPool2d(Layer):
    """y[n, c] = (1 / H·W) Σ_{h, w} x[n, c, h, w].   dL/dx[n, c, h, w] = g[n, c] / (H·W).

    Shapes: x (N, C, H, W) -> y (N, C): a flattened image of channel means, ready for Dense.
    PyTorch: ``nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())``. Lin et al. 2014,
    "Network in network".
    """

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        if np.ndim(x) != 4:
            raise shape_error("GlobalAvgPool2d()", "(N, C, H, W)", x)
        x = np.asarray(x)
        self.input_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.input_shape is None:
            raise backward_before_forward("GlobalAvgPool2d()")
        if not input_grad:
            return None
        N, C, H, W = self.input_shape
        g = np.asarray(grad_output) * grad_output.dtype.type(1.0 / (H * W))  # (N, C)
        dx = np.empty((N, H, W, C), dtype=g.dtype)
        dx[...] = g[:, None, None, :]  # broadcast over the pixels, channels-last
        return from_nhwc(dx)
