"""Dense (fully connected) layer: y = x W + b, with optional L1 / L2 weight penalties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nn101.core import Layer, Parameter, as_dtype
from nn101.init import CUSTOM_PREFIX, InitSpec, get_initializer, initializer_name
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import register_layer

__all__ = ["Dense"]


@register_layer
class Dense(Layer):
    """Affine map y = x W + b.

    Shapes: x (N, in_features) -> y (N, out_features), or on the last axis of any batch:
    x (N, T, ..., in_features) -> y (N, T, ..., out_features); W (in, out), b (out,).
    Backward, with g = dL/dy:  dL/dx = g Wᵀ,  dL/dW = xᵀ g,  dL/db = Σ_batch g.
    PyTorch's ``nn.Linear`` stores the transpose: ``linear.weight == W.T``.

    Regularization (the one way nn101 has; Keras's convention, weights only, not biases):

        P = l1·Σ|W| + l2·ΣW²,   dP/dW = l1·sign(W) + 2·l2·W

    ``penalty()`` returns P, which training adds to the loss once per batch; ``backward`` adds
    dP/dW into ``weight.grad``. Translations: PyTorch's SGD ``weight_decay=λ`` adds λW to the
    gradient, so it equals ``l2=λ/2``; Nielsen's cost term (λ/2n)·ΣW² over a training set of n
    examples, with the mean loss per example, equals ``l2=λ/(2n)``.

    ``forward`` keeps a reference to ``x`` (no copy, for speed): changing ``x`` in place
    between ``forward`` and ``backward`` changes dL/dW. Pass a copy if you must modify it.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
        weight_init: InitSpec = "glorot_uniform",
        bias_init: InitSpec = "zeros",
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Dense: {name} must be a positive integer, got {value!r}")
        for name, strength in (("l1", l1), ("l2", l2)):
            if not np.isfinite(strength) or strength < 0:
                raise ValueError(f"Dense: {name} must be in [0, inf), got {strength}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.dtype = as_dtype(dtype)
        self.weight_init, self.bias_init = weight_init, bias_init
        self.l1, self.l2 = float(l1), float(l2)
        shape = (self.in_features, self.out_features)
        fans = (self.in_features, self.out_features)
        W = get_initializer(weight_init)(rng, shape, *fans, self.dtype)
        b = get_initializer(bias_init)(rng, (self.out_features,), *fans, self.dtype)
        self.weight = Parameter(W, name="weight")
        self.bias = Parameter(b, name="bias")
        self.x: np.ndarray | None = None

    def label(self) -> str:
        return f"Dense({self.in_features}, {self.out_features})"

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        if np.ndim(x) < 2 or np.shape(x)[-1] != self.in_features:
            raise shape_error(self.label(), f"(N, ..., {self.in_features})", x)
        x = np.asarray(x, dtype=self.dtype)  # no copy when already the layer's dtype
        self.x = x  # a reference, not a copy: see the class docstring
        y = x @ self.weight.value  # (..., in) @ (in, out) -> (..., out)
        y += self.bias.value
        return y

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Add dL/dW = xᵀ g (+ dP/dW) and dL/db = Σ g; return dL/dx = g Wᵀ if ``input_grad``.

        A model's first layer is called with ``input_grad=False``: its input is the data, and
        g Wᵀ is one of the layer's three matrix products (PyTorch skips it the same way).
        """
        if self.x is None:
            raise backward_before_forward(self)
        g, W = grad_output, self.weight.value
        x = self.x
        if x.ndim > 2:  # (N, T, ..., in): every position is one more row of the batch
            x = x.reshape(-1, self.in_features)  # (M, in)
            g = g.reshape(-1, self.out_features)  # (M, out)
        self.weight.grad += x.T @ g  # (in, M) @ (M, out) -> (in, out)
        self.bias.grad += g.sum(axis=0)
        if self.l1:
            self.weight.grad += self.l1 * np.sign(W)
        if self.l2:
            self.weight.grad += (2.0 * self.l2) * W
        if not input_grad:
            return None
        return grad_output @ W.T  # (..., out) @ (out, in) -> (..., in)

    def penalty(self) -> float:
        W = self.weight.value
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(W).sum())
        if self.l2:
            total += self.l2 * float(np.vdot(W, W))
        return total

    @classmethod
    def from_config(
        cls, config: dict[str, Any], *, custom_layers: Sequence[type[Layer]] = ()
    ) -> Dense:
        """Rebuild from ``config()``. A custom initializer (stored as ``"custom:<name>"``) cannot
        be rebuilt, so those weights start at zero: ``nn101.load`` then puts the saved ones in.
        """
        config = dict(config)
        for key in ("weight_init", "bias_init"):
            if str(config.get(key, "")).startswith(CUSTOM_PREFIX):
                config[key] = "zeros"
        return cls(**config)

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "dtype": self.dtype.name,
            "weight_init": initializer_name(self.weight_init),
            "bias_init": initializer_name(self.bias_init),
            "l1": self.l1,
            "l2": self.l2,
        }
