"""Metrics: plain functions of predictions and targets (they import nothing from nn101)."""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "correct_count", "predicted_labels", "confusion_matrix"]


def predicted_labels(output: np.ndarray) -> np.ndarray:
    """Class labels from a model's output.

    Shapes: output (N, C) scores or probabilities -> (N,) argmax; output (N,) or (N, 1)
    logits of a binary model -> (N,) with 1 where the logit is positive.
    """
    output = np.asarray(output)
    if output.ndim == 2 and output.shape[1] > 1:
        return output.argmax(axis=1)
    return (output.reshape(len(output)) > 0).astype(np.int64)


def _target_labels(target: np.ndarray) -> np.ndarray:
    target = np.asarray(target)
    if target.ndim == 2 and target.shape[1] > 1:  # one-hot (N, C) -> (N,)
        return target.argmax(axis=1)
    return target.reshape(len(target))


def correct_count(output: np.ndarray, target: np.ndarray) -> int:
    """How many examples have a predicted label equal to the target label.

    ``target`` may be integer labels (N,), one-hot (N, C), or binary labels (N,) / (N, 1).
    """
    predicted, actual = predicted_labels(output), _target_labels(target)
    if len(predicted) != len(actual):
        raise ValueError(f"accuracy: expected {len(predicted)} targets, got {len(actual)}")
    return int(np.count_nonzero(predicted == actual))


def accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """Fraction of examples whose predicted label equals the target label (see correct_count)."""
    return correct_count(output, target) / len(output)


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
