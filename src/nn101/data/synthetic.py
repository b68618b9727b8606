"""Small synthetic datasets made on the fly, for pictures and quick experiments.

Each function takes ``rng`` (a ``np.random.Generator``; None -> a fresh unseeded one) and
returns float32 inputs (``dtype=``); classification labels are int64 class indices. The same
seed gives the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["circles", "linear", "moons", "sine", "spirals", "xor"]


def _generator(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def _check_count(name: str, argument: str, value: int, minimum: int = 1) -> None:
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"{name}: expected {argument} to be an integer >= {minimum}, got {value!r}"
        )


def _check_noise(name: str, noise: float) -> None:
    if not noise >= 0:
        raise ValueError(f"{name}: expected noise >= 0, got {noise!r}")


def spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n "spiral" toy problem).

    Arm k: radius r = linspace(0, 1), angle θ = 4k + 4r + noise·N(0, 1),
    point = (r sin θ, r cos θ). Not linearly separable: a linear model gets about 1/n_classes.
    Shapes: X (n_per_class * n_classes, 2), y (n_per_class * n_classes,) int64 in [0, n_classes)
    Source: Karpathy, CS231n "Putting it together: minimal neural network case study".
    """
    _check_count("spirals", "n_per_class", n_per_class)
    _check_count("spirals", "n_classes", n_classes)
    _check_noise("spirals", noise)
    rng = _generator(rng)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)  # (N,)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)  # (N,)
    theta = 4.0 * y + 4.0 * r + noise * rng.standard_normal(r.shape)  # (N,)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)  # (N, 2)
    return X.astype(dtype), y


def moons(
    n_samples: int = 200,
    noise: float = 0.1,
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t), t uniform in [0, π];
    plus Gaussian noise of standard deviation ``noise`` on each coordinate.
    Shapes: X (n_samples, 2), y (n_samples,) int64 in {0, 1}; classes of sizes ⌈n/2⌉, ⌊n/2⌋.
    """
    _check_count("moons", "n_samples", n_samples, minimum=2)
    _check_noise("moons", noise)
    rng = _generator(rng)
    y = (np.arange(n_samples) >= (n_samples + 1) // 2).astype(np.int64)  # (N,)
    t = np.pi * rng.uniform(0.0, 1.0, n_samples)  # (N,)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)  # (N, 2)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)  # (N, 2)
    X = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n_samples, 2))
    return X.astype(dtype), y


def circles(
    n_samples: int = 200,
    noise: float = 0.05,
    factor: float = 0.5,
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle inside a circle: class 0 on radius 1, class 1 on radius ``factor``.

    Point = radius·(cos t, sin t) + noise·N(0, I), t uniform in [0, 2π).
    Shapes: X (n_samples, 2), y (n_samples,) int64 in {0, 1}; classes of sizes ⌈n/2⌉, ⌊n/2⌋.
    """
    _check_count("circles", "n_samples", n_samples, minimum=2)
    _check_noise("circles", noise)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"circles: expected factor in (0, 1), got {factor!r}")
    rng = _generator(rng)
    y = (np.arange(n_samples) >= (n_samples + 1) // 2).astype(np.int64)  # (N,)
    radius = np.where(y == 0, 1.0, factor)  # (N,)
    t = 2.0 * np.pi * rng.uniform(0.0, 1.0, n_samples)  # (N,)
    X = radius[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)  # (N, 2)
    X = X + noise * rng.standard_normal((n_samples, 2))
    return X.astype(dtype), y


def xor(
    n_samples: int = 200,
    noise: float = 0.1,
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: corners of the unit square, label = a XOR b, with Gaussian jitter.

    Point = (a, b) + noise·N(0, I) with a, b uniform in {0, 1}; y = a XOR b. No single
    linear boundary separates the classes (Minsky and Papert, *Perceptrons*, 1969).
    With n_samples=4 and noise=0 it is exactly the four points (0,0) (0,1) (1,0) (1,1).
    Shapes: X (n_samples, 2), y (n_samples,) int64 in {0, 1}.
    """
    _check_count("xor", "n_samples", n_samples)
    _check_noise("xor", noise)
    rng = _generator(rng)
    if n_samples == 4 and noise == 0:
        corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)  # (4, 2)
    else:
        corners = rng.integers(0, 2, size=(n_samples, 2))  # (N, 2)
    y = (corners[:, 0] ^ corners[:, 1]).astype(np.int64)  # (N,)
    X = corners + noise * rng.standard_normal((n_samples, 2))  # (N, 2)
    return X.astype(dtype), y


def linear(
    n_samples: int = 100,
    n_features: int = 1,
    noise: float = 0.1,
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Linear regression data: y = X w + b + noise·N(0, 1).

    X, w and b are standard normal; w has the (in, out) layout of ``Dense(n_features, 1)``,
    so a trained Dense layer's weight and bias can be compared with them directly.
    Shapes: X (n_samples, n_features), y (n_samples, 1), w (n_features, 1), b (1,)
    """
    _check_count("linear", "n_samples", n_samples)
    _check_count("linear", "n_features", n_features)
    _check_noise("linear", noise)
    rng = _generator(rng)
    w = rng.standard_normal((n_features, 1))  # (D, 1)
    b = rng.standard_normal(1)  # (1,)
    X = rng.standard_normal((n_samples, n_features))  # (N, D)
    y = X @ w + b + noise * rng.standard_normal((n_samples, 1))  # (N, 1)
    return X.astype(dtype), y.astype(dtype), w.astype(dtype), b.astype(dtype)


def sine(
    n_samples: int = 200,
    noise: float = 0.1,
    *,
    low: float = -np.pi,
    high: float = np.pi,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Non-linear regression data: y = sin(x) + noise·N(0, 1), x uniform in [low, high).

    Shapes: X (n_samples, 1), y (n_samples, 1)
    """
    _check_count("sine", "n_samples", n_samples)
    _check_noise("sine", noise)
    if not low < high:
        raise ValueError(f"sine: expected low < high, got low={low!r}, high={high!r}")
    rng = _generator(rng)
    X = rng.uniform(low, high, (n_samples, 1))  # (N, 1)
    y = np.sin(X) + noise * rng.standard_normal((n_samples, 1))  # (N, 1)
    return X.astype(dtype), y.astype(dtype)
