"""The CNN recipe: ``nn101 train --model cnn`` and ``examples/mnist_cnn.py`` use it.

The network is the classic two-stage convolutional classifier (LeCun et al. 1998; the layout
of TensorFlow's "Deep MNIST" tutorial and Keras's mnist_convnet), with batch normalization
after each convolution (Ioffe & Szegedy 2015) and dropout before the classifier:

    Conv2d(C, 32, 5) - MaxPool2d(2) - BatchNorm2d - ReLU      (N, 32, 12, 12) for 28x28 inputs
    Conv2d(32, 64, 5) - MaxPool2d(2) - BatchNorm2d - ReLU     (N, 64, 4, 4)
    Flatten - Dense(1024, 128) - ReLU - Dropout(0.3) - Dense(128, classes)

Pooling comes before normalization and ReLU: ReLU and max-pooling commute (both are monotone),
and normalizing after pooling costs a quarter as much (the statistics are those of the pooled
maps, a slightly different but equally standard network).

About 23 MFLOP per training example (valid convolutions keep it a third of the padded
version's cost). Adam with a cosine-decayed rate from 2e-3, batch 128, 6 epochs on MNIST (one
epoch alone, decayed to 0, gave 98.83% test accuracy, seed 0; 3 epochs on the first 20,000
images, 98.68%). Augmentation: random shifts of
up to 2 pixels (``nn101.data.augment.RandomShift``), trained for twice the epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn101.data.augment import RandomShift, augmented
from nn101.data.dataset import Dataset
from nn101.layers import BatchNorm2d, Conv2d, Dense, Dropout, Flatten, MaxPool2d, ReLU
from nn101.model import Sequential
from nn101.recipes.settings import FitSettings

__all__ = ["CNN_RECIPES", "CNNRecipe", "build_cnn", "cnn_recipe", "augment_training_set"]


@dataclass(frozen=True)
class CNNRecipe:
    """How to fit the CNN: ``fit`` without augmentation, ``augmented_fit`` with it."""

    fit: FitSettings
    augmented_fit: FitSettings
    max_shift: int = 2
    dropout: float = 0.3


CNN_RECIPES: dict[str, CNNRecipe] = {
    "mnist": CNNRecipe(
        FitSettings(6, 128, 2e-3, schedule="cosine"),
        FitSettings(12, 128, 2e-3, schedule="cosine"),
    ),
    "fashion-mnist": CNNRecipe(
        FitSettings(10, 128, 2e-3, schedule="cosine"),
        FitSettings(15, 128, 2e-3, schedule="cosine"),
    ),
    "own": CNNRecipe(
        FitSettings(10, 64, 1e-3, schedule="cosine"),
        FitSettings(15, 64, 1e-3, schedule="cosine"),
    ),
}
"""Per dataset; ``own`` is for the user's images (N, C, H, W)."""


def cnn_recipe(dataset: str) -> CNNRecipe:
    """The recipe for ``dataset`` (``own`` for any other name)."""
    return CNN_RECIPES.get(dataset, CNN_RECIPES["own"])


def build_cnn(
    dataset: str = "mnist",
    *,
    in_channels: int = 1,
    image_size: tuple[int, int] = (28, 28),
    num_classes: int = 10,
    augment: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[Sequential, FitSettings]:
    """The default CNN for images (N, in_channels, *image_size) and the settings to fit it.

    Images must be at least 16 x 16 (two 5x5 valid convolutions, each followed by pooling).
    """
    rng = np.random.default_rng() if rng is None else rng
    h, w = (_after_stages(size) for size in image_size)
    if min(h, w) < 1:
        raise ValueError(f"build_cnn: expected images of at least 16 x 16, got {image_size}")
    recipe = cnn_recipe(dataset)
    model = Sequential(
        Conv2d(in_channels, 32, 5, bias=False, rng=rng),  # bias: BatchNorm's β does its job
        MaxPool2d(2),  # pooling first: BatchNorm and ReLU then touch 4x fewer values
        BatchNorm2d(32),
        ReLU(),
        Conv2d(32, 64, 5, bias=False, rng=rng),
        MaxPool2d(2),
        BatchNorm2d(64),
        ReLU(),
        Flatten(),
        Dense(64 * h * w, 128, rng=rng, weight_init="he_uniform"),
        ReLU(),
        Dropout(recipe.dropout),
        Dense(128, num_classes, rng=rng),
    )
    return model, (recipe.augmented_fit if augment else recipe.fit)


def _after_stages(size: int) -> int:
    """Side length after two (5x5 valid convolution, 2x2 max-pool) stages."""
    for _ in range(2):
        size = (size - 4) // 2
    return size


def augment_training_set(
    train: Dataset, dataset: str = "mnist", *, rng: np.random.Generator | None = None
) -> Dataset:
    """``train`` read through random shifts of up to ``max_shift`` pixels (new every epoch)."""
    return augmented(train, RandomShift(cnn_recipe(dataset).max_shift, rng=rng))
