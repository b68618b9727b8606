"""AdaGrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np

from nn101.core import Parameter
from nn101.optimizers.base import Optimizer, check_range
from nn101.registry import OPTIMIZERS

__all__ = ["AdaGrad"]


class AdaGrad(Optimizer):
    """AdaGrad: per-coordinate rates shrinking with the sum of squared gradients.

    With g = ∇L(θ) + λθ, step t = 1, 2, ..., G₀ = initial_accumulator_value:

        η_t <- η / (1 + (t - 1) lr_decay)
        G <- G + g²
        θ <- θ - η_t g / (√G + ε)

    Source: Duchi, Hazan & Singer 2011, "Adaptive subgradient methods for online learning and
    stochastic optimization", JMLR 12.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "lr_decay",
        "weight_decay",
        "initial_accumulator_value",
        "eps",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-2,
        *,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(parameters, learning_rate)
        for name, value in [
            ("lr_decay", lr_decay),
            ("weight_decay", weight_decay),
            ("initial_accumulator_value", initial_accumulator_value),
            ("eps", eps),
        ]:
            check_range("AdaGrad", name, value, 0.0, math.inf)
        self.lr_decay, self.weight_decay = float(lr_decay), float(weight_decay)
        self.initial_accumulator_value, self.eps = float(initial_accumulator_value), float(eps)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"sum_sq": np.full_like(p.value, self.initial_accumulator_value)}

    def step(self) -> None:
        self.step_count += 1
        wd, eps = self.weight_decay, self.eps
        lr_t = self.learning_rate / (1 + (self.step_count - 1) * self.lr_decay)
        for p, state in self.parameter_states():
            theta, G, tmp = p.value, state["sum_sq"], self.scratch(p)
            g = p.grad + wd * theta if wd else p.grad  # g <- ∇L(θ) + λθ
            G += np.square(g, out=tmp)  # G <- G + g²
            s = np.sqrt(G, out=tmp)  # s <- √G + ε, in the scratch array
            s += eps
            theta -= np.multiply(np.divide(g, s, out=s), lr_t, out=s)  # θ <- θ - η_t g / s


OPTIMIZERS.add("adagrad", AdaGrad)
