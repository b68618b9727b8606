"""How a recipe is fitted: epochs, batch size, optimizer and learning-rate schedule, as data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from nn101.core import Parameter
from nn101.optimizers import Optimizer
from nn101.registry import OPTIMIZERS
from nn101.schedules import CosineDecay

__all__ = ["SCHEDULES", "FitSettings"]

SCHEDULES = ("constant", "cosine")
"""``constant``: the optimizer's rate throughout; ``cosine``: a half cosine from the rate down
to 0 over all steps of the run (Loshchilov & Hutter 2017)."""


@dataclass(frozen=True)
class FitSettings:
    """The arguments of ``fit`` a recipe chooses; ``optimizer`` is a name in OPTIMIZERS."""

    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    schedule: str = "constant"

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"FitSettings: schedule must be one of {', '.join(SCHEDULES)}, "
                f"got {self.schedule!r}"
            )
        OPTIMIZERS.get(self.optimizer)  # an unknown name raises, listing the known ones

    def with_changes(self, **changes: Any) -> FitSettings:
        """A copy with the given fields changed; ``None`` values change nothing."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def make_optimizer(self, parameters: Iterable[Parameter]) -> Optimizer:
        optimizer: Optimizer = OPTIMIZERS.get(self.optimizer)(
            parameters, learning_rate=self.learning_rate
        )
        return optimizer

    def make_schedule(self, num_examples: int) -> Callable[[int], float] | None:
        """The per-step schedule for a run over ``num_examples`` training examples, or None."""
        if self.schedule == "constant":
            return None
        steps = self.epochs * math.ceil(num_examples / self.batch_size)
        return CosineDecay(self.learning_rate, total_steps=max(steps, 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "optimizer": self.optimizer,
            "schedule": self.schedule,
        }
