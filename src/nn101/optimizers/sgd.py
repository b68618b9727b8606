"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np

from nn101.core import Parameter
from nn101.optimizers.base import Optimizer, check_range
from nn101.registry import OPTIMIZERS

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    With g = ∇L(θ) + λθ (λ = weight_decay, μ = momentum, τ = dampening, η = learning_rate):

        b <- g                       (first step)     b <- μ b + (1 - τ) g   (later steps)
        d <- g + μ b  if nesterov else b              (d = g when μ = 0)
        θ <- θ - η d

    Source: Robbins & Monro 1951; momentum: Polyak 1964; Nesterov momentum as in Sutskever et
    al. 2013, "On the importance of initialization and momentum in deep learning".
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate)
        check_range("SGD", "momentum", momentum, 0.0, 1.0)
        check_range("SGD", "dampening", dampening, 0.0, 1.0, high_open=False)
        check_range("SGD", "weight_decay", weight_decay, 0.0, math.inf)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum in (0, 1) and dampening 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def step(self) -> None:
        self.step_count += 1
        lr, mu, tau, wd = self.learning_rate, self.momentum, self.dampening, self.weight_decay
        for p, state in self.parameter_states():
            theta, tmp = p.value, self.scratch(p)  # tmp: a scratch array for products
            g = p.grad + wd * theta if wd else p.grad  # g <- ∇L(θ) + λθ
            if mu == 0:
                theta -= np.multiply(g, lr, out=tmp)  # θ <- θ - η g
                continue
            b = state.get("momentum_buffer")
            if b is None:  # the first step with momentum (1cycle may switch it on later)
                b = state["momentum_buffer"] = g.copy()  # b <- g
            else:
                b *= mu  # b <- μ b + (1 - τ) g
                b += np.multiply(g, 1 - tau, out=tmp) if tau else g
            if self.nesterov:
                theta -= np.multiply(g, lr, out=tmp)  # θ <- θ - η (g + μ b)
                theta -= np.multiply(b, lr * mu, out=tmp)
            else:
                theta -= np.multiply(b, lr, out=tmp)  # θ <- θ - η b


OPTIMIZERS.add("sgd", SGD)
