"""Validation at the training boundary: user data becomes a Dataset once, checked once."""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.losses import Loss

__all__ = ["as_dataset", "unpack_validation", "check_positive_int", "parameter_dtype", "cast"]


def as_dataset(x: Any, y: Any, where: str, dtype: np.dtype, *, require_targets: bool) -> Dataset:
    """Validate user data once, at the boundary: shapes, emptiness, finiteness, targets.

    Floating inputs are cast to the model's dtype; integer inputs (token ids, pixel bytes)
    are kept as they are.
    """
    if isinstance(x, Dataset):
        if y is not None:
            raise ValueError(f"{where}: got a Dataset and separate targets; pass only the Dataset")
        data = x
    else:
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"{where}: expected numeric inputs, got dtype {x.dtype}")
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"{where}: expected at least one example in x, got shape {x.shape}")
        if x.dtype.kind == "f":
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            if bad:
                raise ValueError(f"{where}: x contains {bad} non-finite values (NaN or inf)")
            x = x.astype(dtype, copy=False)
        data = Dataset(x, y, name=where)
    if require_targets and data.y is None:
        raise ValueError(f"{where}: expected targets y, got None")
    if data.y is not None and data.y.dtype.kind == "f" and not np.isfinite(data.y).all():
        raise ValueError(f"{where}: targets y contain non-finite values (NaN or inf)")
    return data


def unpack_validation(validation_data: Any) -> tuple[Any, Any]:
    if isinstance(validation_data, Dataset):
        return validation_data, None
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
        return validation_data[0], validation_data[1]
    raise ValueError(
        "fit: validation_data must be a Dataset or a pair (x_val, y_val), "
        f"got {type(validation_data).__name__}"
    )


def check_against(model: Layer, loss: Loss, data: Dataset, where: str) -> tuple[str, ...]:
    """Run two examples through the model and the loss before any training, so that targets
    that do not fit the loss fail at once (not after an epoch); return the loss's metrics."""
    xb, yb = data[:2]
    assert yb is not None
    try:
        with model.state_kept():
            model.reset_state()
            output = model.forward(cast(xb, parameter_dtype(model)), training=False)
    except ValueError as error:
        shape = tuple(data.x.shape)
        raise ValueError(
            f"{where}: inputs x of shape {shape} do not fit the model: {error}"
        ) from None
    try:
        loss.forward(output, yb)
    except ValueError as error:
        raise ValueError(f"{where}: the targets do not fit {loss!r}: {error}") from None
    return loss.metrics(yb)


def check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def parameter_dtype(model: Layer) -> np.dtype:
    """The dtype of the model's parameters (float32 for a model without any)."""
    params = model.parameters()
    return params[0].dtype if params else np.dtype(np.float32)


def cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Floating inputs in the model's dtype; integer ids and bytes untouched."""
    return x.astype(dtype) if x.dtype.kind == "f" and x.dtype != dtype else x
