"""Gradient clipping; and where regularization lives.

Weight penalties have one home: ``Dense(..., l1=, l2=)`` (Keras's convention, weights only)

    penalty(W) = l1 · Σ|W| + l2 · ΣW²        ∂penalty/∂W = l1 · sign(W) + 2 l2 · W

added to the loss once per batch; PyTorch's SGD ``weight_decay=λ`` is ``l2=λ/2``, Nielsen's
(λ/2n) ΣW² is ``l2=λ/(2n)`` (see ``Dense``). Decoupled weight decay is ``AdamW``'s.
Clipping acts on the gradients of a list of Parameters, in place, between ``backward`` and
``optimizer.step()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from nn101.core import Parameter

__all__ = ["clip_grad_norm", "clip_grad_value"]


def check_positive(owner: str, name: str, value: float) -> float:
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
    max_norm = check_positive("clip_grad_norm", "max_norm", max_norm)
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
    clip_value = check_positive("clip_grad_value", "clip_value", clip_value)
    for p in parameters:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)
