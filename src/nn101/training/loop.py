"""The training loop, once, top to bottom: ``train_step`` is the body, ``fit`` the loop.

Works on any Layer (Sequential's fit / evaluate / predict are thin methods over these); the LR
finder reuses ``train_step``. Callbacks live in ``callbacks.py``, the run's state in
``state.py``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from nn101 import metrics
from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.losses import Loss
from nn101.optimizers import Optimizer
from nn101.regularizers import clip_grad_norm, clip_grad_value
from nn101.training import checkpoint, checks
from nn101.training.callbacks import Callback
from nn101.training.history import History
from nn101.training.inference import evaluate
from nn101.training.state import TrainState, lend_rng

__all__ = ["fit", "train_step", "run_epoch", "apply_schedule"]


def train_step(state: TrainState, x: np.ndarray, y: Any) -> tuple[float, np.ndarray]:
    """One mini-batch step; returns the batch loss (with the penalty) and the model's output.

    The loss is checked before the optimizer steps: a non-finite loss raises
    FloatingPointError and the weights keep their last finite values.
    """
    model, optimizer, loss = state.model, state.optimizer, state.loss
    if state.schedule is not None and state.schedule_per == "step":
        apply_schedule(state.schedule, optimizer.step_count, optimizer)
    optimizer.zero_grad()
    output = model.forward(x, training=True)
    value = loss.forward(output, y) + model.penalty()
    if not math.isfinite(value):
        raise FloatingPointError(
            f"the loss became {value} at step {optimizer.step_count + 1}; the weights keep "
            f"their last finite values; lower the learning rate (now {optimizer.learning_rate:g})"
        )
    model.backward(loss.backward(), input_grad=False)  # the input is data: no dL/dx
    if state.clip_value is not None:
        clip_grad_value(optimizer.parameters, state.clip_value)
    if state.clip_norm is not None:
        clip_grad_norm(optimizer.parameters, state.clip_norm)
    optimizer.step()
    return value, output


def fit(
    model: Layer,
    x: Any,
    y: Any = None,
    *,
    optimizer: Optimizer,
    loss: Loss,
    epochs: int = 10,
    batch_size: int = 32,
    validation_data: Any = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    verbose: int = 1,
    callbacks: Sequence[Callback] = (),
    schedule: Callable[[int], float] | None = None,
    schedule_per: str = "step",
    clip_norm: float | None = None,
    clip_value: float | None = None,
    resume_from: str | Path | None = None,
) -> History:
    """Train ``model`` on ``(x, y)`` (arrays, or a Dataset as ``x``) by mini-batch descent.

    Each step (``train_step``): set the learning rate from ``schedule`` (evaluated at the
    optimizer's ``step_count``, or at its ``epoch_count`` with ``schedule_per="epoch"``), clear
    the gradients, run forward in training mode, compute the loss plus the layers' penalty,
    run backward, clip the gradients if asked, and let the optimizer update the parameters.
    Calling ``fit`` again with the same optimizer continues where the last call stopped (the
    schedule too); with the same generator ``rng`` (which shuffles, and drives every layer that
    samples and has no generator of its own), ``fit(epochs=1)`` twice equals ``fit(epochs=2)``.
    Stateful layers are reset at every epoch's start. Returns a History with ``loss``, the
    loss's metrics (``accuracy`` for classification), ``val_*`` with ``validation_data``,
    ``lr`` and ``time`` (seconds) for each epoch.

    ``resume_from`` (a checkpoint file, or a directory of them meaning its latest; see
    :class:`Checkpoint`) continues a run exactly where it was saved, bit for bit: build the
    model and optimizer as before and pass the same arguments; ``epochs`` is then the run's
    total, so rerunning the same command finishes the same run.
    """
    checks.check_positive_int("epochs", epochs)
    checks.check_positive_int("batch_size", batch_size)
    state, train, valid = _prepare(
        model, x, y, optimizer, loss, validation_data, rng, callbacks, schedule, schedule_per
    )
    state.clip_norm, state.clip_value = clip_norm, clip_value
    last_epoch = optimizer.epoch_count + epochs
    if resume_from is not None:
        checkpoint.resume(state, resume_from, len(train), batch_size)
        last_epoch = epochs
    with lend_rng(model, state.rng):
        for callback in callbacks:
            callback.on_train_begin(state)
        while optimizer.epoch_count < last_epoch and not state.stop:
            run_epoch(state, train, valid, batch_size, shuffle, verbose, last_epoch)
        for callback in callbacks:
            callback.on_train_end(state)
    return state.history


def _prepare(
    model: Layer,
    x: Any,
    y: Any,
    optimizer: Optimizer,
    loss: Loss,
    validation_data: Any,
    rng: np.random.Generator | None,
    callbacks: Sequence[Callback],
    schedule: Callable[[int], float] | None,
    schedule_per: str,
) -> tuple[TrainState, Dataset, Dataset | None]:
    """Check every argument and the data against the model and loss, before any training."""
    if schedule_per not in ("step", "epoch"):
        raise ValueError(f"fit: schedule_per must be 'step' or 'epoch', got {schedule_per!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn101 Optimizer, got {optimizer!r}")
    if not isinstance(loss, Loss):
        raise TypeError(f"fit: loss must be an nn101 Loss, got {loss!r}")
    dtype = checks.parameter_dtype(model)
    train = checks.as_dataset(x, y, "fit", dtype, require_targets=True)
    valid = None
    if validation_data is not None:
        x_val, y_val = checks.unpack_validation(validation_data)
        valid = checks.as_dataset(x_val, y_val, "fit(validation_data)", dtype, require_targets=True)
        checks.check_against(model, loss, valid, "fit(validation_data)")
    state = TrainState(
        model=model,
        optimizer=optimizer,
        loss=loss,
        rng=rng if rng is not None else np.random.default_rng(),
        callbacks=checkpoint.checkpoints_last(callbacks),
        schedule=schedule,
        schedule_per=schedule_per,
        metrics=checks.check_against(model, loss, train, "fit"),
        dtype=dtype,
    )
    return state, train, valid


def run_epoch(
    state: TrainState,
    train: Dataset,
    valid: Dataset | None,
    batch_size: int,
    shuffle: bool,
    verbose: int,
    last_epoch: int,
) -> dict[str, Any]:
    """One pass over the training data, from ``state.batch_index`` (0 unless resuming), then
    validation, the epoch's logs, the history and the callbacks."""
    started = time.perf_counter()
    if state.batch_index == 0:
        _begin_epoch(state, len(train), shuffle)
    n_batches = -(-len(train) // batch_size)
    show_bar = verbose >= 1 and sys.stderr.isatty()
    label = f"Epoch {state.epoch + 1}/{last_epoch}"
    with (
        tqdm(
            total=n_batches,
            initial=state.batch_index,
            desc=label,
            unit="batch",
            disable=not show_bar,
            file=sys.stderr,
        ) as bar,
        np.errstate(over="ignore", invalid="ignore"),  # divergence is one FloatingPointError
    ):
        while state.batch_index < n_batches:
            _train_batch(state, train, batch_size)
            if show_bar:
                bar.update()
                if state.batch_index % 20 == 0:
                    bar.set_postfix(_running_logs(state), refresh=False)
        logs = _end_epoch(state, valid, batch_size, started)
        bar.set_postfix({k: round(v, 4) for k, v in logs.items() if k not in ("lr", "time")})
    if verbose >= 2 or (verbose >= 1 and not show_bar):
        print(f"{label}: " + ", ".join(f"{k}={v:.4g}" for k, v in logs.items()), flush=True)
    return logs


def _begin_epoch(state: TrainState, n: int, shuffle: bool) -> None:
    state.order = state.rng.permutation(n) if shuffle else np.arange(n)
    state.running = {"loss": 0.0, "correct": 0, "seen": 0}
    state.model.reset_state()  # stateful layers start each epoch afresh
    if state.schedule is not None and state.schedule_per == "epoch":
        apply_schedule(state.schedule, state.epoch, state.optimizer)
    for callback in state.callbacks:
        callback.on_epoch_begin(state)


def _train_batch(state: TrainState, train: Dataset, batch_size: int) -> None:
    assert state.order is not None
    start = state.batch_index * batch_size
    xb, yb = train[state.order[start : start + batch_size]]
    assert yb is not None
    value, output = train_step(state, checks.cast(xb, state.dtype), yb)
    running = state.running
    n = len(output)
    running["loss"] += value * n
    running["seen"] += n
    if "accuracy" in state.metrics:
        correct, counted = metrics.correct_and_total(
            output, yb, ignore_index=state.loss.ignore_index
        )
        running["correct"] += correct
        running["counted"] = running.get("counted", 0) + counted
    state.batch_index += 1
    for callback in state.callbacks:
        callback.on_batch_end(state, value)


def _running_logs(state: TrainState) -> dict[str, float]:
    running = state.running
    logs = {"loss": running["loss"] / max(running["seen"], 1)}
    if "accuracy" in state.metrics:
        logs["accuracy"] = running["correct"] / max(running.get("counted", 0), 1)
    return logs


def _end_epoch(
    state: TrainState, valid: Dataset | None, batch_size: int, started: float
) -> dict[str, Any]:
    logs: dict[str, Any] = _running_logs(state)
    if valid is not None:
        val = evaluate(state.model, valid, loss=state.loss, batch_size=max(batch_size, 256))
        logs.update({f"val_{k}": v for k, v in val.items()})
    logs["lr"] = state.optimizer.learning_rate
    logs["time"] = time.perf_counter() - started
    state.history.record(state.epoch, logs)
    state.optimizer.epoch_count += 1
    state.batch_index, state.order = 0, None
    stops = [callback.on_epoch_end(state, logs) for callback in state.callbacks]
    state.stop = state.stop or any(stops)
    return logs


def apply_schedule(schedule: Callable[[int], float], t: int, optimizer: Optimizer) -> None:
    """Set the rate (and, for 1cycle, the momentum or beta1) from ``schedule`` at time t."""
    optimizer.learning_rate = float(schedule(t))
    momentum = getattr(schedule, "momentum", None)
    if callable(momentum):  # 1cycle cycles the momentum opposite to the rate
        for attribute in ("momentum", "beta1"):
            if hasattr(optimizer, attribute):
                setattr(optimizer, attribute, float(momentum(t)))
                return
        raise ValueError(
            f"fit: {type(schedule).__name__} cycles momentum, but "
            f"{type(optimizer).__name__} has neither momentum nor beta1"
        )
