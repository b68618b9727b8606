"""Synthetic datasets: shapes, dtypes, labels, reproducibility and the geometry each promises."""

from __future__ import annotations

import numpy as np
import pytest

from nn101.data import circles, linear, moons, sine, spirals, xor

CLASSIFICATION = [
    (spirals, {"n_per_class": 30, "n_classes": 4}, 120, 4),
    (moons, {"n_samples": 51}, 51, 2),
    (circles, {"n_samples": 40}, 40, 2),
    (xor, {"n_samples": 33}, 33, 2),
]


@pytest.mark.parametrize("make, kwargs, n, n_classes", CLASSIFICATION)
def test_classification_sets(make, kwargs, n, n_classes):
    X, y = make(**kwargs, rng=np.random.default_rng(0))
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(n_classes))
    assert np.all(np.isfinite(X))


ALL = [(make, kwargs) for make, kwargs, _, _ in CLASSIFICATION] + [
    (linear, {"n_samples": 20, "n_features": 3}),
    (sine, {"n_samples": 20}),
]


@pytest.mark.parametrize("make, kwargs", ALL)
def test_same_seed_same_numbers(make, kwargs):
    first = make(**kwargs, rng=np.random.default_rng(7))
    second = make(**kwargs, rng=np.random.default_rng(7))
    third = make(**kwargs, rng=np.random.default_rng(8))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], third[0])


@pytest.mark.parametrize("make, kwargs", ALL)
def test_dtype_argument(make, kwargs):
    out = make(**kwargs, rng=np.random.default_rng(0), dtype=np.float64)
    assert out[0].dtype == np.float64


@pytest.mark.parametrize("make, kwargs", ALL)
def test_negative_noise_is_refused(make, kwargs):
    with pytest.raises(ValueError, match="noise >= 0"):
        make(**kwargs, noise=-0.1)


def test_spirals_without_noise_lie_on_their_arms():
    X, y = spirals(50, 3, noise=0.0, rng=np.random.default_rng(0))
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[:50], np.linspace(0, 1, 50), atol=1e-6)
    theta = 4.0 * y + 4.0 * np.tile(np.linspace(0, 1, 50), 3)
    np.testing.assert_allclose(X[:, 0], r * np.sin(theta), atol=1e-6)
    np.testing.assert_allclose(X[:, 1], r * np.cos(theta), atol=1e-6)


def test_circles_without_noise_have_two_radii():
    X, y = circles(100, noise=0.0, factor=0.3, rng=np.random.default_rng(0))
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        circles(10, factor=1.5)


def test_moons_without_noise_are_half_circles():
    X, y = moons(100, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0, rtol=1e-6)
    assert np.all(X[y == 0, 1] >= -1e-7) and np.all(X[y == 1, 1] <= 0.5 + 1e-7)
    assert np.bincount(y).tolist() == [50, 50]


def test_xor_truth_table():
    X, y = xor(4, noise=0.0)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    X, y = xor(200, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(np.int64))


def test_linear_targets_follow_the_returned_weights():
    X, y, w, b = linear(500, 3, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (500, 3) and y.shape == (500, 1) and w.shape == (3, 1) and b.shape == (1,)
    np.testing.assert_allclose(y, X @ w + b, rtol=1e-5, atol=1e-5)
    X, y, w, b = linear(2000, 2, noise=0.5, rng=np.random.default_rng(1))
    residual = y - (X @ w + b)
    assert 0.45 < residual.std() < 0.55  # the noise is what the docstring says


def test_sine_targets():
    X, y = sine(300, noise=0.0, low=0.0, high=1.0, rng=np.random.default_rng(0))
    assert X.shape == y.shape == (300, 1)
    assert X.min() >= 0.0 and X.max() < 1.0
    np.testing.assert_allclose(y, np.sin(X), rtol=1e-6)
    with pytest.raises(ValueError, match="low < high"):
        sine(10, low=1.0, high=1.0)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_counts_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="n_per_class"):
        spirals(bad)
    with pytest.raises(ValueError, match="n_samples"):
        linear(bad)
