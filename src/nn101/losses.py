"""Losses: a scalar that says how wrong a batch of predictions is, and its gradient.

``forward(prediction, target) -> float`` is the mean over the batch and saves what ``backward``
needs; ``backward() -> dL/dprediction`` has the prediction's shape and dtype. The two
classification losses take *logits* and fuse the final sigmoid / softmax into the loss, which is
both stable (no log of 0) and cheap (the gradient is simply "probability - target").
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nn101.functional import sigmoid, softplus

__all__ = [
    "Loss",
    "MeanSquaredError",
    "BinaryCrossEntropy",
    "SoftmaxCrossEntropy",
    "LOSSES",
    "get_loss",
]


class Loss:
    """Base class: ``forward`` (also ``__call__``) returns the mean loss, ``backward`` dL/dŷ."""

    name: ClassVar[str] = ""

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, prediction: np.ndarray, target: np.ndarray) -> float:
        return self.forward(prediction, target)

    def config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _saved(self, value: np.ndarray | None) -> np.ndarray:
        if value is None:
            raise RuntimeError(f"{type(self).__name__}: backward called before forward")
        return value


def _float_prediction(owner: str, prediction: np.ndarray) -> np.ndarray:
    z = np.asarray(prediction)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    if z.ndim == 0 or z.shape[0] == 0:
        raise ValueError(f"{owner} expected a non-empty batch (N, ...), got shape {z.shape}")
    return z


def _same_shape_target(owner: str, z: np.ndarray, target: np.ndarray) -> np.ndarray:
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
    """L = (1/M) Σ (ŷ - y)², the mean over all M entries (as PyTorch's MSELoss).

    dL/dŷ = 2 (ŷ - y) / M.  Shapes: prediction (N, ...), target the same.
    """

    name = "mse"

    def __init__(self) -> None:
        self._residual: np.ndarray | None = None

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        y_hat = _float_prediction("MeanSquaredError", prediction)
        residual = y_hat - _same_shape_target("MeanSquaredError", y_hat, target)
        self._residual = residual
        return float(np.vdot(residual, residual)) / residual.size

    def backward(self) -> np.ndarray:
        residual = self._saved(self._residual)
        return residual * (2.0 / residual.size)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits z, with p = σ(z) and targets y ∈ [0, 1]:

    L = (1/M) Σ -[y log p + (1 - y) log(1 - p)] = (1/M) Σ softplus(z) - y z,
    where softplus(z) = max(z, 0) + log(1 + e^(-|z|)) never overflows.
    dL/dz = (σ(z) - y) / M.  Shapes: logits (N, ...) and targets the same ((N,) for (N, 1)).
    As PyTorch's BCEWithLogitsLoss (mean over all M entries).
    """

    name = "bce"

    def __init__(self) -> None:
        self._z: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        z = _float_prediction("BinaryCrossEntropy", prediction)
        y = _same_shape_target("BinaryCrossEntropy", z, target)
        if y.size and (y.min() < 0 or y.max() > 1):
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"BinaryCrossEntropy expected targets in [0, 1], got {bad}")
        self._z, self._y = z, y
        return float(np.mean(softplus(z) - y * z))

    def backward(self) -> np.ndarray:
        z, y = self._saved(self._z), self._saved(self._y)
        grad = sigmoid(z) - y
        grad /= grad.size
        return grad


class SoftmaxCrossEntropy(Loss):
    """Softmax cross-entropy on logits z (N, C), with p = softmax(z) and targets y:

    L = (1/N) Σ_n -Σ_c y_nc log p_nc = (1/N) Σ_n [logsumexp(z_n) - Σ_c y_nc z_nc]   (Σ_c y_nc = 1)
    dL/dz = (p - y) / N (for a general target distribution, (p Σ_c y_nc - y) / N).
    Targets: integer labels (N,) in [0, C), or one-hot / probabilities (N, C).
    Shapes: logits (N, C) -> float.  As PyTorch's CrossEntropyLoss.
    """

    name = "softmax_cross_entropy"

    def __init__(self) -> None:
        self._p: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, prediction: np.ndarray, target: np.ndarray) -> float:
        z = _float_prediction("SoftmaxCrossEntropy", prediction)
        if z.ndim != 2:
            raise ValueError(f"SoftmaxCrossEntropy expected logits (N, C), got shape {z.shape}")
        y = self._check_target(z, np.asarray(target))
        shifted = z - z.max(axis=1, keepdims=True)  # (N, C), every entry <= 0
        p = np.exp(shifted)
        row_sums = p.sum(axis=1, keepdims=True)  # (N, 1)
        p /= row_sums
        log_sums = np.log(row_sums[:, 0])  # (N,): logsumexp(z) - max(z)
        if y.ndim == 1:
            picked = shifted[np.arange(z.shape[0]), y]  # (N,)
            # the mean as sum / N: np.mean's Python wrapper costs more than the sums at N = 32
            loss = (log_sums.sum() - picked.sum()) / z.shape[0]
        else:
            loss = np.mean(log_sums * y.sum(axis=1) - np.einsum("nc,nc->n", y, shifted))
        self._p, self._y = p, y
        return float(loss)

    def backward(self) -> np.ndarray:
        p, y = self._saved(self._p), self._saved(self._y)
        n = p.shape[0]
        if y.ndim == 1:
            grad = p.copy()
            grad[np.arange(n), y] -= 1
        else:
            grad = p * y.sum(axis=1, keepdims=True)
            grad -= y
        grad /= n
        return grad

    @staticmethod
    def _check_target(z: np.ndarray, y: np.ndarray) -> np.ndarray:
        n, c = z.shape
        if y.shape == (n,):
            if y.dtype.kind not in "iu":
                if y.dtype.kind != "f" or not np.all(y == np.round(y)):
                    raise ValueError(
                        "SoftmaxCrossEntropy expected integer class labels (N,), "
                        f"got dtype {y.dtype} with non-integer values"
                    )
                y = y.astype(np.int64)
            if n and (y.min() < 0 or y.max() >= c):
                bad = y.min() if y.min() < 0 else y.max()
                raise ValueError(
                    f"SoftmaxCrossEntropy expected labels in [0, {c}) for {c} classes, got {bad}"
                )
            return y
        if y.shape == (n, c):
            return np.asarray(y, dtype=z.dtype)
        raise ValueError(
            f"SoftmaxCrossEntropy expected target labels ({n},) or one-hot ({n}, {c}), "
            f"got {y.shape}"
        )


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (MeanSquaredError, BinaryCrossEntropy, SoftmaxCrossEntropy)
}
"""Every loss by name, for the CLI and configs: "mse", "bce", "softmax_cross_entropy"."""


def get_loss(name: str) -> Loss:
    """A new loss called ``name``; unknown names list the known ones."""
    try:
        return LOSSES[name]()
    except KeyError:
        known = ", ".join(sorted(LOSSES))
        raise ValueError(f"unknown loss {name!r}; known losses: {known}") from None
