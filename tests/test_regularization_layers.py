"""Dropout and the L1 / L2 weight penalties of Dense."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn101
from nn101.gradcheck import numerical_gradient


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_the_expected_activation(rate, dtype):
    x = np.full((400, 500), 2.0, dtype=dtype)  # 200,000 units
    dropout = nn101.Dropout(rate, rng=np.random.default_rng(0))
    y = dropout.forward(x, training=True)
    assert y.dtype == dtype
    kept = y != 0
    np.testing.assert_allclose(y[kept], 2.0 / (1 - rate), rtol=1e-6)  # inverted scaling
    keep_fraction = kept.mean()
    sigma = np.sqrt(rate * (1 - rate) / x.size)
    assert abs(keep_fraction - (1 - rate)) < 5 * sigma
    assert abs(y.mean() - 2.0) < 5 * 2.0 / (1 - rate) * sigma  # E[y] = x
    # backward applies the very same mask and scale
    np.testing.assert_array_equal(dropout.backward(np.ones_like(x)), y / 2.0)


def test_dropout_inference_is_identity_and_rng_is_its_own():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    dropout = nn101.Dropout(0.5, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(dropout.forward(x, training=False), x)
    np.testing.assert_array_equal(dropout.backward(x), x)
    a = nn101.Dropout(0.5, rng=np.random.default_rng(7)).forward(x, training=True)
    b = nn101.Dropout(0.5, rng=np.random.default_rng(7)).forward(x, training=True)
    np.testing.assert_array_equal(a, b)  # same seed, same mask
    np.testing.assert_array_equal(nn101.Dropout(0.0).forward(x, training=True), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_dropout_rate_outside_range(rate):
    with pytest.raises(ValueError, match=r"Dropout: rate must be in \[0, 1\), got"):
        nn101.Dropout(rate)


def _dense(l1: float, l2: float, seed: int = 0) -> nn101.Dense:
    return nn101.Dense(5, 4, rng=np.random.default_rng(seed), dtype=np.float64, l1=l1, l2=l2)


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 2), st.floats(0, 2), st.integers(0, 2**16))
def test_penalty_gradient_is_the_derivative_of_the_penalty(l1, l2, seed):
    layer = _dense(l1, l2, seed)
    W = layer.weight.value
    assert layer.penalty() == pytest.approx(l1 * np.abs(W).sum() + l2 * (W**2).sum(), rel=1e-12)
    # with a zero upstream gradient, backward leaves exactly dP/dW in weight.grad
    layer.forward(np.ones((3, 5)))
    layer.backward(np.zeros((3, 4)))
    np.testing.assert_allclose(layer.weight.grad, l1 * np.sign(W) + 2 * l2 * W, rtol=1e-12)
    numerical = numerical_gradient(lambda _: layer.penalty(), W)
    np.testing.assert_allclose(layer.weight.grad, numerical, rtol=1e-6, atol=1e-8)
    assert not layer.bias.grad.any()  # biases are never penalized


def test_no_penalty_by_default_and_penalty_adds_to_data_gradient():
    plain, penalized = _dense(0.0, 0.0), _dense(0.1, 0.3)
    assert plain.penalty() == 0.0
    x = np.random.default_rng(3).standard_normal((6, 5))
    g = np.random.default_rng(4).standard_normal((6, 4))
    for layer in (plain, penalized):
        layer.forward(x, training=True)
        layer.backward(g)
    W = penalized.weight.value
    np.testing.assert_allclose(
        penalized.weight.grad - plain.weight.grad, 0.1 * np.sign(W) + 0.6 * W, atol=1e-12
    )
    np.testing.assert_allclose(penalized.bias.grad, plain.bias.grad, atol=0)
