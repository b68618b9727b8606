"""The datasets the command line knows, and the input description saved with a model.

A model file records how its training inputs were prepared (``"input": {"shape": [784],
"scale": 255}``: one example's shape, and the pixel value that became 1.0), so that inputs
given later with ``--x`` are prepared the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nn101 import data
from nn101.cli.errors import UsageError
from nn101.data.dataset import Dataset
from nn101.data.transforms import ScaleImages, split_indices

__all__ = ["DATASETS", "InputSpec", "load_dataset", "split_validation"]

Loader = Callable[..., tuple[Dataset, Dataset]]


def _digits(data_dir: str | None, download: bool, flatten: bool, seed: int) -> Any:
    return data.load_digits(flatten=flatten)


def _mnist(data_dir: str | None, download: bool, flatten: bool, seed: int) -> Any:
    return data.load_mnist(data_dir=data_dir, download=download, flatten=flatten)


def _fashion(data_dir: str | None, download: bool, flatten: bool, seed: int) -> Any:
    return data.load_fashion_mnist(data_dir=data_dir, download=download, flatten=flatten)


def _spirals(data_dir: str | None, download: bool, flatten: bool, seed: int) -> Any:
    x, y = data.spirals(rng=np.random.default_rng(seed))
    x_train, x_test, y_train, y_test = data.train_test_split(
        x, y, test_size=0.25, rng=np.random.default_rng(seed)
    )
    return Dataset(x_train, y_train, name="spirals"), Dataset(x_test, y_test, name="spirals")


DATASETS: dict[str, Loader] = {
    "digits": _digits,
    "mnist": _mnist,
    "fashion-mnist": _fashion,
    "spirals": _spirals,
}
"""Name -> loader(data_dir, download, flatten, seed) returning (train, test)."""

OLD_SCALES = {"digits": 16.0, "mnist": 255.0, "fashion-mnist": 255.0, "spirals": 1.0}
"""Pixel scales of models saved before the input description existed (nn101 0.1)."""


def load_dataset(
    name: str, data_dir: str | None, *, download: bool, flatten: bool = True, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """``(train, test)`` of a known dataset; a dataset not found is a one-line error."""
    try:
        return DATASETS[name](data_dir, download, flatten, seed)
    except data.DatasetNotFoundError:
        if download:
            raise  # its message says why the download failed
        where = f"in {data_dir}" if data_dir else "in $NN101_DATA_DIR or the cache"
        raise data.DatasetNotFoundError(
            f"{name}: the dataset files are not {where}; add --download to fetch them, or "
            f"give --data-dir DIR (a directory holding the four .gz files; 'nn101 data "
            f"download {name}' gets them)"
        ) from None


def split_validation(train: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out ``fraction`` of ``train`` (stratified when it has labels) for validation."""
    if fraction == 0:
        return train, None
    n_valid = round(fraction * len(train))
    if n_valid < 1 or n_valid >= len(train):
        raise UsageError(
            f"--val-split {fraction:g} of {len(train)} examples leaves {n_valid} for validation "
            f"and {len(train) - n_valid} for training; expected at least 1 of each"
        )
    rng = np.random.default_rng(seed)
    labels = train.y if train.y is not None and train.y.ndim == 1 else None
    kept, held = split_indices(len(train), n_valid, rng=rng, labels=labels)
    if len(held) == 0:  # too few of each class to stratify: a plain random split
        kept, held = split_indices(len(train), n_valid, rng=rng)
    return _subset(train, kept, "train"), _subset(train, held, "validation")


def _subset(dataset: Dataset, index: np.ndarray, part: str) -> Dataset:
    y = None if dataset.y is None else dataset.y[index]
    return Dataset(
        dataset.x[index],
        y,
        transform=dataset.transform,
        name=f"{dataset.name}-{part}",
        classes=dataset.classes,
    )


@dataclass(frozen=True)
class InputSpec:
    """One example's shape and the value divided by (pixels: the maximum, e.g. 255)."""

    shape: tuple[int, ...]
    scale: float = 1.0

    @classmethod
    def of(cls, dataset: Dataset) -> InputSpec:
        transform = dataset.transform
        scale = transform.max_value if isinstance(transform, ScaleImages) else 1.0
        return cls(tuple(int(d) for d in dataset.x.shape[1:]), float(scale))

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any], in_features: int | None) -> InputSpec:
        """The description saved with a model, or the one of a 0.1 model's dataset."""
        saved = metadata.get("input")
        if isinstance(saved, dict) and isinstance(saved.get("shape"), list):
            return cls(tuple(int(d) for d in saved["shape"]), float(saved.get("scale", 1.0)))
        scale = OLD_SCALES.get(str(metadata.get("dataset")), 1.0)
        shape = (in_features,) if in_features else ()
        return cls(shape, scale)

    def as_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "scale": self.scale}
