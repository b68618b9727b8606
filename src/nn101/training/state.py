"""TrainState: everything a training run is, in one object (what a checkpoint saves)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.losses import Loss
from nn101.optimizers import Optimizer
from nn101.training.callbacks import Callback
from nn101.training.history import History

__all__ = ["TrainState", "lend_rng"]


@dataclass
class TrainState:
    """A training run: the model, the optimizer (whose ``step_count`` and ``epoch_count`` are
    the clocks), the loss, the random generator that shuffles and drives dropout, the history,
    the callbacks, and where the run stands inside an epoch (``order``, ``batch_index`` and the
    running sums), so that a checkpoint taken at any step resumes bit for bit.
    """

    model: Layer
    optimizer: Optimizer
    loss: Loss
    rng: np.random.Generator
    history: History = field(default_factory=History)
    callbacks: Sequence[Callback] = ()
    schedule: Callable[[int], float] | None = None
    schedule_per: str = "step"
    clip_norm: float | None = None
    clip_value: float | None = None
    metrics: tuple[str, ...] = ()
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))  # the parameters'
    stop: bool = False  # a callback asks to stop after this epoch
    order: np.ndarray | None = None  # (n,) this epoch's example order
    batch_index: int = 0  # batches of this epoch already trained
    running: dict[str, float] = field(default_factory=dict)  # loss sum, correct, seen

    @property
    def epoch(self) -> int:
        return self.optimizer.epoch_count

    @property
    def step(self) -> int:
        return self.optimizer.step_count

    def generators(self) -> dict[str, np.random.Generator]:
        """Every random generator the run uses: the training one, and each layer's own."""
        found = {"fit": self.rng}
        for path, layer in self.model.named_layers():
            rng = getattr(layer, "rng", None)
            if isinstance(rng, np.random.Generator) and rng is not self.rng:
                found[f"layer:{path}"] = rng
        return found


@contextmanager
def lend_rng(model: Layer, rng: np.random.Generator) -> Iterator[None]:
    """For the duration of training, layers that sample and have no generator of their own
    (``rng=None``) draw from ``rng``: one seed then fixes the whole run."""
    borrowers = [layer for layer in model.layers_below() if _has_unset_rng(layer)]
    for layer in borrowers:
        layer.rng = rng  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for layer in borrowers:
            layer.rng = None  # type: ignore[attr-defined]


def _has_unset_rng(layer: Any) -> bool:
    return "rng" in vars(layer) and layer.rng is None
