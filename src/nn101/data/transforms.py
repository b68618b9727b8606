"""Array transforms: train/test splits, one-hot labels, standardization, image scaling.

Plain functions of arrays. ``normalize_images`` (and ``ScaleImages``) are meant as the
per-batch ``transform`` of a Dataset, so that uint8 images become float32 only one mini-batch
at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.data.dataset import Dataset

__all__ = [
    "ScaleImages",
    "normalize_images",
    "one_hot",
    "split_indices",
    "standardize",
    "train_test_split",
]


def _as_labels(labels: Any, name: str) -> np.ndarray:
    """Check that ``labels`` is a non-empty 1-D array of non-negative integers; return it."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name}: expected labels of shape (N,), got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError(f"{name}: expected at least one label, got an empty array")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer labels, got dtype {labels.dtype}")
    if labels.min() < 0:
        bad = int(np.flatnonzero(labels < 0)[0])
        raise ValueError(f"{name}: expected labels >= 0, got {int(labels[bad])} at index {bad}")
    return labels


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """Integer class labels -> one-hot rows: Y[i, c] = 1 if labels[i] == c else 0.

    Shapes: labels (N,) -> Y (N, num_classes); ``num_classes`` defaults to max(labels) + 1.
    """
    labels = _as_labels(labels, "one_hot")
    largest = int(labels.max())
    if num_classes is None:
        num_classes = largest + 1
    if num_classes < 1:
        raise ValueError(f"one_hot: expected num_classes >= 1, got {num_classes}")
    if largest >= num_classes:
        bad = int(np.flatnonzero(labels >= num_classes)[0])
        raise ValueError(
            f"one_hot: expected labels in [0, {num_classes - 1}], "
            f"got {int(labels[bad])} at index {bad}"
        )
    Y = np.zeros((len(labels), num_classes), dtype=dtype)  # (N, C)
    Y[np.arange(len(labels)), labels] = 1
    return Y


def _test_count(n: int, test_size: float | int) -> int:
    """Number of test examples: a fraction of n, or a count; at least 1 left on each side."""
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0.0 < test_size < 1.0:
        n_test = int(round(test_size * n))
    else:
        raise ValueError(f"test_size: expected a fraction in (0, 1) or a count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_size={test_size!r} of {n} examples leaves {n_test} for test and "
            f"{n - n_test} for training; expected at least 1 in each"
        )
    return n_test


def split_indices(
    n: int,
    test_size: float | int = 0.2,
    *,
    rng: np.random.Generator | None = None,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random disjoint (train, test) index arrays covering ``range(n)``, each sorted.

    With ``labels`` the split is stratified: each class c contributes round(test_size * n_c)
    examples to the test set (so the totals may differ from round(test_size * n) by a few).
    """
    rng = rng if rng is not None else np.random.default_rng()
    n_test = _test_count(n, test_size)
    if labels is None:
        test = rng.permutation(n)[:n_test]
    else:
        labels = _as_labels(labels, "train_test_split(stratify=True)")
        fraction = n_test / n
        parts = []
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            parts.append(rng.permutation(members)[: int(round(fraction * len(members)))])
        test = np.concatenate(parts)
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def train_test_split(
    x: Any,
    y: Any = None,
    test_size: float | int = 0.2,
    *,
    rng: np.random.Generator | None = None,
    stratify: bool = False,
) -> Any:
    """Split examples at random into a training and a test part.

    Arrays: ``train_test_split(x, y)`` -> ``(x_train, x_test, y_train, y_test)`` (the order
    of scikit-learn); ``train_test_split(x)`` -> ``(x_train, x_test)``.
    A Dataset: ``train_test_split(dataset)`` -> ``(train, test)`` Datasets sharing its
    transform. ``stratify=True`` keeps the class proportions of the labels ``y`` in both parts.
    ``test_size`` is a fraction in (0, 1) or a number of examples.
    """
    if isinstance(x, Dataset):
        if y is not None:
            raise ValueError("train_test_split: a Dataset carries its own targets; got y too")
        dataset = x
        x, y = dataset.x, dataset.y
    else:
        dataset = None
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"train_test_split: expected x of shape (N, ...), got {x.shape}")
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(x):
                raise ValueError(
                    f"train_test_split: expected y with {len(x)} rows to match x, "
                    f"got shape {y.shape}"
                )
    if stratify and y is None:
        raise ValueError("train_test_split: stratify=True needs class labels y")
    train, test = split_indices(len(x), test_size, rng=rng, labels=y if stratify else None)
    if dataset is not None:
        return (
            _subset(dataset, train, f"{dataset.name}-train"),
            _subset(dataset, test, f"{dataset.name}-test"),
        )
    if y is None:
        return x[train], x[test]
    return x[train], x[test], y[train], y[test]


def _subset(dataset: Dataset, index: np.ndarray, name: str) -> Dataset:
    y = None if dataset.y is None else dataset.y[index]
    return Dataset(
        dataset.x[index], y, transform=dataset.transform, name=name, classes=dataset.classes
    )


def standardize(
    x: Any, mean: Any = None, std: Any = None, *, eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature z-scores: x_std = (x - mean) / std, statistics over the batch axis.

    Compute ``mean`` and ``std`` on the training data and pass them back in for the test data.
    Features with std < eps (constant ones) are divided by 1 instead.
    Shapes: x (N, ...) -> x_std (N, ...); mean, std (...). Float inputs keep their dtype,
    integer inputs become float32.
    """
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"standardize: expected x of shape (N, ...) with N >= 1, got {x.shape}")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    x = x.astype(dtype, copy=False)
    if (mean is None) != (std is None):
        raise ValueError("standardize: give both mean and std, or neither")
    if mean is None:
        mean = x.mean(axis=0)  # (...)
        std = x.std(axis=0)  # (...)
        std = np.where(std < eps, 1.0, std).astype(dtype)
    mean = np.asarray(mean, dtype=dtype)
    std = np.asarray(std, dtype=dtype)
    if mean.shape != x.shape[1:] or std.shape != x.shape[1:]:
        raise ValueError(
            f"standardize: expected mean and std of shape {x.shape[1:]} to match x {x.shape}, "
            f"got {mean.shape} and {std.shape}"
        )
    return (x - mean) / std, mean, std


def normalize_images(
    x: np.ndarray, max_value: float = 255.0, dtype: Any = np.float32
) -> np.ndarray:
    """Pixels in [0, max_value] -> floats in [0, 1]: x / max_value (uint8 -> float32).

    Shapes: any -> the same shape.
    """
    scale = np.asarray(max_value, dtype=dtype)
    return np.divide(x, scale, dtype=dtype)


class ScaleImages:
    """A Dataset transform ``x -> x / max_value`` as ``dtype`` (callable, with a readable repr)."""

    def __init__(self, max_value: float = 255.0, dtype: Any = np.float32) -> None:
        self.max_value = float(max_value)
        self.dtype = np.dtype(dtype)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return normalize_images(x, self.max_value, self.dtype)

    def __repr__(self) -> str:
        return f"ScaleImages(max_value={self.max_value:g}, dtype={self.dtype})"
