"""Regularizers: clipping never increases a norm and keeps the direction; value clipping bounds
every element; L1 / L2 gradients equal the derivative of their penalties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nn101
from nn101.core import Parameter
from nn101.regularizers import clip_grad_norm, clip_grad_value

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)
grads = st.lists(arrays(np.float64, st.integers(1, 6), elements=finite), min_size=1, max_size=4)


def params_with(gradients: list[np.ndarray]) -> list[Parameter]:
    params = [Parameter(np.zeros_like(g)) for g in gradients]
    for p, g in zip(params, gradients, strict=True):
        p.grad[...] = g
    return params


def global_norm(params: list[Parameter]) -> float:
    return float(np.sqrt(sum(np.sum(p.grad**2) for p in params)))


@settings(max_examples=60, deadline=None)
@given(grads, st.floats(1e-3, 1e3))
def test_clip_grad_norm_never_increases_the_norm_and_keeps_direction(gradients, max_norm):
    params = params_with(gradients)
    before = global_norm(params)
    returned = clip_grad_norm(params, max_norm)
    after = global_norm(params)
    assert returned == pytest.approx(before, rel=1e-12, abs=1e-300)
    assert after <= before * (1 + 1e-12)
    assert after <= max_norm * (1 + 1e-9)
    scale = min(1.0, max_norm / (before + 1e-6))
    for p, g in zip(params, gradients, strict=True):
        np.testing.assert_allclose(p.grad, g * scale, rtol=1e-12, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(grads, st.floats(1e-3, 1e3))
def test_clip_grad_value_bounds_every_element(gradients, clip_value):
    params = params_with(gradients)
    before = global_norm(params)
    clip_grad_value(params, clip_value)
    for p, g in zip(params, gradients, strict=True):
        assert np.all(np.abs(p.grad) <= clip_value)
        untouched = np.abs(g) <= clip_value
        np.testing.assert_array_equal(p.grad[untouched], g[untouched])
    assert global_norm(params) <= before


def test_clip_grad_norm_matches_the_torch_formula_on_a_known_case():
    params = params_with([np.array([3.0, 0.0]), np.array([[4.0]])])  # global norm 5
    assert clip_grad_norm(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad, [3.0 / (5 + 1e-6), 0.0])
    np.testing.assert_allclose(params[1].grad, [[4.0 / (5 + 1e-6)]])


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda ps: clip_grad_norm(ps, 0.0),
            r"clip_grad_norm: max_norm must be in \(0, inf\), got 0",
        ),
        (lambda ps: clip_grad_value(ps, -1), r"clip_grad_value: clip_value must be in \(0, inf\)"),
    ],
)
def test_bad_arguments(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(params_with([np.ones(2)]))


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, (3, 4), elements=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3)),
    st.floats(0.0, 2.0),
    st.floats(0.0, 2.0),
)
def test_dense_penalty_gradient_is_the_derivative_of_the_penalty(W, l1, l2):
    layer = nn101.Dense(3, 4, dtype=np.float64, l1=l1, l2=l2)
    layer.weight.value[...] = W
    layer.forward(np.zeros((1, 3)))
    layer.backward(np.zeros((1, 4)))  # zero upstream: the weight grad is dP/dW alone
    h = 1e-6
    numeric = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        layer.weight.value[index] += h
        plus = layer.penalty()
        layer.weight.value[index] -= 2 * h
        minus = layer.penalty()
        layer.weight.value[index] += h
        numeric[index] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(layer.weight.grad, numeric, rtol=1e-6, atol=1e-6)


def test_penalty_values_follow_the_documented_convention():
    layer = nn101.Dense(2, 2, dtype=np.float64, l1=0.1)
    layer.weight.value[...] = [[1.0, -2.0], [0.5, 0.0]]
    assert layer.penalty() == pytest.approx(0.1 * 3.5)
    layer = nn101.Dense(2, 2, dtype=np.float64, l2=0.1)
    layer.weight.value[...] = [[1.0, -2.0], [0.5, 0.0]]
    assert layer.penalty() == pytest.approx(0.1 * 5.25)


def test_l2_equals_torch_sgd_weight_decay_over_two(torch):
    """The docstring's translation: SGD weight_decay=λ takes the same step as l2=λ/2."""
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    layer = nn101.Dense(3, 2, rng=np.random.default_rng(1), dtype=np.float64, l2=0.05)
    W0 = layer.weight.value.copy()
    layer.forward(x, training=True)
    layer.backward(g)
    nn101.SGD([layer.weight], learning_rate=0.1).step()
    w = torch.tensor(W0, requires_grad=True)
    (torch.from_numpy(x) @ w * torch.from_numpy(g)).sum().backward()
    torch.optim.SGD([w], lr=0.1, weight_decay=0.1).step()
    np.testing.assert_allclose(layer.weight.value, w.detach().numpy(), rtol=1e-12)
