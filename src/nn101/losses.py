"""Losses: a scalar that says how wrong a batch of predictions is, and its gradient.

``forward(prediction, target) -> float`` saves what ``backward`` needs; ``backward() ->
dL/dprediction`` has the prediction's shape and dtype. The two classification losses take
*logits* and fuse the final sigmoid / softmax into the loss, which is both stable (no log of 0)
and cheap (the gradient is simply "probability - target").

Reduction (PyTorch's names): ``"mean"`` (the default) averages, ``"sum"`` adds. What is
averaged is stated in each docstring: MSE and binary cross-entropy average over every entry
(batch x outputs), softmax cross-entropy over the examples (every position of a sequence is
one). None has a factor 1/2, so a learning rate quoted by a textbook whose cost has one
(Nielsen's C = (1/2n) Σ_x ‖y - a‖²) must be converted: see ``MeanSquaredError``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nn101.functional import sigmoid, softplus
from nn101.registry import LOSSES

__all__ = ["Loss", "MeanSquaredError", "BinaryCrossEntropy", "SoftmaxCrossEntropy", "get_loss"]

REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class: ``forward`` (also ``__call__``) returns the loss, ``backward`` dL/dŷ.

    ``metrics(target)`` names the metrics that make sense for these targets (``fit`` and
    ``evaluate`` log them); ``ignore_index`` is the target value that counts for nothing.
    """

    name: ClassVar[str] = ""
    ignore_index: int | None = None

    def __init__(self, *, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean' or 'sum', got {reduction!r}"
            )
        self.reduction = reduction

    def metrics(self, target: np.ndarray) -> tuple[str, ...]:
        """Metric names worth logging for targets like ``target`` (none by default)."""
        return ()

    def scale(self, count: int) -> float:
        """The factor of the reduction: 1/count for the mean, 1 for the sum."""
        return 1.0 / max(count, 1) if self.reduction == "mean" else 1.0

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float:
        return self.forward(prediction, target)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def saved(self, value: np.ndarray | None) -> np.ndarray:
        """An array forward saved for backward, or a clear error if forward has not run."""
        if value is None:
            raise RuntimeError(f"{type(self).__name__}: backward called before forward")
        return value


def float_prediction(owner: str, prediction: np.ndarray) -> np.ndarray:
    z = np.asarray(prediction)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    if z.ndim == 0 or z.shape[0] == 0:
        raise ValueError(f"{owner} expected a non-empty batch (N, ...), got shape {z.shape}")
    return z


