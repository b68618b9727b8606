"""Learning-rate schedules: pure functions of the step, ``schedule(t) -> learning_rate``.

``t = 0, 1, 2, ...`` counts optimizer steps (or epochs, if the training loop calls the schedule
once per epoch). A schedule holds only its constants, so calling it twice with the same ``t``
gives the same rate, and ``schedule.values(n)`` evaluates ``t = 0 .. n-1`` for a plot.
``OneCycle`` also gives ``momentum(t)``, which the training loop writes into the optimizer
(``momentum`` for SGD / RMSprop, ``beta1`` for the Adam family).

Each schedule equals its ``torch.optim.lr_scheduler`` counterpart step for step (see the
parity tests); unlike those, nothing here touches an optimizer.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "MultiStep",
    "ExponentialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CyclicLR",
    "OneCycle",
]


def _check(owner: str, name: str, value: Any, ok: bool, allowed: str) -> None:
    """Raise ``ValueError`` naming the argument, the value and the allowed range."""
    if not ok:
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}")


def _check_rate(owner: str, name: str, value: float) -> None:
    _check(
        owner,
        name,
        value,
        isinstance(value, (int, float, np.integer, np.floating)) and 0 <= value < math.inf,
        "a number in [0, inf)",
    )


def _check_steps(owner: str, name: str, value: int, minimum: int = 1) -> None:
    _check(
        owner,
        name,
        value,
        isinstance(value, (int, np.integer)) and value >= minimum,
        f"an integer >= {minimum}",
    )


class Schedule:
    """Base class: ``__call__(t) -> float`` for t = 0, 1, 2, ...; ``values(steps)`` for plots."""

    def __call__(self, t: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def values(self, steps: int | Iterable[int]) -> np.ndarray:
        """The rates at ``t = 0 .. steps-1`` (or at each t of an iterable), as a float64 array."""
        ts = range(steps) if isinstance(steps, (int, np.integer)) else steps
        return np.array([self(int(t)) for t in ts], dtype=np.float64)

    def _check_t(self, t: int) -> None:
        if t < 0:
            raise ValueError(f"{type(self).__name__}: step t must be >= 0, got {t}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """η_t = η."""

    def __init__(self, learning_rate: float) -> None:
        _check_rate("Constant", "learning_rate", learning_rate)
        self.learning_rate = float(learning_rate)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        return self.learning_rate


class StepDecay(Schedule):
    """η_t = η₀ · factor^⌊t / every⌋: multiply by ``factor`` every ``every`` steps.

    Halving every k steps is ``StepDecay(η₀, every=k, factor=0.5)``. (torch: StepLR.)
    """

    def __init__(self, initial: float, every: int, factor: float = 0.5) -> None:
        _check_rate("StepDecay", "initial", initial)
        _check_steps("StepDecay", "every", every)
        _check("StepDecay", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.every, self.factor = float(initial), int(every), float(factor)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        return self.initial * self.factor ** (t // self.every)


class MultiStep(Schedule):
    """η_t = η₀ · factor^(number of milestones ≤ t). (torch: MultiStepLR.)"""

    def __init__(self, initial: float, milestones: Sequence[int], factor: float = 0.1) -> None:
        _check_rate("MultiStep", "initial", initial)
        steps = list(milestones)
        _check(
            "MultiStep",
            "milestones",
            milestones,
            all(isinstance(m, (int, np.integer)) and m >= 1 for m in steps)
            and all(a < b for a, b in zip(steps, steps[1:], strict=False)),
            "strictly increasing integers >= 1",
        )
        _check("MultiStep", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.milestones, self.factor = float(initial), steps, float(factor)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        return self.initial * self.factor ** bisect_right(self.milestones, t)


class ExponentialDecay(Schedule):
    """η_t = η₀ · factor^t: multiply by ``factor`` every step. (torch: ExponentialLR.)"""

    def __init__(self, initial: float, factor: float) -> None:
        _check_rate("ExponentialDecay", "initial", initial)
        _check("ExponentialDecay", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.factor = float(initial), float(factor)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        return self.initial * self.factor**t


class InverseTimeDecay(Schedule):
    """η_t = η₀ / (1 + decay_rate · t / decay_steps), with ⌊t / decay_steps⌋ if staircase.

    The 1/t decay of stochastic approximation (Robbins & Monro 1951); Keras' InverseTimeDecay.
    """

    def __init__(
        self, initial: float, decay_rate: float, decay_steps: int = 1, *, staircase: bool = False
    ) -> None:
        _check_rate("InverseTimeDecay", "initial", initial)
        _check_rate("InverseTimeDecay", "decay_rate", decay_rate)
        _check_steps("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial, self.decay_rate = float(initial), float(decay_rate)
        self.decay_steps, self.staircase = int(decay_steps), bool(staircase)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        p = t // self.decay_steps if self.staircase else t / self.decay_steps
        return self.initial / (1.0 + self.decay_rate * p)


class CosineDecay(Schedule):
    """Linear warmup, then a half cosine from η₀ down to ``final``; ``final`` after the end.

    With W = warmup_steps, T = total_steps, f = warmup_start_factor:

        η_t = η₀ (f + (1 - f) t / W)                                  for t < W
        η_t = η_final + ½ (η₀ - η_final) (1 + cos(π (t - W) / (T - W)))   for W ≤ t ≤ T

    Source: Loshchilov & Hutter 2017, "SGDR: stochastic gradient descent with warm restarts";
    warmup: Goyal et al. 2017, "Accurate, large minibatch SGD". (torch: LinearLR then
    CosineAnnealingLR in a SequentialLR.)
    """

    def __init__(
        self,
        initial: float,
        total_steps: int,
        warmup_steps: int = 0,
        warmup_start_factor: float = 0.0,
        final: float = 0.0,
    ) -> None:
        owner = "CosineDecay"
        _check_rate(owner, "initial", initial)
        _check_steps(owner, "total_steps", total_steps)
        _check(
            owner,
            "warmup_steps",
            warmup_steps,
            isinstance(warmup_steps, (int, np.integer)) and 0 <= warmup_steps < total_steps,
            f"an integer in [0, total_steps={total_steps})",
        )
        _check(
            owner,
            "warmup_start_factor",
            warmup_start_factor,
            0 <= warmup_start_factor <= 1,
            "in [0, 1]",
        )
        _check(owner, "final", final, 0 <= final <= initial, f"in [0, initial={initial}]")
        self.initial, self.total_steps, self.warmup_steps = (
            float(initial),
            total_steps,
            warmup_steps,
        )
        self.warmup_start_factor, self.final = float(warmup_start_factor), float(final)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        W, f = self.warmup_steps, self.warmup_start_factor
        if t < W:
            return self.initial * (f + (1.0 - f) * t / W)
        progress = min(t - W, self.total_steps - W) / (self.total_steps - W)
        return self.final + 0.5 * (self.initial - self.final) * (1.0 + math.cos(math.pi * progress))


class CyclicLR(Schedule):
    """Cyclical learning rate: a triangle between ``base_lr`` and ``max_lr``.

    One cycle is ``step_size_up`` steps up then ``step_size_down`` steps down. The triangle's
    height is scaled by 1 (triangular), by 1/2^(c-1) in cycle c = 1, 2, ... (triangular2), or
    by γ^t (exp_range).

    Source: Smith 2017, "Cyclical learning rates for training neural networks", WACV.
    (torch: CyclicLR.)
    """

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(
        self,
        base_lr: float,
        max_lr: float,
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        _check_rate("CyclicLR", "base_lr", base_lr)
        _check(
            "CyclicLR",
            "max_lr",
            max_lr,
            max_lr >= base_lr and max_lr < math.inf,
            f"a number in [base_lr={base_lr}, inf)",
        )
        _check_steps("CyclicLR", "step_size_up", step_size_up)
        down = step_size_up if step_size_down is None else step_size_down
        _check_steps("CyclicLR", "step_size_down", down)
        _check("CyclicLR", "mode", mode, mode in self.MODES, f"one of {self.MODES}")
        _check("CyclicLR", "gamma", gamma, 0 < gamma <= 1, "in (0, 1]")
        self.base_lr, self.max_lr = float(base_lr), float(max_lr)
        self.step_size_up, self.step_size_down = int(step_size_up), int(down)
        self.mode, self.gamma = mode, float(gamma)

    def __call__(self, t: int) -> float:
        self._check_t(t)
        cycle_length = self.step_size_up + self.step_size_down
        cycle = t // cycle_length + 1  # 1, 2, ...
        x = t / cycle_length - (cycle - 1)  # position in the cycle, in [0, 1)
        up = self.step_size_up / cycle_length
        height = x / up if x <= up else (1.0 - x) / (1.0 - up)  # 0 -> 1 -> 0
        if self.mode == "triangular2":
            height /= 2.0 ** (cycle - 1)
        elif self.mode == "exp_range":
            height *= self.gamma**t
        return self.base_lr + (self.max_lr - self.base_lr) * height


class OneCycle(Schedule):
    """The 1cycle policy: the rate goes up then anneals far down; momentum goes the other way.

    With η_max = max_lr, η₀ = η_max / div_factor, η_min = η₀ / final_div_factor and
    P = pct_start · total_steps, anneal from one value to the next (cosine or linear):

        rate:      η₀ -> η_max over t ∈ [0, P - 1],  then η_max -> η_min up to t = total_steps - 1
        momentum:  max_momentum -> base_momentum,    then base_momentum -> max_momentum
        three_phase: η₀ -> η_max -> η₀ (each over P steps) -> η_min, momentum down, up, flat.

    After ``total_steps`` the schedule stays at its last value.

    Source: Smith & Topin 2018, "Super-convergence: very fast training of neural networks
    using large learning rates"; Smith 2018, "A disciplined approach to neural network
    hyper-parameters: part 1". (torch: OneCycleLR, whose phase boundaries this follows.)
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        three_phase: bool = False,
    ) -> None:
        owner = "OneCycle"
        _check_rate(owner, "max_lr", max_lr)
        _check_steps(owner, "total_steps", total_steps, minimum=2)
        _check(owner, "pct_start", pct_start, 0 < pct_start < 1, "in (0, 1)")
        _check(owner, "anneal", anneal, anneal in ("cos", "linear"), "'cos' or 'linear'")
        _check(owner, "div_factor", div_factor, div_factor > 0, "in (0, inf)")
        _check(owner, "final_div_factor", final_div_factor, final_div_factor > 0, "in (0, inf)")
        _check(owner, "base_momentum", base_momentum, 0 <= base_momentum < 1, "in [0, 1)")
        _check(
            owner,
            "max_momentum",
            max_momentum,
            base_momentum <= max_momentum < 1,
            f"in [base_momentum={base_momentum}, 1)",
        )
        self.max_lr, self.total_steps, self.pct_start = float(max_lr), total_steps, pct_start
        self.anneal, self.div_factor, self.final_div_factor = anneal, div_factor, final_div_factor
        self.base_momentum, self.max_momentum = base_momentum, max_momentum
        self.three_phase = bool(three_phase)
        lr0, lr_max = self.max_lr / div_factor, self.max_lr
        lr_min = lr0 / final_div_factor
        m_low, m_high = base_momentum, max_momentum
        P = pct_start * total_steps
        # (end step, (rate from, to), (momentum from, to)) per phase; each starts at the last end.
        if self.three_phase:
            self._phases = [
                (P - 1, (lr0, lr_max), (m_high, m_low)),
                (2 * P - 2, (lr_max, lr0), (m_low, m_high)),
                (total_steps - 1, (lr0, lr_min), (m_high, m_high)),
            ]
        else:
            self._phases = [
                (P - 1, (lr0, lr_max), (m_high, m_low)),
                (total_steps - 1, (lr_max, lr_min), (m_low, m_high)),
            ]
        ends = [0.0] + [end for end, _, _ in self._phases]
        increasing = all(a < b for a, b in zip(ends, ends[1:], strict=False))
        _check(
            owner,
            "pct_start",
            pct_start,
            increasing,
            f"such that every phase lasts at least one step (total_steps={total_steps}, "
            f"three_phase={three_phase})",
        )

    def _interpolate(self, start: float, end: float, pct: float) -> float:
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, t: int, which: str) -> float:
        self._check_t(t)
        t = min(t, self.total_steps - 1)
        start = 0.0
        for i, (end, rates, momenta) in enumerate(self._phases):
            if t <= end or i == len(self._phases) - 1:
                begin, finish = rates if which == "rate" else momenta
                return self._interpolate(begin, finish, (t - start) / (end - start))
            start = end
        raise AssertionError("unreachable: the last phase always matches")

    def __call__(self, t: int) -> float:
        return self._at(t, "rate")

    def momentum(self, t: int) -> float:
        """The momentum (SGD / RMSprop ``momentum``, Adam's ``beta1``) at step t."""
        return self._at(t, "momentum")

    def momentum_values(self, steps: int | Iterable[int]) -> np.ndarray:
        ts = range(steps) if isinstance(steps, (int, np.integer)) else steps
        return np.array([self.momentum(int(t)) for t in ts], dtype=np.float64)
