"""Fitting from the command line: Ctrl-C stops cleanly, divergence saves nothing.

The first Ctrl-C lets the current batch finish, then stops at that step boundary and saves a
checkpoint, and says how to resume; a second Ctrl-C stops at once. Either way the command
exits with status 130 and no traceback. A run whose loss becomes NaN or infinite stops before
that step reaches the weights (``train_step`` checks first) and nothing is saved.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import numpy as np

from nn101.cli.models import Built
from nn101.data.dataset import Dataset
from nn101.losses import SoftmaxCrossEntropy
from nn101.training import Callback, TrainState

__all__ = ["fit_or_checkpoint", "StopOnInterrupt"]


class StopOnInterrupt(Callback):
    """Turns the first SIGINT into a stop at the next batch end (a clean step boundary)."""

    def __init__(self) -> None:
        self.requested = False
        self.state: TrainState | None = None
        self.at_boundary = False

    def on_train_begin(self, state: TrainState) -> None:
        self.state = state

    def on_batch_end(self, state: TrainState, loss: float) -> None:
        if self.requested:
            self.at_boundary = True
            raise KeyboardInterrupt

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt  # the second Ctrl-C: stop at once
        self.requested = True
        print(
            "nn101 train: stopping after this batch (Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    @contextmanager
    def installed(self) -> Iterator[StopOnInterrupt]:
        previous = signal.signal(signal.SIGINT, self.handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def fit_or_checkpoint(
    args: argparse.Namespace,
    out: Path,
    built: Built,
    train: Dataset,
    valid: Dataset | None,
    rng: np.random.Generator,
) -> None:
    """Fit ``built.model`` with its settings; on Ctrl-C checkpoint and re-raise."""
    stopper = StopOnInterrupt()
    settings = built.settings
    try:
        with stopper.installed():
            built.model.fit(  # type: ignore[attr-defined]
                train,
                epochs=settings.epochs,
                batch_size=settings.batch_size,
                optimizer=settings.make_optimizer(built.model.parameters()),
                loss=SoftmaxCrossEntropy(),
                schedule=settings.make_schedule(len(train)),
                validation_data=valid,
                rng=rng,
                callbacks=[stopper],
                verbose=0 if args.quiet else 1,
            )
    except FloatingPointError as error:
        raise FloatingPointError(f"training diverged: {error}; nothing was saved") from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_after_interrupt(stopper, out)) from None


def _after_interrupt(stopper: StopOnInterrupt, out: Path) -> str:
    """What was kept of the interrupted run, in words."""
    return "nothing was saved"
