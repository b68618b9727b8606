"""The 8x8 handwritten digits shipped inside the package: training works with no network.

1,797 grayscale 8x8 images of the digits 0-9, pixels 0..16: the test part of the UCI
"Optical Recognition of Handwritten Digits" dataset (Alpaydin & Kaynak, 1998; CC BY 4.0), the
copy scikit-learn ships. Origin, license and conversion: ``DIGITS_LICENSE.txt`` next to this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nn101.data.dataset import Dataset
from nn101.data.transforms import ScaleImages, split_indices

__all__ = ["DIGITS_PATH", "DIGITS_SEED", "DIGITS_TEST_SIZE", "load_digits", "load_digits_arrays"]

DIGITS_PATH = Path(__file__).with_name("digits.npz")
DIGITS_SEED = 0
"""Seed of the stratified train/test split, so that everyone evaluates on the same test set."""
DIGITS_TEST_SIZE = 0.2
DIGITS_MAX_VALUE = 16
DIGITS_CLASSES = [str(digit) for digit in range(10)]


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as stored: images (1797, 8, 8) uint8 in 0..16, labels (1797,) int64."""
    with np.load(DIGITS_PATH, allow_pickle=False) as archive:
        images = archive["images"]
        labels = archive["labels"].astype(np.int64)
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise ValueError(
            f"{DIGITS_PATH}: expected images (1797, 8, 8) and labels (1797,), "
            f"got {images.shape} and {labels.shape}"
        )
    return images, labels


def load_digits(
    *,
    flatten: bool = True,
    normalize: bool = True,
    test_size: float = DIGITS_TEST_SIZE,
    seed: int = DIGITS_SEED,
    dtype: Any = np.float32,
) -> tuple[Dataset, Dataset]:
    """The shipped 8x8 digits as ``(train, test)`` Datasets.

    The split is stratified (each digit keeps its share) and drawn with
    ``np.random.default_rng(seed)``; the defaults (20% test, seed 0) give 1,438 training and
    359 test images, the same for everyone. Pixels stay uint8 in memory and each batch is scaled
    to [0, 1] as ``dtype`` (x / 16) when read, unless ``normalize=False``.
    Shapes: flatten=True: x (N, 64); flatten=False: x (N, 1, 8, 8) (NCHW); y (N,) int64.
    """
    images, labels = load_digits_arrays()
    shape = (-1, 64) if flatten else (-1, 1, 8, 8)
    x = images.reshape(shape)  # (1797, 8, 8) -> (1797, 64) or (1797, 1, 8, 8), a view
    transform = ScaleImages(DIGITS_MAX_VALUE, dtype) if normalize else None
    train, test = split_indices(
        len(labels), test_size, rng=np.random.default_rng(seed), labels=labels
    )
    return (
        Dataset(
            x[train],
            labels[train],
            transform=transform,
            name="digits-train",
            classes=DIGITS_CLASSES,
        ),
        Dataset(
            x[test], labels[test], transform=transform, name="digits-test", classes=DIGITS_CLASSES
        ),
    )
