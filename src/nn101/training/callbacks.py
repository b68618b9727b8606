"""Callbacks: small objects that ``fit`` calls at the start and end of training, of each
epoch, and after each batch, with the training state (``TrainState``: model, optimizer,
history, clocks).

``on_epoch_end`` may add values to ``logs`` (the history records them) and returns True to
stop training. ``state_dict`` / ``load_state_dict`` hold what a checkpoint must keep. Keep them
small: logging, early stopping, learning-rate adjustment, checkpoints, not a framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nn101.training.state import TrainState

__all__ = ["Callback", "EarlyStopping", "ReduceOnPlateau"]


class Callback:
    """Base class; every hook does nothing."""

    def on_train_begin(self, state: TrainState) -> None:
        pass

    def on_epoch_begin(self, state: TrainState) -> None:
        pass

    def on_batch_end(self, state: TrainState, loss: float) -> None:
        pass

    def on_epoch_end(self, state: TrainState, logs: dict[str, Any]) -> bool:
        return False

    def on_train_end(self, state: TrainState) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback (JSON scalars and arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
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
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs in a row
    (Keras's rule: with patience 3, three epochs without improvement stop training).

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
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, state: TrainState, logs: dict[str, Any]) -> bool:
        if self.tracker.improved(logs):
            self.wait, self.best_epoch = 0, state.history.epoch[-1]
            if self.restore_best:
                self.best_weights = state.model.snapshot()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = state.history.epoch[-1]
            return True
        return False

    def on_train_end(self, state: TrainState) -> None:
        if self.restore_best and self.best_weights is not None:
            state.model.restore(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best": self.tracker.best,
            "wait": self.wait,
            "best_epoch": self.best_epoch,
        }
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.best = float(state["best"])
        self.wait, self.best_epoch = int(state["wait"]), int(state["best_epoch"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {k: v.copy() for k, v in weights.items()}


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

    def on_epoch_end(self, state: TrainState, logs: dict[str, Any]) -> bool:
        # PyTorch's order: count the epoch, then spend one epoch of cooldown (every epoch
        # counts, improving or not), then reduce once more than ``patience`` bad epochs passed.
        self.wait = 0 if self.tracker.improved(logs) else self.wait + 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.wait > self.patience:
            lr = state.optimizer.learning_rate
            state.optimizer.learning_rate = max(lr * self.factor, self.min_lr)
            self.wait, self.cooldown_left = 0, self.cooldown
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.tracker.best, "wait": self.wait, "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.best = float(state["best"])
        self.wait, self.cooldown_left = int(state["wait"]), int(state["cooldown_left"])
