"""Evaluation and prediction: the model in inference mode, batch by batch, changing nothing."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101 import metrics
from nn101.core import Layer
from nn101.losses import Loss, is_one_hot
from nn101.training import checks

__all__ = ["evaluate", "predict"]


def evaluate(
    model: Layer, x: Any, y: Any = None, *, loss: Loss | None = None, batch_size: int = 256
) -> dict[str, float]:
    """Mean loss (with the layers' penalty, as in training) and the loss's metrics over data.

    Runs in inference mode and changes nothing in the model. Without a loss, accuracy is
    reported when the targets are integer labels or one-hot rows. Each batch starts from a
    fresh carried state (stateful RNNs), and the model's own state is put back afterwards.
    """
    with model.state_kept():
        return _evaluate(model, x, y, loss, batch_size)


def _evaluate(model: Layer, x: Any, y: Any, loss: Loss | None, batch_size: int) -> dict[str, float]:
    checks.check_positive_int("batch_size", batch_size)
    dtype = checks.parameter_dtype(model)
    data = checks.as_dataset(x, y, "evaluate", dtype, require_targets=True)
    assert data.y is not None
    if loss is not None:
        names = checks.check_against(model, loss, data, "evaluate")
    else:
        names = ("accuracy",) if data.y.dtype.kind in "iu" or is_one_hot(data.y[:256]) else ()
    ignore_index = loss.ignore_index if loss is not None else None
    total_loss, seen, correct, counted = 0.0, 0, 0, 0
    for xb, yb in data.batches(batch_size):
        assert yb is not None
        model.reset_state()
        output = model.forward(checks.cast(xb, dtype), training=False)
        if loss is not None:
            total_loss += loss.forward(output, yb) * len(output)
        seen += len(output)
        if "accuracy" in names:
            hits, count = metrics.correct_and_total(output, yb, ignore_index=ignore_index)
            correct, counted = correct + hits, counted + count
    results = {}
    if loss is not None:
        results["loss"] = total_loss / seen + model.penalty()
    if "accuracy" in names:
        results["accuracy"] = correct / max(counted, 1)
    return results


def predict(model: Layer, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """Outputs of ``model`` in inference mode for every example of ``x``, batch by batch (each
    from a fresh carried state; the model's own state is put back afterwards)."""
    checks.check_positive_int("batch_size", batch_size)
    dtype = checks.parameter_dtype(model)
    data = checks.as_dataset(x, None, "predict", dtype, require_targets=False)
    outputs = []
    with model.state_kept():
        for xb, _ in data.batches(batch_size):
            model.reset_state()
            outputs.append(model.forward(checks.cast(xb, dtype), training=False))
    return np.concatenate(outputs, axis=0)
