"""The Adam family: Adam, AdamW (decoupled weight decay), AdaMax (infinity norm), Nadam."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np

from nn101.core import Parameter
from nn101.optimizers.base import Optimizer, check_range
from nn101.registry import OPTIMIZERS

__all__ = ["Adam", "AdamW", "AdaMax", "Nadam"]


def _check_betas(owner: str, betas: tuple[float, float]) -> tuple[float, float]:
    if len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        check_range(owner, f"betas[{i}]", beta, 0.0, 1.0)
    return float(betas[0]), float(betas[1])


class _AdamFamily(Optimizer):
    """The constructor Adam, AdaMax and Nadam share: ``betas``, ``eps``, weight decay.

    ``beta1`` is settable on its own (1cycle cycles it as the momentum).
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        "learning_rate",
        "betas",
        "eps",
        "weight_decay",
    )

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float,
        betas: tuple[float, float],
        eps: float,
        weight_decay: float,
    ) -> None:
        super().__init__(parameters, learning_rate)
        owner = type(self).__name__
        self.betas = _check_betas(owner, betas)
        check_range(owner, "eps", eps, 0.0, math.inf)
        check_range(owner, "weight_decay", weight_decay, 0.0, math.inf)
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    @property
    def beta1(self) -> float:
        return self.betas[0]

    @beta1.setter
    def beta1(self, value: float) -> None:
        self.betas = _check_betas(type(self).__name__, (value, self.betas[1]))


class Adam(_AdamFamily):
    """Adam: momentum on the gradient, scaled by a running RMS, both bias-corrected.

    With g = ∇L(θ) + λθ (L2-style weight decay, as torch.optim.Adam), step t = 1, 2, ...:

        m <- β₁ m + (1 - β₁) g            v <- β₂ v + (1 - β₂) g²
        v̂ <- max(v̂, v) if amsgrad else v
        θ <- θ - η (m / (1 - β₁ᵗ)) / (√(v̂ / (1 - β₂ᵗ)) + ε)

    The step computes the last line as θ <- θ - η_t m / (√v̂ + ε_t), with η_t = η √c₂ / c₁
    and ε_t = ε √c₂ (c₁ = 1 - β₁ᵗ, c₂ = 1 - β₂ᵗ): the bias corrections are two scalars.

    Source: Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR; amsgrad:
    Reddi, Kale & Kumar 2018, "On the convergence of Adam and beyond", ICLR.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (*_AdamFamily.hyperparameter_names, "amsgrad")

    decoupled = False  # AdamW: weight decay θ <- θ - η λ θ instead of g + λθ

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)
        self.amsgrad = bool(amsgrad)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        state = {"m": np.zeros_like(p.value), "v": np.zeros_like(p.value)}
        if self.amsgrad:
            state["v_max"] = np.zeros_like(p.value)
        return state

    def step(self) -> None:
        self.step_count += 1
        t, lr, wd = self.step_count, self.learning_rate, self.weight_decay
        b1, b2 = self.betas
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        eps_t = self.eps * math.sqrt(1 - b2**t)
        for p, state in self.parameter_states():
            theta, m, v, tmp = p.value, state["m"], state["v"], self.scratch(p)
            g = p.grad
            if wd and self.decoupled:
                theta *= 1 - lr * wd  # θ <- θ - η λ θ  (AdamW)
            elif wd:
                g = g + wd * theta  # g <- ∇L(θ) + λθ  (Adam)
            m *= b1  # m <- β₁ m + (1 - β₁) g
            m += np.multiply(g, 1 - b1, out=tmp)
            v *= b2  # v <- β₂ v + (1 - β₂) g²
            v += np.multiply(np.square(g, out=tmp), 1 - b2, out=tmp)
            if self.amsgrad:
                v = np.maximum(state["v_max"], v, out=state["v_max"])  # v̂ <- max(v̂, v)
            s = np.sqrt(v, out=tmp)  # s <- √v̂ + ε_t, in the scratch array
            s += eps_t
            theta -= np.multiply(np.divide(m, s, out=s), lr_t, out=s)  # θ <- θ - η_t m / s


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay.

    Step t = 1, 2, ..., g = ∇L(θ) (no λθ added to the gradient):

        θ <- θ - η λ θ
        m <- β₁ m + (1 - β₁) g            v <- β₂ v + (1 - β₂) g²
        v̂ <- max(v̂, v) if amsgrad else v
        θ <- θ - η (m / (1 - β₁ᵗ)) / (√(v̂ / (1 - β₂ᵗ)) + ε)

    Source: Loshchilov & Hutter 2019, "Decoupled weight decay regularization", ICLR.
    """

    decoupled = True

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(
            parameters,
            learning_rate,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
        )


