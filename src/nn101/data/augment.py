"""Data augmentation: random transforms of each training mini-batch, as Dataset transforms.

A Dataset's ``transform`` runs on every batch as it is read, so an augmenting transform shows
the network a new variant of each image every epoch, without storing any. Augment only the
training set: the test set keeps its plain transform.

``RandomShift(2)`` moves each image by up to 2 pixels in each direction, filling with zeros:
the expansion Nielsen used for MNIST (*Neural Networks and Deep Learning*, ch. 6, following
Simard, Steinkraus & Platt 2003), drawn afresh every batch instead of stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nn101.data.dataset import Dataset

__all__ = ["Compose", "RandomShift", "augmented"]

Transform = Callable[[np.ndarray], np.ndarray]


class RandomShift:
    """x -> each image shifted by (dy, dx), dy and dx drawn uniformly from -max_shift..max_shift
    per image; pixels shifted in are 0 (the background), pixels shifted out are lost.

    Shapes: (N, C, H, W) or (N, H, W) -> the same shape and dtype.
    ``rng`` draws the shifts; None: a fresh unseeded generator at first use.
    """

    def __init__(self, max_shift: int = 2, *, rng: np.random.Generator | None = None) -> None:
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be an integer >= 0, got {max_shift!r}")
        self.max_shift = max_shift
        self.rng = rng

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"RandomShift expected images (N, C, H, W) or (N, H, W), got shape {x.shape}"
            )
        if self.rng is None:
            self.rng = np.random.default_rng()
        s, (H, W) = self.max_shift, x.shape[-2:]
        framed = np.zeros((*x.shape[:-2], H + 2 * s, W + 2 * s), dtype=x.dtype)
        framed[..., s : s + H, s : s + W] = x
        # every H x W window of the framed image: (N, ..., 2s + 1, 2s + 1, H, W), a view
        windows = sliding_window_view(framed, (H, W), axis=(-2, -1))
        n = len(x)
        top, left = self.rng.integers(0, 2 * s + 1, size=(2, n))  # window (s, s) = no shift
        moved = np.moveaxis(windows, (-4, -3), (1, 2))  # (N, 2s+1, 2s+1, ..., H, W)
        return moved[np.arange(n), top, left]  # one copy: the chosen window per image

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"


class Compose:
    """Transforms applied in order: ``Compose([f, g])(x) == g(f(x))``."""

    def __init__(self, transforms: Sequence[Transform | None]) -> None:
        self.transforms = [t for t in transforms if t is not None]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


def augmented(dataset: Dataset, augmentation: Transform, name: str | None = None) -> Dataset:
    """The same examples, read through ``augmentation`` first and then the dataset's own
    transform (shift the uint8 images, then scale them to float32)."""
    return Dataset(
        dataset.x,
        dataset.y,
        transform=Compose([augmentation, dataset.transform]),
        name=name or f"{dataset.name}-augmented",
        classes=dataset.classes,
    )
