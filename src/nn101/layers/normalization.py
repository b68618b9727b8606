"""Normalization: BatchNorm1d / BatchNorm2d (over the batch) and LayerNorm (over the features)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer, Parameter, as_dtype
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import register_layer

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def normalized_backward(
    dx_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axis: Any
) -> np.ndarray:
    """dL/dx for x̂ = (x - μ) / σ with μ, σ² the (biased) statistics over ``axis`` of n entries:

    dL/dx = (1/σ) (dx̂ - mean(dx̂) - x̂ · mean(dx̂ ⊙ x̂)),   means over ``axis``.
    """
    mean_dx_hat = dx_hat.mean(axis=axis, keepdims=True)
    mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=axis, keepdims=True)
    return inv_std * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)


class _BatchNorm(Layer):
    """The one batch-normalization core: statistics of each channel over every other axis.

    The channel axis (1) is moved last and the rest flattened into rows, x -> X (M, C), so that
    both forward and backward are column statistics of one matrix, whatever the input's rank:
    M = N for (N, C), N·L for (N, C, L), N·H·W for (N, C, H, W). Channels-last images (the
    convolution layers' outputs) become X without a copy.
    """

    buffer_names = ("running_mean", "running_var")
    input_ranks: tuple[int, ...] = ()
    expected: str = ""

    def __init__(
        self,
        num_features: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: Any = np.float32,
    ) -> None:
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer):
            raise ValueError(f"{name}: num_features must be an integer, got {num_features!r}")
        if num_features < 1:
            raise ValueError(f"{name}: num_features must be >= 1, got {num_features}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1], got {momentum}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be in (0, inf), got {eps}")
        self.num_features, self.momentum, self.eps = int(num_features), float(momentum), float(eps)
        self.dtype = as_dtype(dtype)
        self.weight = Parameter(np.ones(self.num_features, self.dtype), name="weight")
        self.bias = Parameter(np.zeros(self.num_features, self.dtype), name="bias")
        self.running_mean = np.zeros(self.num_features, self.dtype)
        self.running_var = np.ones(self.num_features, self.dtype)
        self.saved: tuple[np.ndarray, np.ndarray, bool] | None = None

    def label(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        C = self.num_features
        if np.ndim(x) not in self.input_ranks or np.shape(x)[1] != C:
            raise shape_error(self.label(), self.expected.format(C=C), x)
        X = channels_last_rows(np.asarray(x, dtype=self.dtype))  # (M, C)
        if training:
            if len(X) < 2:
                raise ValueError(
                    f"{self.label()} expected more than 1 value per channel in training, "
                    f"got input {np.shape(x)}"
                )
            mean = X.mean(axis=0)  # (C,)
            X_centered = X - mean
            var = np.mean(X_centered * X_centered, axis=0)  # (C,), biased
            self.update_running(mean, var, len(X))
        else:
            X_centered = X - self.running_mean
            var = self.running_var
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(self.dtype, copy=False)  # (C,)
        X_hat = X_centered * inv_std
        self.saved = (X_hat, inv_std, training)
        Y = X_hat * self.weight.value + self.bias.value  # (M, C)
        return from_channels_last_rows(Y, np.shape(x))

    def update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        m = self.momentum
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += (m * n / (n - 1)) * var  # unbiased

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.saved is None:
            raise backward_before_forward(self.label())
        X_hat, inv_std, training = self.saved
        G = channels_last_rows(np.asarray(grad_output))  # (M, C)
        self.weight.grad += np.sum(G * X_hat, axis=0)
        self.bias.grad += np.sum(G, axis=0)
        if not input_grad:
            return None
        dX_hat = G * self.weight.value
        if training:
            dX = normalized_backward(dX_hat, X_hat, inv_std, 0)
        else:  # inference: μ and σ are constants
            dX = dX_hat * inv_std
        return from_channels_last_rows(dX, np.shape(grad_output))

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "momentum": self.momentum,
            "eps": self.eps,
            "dtype": self.dtype.name,
        }


def channels_last_rows(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> (N·Π spatial, C); a view when x is channels-last in memory."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def from_channels_last_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(N·Π spatial, C) -> (N, C, *spatial), a view that is channels-last in memory."""
    N, C, *spatial = shape
    return np.moveaxis(rows.reshape(N, *spatial, C), -1, 1)


@register_layer
class BatchNorm1d(_BatchNorm):
    """Batch normalization of each feature (channel) c over the batch (and length) axes:

        training:   μ, σ² = mean and biased variance of the batch;  x̂ = (x - μ) / √(σ² + ε)
                    running_mean <- (1 - m) running_mean + m μ
                    running_var  <- (1 - m) running_var  + m σ² · n / (n - 1)   (unbiased)
        inference:  x̂ = (x - running_mean) / √(running_var + ε)
        y = γ x̂ + β   (γ = weight, β = bias, learnable)
    Backward (training), means over the n values of a channel:
        dL/dx = (γ/σ) (g - mean(g) - x̂ · mean(g ⊙ x̂))

    Shapes: x (N, C) or (N, C, L) -> same; γ, β, running_mean, running_var (C,).
    Semantics of PyTorch's BatchNorm1d (m = momentum = 0.1). Running statistics are buffers,
    saved and loaded with the model. Source: Ioffe & Szegedy 2015, ICML.
    """

    input_ranks = (2, 3)
    expected = "(N, {C}) or (N, {C}, L)"


@register_layer
class BatchNorm2d(_BatchNorm):
    """Batch normalization of each channel c of images over the batch and both image axes:
    BatchNorm1d's equations with μ_c, σ²_c taken over the n = N·H·W values of channel c.

    Shapes: x (N, C, H, W) -> same; γ, β, running_mean, running_var (C,).
    Semantics of PyTorch's BatchNorm2d (momentum 0.1, unbiased running variance). Output
    channels-last in memory. Source: Ioffe & Szegedy 2015, ICML, section 3.2.
    """

    input_ranks = (4,)
    expected = "(N, {C}, H, W)"


@register_layer
class LayerNorm(Layer):
    """Layer normalization of each sample over its last axis (D = normalized_shape features):

        μ, σ² = mean and biased variance over the last axis;  x̂ = (x - μ) / √(σ² + ε)
        y = γ x̂ + β   (γ = weight, β = bias, (D,), learnable)

    The same in training and inference. Shapes: x (..., D) -> same.
    As PyTorch's LayerNorm(D). Source: Ba, Kiros & Hinton 2016, "Layer normalization".
    """

    def __init__(
        self, normalized_shape: int, eps: float = 1e-5, *, dtype: Any = np.float32
    ) -> None:
        if isinstance(normalized_shape, bool) or not isinstance(normalized_shape, int | np.integer):
            raise ValueError(
                f"LayerNorm: normalized_shape must be an integer, got {normalized_shape!r}"
            )
        if normalized_shape < 1:
            raise ValueError(f"LayerNorm: normalized_shape must be >= 1, got {normalized_shape}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be in (0, inf), got {eps}")
        self.normalized_shape, self.eps = int(normalized_shape), float(eps)
        self.dtype = as_dtype(dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, self.dtype), name="weight")
        self.bias = Parameter(np.zeros(self.normalized_shape, self.dtype), name="bias")
        self.saved: tuple[np.ndarray, np.ndarray] | None = None

    def label(self) -> str:
        return f"LayerNorm({self.normalized_shape})"

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        D = self.normalized_shape
        if np.ndim(x) < 1 or np.shape(x)[-1] != D:
            raise shape_error(self.label(), f"(..., {D})", x)
        x = np.asarray(x, dtype=self.dtype)
        x_centered = x - x.mean(axis=-1, keepdims=True)  # (..., D)
        var = np.mean(x_centered * x_centered, axis=-1, keepdims=True)  # (..., 1), biased
        inv_std = 1.0 / np.sqrt(var + self.dtype.type(self.eps))  # (..., 1)
        x_hat = x_centered * inv_std
        self.saved = (x_hat, inv_std)
        return x_hat * self.weight.value + self.bias.value

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.saved is None:
            raise backward_before_forward(self.label())
        x_hat, inv_std = self.saved
        g = grad_output
        batch_axes = tuple(range(g.ndim - 1))
        self.weight.grad += np.sum(g * x_hat, axis=batch_axes)
        self.bias.grad += np.sum(g, axis=batch_axes)
        if not input_grad:
            return None
        return normalized_backward(g * self.weight.value, x_hat, inv_std, -1)

    def config(self) -> dict[str, Any]:
        return {
            "normalized_shape": self.normalized_shape,
            "eps": self.eps,
            "dtype": self.dtype.name,
        }
