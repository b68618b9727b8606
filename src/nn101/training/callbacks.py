"""Callbacks: small objects that ``fit`` calls at the start, at each epoch's end, and at the end.

``on_epoch_end`` returns True to stop training. Keep them small: logging, early stopping and
learning-rate adjustment, not a framework.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer

__all__ = ["Callback", "EarlyStopping", "ReduceOnPlateau"]


class Callback:
    """Base class; every hook does nothing."""

    def on_train_begin(self, model: Layer, optimizer: Any) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        return False

    def on_train_end(self) -> None:
        pass


class _Monitor:
    """Tracks the best value of one logged metric; 'min' for losses, 'max' for accuracies."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float) -> None:
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta}")
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, min_delta
        self.best = np.inf if mode == "min" else -np.inf

    def improved(self, logs: dict[str, float]) -> bool:
        if self.monitor not in logs:
            raise KeyError(
                f"{self.owner}: monitored metric {self.monitor!r} is not logged; "
                f"available: {sorted(logs)} (val_* needs validation_data)"
            )
        value = logs[self.monitor]
        better = (
            value < self.best - self.min_delta
            if self.mode == "min"
            else value > self.best + self.min_delta
        )
        if better:
            self.best = value
        return bool(better)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best=True`` the weights (and buffers) of the best epoch are put back at the
    end of training.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        *,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience, self.restore_best = patience, restore_best
        self.wait, self.best_epoch = 0, -1
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, np.ndarray] | None = None
        self._model: Layer | None = None

    def on_train_begin(self, model: Layer, optimizer: Any) -> None:
        self._model, self.wait, self._best_state = model, 0, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.tracker.improved(logs):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best and self._model is not None:
                self._best_state = _snapshot(self._model)
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self) -> None:
        if self.restore_best and self._best_state is not None and self._model is not None:
            _restore(self._model, self._best_state)


class ReduceOnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Like ``torch.optim.lr_scheduler.ReduceLROnPlateau`` with threshold_mode='abs': after a
    reduction, ``cooldown`` epochs pass before counting again; the rate never goes below
    ``min_lr``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.5,
        patience: int = 3,
        *,
        min_delta: float = 0.0,
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
    ) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"ReduceOnPlateau: factor must be in (0, 1), got {factor}")
        if patience < 0 or cooldown < 0 or min_lr < 0:
            raise ValueError(
                "ReduceOnPlateau: patience, cooldown and min_lr must be >= 0, "
                f"got {patience}, {cooldown}, {min_lr}"
            )
        self.tracker = _Monitor("ReduceOnPlateau", monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.wait, self.cooldown_left = 0, 0
        self._optimizer: Any = None

    def on_train_begin(self, model: Layer, optimizer: Any) -> None:
        self._optimizer, self.wait, self.cooldown_left = optimizer, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.tracker.improved(logs):
            self.wait = 0
        elif self.cooldown_left > 0:
            self.cooldown_left -= 1
        else:
            self.wait += 1
            if self.wait > self.patience:
                lr = self._optimizer.learning_rate
                self._optimizer.learning_rate = max(lr * self.factor, self.min_lr)
                self.wait, self.cooldown_left = 0, self.cooldown
        return False


def _snapshot(model: Layer) -> dict[str, np.ndarray]:
    state = {name: p.value.copy() for name, p in model.named_parameters()}
    state.update({f"buffer:{name}": np.array(b, copy=True) for name, b in model.named_buffers()})
    return state


def _restore(model: Layer, state: dict[str, np.ndarray]) -> None:
    for name, p in model.named_parameters():
        p.value[...] = state[name]
    for name, b in model.named_buffers():
        b[...] = state[f"buffer:{name}"]
