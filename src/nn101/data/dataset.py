"""Dataset: inputs and targets of equal length, read in mini-batches.

Images stay in their compact storage type (uint8 for MNIST) and a ``transform`` turns each
mini-batch into float32 as it is read, so that a 47 MB dataset never becomes a 188 MB one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["Dataset", "batch_indices"]


class Dataset:
    """Paired arrays ``x`` (N, ...) and ``y`` (N, ...) or ``y=None``, with a per-batch transform.

    ``dataset[indices]`` returns ``(transform(x[indices]), y[indices])``.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        *,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        name: str = "dataset",
        classes: list[str] | None = None,
    ) -> None:
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError(f"{name}: expected inputs with a batch axis (N, ...), got a scalar")
        if len(x) == 0:
            raise ValueError(f"{name}: expected at least one example, got an empty dataset")
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(x):
                raise ValueError(
                    f"{name}: expected {len(x)} targets to match {len(x)} inputs, "
                    f"got targets of shape {y.shape}"
                )
        self.x = x
        self.y = y
        self.transform = transform
        self.name = name
        self.classes = classes

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, np.ndarray | None]:
        x = self.x[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, (None if self.y is None else self.y[index])

    @property
    def inputs(self) -> np.ndarray:
        """All inputs, transformed (materializes the whole array)."""
        return self[:][0]

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        rng: np.random.Generator | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for index in batch_indices(len(self), batch_size, shuffle=shuffle, rng=rng):
            yield self[index]

    def __repr__(self) -> str:
        y_shape = None if self.y is None else self.y.shape
        return f"Dataset({self.name!r}, x={self.x.shape} {self.x.dtype}, y={y_shape})"


def batch_indices(
    n: int, batch_size: int, *, shuffle: bool = False, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray | slice]:
    """Yield index sets covering ``range(n)`` in mini-batches of ``batch_size`` (the last may be
    smaller). Without shuffling they are slices (views, no copy); with shuffling, a permutation
    drawn from ``rng`` (a fresh unseeded generator when None).
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if n < 1:
        raise ValueError(f"expected a dataset with at least one example, got {n}")
    if shuffle:
        order = (rng if rng is not None else np.random.default_rng()).permutation(n)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n, batch_size):
            yield slice(start, start + batch_size)
