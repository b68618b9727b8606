"""RMSprop: the gradient divided by a running root mean square of recent gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np

from nn101.core import Parameter
from nn101.optimizers.base import Optimizer, check_range
from nn101.registry import OPTIMIZERS

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    With g = ∇L(θ) + λθ, α = alpha, μ = momentum:

        v <- α v + (1 - α) g²
        ḡ <- α ḡ + (1 - α) g;   s <- √(v - ḡ²) + ε   if centered,  else  s <- √v + ε
        b <- μ b + g / s;  θ <- θ - η b              if μ > 0,     else  θ <- θ - η g / s

    Source: Hinton, Srivastava & Swersky 2012, Coursera "Neural networks for machine learning",
    lecture 6e; centered: Graves 2013, "Generating sequences with recurrent neural networks".
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "alpha",
        "eps",
        "weight_decay",
        "momentum",
        "centered",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-2,
        *,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate)
        check_range("RMSprop", "alpha", alpha, 0.0, 1.0)
        check_range("RMSprop", "eps", eps, 0.0, math.inf)
        check_range("RMSprop", "weight_decay", weight_decay, 0.0, math.inf)
        check_range("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        state = {"square_avg": np.zeros_like(p.value)}
        if self.centered:
            state["grad_avg"] = np.zeros_like(p.value)
        return state

    def step(self) -> None:
        self.step_count += 1
        lr, a, mu, eps = self.learning_rate, self.alpha, self.momentum, self.eps
        wd = self.weight_decay
        for p, state in self.parameter_states():
            theta, v, tmp = p.value, state["square_avg"], self.scratch(p)
            g = p.grad + wd * theta if wd else p.grad  # g <- ∇L(θ) + λθ
            v *= a  # v <- α v + (1 - α) g²
            v += np.multiply(np.square(g, out=tmp), 1 - a, out=tmp)
            if self.centered:
                g_avg = state["grad_avg"]
                g_avg *= a  # ḡ <- α ḡ + (1 - α) g
                g_avg += np.multiply(g, 1 - a, out=tmp)
                s = np.subtract(v, np.square(g_avg, out=tmp), out=tmp)  # s <- √(v - ḡ²) + ε
                np.sqrt(s, out=s)
            else:
                s = np.sqrt(v, out=tmp)  # s <- √v + ε
            s += eps
            if mu == 0:
                theta -= np.multiply(np.divide(g, s, out=s), lr, out=s)  # θ <- θ - η g / s
                continue
            b = state.get("momentum_buffer")
            if b is None:  # the first step with momentum (1cycle may switch it on later)
                b = state["momentum_buffer"] = np.zeros_like(theta)
            b *= mu  # b <- μ b + g / s
            b += np.divide(g, s, out=s)
            theta -= np.multiply(b, lr, out=tmp)  # θ <- θ - η b


OPTIMIZERS.add("rmsprop", RMSprop)
