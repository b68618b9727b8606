"""Checkpoints: a training run in one file, from which ``fit(resume_from=...)`` continues bit
for bit.

A checkpoint is a model file (``nn101.load`` reads its model) with two more members:
``training.json`` (the clocks, the optimizer's hyperparameters, every generator's state, where
the run stands in its epoch, the history, the callbacks' states) and ``training.npz`` (the
arrays among them: the optimizer's moments, this epoch's order, carried recurrent state).
Arrays inside the JSON tree are stored as ``{"__array__": key}``. Writes are atomic, like
model files; reads are bounded and checked, like model files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nn101.errors import ModelFileError, OverwriteError
from nn101.serialization import is_model, layer_spec
from nn101.serialization.arrays import read_array, read_headers, write_npz
from nn101.serialization.checks import MAX_JSON_BYTES, parse_json
from nn101.serialization.container import (
    TMP_MARK,
    check_overwrite,
    is_abandoned,
    open_container,
    write_atomically,
)
from nn101.serialization.model_file import (
    WEIGHTS,
    assign,
    model_members,
    model_targets,
    read_architecture,
)
from nn101.training.callbacks import Callback, _Monitor
from nn101.training.run_tree import capture, join_arrays, restore, split_arrays
from nn101.training.state import TrainState

__all__ = [
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "resume",
    "checkpoints_last",
]

TRAINING_JSON, TRAINING_NPZ = "training.json", "training.npz"
NAME = re.compile(r"^epoch(\d{4,})-step(\d{8,})\.ckpt$")


def save_checkpoint(state: TrainState, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the whole run ``state`` to the file ``path``, atomically.

    An existing nn101 file at ``path`` is replaced (``overwrite=False`` refuses); anything
    else there raises ``OverwriteError`` and is left untouched.
    """
    path = Path(path)
    check_overwrite(path, overwrite, is_model(path), "checkpoint")
    arrays: dict[str, np.ndarray] = {}
    tree = split_arrays(capture(state), arrays, "")
    members = model_members(state.model, {"checkpoint": {"epoch": state.epoch, "step": state.step}})
    members[TRAINING_JSON] = (json.dumps(tree) + "\n").encode("utf-8")
    members[TRAINING_NPZ] = write_npz(arrays)
    write_atomically(path, members)
    return path


def load_checkpoint(path: str | Path, state: TrainState) -> Path:
    """Restore into ``state`` the run saved at ``path`` (a checkpoint file, or a directory of
    them: its latest). The model must be built as the saved one was. Returns the file read.

    All or nothing: if the file is refused, ``state`` (weights included) is left as it was.
    """
    with all_or_nothing(state):
        return _load(_resolve(Path(path)), state)


def resume(state: TrainState, path: str | Path, n_examples: int, batch_size: int) -> Path:
    """``load_checkpoint`` for ``fit``: also checks that a checkpoint taken inside an epoch
    fits the data and batch size given (its order, and the examples seen so far)."""
    with all_or_nothing(state):
        path = _load(_resolve(Path(path)), state)
        order, seen = state.order, state.running.get("seen")
        if order is not None and (order.shape != (n_examples,) or not _in_range(order, n_examples)):
            raise ModelFileError(
                f"{path}: the checkpoint's epoch order is for {order.size} examples; the "
                f"training data has {n_examples} (resume with the same data)"
            )
        expected = min(state.batch_index * batch_size, n_examples)
        if state.batch_index and (order is None or seen != expected):
            raise ModelFileError(
                f"{path}: the checkpoint was taken {state.batch_index} batches into an epoch, "
                f"{seen} examples seen; with batch_size={batch_size} that would be {expected} "
                "(resume with the run's batch size)"
            )
        return path


@contextmanager
def all_or_nothing(state: TrainState) -> Iterator[None]:
    """Put ``state`` back as it was (weights, optimizer, generators, history, callbacks) if
    the block raises: a refused checkpoint must not leave a half-restored run behind."""
    arrays: dict[str, np.ndarray] = {}
    tree = json.loads(json.dumps(split_arrays(capture(state), arrays, "")))  # as a file holds it
    run = join_arrays(tree, {key: array.copy() for key, array in arrays.items()})
    weights = state.model.snapshot()
    try:
        yield
    except BaseException:
        state.model.restore(weights)
        restore(state, run)
        raise


def _load(path: Path, state: TrainState) -> Path:
    with open_container(path, "checkpoint") as container:
        saved = read_architecture(container)["model"]
        if saved != json.loads(json.dumps(layer_spec(state.model))):
            raise ModelFileError(f"{path}: the checkpoint was written for another model")
        if not {TRAINING_JSON, TRAINING_NPZ} <= container.names():
            raise ModelFileError(f"{path}: a model file, not a checkpoint (no {TRAINING_JSON})")
        tree = parse_json(container.read(TRAINING_JSON, MAX_JSON_BYTES), str(path))
        with container.zip_member(TRAINING_NPZ) as archive:
            source = f"{path} ({TRAINING_NPZ})"
            headers = read_headers(archive, source)
            arrays = {name: read_array(archive, h, source) for name, h in headers.items()}
        with container.zip_member(WEIGHTS) as weights:
            source = f"{path} ({WEIGHTS})"
            assign(model_targets(state.model), weights, read_headers(weights, source), source)
    try:
        restore(state, join_arrays(tree, arrays))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as error:
        raise ModelFileError(f"{path}: cannot restore the run ({error!r})") from error
    return path


