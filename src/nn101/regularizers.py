"""Regularizers: weight penalties (L1, L2) and gradient clipping.

Penalties follow the Keras convention the Dense layer uses (``Dense(..., l1=, l2=)``):

    penalty(W) = l1 · Σ|W| + l2 · ΣW²        ∂penalty/∂W = l1 · sign(W) + 2 l2 · W

so ``L2(λ)`` equals PyTorch's ``weight_decay=2λ`` for plain SGD. Clipping acts on the gradients
of a list of Parameters, in place, between ``backward`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from nn101.core import Parameter

__all__ = ["clip_grad_norm", "clip_grad_value", "L1", "L2"]


def _positive(owner: str, name: str, value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be in (0, inf), got {value!r}")
    return float(value)


def clip_grad_norm(parameters: Iterable[Parameter], max_norm: float) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

        ‖g‖ = √(Σ_p Σ g_p²)          g_p <- g_p · min(1, max_norm / (‖g‖ + 10⁻⁶))

    The direction of the full gradient is kept. Returns ‖g‖ before clipping (log it: a
    spiking norm is the first sign of an exploding gradient). Same as PyTorch's
    ``torch.nn.utils.clip_grad_norm_``, including the 10⁻⁶.

    Source: Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
    networks", ICML.
    """
    max_norm = _positive("clip_grad_norm", "max_norm", max_norm)
    grads = [p.grad for p in parameters]
    # vdot of a contiguous array with itself is one BLAS call, no squared temporary.
    total_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    coefficient = max_norm / (total_norm + 1e-6)
    if coefficient < 1.0 or math.isnan(coefficient):
        for g in grads:
            g *= coefficient
    return total_norm


def clip_grad_value(parameters: Iterable[Parameter], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place.

    Same as PyTorch's ``torch.nn.utils.clip_grad_value_``. Unlike norm clipping this changes
    the direction of the gradient.
    """
    clip_value = _positive("clip_grad_value", "clip_value", clip_value)
    for p in parameters:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


class L1:
    """L1 penalty λ Σ|W|, gradient λ sign(W): pushes weights to exactly zero (sparsity).

    Source: Tibshirani 1996, "Regression shrinkage and selection via the lasso".
    """

    def __init__(self, strength: float) -> None:
        if not 0 <= strength < math.inf:
            raise ValueError(f"L1: strength must be in [0, inf), got {strength!r}")
        self.strength = float(strength)

    def __call__(self, W: np.ndarray) -> float:
        return self.strength * float(np.abs(W).sum())

    def gradient(self, W: np.ndarray) -> np.ndarray:
        return self.strength * np.sign(W)

    def __repr__(self) -> str:
        return f"L1({self.strength!r})"


class L2:
    """L2 penalty λ ΣW², gradient 2λW: shrinks every weight toward zero ("weight decay").

    Source: Krogh & Hertz 1992, "A simple weight decay can improve generalization"; Hoerl &
    Kennard 1970 (ridge regression).
    """

    def __init__(self, strength: float) -> None:
        if not 0 <= strength < math.inf:
            raise ValueError(f"L2: strength must be in [0, inf), got {strength!r}")
        self.strength = float(strength)

    def __call__(self, W: np.ndarray) -> float:
        return self.strength * float(np.vdot(W, W))

    def gradient(self, W: np.ndarray) -> np.ndarray:
        return (2.0 * self.strength) * W

    def __repr__(self) -> str:
        return f"L2({self.strength!r})"
