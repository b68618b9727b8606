"""Stateless math shared by layers and losses, written so that it never overflows.

Every function here is pure: arrays in, arrays out, nothing saved. The stable forms rest on two
identities that move the large numbers out of ``exp``:

* sigmoid(x) = 1 / (1 + e^(-x)) = e^x / (1 + e^x): use the form whose exponent is -|x| <= 0.
* log Σ_j e^(x_j) = m + log Σ_j e^(x_j - m) with m = max_j x_j: every exponent is <= 0.

Source: the log-sum-exp trick, e.g. Goodfellow, Bengio & Courville, *Deep Learning* (2016), 4.1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "softplus", "logsumexp", "softmax", "log_softmax"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(-x)), computed from z = e^(-|x|) so that no exponent is positive.

    σ(x) = 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0.
    Shapes: any -> same shape, same floating dtype.
    """
    x = np.asarray(x)
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    numerator = np.where(x >= 0, 1.0, z).astype(z.dtype, copy=False)
    return numerator / (1.0 + z)


def softplus(x: np.ndarray) -> np.ndarray:
    """softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|)).

    Shapes: any -> same shape. Used by the binary cross-entropy on logits.
    """
    x = np.asarray(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ_j e^(x_j) along ``axis``, as m + log Σ_j e^(x_j - m) with m = max_j x_j.

    Shapes: (..., C, ...) -> the same with ``axis`` removed (kept with size 1 if ``keepdims``).
    """
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)  # (..., 1, ...)
    result = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return result if keepdims else np.squeeze(result, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x)_i = e^(x_i - m) / Σ_j e^(x_j - m) along ``axis``, m = max_j x_j.

    Shapes: any -> same shape; the entries along ``axis`` are positive and sum to 1.
    """
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x)_i = (x_i - m) - log Σ_j e^(x_j - m) along ``axis``, m = max_j x_j.

    Subtracting m first keeps the result exact for large logits in float32: x - logsumexp(x)
    would subtract two numbers near 1000 and keep only float32's few digits of their difference.
    Shapes: any -> same shape.
    """
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)  # every entry <= 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
