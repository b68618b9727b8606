"""Fitting from the command line: Ctrl-C checkpoints and says how to resume; divergence saves
nothing.

The first Ctrl-C lets the current batch finish, stops at that step boundary, writes a
checkpoint next to ``--out`` (``NAME.ckpt``) and prints the command that resumes the run: the
same command with ``--resume NAME.ckpt``, which continues bit for bit. A second Ctrl-C stops at
once, saving nothing. Either way the command exits with status 130 and no traceback. A run
whose loss becomes NaN or infinite stops before that step reaches the weights (``train_step``
checks first) and nothing is saved.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import numpy as np

from nn101.cli.models import Built
from nn101.data.dataset import Dataset
from nn101.losses import SoftmaxCrossEntropy
from nn101.training import Callback, TrainState
from nn101.training.checkpoint import Checkpoint, save_checkpoint

__all__ = ["fit_or_checkpoint", "checkpoint_path", "checkpoint_dir", "StopOnInterrupt"]


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


def checkpoint_path(out: Path) -> Path:
    """Where an interrupted run is saved: ``model.nn101`` -> ``model.ckpt``."""
    path = out.with_name(out.stem + ".ckpt")
    return path if path != out else out.with_name(out.name + ".ckpt")


def checkpoint_dir(out: Path) -> Path:
    """Where ``--checkpoint-every`` saves: ``model.nn101`` -> ``model-checkpoints/``."""
    return out.with_name(out.stem + "-checkpoints")


def fit_or_checkpoint(
    args: argparse.Namespace,
    out: Path,
    built: Built,
    train: Dataset,
    valid: Dataset | None,
    rng: np.random.Generator,
) -> None:
    """Fit ``built.model`` with its settings (continuing ``args.resume`` if given); on Ctrl-C
    checkpoint the run and raise KeyboardInterrupt saying how to resume."""
    stopper = StopOnInterrupt()
    try:
        with stopper.installed():
            _fit(built, train, valid, rng, [stopper, *_periodic(args, out)], args)
    except FloatingPointError as error:
        raise FloatingPointError(f"training diverged: {error}; nothing was saved") from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_after_interrupt(stopper, out, args.argv)) from None


def _periodic(args: argparse.Namespace, out: Path) -> list[Callback]:
    if args.checkpoint_every is None:
        return []
    return [Checkpoint(checkpoint_dir(out), every_epochs=args.checkpoint_every, keep_last=2)]


def _fit(
    built: Built,
    train: Dataset,
    valid: Dataset | None,
    rng: np.random.Generator,
    callbacks: list[Callback],
    args: argparse.Namespace,
) -> None:
    settings = built.settings
    built.model.fit(  # type: ignore[attr-defined]
        train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        optimizer=settings.make_optimizer(built.model.parameters()),
        loss=SoftmaxCrossEntropy(),
        schedule=settings.make_schedule(len(train)),
        validation_data=valid,
        rng=rng,
        callbacks=callbacks,
        verbose=0 if args.quiet else 1,
        resume_from=args.resume,
        **built.fit_options,
    )


def _after_interrupt(stopper: StopOnInterrupt, out: Path, argv: Sequence[str]) -> str:
    """Save the run if it stopped at a step boundary; say what was kept, in words."""
    state = stopper.state
    if not stopper.at_boundary or state is None:
        return "stopped at once; nothing was saved"
    path = save_checkpoint(state, checkpoint_path(out))
    return (
        f"saved the run at epoch {state.epoch + 1}, step {state.step} to {path}; "
        f"resume with: {resume_command(argv, path)}"
    )


def resume_command(argv: Sequence[str], checkpoint: Path) -> str:
    """The command line ``argv`` with ``--resume checkpoint`` (replacing any earlier one)."""
    words, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == "--resume":
            skip = True
        elif not word.startswith("--resume="):
            words.append(word)
    return shlex.join(["nn101", *words, "--resume", str(checkpoint)])
