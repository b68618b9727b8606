"""Initializers: bounds, variances, reproducibility, the name registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn101 import init

FAN_IN, FAN_OUT = 200, 300
SHAPE = (FAN_IN, FAN_OUT)  # 60,000 samples: sample variances within ~1.5% (5 sigma ~ 3%)


def _sample(function, dtype=np.float64, seed=0):
    return function(np.random.default_rng(seed), SHAPE, dtype=dtype)


@pytest.mark.parametrize(
    "function, variance, bound",
    [
        (init.glorot_uniform, 2 / (FAN_IN + FAN_OUT), math.sqrt(6 / (FAN_IN + FAN_OUT))),
        (init.glorot_normal, 2 / (FAN_IN + FAN_OUT), None),
        (init.he_uniform, 2 / FAN_IN, math.sqrt(6 / FAN_IN)),
        (init.he_normal, 2 / FAN_IN, None),
        (init.lecun_normal, 1 / FAN_IN, None),
        (init.uniform, 0.1**2 / 12, 0.05),
        (init.normal, 0.05**2, None),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_variance_and_bound(function, variance, bound):
    w = _sample(function)
    assert w.shape == SHAPE
    assert abs(w.mean()) < 5 * math.sqrt(variance / w.size)
    assert w.var() == pytest.approx(variance, rel=0.03)
    if bound is not None:
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.99 * bound  # the bound is reached, not a narrower range


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_same_seed_same_numbers_and_dtype(name):
    function = init.get_initializer(name)
    a = _sample(function, np.float32, seed=3)
    b = _sample(function, np.float32, seed=3)
    c = _sample(function, np.float64, seed=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c.astype(np.float32))  # drawn in float64, then cast
    assert a.dtype == np.float32 and c.dtype == np.float64
    assert a.flags.c_contiguous


def test_constants():
    np.testing.assert_array_equal(init.zeros(None, (2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(init.ones(None, (4,)), np.ones(4, np.float32))
    np.testing.assert_array_equal(init.constant(None, (2,), value=0.5), [0.5, 0.5])


def test_fans_default_from_shape_and_can_be_given():
    assert init.compute_fans((3, 5)) == (3, 5)  # Dense (in, out)
    assert init.compute_fans((8, 4, 3, 3)) == (36, 72)  # conv (C_out, C_in, kh, kw)
    assert init.compute_fans((7,)) == (7, 7)
    rng = np.random.default_rng(0)
    w = init.he_uniform(rng, (1000, 10), fan_in=10)
    assert np.abs(w).max() <= math.sqrt(6 / 10)
    assert np.abs(w).max() > math.sqrt(6 / 1000)
    with pytest.raises(ValueError, match="fan_in and fan_out must be positive, got 0 and 5"):
        init.glorot_uniform(rng, (2, 5), fan_in=0)


def test_registry():
    assert init.get_initializer("he_normal") is init.he_normal
    assert init.get_initializer(init.he_normal) is init.he_normal
    assert init.initializer_name(init.glorot_uniform) == "glorot_uniform"
    assert init.initializer_name("kaiming_normal") == "kaiming_normal"
    with pytest.raises(ValueError, match="unknown initializer 'bogus'; known initializers:"):
        init.get_initializer("bogus")
    with pytest.raises(TypeError, match="expected a floating dtype"):
        init.zeros(None, (2,), dtype=np.int32)