def _in_range(order: np.ndarray, n: int) -> bool:
    return bool(order.size == 0 or (order.min() >= 0 and order.max() < n))


def checkpoints_last(callbacks: Sequence[Callback]) -> list[Callback]:
    """The callbacks in order, Checkpoints moved last: a checkpoint holds the others' state."""
    others = [c for c in callbacks if not isinstance(c, Checkpoint)]
    return others + [c for c in callbacks if isinstance(c, Checkpoint)]


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The newest checkpoint a ``Checkpoint`` callback wrote in ``directory`` (by step)."""
    found = _checkpoints(Path(directory))
    return found[-1] if found else None


def _checkpoints(directory: Path) -> list[Path]:
    """Checkpoint files of ``directory``, oldest first (by step, then epoch)."""
    named = [(NAME.match(p.name), p) for p in directory.iterdir() if p.is_file()]
    found = [(int(m[2]), int(m[1]), p) for m, p in named if m]
    return [p for _, _, p in sorted(found)]


def _leftovers(directory: Path) -> list[Path]:
    """Temporary files of checkpoint writes that were killed (``.<name>.nn101-tmp-<pid>-<hex>``;
    not those another running process is writing)."""
    found = []
    for path in directory.iterdir():
        name, _, suffix = path.name.partition(TMP_MARK)
        if name.startswith(".") and NAME.match(name[1:]) and suffix and path.is_file():
            if is_abandoned(path):
                found.append(path)
    return found


def _resolve(path: Path) -> Path:
    if not path.is_dir():
        return path
    latest = latest_checkpoint(path)
    if latest is None:
        raise FileNotFoundError(f"no checkpoint (epochNNNN-stepNNNNNNNN.ckpt) in {str(path)!r}")
    return latest


class Checkpoint(Callback):
    """Save the run every ``every_epochs`` epochs and / or every ``every_steps`` steps into
    ``directory`` as ``epoch{E}-step{S}.ckpt`` (E epochs done, S steps done), keeping the last
    ``keep_last`` (None: all) and, with ``monitor`` (a logged value such as ``"val_loss"``;
    ``mode`` as for EarlyStopping), the best one too. ``fit`` runs checkpoints after every other
    callback, so that a checkpoint holds their updated state. Resume with
    ``fit(..., resume_from=directory)``.
    """

    def __init__(
        self,
        directory: str | Path,
        every_epochs: int | None = 1,
        every_steps: int | None = None,
        keep_last: int | None = 2,
        monitor: str | None = None,
        mode: str = "auto",
    ) -> None:
        for name, value in (("every_epochs", every_epochs), ("every_steps", every_steps)):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ValueError(f"Checkpoint: {name} must be None or >= 1, got {value!r}")
        if keep_last is not None and keep_last < 1:
            raise ValueError(f"Checkpoint: keep_last must be None or >= 1, got {keep_last}")
        self.directory = Path(directory)
        self.every_epochs, self.every_steps, self.keep_last = every_epochs, every_steps, keep_last
        self.tracker = _Monitor("Checkpoint", monitor, mode, 0.0) if monitor else None
        self.best_name: str | None = None

    def on_train_begin(self, state: TrainState) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise OverwriteError(f"Checkpoint: {str(self.directory)!r} is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)

    def on_batch_end(self, state: TrainState, loss: float) -> None:
        if self.every_steps is not None and state.step % self.every_steps == 0:
            self.save(state)

    def on_epoch_end(self, state: TrainState, logs: dict[str, Any]) -> bool:
        improved = self.tracker is not None and self.tracker.improved(logs)
        if improved:
            self.best_name = self.path_for(state).name
        due = self.every_epochs is not None and state.epoch % self.every_epochs == 0
        if due or improved:
            self.save(state)
        return False

    def path_for(self, state: TrainState) -> Path:
        return self.directory / f"epoch{state.epoch:04d}-step{state.step:08d}.ckpt"

    def save(self, state: TrainState) -> Path:
        """Write a checkpoint of ``state`` now, then drop those no longer kept."""
        path = save_checkpoint(state, self.path_for(state))
        for leftover in _leftovers(self.directory):  # of checkpoints killed while written
            leftover.unlink(missing_ok=True)
        if self.keep_last is not None:
            for stale in _checkpoints(self.directory)[: -self.keep_last]:
                if stale.name != self.best_name:
                    stale.unlink(missing_ok=True)
        return path

    def state_dict(self) -> dict[str, Any]:
        best = None if self.tracker is None else float(self.tracker.best)
        return {"best": best, "best_name": self.best_name}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.tracker is not None and state["best"] is not None:
            self.tracker.best = float(state["best"])
        self.best_name = state["best_name"]