def same_shape_target(owner: str, z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The target as z's dtype and shape; a (N,) target is accepted for a (N, 1) prediction."""
    t = np.asarray(target, dtype=z.dtype)
    if t.shape != z.shape and z.ndim == 2 and z.shape[1] == 1 and t.shape == (z.shape[0],):
        t = t.reshape(z.shape)
    if t.shape != z.shape:
        raise ValueError(
            f"{owner} expected target of shape {z.shape} (the prediction's), got {t.shape}"
        )
    return t


class MeanSquaredError(Loss):
    """L = (1/M) Σ (ŷ - y)², the mean over all M entries (as PyTorch's MSELoss); with
    ``reduction="sum"``, L = Σ (ŷ - y)².

    dL/dŷ = 2 (ŷ - y) / M (or 2 (ŷ - y)).  Shapes: prediction (N, ...), target the same.
    Learning rates from a textbook: Nielsen's quadratic cost C = (1/2n) Σ_x ‖y - a‖² over a
    batch of n examples with C outputs is this mean loss divided by 2/C, so his η becomes
    η·C/2 here (η = 3.0 with 10 outputs -> 15), or η/(2n) with ``reduction="sum"``.
    Logs accuracy when the targets are one-hot rows.
    """

    name = "mse"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.residual: np.ndarray | None = None

    def metrics(self, target: np.ndarray) -> tuple[str, ...]:
        return ("accuracy",) if is_one_hot(target) else ()

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        y_hat = float_prediction("MeanSquaredError", prediction)
        residual = y_hat - same_shape_target("MeanSquaredError", y_hat, target)
        self.residual = residual
        return float(np.vdot(residual, residual)) * self.scale(residual.size)

    def backward(self) -> np.ndarray:
        residual = self.saved(self.residual)
        return residual * (2.0 * self.scale(residual.size))


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits z, with p = σ(z) and targets y ∈ [0, 1]:

    L = (1/M) Σ -[y log p + (1 - y) log(1 - p)] = (1/M) Σ softplus(z) - y z,
    where softplus(z) = max(z, 0) + log(1 + e^(-|z|)) never overflows.
    dL/dz = (σ(z) - y) / M.  Shapes: logits (N, ...) and targets the same ((N,) for (N, 1)).
    As PyTorch's BCEWithLogitsLoss (mean over all M entries; ``reduction="sum"``: no 1/M).
    """

    name = "bce"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.z: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        z = float_prediction("BinaryCrossEntropy", prediction)
        y = same_shape_target("BinaryCrossEntropy", z, target)
        if y.size and (y.min() < 0 or y.max() > 1):
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"BinaryCrossEntropy expected targets in [0, 1], got {bad}")
        self.z, self.y = z, y
        return float(np.sum(softplus(z) - y * z)) * self.scale(z.size)

    def metrics(self, target: np.ndarray) -> tuple[str, ...]:
        return ("accuracy",)

    def backward(self) -> np.ndarray:
        z, y = self.saved(self.z), self.saved(self.y)
        grad = sigmoid(z) - y
        grad *= self.scale(grad.size)
        return grad


class SoftmaxCrossEntropy(Loss):
    """Softmax cross-entropy on logits z (..., C), with p = softmax(z) over the last axis:

    L = (1/M) Σ_m -Σ_c y_mc log p_mc = (1/M) Σ_m [logsumexp(z_m) - Σ_c y_mc z_mc]   (Σ_c y_mc = 1)
    dL/dz = (p - y) / M (for a general target distribution, (p Σ_c y_mc - y) / M),
    where m runs over the M examples: the N rows of (N, C) logits, or the N·T positions of a
    sequence's (N, T, C). Targets: integer labels (...) in [0, C), or one-hot / probabilities
    (..., C). Labels equal to ``ignore_index`` (padding) count for nothing, and M counts only
    the others. ``reduction="sum"``: no 1/M. As PyTorch's CrossEntropyLoss.
    """

    name = "softmax_cross_entropy"

    def __init__(self, *, reduction: str = "mean", ignore_index: int | None = None) -> None:
        super().__init__(reduction=reduction)
        if ignore_index is not None and (
            isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer)
        ):
            raise ValueError(
                f"SoftmaxCrossEntropy: ignore_index must be an integer or None, "
                f"got {ignore_index!r}"
            )
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.p: np.ndarray | None = None
        self.y: np.ndarray | None = None
        self.keep: np.ndarray | None = None  # (M,) False where the label is ignore_index
        self.count = 0
        self.shape: tuple[int, ...] = ()

    def metrics(self, target: np.ndarray) -> tuple[str, ...]:
        return ("accuracy",)

    def config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "ignore_index": self.ignore_index}

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        z = float_prediction("SoftmaxCrossEntropy", prediction)
        if z.ndim < 2:
            raise ValueError(
                f"SoftmaxCrossEntropy expected logits (N, C) or (N, ..., C), got shape {z.shape}"
            )
        y = self.check_target(z, np.asarray(target))
        self.shape = z.shape
        z = z.reshape(-1, z.shape[-1])  # (..., C) -> (M, C), a view
        shifted = z - z.max(axis=1, keepdims=True)  # (M, C), every entry <= 0
        p = np.exp(shifted)
        row_sums = p.sum(axis=1, keepdims=True)  # (M, 1)
        p /= row_sums
        log_sums = np.log(row_sums[:, 0])  # (M,): logsumexp(z) - max(z)
        keep = None
        if y.ndim == 1:
            if self.ignore_index is not None:
                keep = y != self.ignore_index  # (M,)
                y = np.where(keep, y, 0)
            picked = shifted[np.arange(len(y)), y]  # (M,)
            if keep is None:
                # the sum as two sums: np.mean's Python wrapper costs more than these at M = 32
                total = log_sums.sum() - picked.sum()
            else:
                total = np.dot(keep, log_sums - picked)
        else:
            total = np.sum(log_sums * y.sum(axis=1) - np.einsum("mc,mc->m", y, shifted))
        self.p, self.y, self.keep = p, y, keep
        self.count = len(y) if keep is None else int(np.count_nonzero(keep))
        return float(total) * self.scale(self.count)

    def backward(self) -> np.ndarray:
        p, y = self.saved(self.p), self.saved(self.y)
        if y.ndim == 1:
            grad = p.copy()
            grad[np.arange(len(y)), y] -= 1
            if self.keep is not None:
                grad *= self.keep[:, None]
        else:
            grad = p * y.sum(axis=1, keepdims=True)
            grad -= y
        grad *= self.scale(self.count)
        return grad.reshape(self.shape)

    def check_target(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Integer labels (M,) or distributions (M, C), for the (M, C) view of the logits."""
        lead, c = z.shape[:-1], z.shape[-1]
        if y.shape == lead:
            if y.dtype.kind not in "iu":
                if y.dtype.kind != "f" or not np.all(y == np.round(y)):
                    raise ValueError(
                        f"SoftmaxCrossEntropy expected integer class labels {lead}, "
                        f"got dtype {y.dtype} with non-integer values"
                    )
                y = y.astype(np.int64)
            y = y.reshape(-1)
            valid = y if self.ignore_index is None else y[y != self.ignore_index]
            if valid.size and (valid.min() < 0 or valid.max() >= c):
                bad = valid.min() if valid.min() < 0 else valid.max()
                raise ValueError(
                    f"SoftmaxCrossEntropy expected labels in [0, {c}) for {c} classes, got {bad}"
                )
            return y
        if y.shape == z.shape:
            return np.asarray(y, dtype=z.dtype).reshape(-1, c)
        raise ValueError(
            f"SoftmaxCrossEntropy expected target labels {lead} or one-hot {z.shape}, got {y.shape}"
        )


def is_one_hot(target: np.ndarray) -> bool:
    """Rows of 0s and a single 1 along the last axis (C > 1)."""
    t = np.asarray(target)
    if t.ndim < 2 or t.shape[-1] < 2 or t.size == 0:
        return False
    return bool(np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=-1) == 1))


for _cls in (MeanSquaredError, BinaryCrossEntropy, SoftmaxCrossEntropy):
    LOSSES.add(_cls.name, _cls)


def get_loss(name: str) -> Loss:
    """A new loss called ``name`` ("mse", "bce", "softmax_cross_entropy")."""
    return LOSSES.get(name)()
