"""Dropout2d: dropout of whole feature maps (channels) of images."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.layers._checks import shape_error
from nn101.registry import register_layer

__all__ = ["Dropout2d"]


@register_layer
class Dropout2d(Layer):
    """Inverted dropout of whole channels, rate p:

        training:   m_nc ~ Bernoulli(1 - p) per image n and channel c,
                    y[n, c] = x[n, c] · m_nc / (1 - p),   dL/dx[n, c] = g[n, c] · m_nc / (1 - p)
        inference:  y = x,   dL/dx = g

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    (Dropout) barely regularizes a convolutional layer; dropping a whole map does.
    Shapes: x (N, C, H, W) -> same; the mask is (N, C, 1, 1), drawn from ``rng`` as
    ``rng.random((N, C, 1, 1)) >= p``. As PyTorch's ``nn.Dropout2d``.
    Source: Tompson et al. 2015, "Efficient object localization using convolutional networks".
    """

    def __init__(self, rate: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= rate < 1.0:  # also refuses nan
            raise ValueError(f"Dropout2d: rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.rng = rng
        self.fallback_rng: np.random.Generator | None = None  # used when rng is None outside fit
        self.mask: np.ndarray | None = None  # m / (1 - p), (N, C, 1, 1); None = identity

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        if np.ndim(x) != 4:
            raise shape_error(f"Dropout2d({self.rate})", "(N, C, H, W)", x)
        x = np.asarray(x)
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        if self.rng is None and self.fallback_rng is None:
            self.fallback_rng = np.random.default_rng()
        rng = self.rng if self.rng is not None else self.fallback_rng
        assert rng is not None
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        keep = rng.random((*x.shape[:2], 1, 1), dtype=dtype) >= self.rate  # (N, C, 1, 1)
        self.mask = keep * dtype.type(1.0 / (1.0 - self.rate))
        return x * self.mask

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:
            return None
        return grad_output if self.mask is None else grad_output * self.mask

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}
