"""The schedule base class and the argument checks every schedule uses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["Schedule", "check", "check_rate", "check_steps"]


def check(owner: str, name: str, value: Any, ok: bool, allowed: str) -> None:
    """Raise ``ValueError`` naming the argument, the value and the allowed range."""
    if not ok:
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}")


def check_rate(owner: str, name: str, value: float) -> None:
    check(
        owner,
        name,
        value,
        isinstance(value, (int, float, np.integer, np.floating)) and 0 <= value < math.inf,
        "a number in [0, inf)",
    )


def check_steps(owner: str, name: str, value: int, minimum: int = 1) -> None:
    check(
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

    def check_step(self, t: int) -> None:
        """Refuse a negative step: schedules are defined from t = 0."""
        if t < 0:
            raise ValueError(f"{type(self).__name__}: step t must be >= 0, got {t}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
