"""Conv2d: a 2-D convolution (cross-correlation, as in every deep-learning library)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nn101.core import Layer, Parameter, as_dtype
from nn101.functional.conv import (
    blocked_conv,
    conv_input_grad,
    from_nhwc,
    im2col,
    output_size,
    pad,
    pair,
    patch_weight_grad,
    same_padding,
    to_nhwc,
)
from nn101.init import CUSTOM_PREFIX, InitSpec, get_initializer, initializer_name
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import register_layer

__all__ = ["Conv2d"]


def parse_padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """``padding`` as ((top, bottom), (left, right)); "valid" is 0, "same" keeps the size."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return same_padding(kernel, dilation)
    ph, pw = pair(padding, "padding", minimum=0)
    return (ph, ph), (pw, pw)


@register_layer
class Conv2d(Layer):
    """y[n, o, h, w] = b[o] + Σ_{c, i, j} W[i, j, c, o] · x_pad[n, c, h·sh + i·dh, w·sw + j·dw]

    computed as one matrix product of the patch matrix (im2col) and the weight:

        X_col (N·Ho·Wo, kh·kw·C_in) = im2col(x_pad),   Y = X_col W + b,  W (kh·kw·C_in, C_out)
    Backward, with G = dL/dY (N·Ho·Wo, C_out):
        dL/dW = X_colᵀ G,   dL/db = Σ_rows G,   dL/dx = col2im(G Wᵀ)   (cropped to x)

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = ⌊(H + pads - dh·(kh-1) - 1)/sh⌋ + 1.
    The output is channels-last in memory (a transposed view of a contiguous (N, Ho, Wo, C_out)
    array); any input layout is accepted.

    Weight layout: ``weight`` is (kh, kw, in_channels, out_channels) ("HWIO", so that its
    reshape to (kh·kw·C_in, C_out) is free); ``bias`` is (out_channels,). PyTorch's
    ``nn.Conv2d.weight`` is (out, in, kh, kw):
        nn101 = torch_weight.transpose(2, 3, 1, 0),   torch = nn101_weight.transpose(3, 2, 0, 1)
    (``nn101.functional.conv.weight_from_torch`` / ``weight_to_torch``). Biases are equal.

    ``padding``: an int, a pair (top = bottom, left = right), "valid" (0) or "same" (the output
    keeps H, W at stride 1; an odd total goes to the bottom / right, as in PyTorch).
    ``weight_init`` (default He uniform, for ReLU networks) sees fan_in = C_in·kh·kw and
    fan_out = C_out·kh·kw. Source: LeCun et al. 1998 (LeNet-5); Chellapilla et al. 2006 (im2col).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        *,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
        weight_init: InitSpec = "he_uniform",
        bias_init: InitSpec = "zeros",
    ) -> None:
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Conv2d: {name} must be a positive integer, got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "Conv2d: kernel_size")
        self.stride = pair(stride, "Conv2d: stride")
        self.dilation = pair(dilation, "Conv2d: dilation")
        if padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {stride!r}")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", minimum=0)
        self.pads = parse_padding(padding, self.kernel_size, self.dilation)
        self.dtype = as_dtype(dtype)
        self.weight_init, self.bias_init = weight_init, bias_init
        rng = np.random.default_rng() if rng is None else rng
        kh, kw = self.kernel_size
        shape = (kh, kw, self.in_channels, self.out_channels)
        fans = (self.in_channels * kh * kw, self.out_channels * kh * kw)
        self.weight = Parameter(
            get_initializer(weight_init)(rng, shape, *fans, self.dtype), "weight"
        )
        self.bias: Parameter | None = None
        if bias:
            b = get_initializer(bias_init)(rng, (self.out_channels,), *fans, self.dtype)
            self.bias = Parameter(b, name="bias")
        # training: the patch matrix X_col; inference: only x_pad (X_col is rebuilt if a backward
        # pass follows), so that predict never holds a k²-times larger copy of its input
        self.saved: tuple[np.ndarray | None, np.ndarray, tuple[int, int]] | None = None

    def label(self) -> str:
        return f"Conv2d({self.in_channels}, {self.out_channels}, {self.kernel_size})"

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        """(Ho, Wo) for an input of height × width."""
        (top, bottom), (left, right) = self.pads
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return (
            output_size(height, kh, sh, top + bottom, dh),
            output_size(width, kw, sw, left + right, dw),
        )

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        if np.ndim(x) != 4 or np.shape(x)[1] != self.in_channels:
            raise shape_error(self.label(), f"(N, {self.in_channels}, H, W)", x)
        out = self.output_shape(*np.shape(x)[2:])
        if min(out) < 1:
            raise shape_error(self.label(), "an image at least as large as the kernel", x)
        self.saved = None  # let the previous batch's X_col go before making this one
        xp = pad(to_nhwc(np.asarray(x)), self.pads, dtype=self.dtype)  # (N, Hp, Wp, C_in)
        W = self.weight.value.reshape(-1, self.out_channels)  # (K, C_out), K = kh·kw·C_in
        X_col = None
        if training:  # backward will need X_col
            X_col = im2col(xp, self.kernel_size, self.stride, self.dilation, out)  # (N·Ho·Wo, K)
            Y = X_col @ W  # (N·Ho·Wo, C_out)
        else:  # the same product, a block of images at a time, with no X_col kept
            Y = blocked_conv(xp, W, self.kernel_size, self.stride, self.dilation, out)
        if self.bias is not None:
            Y += self.bias.value
        self.saved = (X_col, xp, out)
        return from_nhwc(Y.reshape(len(xp), *out, self.out_channels))  # (N, C_out, Ho, Wo)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Add dL/dW = X_colᵀ G and dL/db = Σ G; return dL/dx = col2im(G Wᵀ) if ``input_grad``
        (one kernel offset at a time: ``nn101.functional.conv.conv_input_grad``).

        The first layer of a model (its input is the data) skips col2im and G Wᵀ.
        """
        if self.saved is None:
            raise backward_before_forward(self.label())
        X_col, xp, out = self.saved
        if X_col is None:  # forward ran in inference mode
            X_col = im2col(xp, self.kernel_size, self.stride, self.dilation, out)
        G = to_nhwc(grad_output).reshape(-1, self.out_channels)  # (N·Ho·Wo, C_out)
        self.weight.grad += patch_weight_grad(X_col, G).reshape(self.weight.shape)  # X_colᵀ G
        if self.bias is not None:
            self.bias.grad += np.ones(len(G), G.dtype) @ G  # Σ over rows, faster than G.sum(0)
        if not input_grad:
            return None
        dxp = conv_input_grad(G, self.weight.value, xp.shape, self.stride, self.dilation, out)
        (top, bottom), (left, right) = self.pads
        _, Hp, Wp, _ = xp.shape
        return from_nhwc(dxp[:, top : Hp - bottom, left : Wp - right])  # (N, C_in, H, W)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], *, custom_layers: Sequence[type[Layer]] = ()
    ) -> Conv2d:
        """Rebuild from ``config()``; custom initializers start at zero (``load`` fills in)."""
        config = dict(config)
        for key in ("weight_init", "bias_init"):
            if str(config.get(key, "")).startswith(CUSTOM_PREFIX):
                config[key] = "zeros"
        return cls(**config)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            "bias": self.bias is not None,
            "dtype": self.dtype.name,
            "weight_init": initializer_name(self.weight_init),
            "bias_init": initializer_name(self.bias_init),
        }
