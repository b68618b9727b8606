"""Activation functions as layers: elementwise nonlinearities (and Softmax along one axis).

Each layer saves what its derivative needs, named as in the math: a mask for ReLU, the output
y for Sigmoid / Tanh / Softmax (their derivatives are functions of y). Any input shape works;
the output has the input's shape and dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.functional import sigmoid, softmax
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import ACTIVATIONS, register_layer

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Identity"]


@register_layer
class ReLU(Layer):
    """y = max(x, 0).  dL/dx = g · [x > 0].  Shapes: any -> same.  Nair & Hinton 2010."""

    mask: np.ndarray | None = None  # [x > 0], saved by forward for backward

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        x = np.asarray(x)
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        if self.mask is None:
            raise backward_before_forward(self)
        return grad_output * self.mask


@register_layer
class LeakyReLU(Layer):
    """y = x if x > 0 else a·x, a = negative_slope.  dL/dx = g · (1 if x > 0 else a).

    Shapes: any -> same.  Maas, Hannun & Ng 2013.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        if not np.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU: negative_slope must be finite, got {negative_slope}")
        self.negative_slope = float(negative_slope)
        self.mask: np.ndarray | None = None  # [x > 0], saved by forward for backward

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        x = np.asarray(x)
        self.mask = x > 0
        return np.where(self.mask, x, x * self.negative_slope)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        if self.mask is None:
            raise backward_before_forward(self)
        return np.where(self.mask, grad_output, grad_output * self.negative_slope)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


@register_layer
class Sigmoid(Layer):
    """y = σ(x) = 1 / (1 + e^(-x)) (stable form).  dL/dx = g · y (1 - y).  Shapes: any -> same."""

    y: np.ndarray | None = None  # the output, saved by forward for backward

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        self.y = sigmoid(x)
        return self.y

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        y = self.y
        if y is None:
            raise backward_before_forward(self)
        return grad_output * y * (1 - y)


@register_layer
class Tanh(Layer):
    """y = tanh(x).  dL/dx = g · (1 - y²).  Shapes: any -> same."""

    y: np.ndarray | None = None  # the output, saved by forward for backward

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        y = self.y
        if y is None:
            raise backward_before_forward(self)
        return grad_output * (1 - y * y)


@register_layer
class Softmax(Layer):
    """y_i = e^(x_i) / Σ_j e^(x_j) along ``axis`` (stable form), for probabilities at inference.

    dL/dx = y ⊙ (g - Σ_j g_j y_j).  Shapes: any -> same.
    To train a classifier, feed logits to SoftmaxCrossEntropy instead (fused, stabler, faster).
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)
        self.y: np.ndarray | None = None  # the output, saved by forward for backward

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        x = np.asarray(x)
        if not -x.ndim <= self.axis < x.ndim:
            needed = self.axis + 1 if self.axis >= 0 else -self.axis
            raise shape_error(self.label(), f"with at least {needed} axes", x)
        self.y = softmax(x, axis=self.axis)
        return self.y

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        y, g = self.y, grad_output
        if y is None:
            raise backward_before_forward(self)
        return y * (g - np.sum(g * y, axis=self.axis, keepdims=True))

    def config(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def label(self) -> str:
        return f"Softmax(axis={self.axis})"


@register_layer
class Identity(Layer):
    """y = x.  dL/dx = g.  Shapes: any -> same.  (A placeholder: 'no activation'.)"""

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        return np.asarray(x)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        return grad_output


for _name, _cls in (
    ("relu", ReLU),
    ("leaky_relu", LeakyReLU),
    ("tanh", Tanh),
    ("sigmoid", Sigmoid),
):
    ACTIVATIONS.add(_name, _cls)
