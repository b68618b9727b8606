"""The training loop, once, top to bottom; evaluation and prediction; History.

Works on any Layer (Sequential's fit / evaluate / predict are thin methods over these).
Callbacks live in ``callbacks.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from tqdm import tqdm

from nn101 import metrics
from nn101.callbacks import Callback
from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy
from nn101.optimizers import Optimizer
from nn101.regularizers import clip_grad_norm, clip_grad_value

__all__ = ["History", "fit", "evaluate", "predict", "as_dataset", "parameter_dtype"]


class History:
    """Per-epoch logs of a ``fit`` run: ``history.history["loss"][epoch]`` (Keras-style)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


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
) -> History:
    """Train ``model`` on ``(x, y)`` (arrays, or a Dataset as ``x``) by mini-batch descent.

    Each step: set the learning rate from ``schedule`` (per ``"step"`` or ``"epoch"``), clear
    the gradients, run forward in training mode, compute the loss plus the layers' penalty,
    run backward, clip the gradients if asked, and let the optimizer update the parameters.
    Returns a History with ``loss``, ``accuracy`` (classification losses), ``val_loss``,
    ``val_accuracy`` (with ``validation_data``) and ``lr`` for each epoch.
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if schedule_per not in ("step", "epoch"):
        raise ValueError(f"fit: schedule_per must be 'step' or 'epoch', got {schedule_per!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn101 Optimizer, got {optimizer!r}")
    if not isinstance(loss, Loss):
        raise TypeError(f"fit: loss must be an nn101 Loss, got {loss!r}")
    dtype = parameter_dtype(model)
    train = as_dataset(x, y, "fit", dtype, require_targets=True)
    valid = (
        None
        if validation_data is None
        else as_dataset(
            *_unpack(validation_data), "fit(validation_data)", dtype, require_targets=True
        )
    )
    rng = rng if rng is not None else np.random.default_rng()
    classify = isinstance(loss, (SoftmaxCrossEntropy, BinaryCrossEntropy))
    show_bar = verbose >= 1 and sys.stderr.isatty()
    history, step = History(), 0
    for callback in callbacks:
        callback.on_train_begin(model, optimizer)
    for epoch in range(epochs):
        if schedule is not None and schedule_per == "epoch":
            _apply_schedule(schedule, epoch, optimizer)
        bar = tqdm(
            total=-(-len(train) // batch_size),
            desc=f"Epoch {epoch + 1}/{epochs}",
            unit="batch",
            disable=not show_bar,
            leave=True,
            file=sys.stderr,
        )
        # Overflow while diverging is reported once, as a FloatingPointError, not as warnings.
        with bar, np.errstate(over="ignore", invalid="ignore"):
            logs, step = _train_one_epoch(
                model,
                train.batches(batch_size, shuffle=shuffle, rng=rng),
                optimizer,
                loss,
                dtype,
                step,
                schedule if schedule_per == "step" else None,
                clip_norm,
                clip_value,
                classify,
                bar,
            )
            if valid is not None:
                val = evaluate(model, valid, loss=loss, batch_size=max(batch_size, 256))
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = optimizer.learning_rate
            bar.set_postfix({k: round(v, 4) for k, v in logs.items() if k != "lr"})
        if verbose >= 2 or (verbose >= 1 and not show_bar):
            print(
                f"Epoch {epoch + 1}/{epochs}: "
                + ", ".join(f"{k}={v:.4g}" for k, v in logs.items()),
                flush=True,
            )
        history.record(epoch, logs)
        if any([callback.on_epoch_end(epoch, logs) for callback in callbacks]):
            break
    for callback in callbacks:
        callback.on_train_end()
    return history


def _train_one_epoch(
    model: Layer,
    batches: Iterator[tuple[np.ndarray, Any]],
    optimizer: Optimizer,
    loss: Loss,
    dtype: np.dtype,
    step: int,
    schedule: Callable[[int], float] | None,
    clip_norm: float | None,
    clip_value: float | None,
    classify: bool,
    bar: Any,
) -> tuple[dict[str, float], int]:
    """One pass over the batches: the six-line training step, plus running loss and accuracy."""
    total_loss, correct, seen = 0.0, 0, 0
    # Parameter gradients only: the input is data, so dL/d(input) is not needed (a model
    # that can skip it, like Sequential, has backward_parameters).
    backward = getattr(model, "backward_parameters", model.backward)
    for xb, yb in batches:
        if schedule is not None:
            _apply_schedule(schedule, step, optimizer)
        optimizer.zero_grad()
        output = model.forward(_cast(xb, dtype), training=True)
        batch_loss = loss.forward(output, yb) + model.penalty()
        backward(loss.backward())
        if clip_value is not None:
            clip_grad_value(optimizer.parameters, clip_value)
        if clip_norm is not None:
            clip_grad_norm(optimizer.parameters, clip_norm)
        optimizer.step()
        step += 1
        if not np.isfinite(batch_loss):
            raise FloatingPointError(
                f"fit: the loss became {batch_loss} at step {step}; "
                f"lower the learning rate (now "
                f"{optimizer.learning_rate:g})"
            )
        n = len(output)
        total_loss, seen = total_loss + batch_loss * n, seen + n
        if classify:
            correct += metrics.correct_count(output, yb)
        if not bar.disable and bar.n % 20 == 0:
            bar.set_postfix(_running(total_loss, correct, seen, classify), refresh=False)
        bar.update()
    return _running(total_loss, correct, seen, classify), step


def evaluate(
    model: Layer, x: Any, y: Any = None, *, loss: Loss | None = None, batch_size: int = 256
) -> dict[str, float]:
    """Mean loss (with the layers' penalty, as in training) and accuracy over data.

    Runs in inference mode and changes nothing in the model. Accuracy is reported for
    classification losses, or without a loss when the targets are integer labels.
    """
    _check_positive_int("batch_size", batch_size)
    dtype = parameter_dtype(model)
    data = as_dataset(x, y, "evaluate", dtype, require_targets=True)
    assert data.y is not None
    classify = isinstance(loss, (SoftmaxCrossEntropy, BinaryCrossEntropy)) or (
        loss is None and data.y.dtype.kind in "iu"
    )
    total_loss, correct = 0.0, 0
    batches: Iterator[tuple[np.ndarray, Any]] = data.batches(batch_size)
    for xb, yb in batches:
        output = model.forward(_cast(xb, dtype), training=False)
        if loss is not None:
            total_loss += loss.forward(output, yb) * len(output)
        if classify:
            correct += metrics.correct_count(output, yb)
    results = {}
    if loss is not None:
        results["loss"] = total_loss / len(data) + model.penalty()
    if classify:
        results["accuracy"] = correct / len(data)
    return results


def predict(model: Layer, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` in inference mode for every example of ``x``, batch by batch."""
    _check_positive_int("batch_size", batch_size)
    dtype = parameter_dtype(model)
    data = as_dataset(x, None, "predict", dtype, require_targets=False)
    outputs = [
        model.forward(_cast(xb, dtype), training=False) for xb, _ in data.batches(batch_size)
    ]
    return np.concatenate(outputs, axis=0)


# -- boundary checks and small helpers ------------------------------------------------------


def as_dataset(x: Any, y: Any, where: str, dtype: np.dtype, *, require_targets: bool) -> Dataset:
    """Validate user data once, at the boundary: shapes, emptiness, finiteness, targets."""
    if isinstance(x, Dataset):
        if y is not None:
            raise ValueError(f"{where}: got a Dataset and separate targets; pass only the Dataset")
        data = x
    else:
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{where}: expected numeric inputs, got dtype {x.dtype}")
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"{where}: expected at least one example in x, got shape {x.shape}")
        if x.dtype.kind == "f":
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            if bad:
                raise ValueError(f"{where}: x contains {bad} non-finite values (NaN or inf)")
            x = x.astype(dtype, copy=False)
        data = Dataset(x, y, name=where)
    if require_targets and data.y is None:
        raise ValueError(f"{where}: expected targets y, got None")
    if data.y is not None and data.y.dtype.kind == "f" and not np.isfinite(data.y).all():
        raise ValueError(f"{where}: targets y contain non-finite values (NaN or inf)")
    return data


def _unpack(validation_data: Any) -> tuple[Any, Any]:
    if isinstance(validation_data, Dataset):
        return validation_data, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
        return validation_data[0], validation_data[1]
    raise ValueError(
        "fit: validation_data must be a Dataset or a pair (x_val, y_val), "
        f"got {type(validation_data).__name__}"
    )


def _apply_schedule(schedule: Callable[[int], float], t: int, optimizer: Optimizer) -> None:
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


def _running(total_loss: float, correct: int, seen: int, classify: bool) -> dict[str, float]:
    logs = {"loss": total_loss / max(seen, 1)}
    if classify:
        logs["accuracy"] = correct / max(seen, 1)
    return logs


def parameter_dtype(model: Layer) -> np.dtype:
    """The dtype of the model's parameters (float32 for a model without any)."""
    params = model.parameters()
    return params[0].dtype if params else np.dtype(np.float32)


def _cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return x if x.dtype == dtype else x.astype(dtype)


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
