"""Losses and the stable functional math: finite differences, properties, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nn101
from nn101 import functional as F
from nn101.gradcheck import check_loss
from nn101.losses import LOSSES, get_loss

RNG_SEED = 0


def _logits(n: int = 6, c: int = 4, scale: float = 2.0) -> np.ndarray:
    return scale * np.random.default_rng(RNG_SEED).standard_normal((n, c))


def _cases():
    rng = np.random.default_rng(1)
    z = _logits()
    return [
        ("mse", nn101.MeanSquaredError(), z, rng.standard_normal(z.shape)),
        ("bce", nn101.BinaryCrossEntropy(), z, rng.random(z.shape)),
        ("bce_hard", nn101.BinaryCrossEntropy(), z, rng.integers(0, 2, z.shape)),
        ("bce_column", nn101.BinaryCrossEntropy(), z[:, :1], rng.integers(0, 2, len(z))),
        ("sce_labels", nn101.SoftmaxCrossEntropy(), z, rng.integers(0, 4, len(z))),
        ("sce_one_hot", nn101.SoftmaxCrossEntropy(), z, np.eye(4)[rng.integers(0, 4, len(z))]),
        ("sce_soft", nn101.SoftmaxCrossEntropy(), z, F.softmax(rng.standard_normal(z.shape))),
    ]


CASES = _cases()


@pytest.mark.parametrize("name, loss, z, y", CASES, ids=[c[0] for c in CASES])
def test_loss_gradient_matches_finite_differences(name, loss, z, y):
    assert check_loss(loss, z, y) < 1e-7


@pytest.mark.parametrize("name, loss, z, y", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_returns_float_and_gradient_in_prediction_dtype(name, loss, z, y, dtype):
    value = loss(z.astype(dtype), y)
    assert isinstance(value, float) and value >= 0
    grad = loss.backward()
    assert grad.shape == z.shape and grad.dtype == dtype
    assert type(loss)(**loss.config()).config() == loss.config()


def test_losses_against_their_formulas():
    z = _logits()
    y = np.random.default_rng(2).integers(0, 4, len(z))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(len(z)), y]))
    assert nn101.SoftmaxCrossEntropy()(z, y) == pytest.approx(expected, rel=1e-12)
    t = np.random.default_rng(3).random(z.shape)
    s = 1 / (1 + np.exp(-z))
    bce = -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert nn101.BinaryCrossEntropy()(z, t) == pytest.approx(bce, rel=1e-12)
    assert nn101.MeanSquaredError()(z, t) == pytest.approx(np.mean((z - t) ** 2), rel=1e-12)


def test_registry_by_name():
    assert set(LOSSES) == {"mse", "bce", "softmax_cross_entropy"}
    assert isinstance(get_loss("softmax_cross_entropy"), nn101.SoftmaxCrossEntropy)
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known losses: bce, mse"):
        get_loss("hinge")


# -- clear errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, z, y, match",
    [
        (
            nn101.SoftmaxCrossEntropy(),
            np.zeros((3, 4)),
            np.array([0, 4, 1]),
            r"labels in \[0, 4\) for 4 classes, got 4",
        ),
        (
            nn101.SoftmaxCrossEntropy(),
            np.zeros((3, 4)),
            np.array([0, -1, 1]),
            r"labels in \[0, 4\) for 4 classes, got -1",
        ),
        (
            nn101.SoftmaxCrossEntropy(),
            np.zeros((3, 4)),
            np.zeros((3, 5)),
            r"expected target labels \(3,\) or one-hot \(3, 4\), got \(3, 5\)",
        ),
        (
            nn101.SoftmaxCrossEntropy(),
            np.zeros((3, 4)),
            np.array([0.5, 1, 2]),
            "integer class labels",
        ),
        (
            nn101.SoftmaxCrossEntropy(),
            np.zeros((3, 4, 2)),
            np.array([0, 1, 2]),
            r"expected target labels \(3, 4\) or one-hot \(3, 4, 2\), got \(3,\)",
        ),
        (
            nn101.BinaryCrossEntropy(),
            np.zeros((3, 1)),
            np.array([0, 2, 1]),
            r"targets in \[0, 1\], got 2",
        ),
        (
            nn101.MeanSquaredError(),
            np.zeros((3, 2)),
            np.zeros((3, 3)),
            r"target of shape \(3, 2\) \(the prediction's\), got \(3, 3\)",
        ),
        (nn101.MeanSquaredError(), np.zeros((0, 2)), np.zeros((0, 2)), "non-empty batch"),
    ],
)
def test_bad_targets_are_clear_errors(loss, z, y, match):
    with pytest.raises(ValueError, match=match):
        loss(z, y)


@pytest.mark.parametrize(
    "cls", [nn101.MeanSquaredError, nn101.BinaryCrossEntropy, nn101.SoftmaxCrossEntropy]
)
def test_backward_before_forward(cls):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        cls().backward()


# -- stability at 1e4 (pytest turns overflow warnings into errors) ---------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_overflow_at_1e4(dtype):
    x = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    np.testing.assert_allclose(F.sigmoid(x[0]), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(F.softmax(x)[0], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(F.logsumexp(x), [1e4, 1e4 + np.log(2)], rtol=1e-6)
    assert np.all(np.isfinite(F.log_softmax(x)))
    assert np.all(np.isfinite(F.softplus(x)))
    for loss, y in [
        (nn101.SoftmaxCrossEntropy(), np.array([0, 2])),
        (nn101.BinaryCrossEntropy(), np.array([[1, 0, 1], [0, 1, 1]])),
        (nn101.MeanSquaredError(), np.zeros_like(x)),
    ]:
        value = loss(x, y)
        assert np.isfinite(value) and value >= 0
        assert np.all(np.isfinite(loss.backward()))
    expected = 2e4 + np.log(2) / 2  # row 0: 1e4 - (-1e4); row 1: 1e4 + log 2 - (-1e4)
    assert nn101.SoftmaxCrossEntropy()(x, np.array([0, 2])) == pytest.approx(expected, rel=1e-6)


# -- properties -------------------------------------------------------------------------------

finite = st.floats(-50, 50, allow_nan=False, width=64)
matrices = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite)


@settings(max_examples=60, deadline=None)
@given(matrices, st.floats(-1e3, 1e3))
def test_softmax_rows_sum_to_one_and_are_shift_invariant(x, shift):
    p = F.softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(p >= 0)
    np.testing.assert_allclose(F.softmax(x + shift), p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x), x - F.logsumexp(x, keepdims=True), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices, st.floats(-1e3, 1e3), st.data())
def test_cross_entropy_is_nonnegative_and_shift_invariant(x, shift, data):
    n, c = x.shape
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    loss = nn101.SoftmaxCrossEntropy()
    value = loss(x, labels)
    assert value >= 0
    grad = loss.backward()
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)  # softmax - one-hot
    assert loss(x + shift, labels) == pytest.approx(value, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(matrices, st.data())
def test_bce_and_mse_are_nonnegative(x, data):
    t = data.draw(arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    assert nn101.BinaryCrossEntropy()(x, t) >= 0
    assert nn101.MeanSquaredError()(x, t) >= 0
    np.testing.assert_allclose(F.sigmoid(-x), 1 - F.sigmoid(x), atol=1e-15)


def test_mse_is_zero_at_the_target():
    z = _logits()
    loss = nn101.MeanSquaredError()
    assert loss(z, z) == 0.0
    assert not loss.backward().any()
