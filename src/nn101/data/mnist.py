"""MNIST and Fashion-MNIST: 70,000 28x28 grayscale images each, as train and test Datasets.

The images stay uint8 in memory (47 MB for MNIST's 60,000 training images); with
``normalize=True`` each mini-batch is scaled to float32 in [0, 1] as it is read, so the whole
set never exists as a 188 MB float32 copy unless you ask for ``dataset.inputs``.
Where the files are looked for and how they are downloaded: ``nn101.data.fetch``.

MNIST: LeCun, Cortes and Burges, http://yann.lecun.com/exdb/mnist/ (LeCun et al., 1998).
Fashion-MNIST: Xiao, Rasul and Vollgraf, arXiv:1708.07747 (2017), MIT License.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn101.data.dataset import Dataset
from nn101.data.fetch import CHECKSUMS, FILENAMES, find_dataset, verify_file
from nn101.data.idx import read_idx
from nn101.data.transforms import ScaleImages

__all__ = ["FASHION_MNIST_CLASSES", "MNIST_CLASSES", "load_fashion_mnist", "load_mnist"]

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 from a pair of IDX files, checked."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected uint8 images (N, rows, cols), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{labels_path}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{labels_path.name} has {len(labels)} labels but "
            f"{images_path.name} has {len(images)} images; expected the same count"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: expected labels in [0, 9], got {labels.max()}")
    return images, labels.astype(np.int64)


def load_idx_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    flatten: bool = True,
    download: bool = True,
    verify: bool = True,
    mirrors: Sequence[str] | None = None,
    dtype: Any = np.float32,
    classes: list[str] | None = None,
) -> tuple[Dataset, Dataset]:
    """Train and test Datasets of the IDX dataset ``name`` ("mnist" or "fashion-mnist")."""
    directory = find_dataset(name, data_dir, download=download, mirrors=mirrors)
    if verify:
        for filename, expected in CHECKSUMS[name].items():
            verify_file(directory / filename, expected)
    transform = ScaleImages(255, dtype) if normalize else None
    datasets = []
    for split in ("train", "test"):
        images, labels = read_split(
            directory / FILENAMES[f"{split}_images"], directory / FILENAMES[f"{split}_labels"]
        )
        rows, cols = images.shape[1:]
        shape = (-1, rows * cols) if flatten else (-1, 1, rows, cols)
        x = images.reshape(shape)  # (N, 28, 28) -> (N, 784) or (N, 1, 28, 28), a view
        datasets.append(
            Dataset(x, labels, transform=transform, name=f"{name}-{split}", classes=classes)
        )
    return datasets[0], datasets[1]


def load_mnist(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    flatten: bool = True,
    download: bool = True,
    verify: bool = True,
    mirrors: Sequence[str] | None = None,
    dtype: Any = np.float32,
) -> tuple[Dataset, Dataset]:
    """MNIST handwritten digits as ``(train, test)`` Datasets of 60,000 and 10,000 images.

    Looks in ``data_dir`` / ``$NN101_DATA_DIR``, then the cache, then downloads (if
    ``download``) and checks every file's SHA-256 (if ``verify``). ``normalize=True``: each
    batch is float32 (``dtype``) in [0, 1]; ``normalize=False``: uint8 0..255.
    Shapes: flatten=True: x (N, 784); flatten=False: x (N, 1, 28, 28) (NCHW); y (N,) int64.
    """
    return load_idx_dataset(
        "mnist",
        data_dir=data_dir,
        normalize=normalize,
        flatten=flatten,
        download=download,
        verify=verify,
        mirrors=mirrors,
        dtype=dtype,
        classes=MNIST_CLASSES,
    )


def load_fashion_mnist(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    flatten: bool = True,
    download: bool = True,
    verify: bool = True,
    mirrors: Sequence[str] | None = None,
    dtype: Any = np.float32,
) -> tuple[Dataset, Dataset]:
    """Fashion-MNIST (Zalando clothing images, 10 classes) as ``(train, test)`` Datasets.

    Same files, layout and options as ``load_mnist``; class names in ``dataset.classes``.
    Shapes: flatten=True: x (N, 784); flatten=False: x (N, 1, 28, 28) (NCHW); y (N,) int64.
    """
    return load_idx_dataset(
        "fashion-mnist",
        data_dir=data_dir,
        normalize=normalize,
        flatten=flatten,
        download=download,
        verify=verify,
        mirrors=mirrors,
        dtype=dtype,
        classes=FASHION_MNIST_CLASSES,
    )
