"""Flatten: keep the batch axis, merge all the others (images -> vectors for Dense)."""

from __future__ import annotations

import math

import numpy as np

from nn101.core import Layer
from nn101.layers._checks import backward_before_forward, shape_error
from nn101.registry import register_layer

__all__ = ["Flatten"]


@register_layer
class Flatten(Layer):
    """y = x reshaped to (N, D₁·D₂·...).  dL/dx = g reshaped back to x's shape.

    Shapes: x (N, D₁, D₂, ...) -> y (N, D₁·D₂·...); e.g. (N, C, H, W) -> (N, C·H·W).
    A view, not a copy, whenever x is contiguous.
    """

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 1:
            raise shape_error("Flatten()", "(N, ...)", x)
        self.input_shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, D1, D2, ...) -> (N, D1*D2*...)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        if self.input_shape is None:
            raise backward_before_forward("Flatten()")
        return grad_output.reshape(self.input_shape)
