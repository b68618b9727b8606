"""Arrays given on the command line (``--x``, ``--y``): read, checked, prepared as in training.

Each check names the option, the file and what was expected and found; the shape reported is
the shape of the file as given, before any reshaping.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np

from nn101.cli.datasets import InputSpec
from nn101.cli.errors import UsageError

__all__ = ["read_array", "prepare_inputs", "check_labels"]


def read_array(option: str, path: str) -> np.ndarray:
    """The one numeric, non-empty array in the ``.npy`` file ``path`` (never unpickled)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{option} {path}: no such file")
    if zipfile.is_zipfile(file):
        raise ValueError(
            f"{option} {path}: expected a .npy file holding one array, got a .npz archive "
            f"(save one array with np.save)"
        )
    try:
        array = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"{option} {path}: not a readable .npy array file ({error})") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{option} {path}: expected numbers, got an array of dtype {array.dtype}")
    if array.ndim == 0 or array.size == 0:
        raise ValueError(
            f"{option} {path}: expected at least one example, got an empty array of shape "
            f"{array.shape}"
        )
    return array


def prepare_inputs(x: np.ndarray, spec: InputSpec, option: str, path: str) -> np.ndarray:
    """``x`` reshaped to (N, *spec.shape), checked finite and in range, scaled as in training."""
    x = _reshape(x, spec.shape, option, path)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"{option} {path}: expected finite numbers, got {np.count_nonzero(~np.isfinite(x))} "
            f"NaN or infinite values (the first at example {bad[0]})"
        )
    if spec.scale != 1.0:
        _check_pixel_range(x, spec.scale, option, path)
    return (x.astype(np.float32) / np.float32(spec.scale)).astype(np.float32)


def _reshape(x: np.ndarray, shape: tuple[int, ...], option: str, path: str) -> np.ndarray:
    size = int(np.prod(shape))
    if not shape or x.shape[1:] == shape:
        return x
    if x.shape == shape:  # one example without its batch axis
        return x[np.newaxis]
    if x.ndim >= 2 and int(np.prod(x.shape[1:])) == size:  # (N, 28, 28) <-> (N, 784) ...
        return x.reshape(len(x), *shape)
    expected = f"(N, {', '.join(str(d) for d in shape)})"
    raise ValueError(
        f"{option} {path}: expected inputs of shape {expected} ({size} values per example), "
        f"got {x.shape}"
    )


def _check_pixel_range(x: np.ndarray, scale: float, option: str, path: str) -> None:
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > scale:
        raise ValueError(
            f"{option} {path}: expected pixel values in [0, {scale:g}] as in training, got "
            f"values in [{low:g}, {high:g}]"
        )
    if x.dtype.kind == "f" and high <= 1.0 < scale:
        print(
            f"note: {option} {path} holds values in [0, 1]; the model was trained on pixels "
            f"in [0, {scale:g}] and nn101 divides them by {scale:g}: give raw pixel values",
            file=sys.stderr,
        )


def check_labels(y: np.ndarray, n: int, num_classes: int | None, option: str, path: str) -> None:
    """``y`` must be n integer class labels in [0, num_classes)."""
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{option} {path}: expected {n} labels of shape ({n},), got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{option} {path}: expected integer class labels, got dtype {y.dtype}")
    low, high = int(y.min()), int(y.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        limit = f"[0, {num_classes})" if num_classes is not None else ">= 0"
        raise ValueError(f"{option} {path}: expected labels in {limit}, got [{low}, {high}]")
