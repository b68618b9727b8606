"""Datasets: the Dataset container, batching, splits, transforms, and the datasets themselves.

``load_digits`` reads the 8x8 digits shipped inside the package; ``load_mnist`` and
``load_fashion_mnist`` read (and if needed download and verify) the IDX files; ``spirals``,
``moons`` ... make small synthetic problems on the fly.
"""

from nn101.data.dataset import Dataset, batch_indices
from nn101.data.digits import load_digits
from nn101.data.fetch import DatasetNotFoundError, DownloadError, download
from nn101.data.idx import IdxFormatError, read_idx, write_idx
from nn101.data.inventory import describe
from nn101.data.mnist import load_fashion_mnist, load_mnist
from nn101.data.synthetic import circles, linear, moons, sine, spirals, xor
from nn101.data.text import CharVocabulary, char_windows, load_shakespeare
from nn101.data.transforms import (
    ScaleImages,
    normalize_images,
    one_hot,
    standardize,
    train_test_split,
)

__all__ = [
    "CharVocabulary",
    "char_windows",
    "load_shakespeare",
    "Dataset",
    "DatasetNotFoundError",
    "DownloadError",
    "IdxFormatError",
    "ScaleImages",
    "batch_indices",
    "circles",
    "describe",
    "download",
    "linear",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "moons",
    "normalize_images",
    "one_hot",
    "read_idx",
    "sine",
    "spirals",
    "standardize",
    "train_test_split",
    "write_idx",
    "xor",
]
