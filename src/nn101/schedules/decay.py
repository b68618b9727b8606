"""Decaying schedules: constant, step, multi-step, exponential, inverse-time, cosine with warmup."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from nn101.schedules.base import Schedule, check, check_rate, check_steps

__all__ = [
    "Constant",
    "StepDecay",
    "MultiStep",
    "ExponentialDecay",
    "InverseTimeDecay",
    "CosineDecay",
]


class Constant(Schedule):
    """η_t = η."""

    def __init__(self, learning_rate: float) -> None:
        check_rate("Constant", "learning_rate", learning_rate)
        self.learning_rate = float(learning_rate)

    def __call__(self, t: int) -> float:
        self.check_step(t)
        return self.learning_rate


class StepDecay(Schedule):
    """η_t = η₀ · factor^⌊t / every⌋: multiply by ``factor`` every ``every`` steps.

    Halving every k steps is ``StepDecay(η₀, every=k, factor=0.5)``. (torch: StepLR.)
    """

    def __init__(self, initial: float, every: int, factor: float = 0.5) -> None:
        check_rate("StepDecay", "initial", initial)
        check_steps("StepDecay", "every", every)
        check("StepDecay", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.every, self.factor = float(initial), int(every), float(factor)

    def __call__(self, t: int) -> float:
        self.check_step(t)
        return self.initial * self.factor ** (t // self.every)


class MultiStep(Schedule):
    """η_t = η₀ · factor^(number of milestones ≤ t). (torch: MultiStepLR.)"""

    def __init__(self, initial: float, milestones: Sequence[int], factor: float = 0.1) -> None:
        check_rate("MultiStep", "initial", initial)
        steps = list(milestones)
        check(
            "MultiStep",
            "milestones",
            milestones,
            all(isinstance(m, (int, np.integer)) and m >= 1 for m in steps)
            and all(a < b for a, b in zip(steps, steps[1:], strict=False)),
            "strictly increasing integers >= 1",
        )
        check("MultiStep", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.milestones, self.factor = float(initial), steps, float(factor)

    def __call__(self, t: int) -> float:
        self.check_step(t)
        return self.initial * self.factor ** bisect_right(self.milestones, t)


class ExponentialDecay(Schedule):
    """η_t = η₀ · factor^t: multiply by ``factor`` every step. (torch: ExponentialLR.)"""

    def __init__(self, initial: float, factor: float) -> None:
        check_rate("ExponentialDecay", "initial", initial)
        check("ExponentialDecay", "factor", factor, 0 < factor <= 1, "in (0, 1]")
        self.initial, self.factor = float(initial), float(factor)

    def __call__(self, t: int) -> float:
        self.check_step(t)
        return self.initial * self.factor**t


class InverseTimeDecay(Schedule):
    """η_t = η₀ / (1 + decay_rate · t / decay_steps), with ⌊t / decay_steps⌋ if staircase.

    The 1/t decay of stochastic approximation (Robbins & Monro 1951); Keras' InverseTimeDecay.
    """

    def __init__(
        self, initial: float, decay_rate: float, decay_steps: int = 1, *, staircase: bool = False
    ) -> None:
        check_rate("InverseTimeDecay", "initial", initial)
        check_rate("InverseTimeDecay", "decay_rate", decay_rate)
        check_steps("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial, self.decay_rate = float(initial), float(decay_rate)
        self.decay_steps, self.staircase = int(decay_steps), bool(staircase)

    def __call__(self, t: int) -> float:
        self.check_step(t)
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
        check_rate(owner, "initial", initial)
        check_steps(owner, "total_steps", total_steps)
        check(
            owner,
            "warmup_steps",
            warmup_steps,
            isinstance(warmup_steps, (int, np.integer)) and 0 <= warmup_steps < total_steps,
            f"an integer in [0, total_steps={total_steps})",
        )
        check(
            owner,
            "warmup_start_factor",
            warmup_start_factor,
            0 <= warmup_start_factor <= 1,
            "in [0, 1]",
        )
        check(owner, "final", final, 0 <= final <= initial, f"in [0, initial={initial}]")
        self.initial, self.total_steps, self.warmup_steps = (
            float(initial),
            total_steps,
            warmup_steps,
        )
        self.warmup_start_factor, self.final = float(warmup_start_factor), float(final)

    def __call__(self, t: int) -> float:
        self.check_step(t)
        W, f = self.warmup_steps, self.warmup_start_factor
        if t < W:
            return self.initial * (f + (1.0 - f) * t / W)
        progress = min(t - W, self.total_steps - W) / (self.total_steps - W)
        return self.final + 0.5 * (self.initial - self.final) * (1.0 + math.cos(math.pi * progress))
