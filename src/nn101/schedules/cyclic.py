"""Cyclical schedules: the triangle of CyclicLR and the 1cycle policy (rate and momentum)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from nn101.schedules.base import Schedule, check, check_rate, check_steps

__all__ = ["CyclicLR", "OneCycle"]


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
        check_rate("CyclicLR", "base_lr", base_lr)
        check(
            "CyclicLR",
            "max_lr",
            max_lr,
            max_lr >= base_lr and max_lr < math.inf,
            f"a number in [base_lr={base_lr}, inf)",
        )
        check_steps("CyclicLR", "step_size_up", step_size_up)
        down = step_size_up if step_size_down is None else step_size_down
        check_steps("CyclicLR", "step_size_down", down)
        check("CyclicLR", "mode", mode, mode in self.MODES, f"one of {self.MODES}")
        check("CyclicLR", "gamma", gamma, 0 < gamma <= 1, "in (0, 1]")
        self.base_lr, self.max_lr = float(base_lr), float(max_lr)
        self.step_size_up, self.step_size_down = int(step_size_up), int(down)
        self.mode, self.gamma = mode, float(gamma)

    def __call__(self, t: int) -> float:
        self.check_step(t)
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
        check_rate(owner, "max_lr", max_lr)
        check_steps(owner, "total_steps", total_steps, minimum=2)
        check(owner, "pct_start", pct_start, 0 < pct_start < 1, "in (0, 1)")
        check(owner, "anneal", anneal, anneal in ("cos", "linear"), "'cos' or 'linear'")
        check(owner, "div_factor", div_factor, div_factor > 0, "in (0, inf)")
        check(owner, "final_div_factor", final_div_factor, final_div_factor > 0, "in (0, inf)")
        check(owner, "base_momentum", base_momentum, 0 <= base_momentum < 1, "in [0, 1)")
        check(
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
        check(
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
        self.check_step(t)
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
