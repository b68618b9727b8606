"""Dropout: at training time, zero each activation with probability p and rescale the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.registry import register_layer

__all__ = ["Dropout"]


@register_layer
class Dropout(Layer):
    """Inverted dropout with rate p:

        training:   m_i ~ Bernoulli(1 - p),  y = x ⊙ m / (1 - p),   dL/dx = g ⊙ m / (1 - p)
        inference:  y = x,                    dL/dx = g

    Dividing by 1 - p at training time keeps E[y] = x, so inference needs no rescaling.
    The mask is drawn from ``rng``; with None, ``fit(rng=...)`` lends the layer the training
    generator (so one seed fixes a whole run), and outside ``fit`` a fresh unseeded one is used.
    Shapes: any -> same.  Source: Srivastava et al. 2014, "Dropout", JMLR 15.
    """

    def __init__(self, rate: float, *, rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= rate < 1.0:  # also refuses nan
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.rng = rng
        self.fallback_rng: np.random.Generator | None = None  # used when rng is None outside fit
        self.mask: np.ndarray | None = None  # m / (1 - p), in x's dtype; None = identity

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        x = np.asarray(x)
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        rng = self.rng
        if rng is None:
            if self.fallback_rng is None:
                self.fallback_rng = np.random.default_rng()
            rng = self.fallback_rng
        keep = rng.random(x.shape, dtype=dtype) >= self.rate  # m, boolean
        self.mask = keep * dtype.type(1.0 / (1.0 - self.rate))  # m / (1 - p)
        return x * self.mask

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:  # no parameters: nothing else to compute
            return None
        if self.mask is None:
            return grad_output
        return grad_output * self.mask

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}