class AdaMax(_AdamFamily):
    """AdaMax: Adam with the infinity norm in place of the RMS.

    With g = ∇L(θ) + λθ, step t = 1, 2, ...:

        m <- β₁ m + (1 - β₁) g
        u <- max(β₂ u, |g| + ε)
        θ <- θ - (η / (1 - β₁ᵗ)) m / u

    Source: Kingma & Ba 2015, "Adam: a method for stochastic optimization", ICLR, section 7.1.
    """

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 2e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(p.value), "u": np.zeros_like(p.value)}

    def step(self) -> None:
        self.step_count += 1
        wd, eps = self.weight_decay, self.eps
        b1, b2 = self.betas
        lr_t = self.learning_rate / (1 - b1**self.step_count)
        for p, state in self.parameter_states():
            theta, m, u, tmp = p.value, state["m"], state["u"], self.scratch(p)
            g = p.grad + wd * theta if wd else p.grad  # g <- ∇L(θ) + λθ
            m *= b1  # m <- β₁ m + (1 - β₁) g
            m += np.multiply(g, 1 - b1, out=tmp)
            u *= b2  # u <- max(β₂ u, |g| + ε)
            abs_g = np.abs(g, out=tmp)
            abs_g += eps
            np.maximum(u, abs_g, out=u)
            theta -= np.multiply(np.divide(m, u, out=tmp), lr_t, out=tmp)  # θ <- θ - η_t m / u


class Nadam(_AdamFamily):
    """Nadam: Adam with Nesterov momentum, with PyTorch's momentum warm-up schedule.

    With g = ∇L(θ) + λθ (or θ <- θ - η λ θ first if decoupled_weight_decay), step t = 1, 2, ...,
    ψ = momentum_decay:

        μ_t = β₁ (1 - ½ · 0.96^(t ψ))        Π_t = μ₁ μ₂ ⋯ μ_t
        m <- β₁ m + (1 - β₁) g               v <- β₂ v + (1 - β₂) g²
        s = √(v / (1 - β₂ᵗ)) + ε
        θ <- θ - η (1 - μ_t) / (1 - Π_t) · g / s - η μ_{t+1} / (1 - Π_t μ_{t+1}) · m / s

    The step writes the last line θ <- θ - η_g g / s - η_m m / s; it computes s √c₂ = √v + ε √c₂
    (c₂ = 1 - β₂ᵗ), folds √c₂ into η_g and η_m, and makes s once per term (one scratch array).

    Source: Dozat 2016, "Incorporating Nesterov momentum into Adam", ICLR workshop.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = (
        *_AdamFamily.hyperparameter_names,
        "momentum_decay",
        "decoupled_weight_decay",
    )
    scalar_names: ClassVar[tuple[str, ...]] = ("mu_product",)

    def __init__(
        self,
        parameters: Iterable[Parameter],
        learning_rate: float = 2e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(parameters, learning_rate, betas, eps, weight_decay)
        check_range("Nadam", "momentum_decay", momentum_decay, 0.0, math.inf)
        self.momentum_decay = float(momentum_decay)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.mu_product = 1.0  # Π_t, shared by every parameter

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(p.value), "v": np.zeros_like(p.value)}

    def step(self) -> None:
        self.step_count += 1
        t, lr, wd = self.step_count, self.learning_rate, self.weight_decay
        b1, b2 = self.betas
        mu = b1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        self.mu_product *= mu
        c2_sqrt = math.sqrt(1 - b2**t)
        lr_g = lr * (1 - mu) / (1 - self.mu_product) * c2_sqrt
        lr_m = lr * mu_next / (1 - self.mu_product * mu_next) * c2_sqrt
        eps_t = self.eps * c2_sqrt
        for p, state in self.parameter_states():
            theta, m, v, tmp = p.value, state["m"], state["v"], self.scratch(p)
            g = p.grad
            if wd and self.decoupled_weight_decay:
                theta *= 1 - lr * wd  # θ <- θ - η λ θ
            elif wd:
                g = g + wd * theta  # g <- ∇L(θ) + λθ
            m *= b1  # m <- β₁ m + (1 - β₁) g
            m += np.multiply(g, 1 - b1, out=tmp)
            v *= b2  # v <- β₂ v + (1 - β₂) g²
            v += np.multiply(np.square(g, out=tmp), 1 - b2, out=tmp)
            for lr_x, x in [(lr_g, g), (lr_m, m)]:  # θ <- θ - η_g g / s - η_m m / s
                s = np.sqrt(v, out=tmp)  # s √c₂, in the scratch array
                s += eps_t
                theta -= np.multiply(np.divide(x, s, out=s), lr_x, out=s)


OPTIMIZERS.add("adam", Adam)
OPTIMIZERS.add("adamw", AdamW)
OPTIMIZERS.add("adamax", AdaMax)
OPTIMIZERS.add("nadam", Nadam)
