"""Metrics: plain functions of predictions and targets (they import nothing from nn101)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "accuracy",
    "correct_count",
    "correct_and_total",
    "predicted_labels",
    "confusion_matrix",
]


def predicted_labels(output: np.ndarray) -> np.ndarray:
    """Class labels from a model's output.

    Shapes: output (N, C) or (N, T, C) scores or probabilities -> (N,) or (N, T) argmax over
    the last axis; output (N,) or (N, 1) logits of a binary model -> (N,) with 1 where the logit
    is positive.
    """
    output = np.asarray(output)
    if output.ndim >= 2 and output.shape[-1] > 1:
        return output.argmax(axis=-1)
    return (output.reshape(len(output)) > 0).astype(np.int64)


def _target_labels(target: np.ndarray, predicted_shape: tuple[int, ...]) -> np.ndarray:
    target = np.asarray(target)
    if target.ndim == len(predicted_shape) + 1 and target.shape[-1] > 1:  # one-hot (..., C)
        return target.argmax(axis=-1)
    return target.reshape(predicted_shape)


def correct_and_total(
    output: np.ndarray, target: np.ndarray, *, ignore_index: int | None = None
) -> tuple[int, int]:
    """(correct, counted): predictions equal to the target label, and how many were counted
    (every example, or every position of a sequence, except targets equal to ``ignore_index``).

    ``target`` may be integer labels (N,) / (N, T), one-hot (N, C) / (N, T, C), or binary
    labels (N,) / (N, 1).
    """
    predicted = predicted_labels(output)
    if np.size(target) not in (predicted.size, predicted.size * np.shape(output)[-1]):
        raise ValueError(
            f"accuracy: expected targets for {predicted.shape} predictions, "
            f"got shape {np.shape(target)}"
        )
    actual = _target_labels(target, predicted.shape)
    hits = predicted == actual
    if ignore_index is None:
        return int(np.count_nonzero(hits)), int(hits.size)
    keep = actual != ignore_index
    return int(np.count_nonzero(hits & keep)), int(np.count_nonzero(keep))


def correct_count(output: np.ndarray, target: np.ndarray) -> int:
    """How many predicted labels equal the target label (see ``correct_and_total``)."""
    return correct_and_total(output, target)[0]


def accuracy(output: np.ndarray, target: np.ndarray, *, ignore_index: int | None = None) -> float:
    """Fraction of predicted labels equal to the target label (see ``correct_and_total``)."""
    correct, total = correct_and_total(output, target, ignore_index=ignore_index)
    return correct / max(total, 1)


def confusion_matrix(
    predicted: np.ndarray, actual: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Counts ``M[i, j]`` of examples of true class i predicted as class j (labels, not scores)."""
    predicted = np.asarray(predicted, dtype=np.int64)
    actual = np.asarray(actual, dtype=np.int64)
    if predicted.shape != actual.shape:
        raise ValueError(
            f"confusion_matrix: predicted {predicted.shape} and actual "
            f"{actual.shape} must have the same shape"
        )
    if num_classes is None:
        num_classes = int(max(predicted.max(initial=0), actual.max(initial=0))) + 1
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix
