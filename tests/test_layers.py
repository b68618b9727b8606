"""The layer contract, driven by one table of cases (tests/layer_cases/, which also drives the
PyTorch parity tests).

Every layer in ``nn101.layers`` must appear in the table; each case is checked for output
shape and dtype, gradients against finite differences (float64), config round-trip, the
training flag, ``input_grad=False``, and a clear error for a wrongly shaped input.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from layer_cases import ALL_CASES, Case, make_input, make_layer

import nn101
from nn101.gradcheck import check_layer
from nn101.registry import LAYERS

DTYPES = [np.float32, np.float64]
CASES = ALL_CASES


def test_every_layer_is_in_the_table():
    covered = {type(case.make(np.dtype(np.float64), np.random.default_rng(0))) for case in CASES}
    exported = {getattr(nn101.layers, name) for name in nn101.layers.__all__}
    assert exported <= covered
    for cls in exported:
        assert LAYERS.get(cls.__name__) is cls
        assert getattr(nn101, cls.__name__) is cls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_shapes_and_dtype_preserved(case: Case, dtype):
    layer = make_layer(case, dtype)
    x = make_input(case, dtype)
    for training in (True, False):
        y = layer.forward(x, training=training)
        assert y.shape == case.output_shape
        assert y.dtype == dtype
        grad_x = layer.backward(np.ones_like(y), input_grad=case.integer_inputs is None)
        if case.integer_inputs is None:
            assert grad_x is not None and grad_x.shape == x.shape
            assert grad_x.dtype == dtype
    for p in layer.parameters():
        assert p.value.dtype == dtype and p.grad.dtype == dtype
        assert p.value.flags.c_contiguous
    for _, buffer in layer.named_buffers():
        assert buffer.dtype == dtype


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradients_match_finite_differences(case: Case, training: bool):
    layer = make_layer(case, np.float64, randomize=True)
    x = make_input(case, np.float64)
    error = check_layer(layer, x, rng=np.random.default_rng(2), training=training)
    assert error < 1e-6


@pytest.mark.parametrize("case", CASES, ids=str)
def test_backward_without_input_grad_gives_the_same_parameter_grads(case: Case):
    layer = make_layer(case, np.float64, randomize=True)
    x = make_input(case, np.float64)
    upstream = np.random.default_rng(3).standard_normal(case.output_shape)
    layer.forward(x, training=False)
    layer.backward(upstream, input_grad=case.integer_inputs is None)
    full = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    layer.forward(x, training=False)
    assert layer.backward(upstream, input_grad=False) is None
    for p, grad in zip(layer.parameters(), full, strict=True):
        np.testing.assert_array_equal(p.grad, grad)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_backward_accumulates_into_grads(case: Case):
    layer = make_layer(case, np.float64, randomize=True)
    x = make_input(case, np.float64)
    upstream = np.random.default_rng(3).standard_normal(case.output_shape)
    input_grad = case.integer_inputs is None
    layer.forward(x, training=False)
    layer.backward(upstream, input_grad=input_grad)
    once = [p.grad.copy() for p in layer.parameters()]
    layer.backward(upstream, input_grad=input_grad)
    for p, grad in zip(layer.parameters(), once, strict=True):
        np.testing.assert_allclose(p.grad, 2 * grad, rtol=1e-12, atol=1e-12)
    layer.zero_grad()
    assert all(not p.grad.any() for p in layer.parameters())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_config_round_trip(case: Case, dtype):
    layer = make_layer(case, dtype)
    config = layer.config()
    assert json.loads(json.dumps(config)) == config  # JSON-serializable, no rng inside
    clone = type(layer)(**config)
    assert clone.config() == config
    assert [(n, p.shape, p.dtype) for n, p in clone.named_parameters()] == [
        (n, p.shape, p.dtype) for n, p in layer.named_parameters()
    ]
    assert [(n, b.shape, b.dtype) for n, b in clone.named_buffers()] == [
        (n, b.shape, b.dtype) for n, b in layer.named_buffers()
    ]
    assert type(layer).__name__ in repr(layer)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_training_flag(case: Case):
    layer = make_layer(case, np.float64, randomize=True)
    x = make_input(case, np.float64)
    buffers = [b.copy() for _, b in layer.named_buffers()]
    y_inference = layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.forward(x, training=False), y_inference)
    for (_, b), before in zip(layer.named_buffers(), buffers, strict=True):
        np.testing.assert_array_equal(b, before)  # inference never changes state
    y_training = layer.forward(x, training=True)
    if case.training_matters:
        assert not np.allclose(y_training, y_inference)
    else:
        np.testing.assert_array_equal(y_training, y_inference)


@pytest.mark.parametrize("case", [c for c in CASES if c.bad_shape is not None], ids=str)
def test_bad_input_shape_names_layer_expected_and_got(case: Case):
    layer = make_layer(case, np.float32)
    bad = case.bad_shape
    assert bad is not None
    with pytest.raises(ValueError) as info:
        layer.forward(np.zeros(bad, dtype=np.float32))
    message = str(info.value)
    got = "(" + ", ".join(map(str, bad)) + ")"
    assert case.name in message and "expected" in message and f"got {got}" in message


def test_dense_error_message_example():
    with pytest.raises(
        ValueError,
        match=r"Dense\(784, 10\) expected input \(N, \.\.\., 784\), "
        r"got \(32, 28, 28\)",
    ):
        nn101.Dense(784, 10).forward(np.zeros((32, 28, 28), np.float32))


def test_dense_forward_is_x_W_plus_b_and_same_seed_same_weights():
    a = nn101.Dense(3, 2, rng=np.random.default_rng(7))
    b = nn101.Dense(3, 2, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.value, b.weight.value)
    assert a.weight.shape == (3, 2) and a.bias.shape == (2,)
    a.bias.value[:] = [1.0, -2.0]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(a.forward(x), x @ a.weight.value + a.bias.value, rtol=1e-6)
    # a float64 input to a float32 layer is cast: the network stays in its dtype
    assert a.forward(x.astype(np.float64)).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"in_features": 0, "out_features": 2}, "in_features must be a positive integer"),
        ({"in_features": 2, "out_features": 2.5}, "out_features must be a positive integer"),
        ({"in_features": 2, "out_features": 2, "l2": -1.0}, r"l2 must be in \[0, inf\)"),
        ({"in_features": 2, "out_features": 2, "weight_init": "nope"}, "unknown initializer"),
    ],
)
def test_dense_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn101.Dense(**kwargs)


@pytest.mark.parametrize(
    "layer",
    [
        nn101.Dense(2, 2),
        nn101.ReLU(),
        nn101.Sigmoid(),
        nn101.Flatten(),
        nn101.BatchNorm1d(2),
        nn101.LayerNorm(2),
    ],
    ids=repr,
)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((1, 2), np.float32))


@pytest.mark.parametrize("layer", [nn101.Sigmoid(), nn101.Tanh(), nn101.Softmax()], ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_saturating_activations_are_stable_at_1e4(layer, dtype):
    x = np.array([[-1e4, 0.0, 1e4]], dtype=dtype)
    y = layer.forward(x)  # pytest turns overflow warnings into errors
    assert np.all(np.isfinite(y))
    assert np.all(np.isfinite(layer.backward(np.ones_like(y))))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn101.BatchNorm1d(0), r"BatchNorm1d: num_features must be >= 1, got 0"),
        (lambda: nn101.BatchNorm1d(3, momentum=1.5), r"momentum must be in \[0, 1\], got 1.5"),
        (lambda: nn101.BatchNorm1d(3, eps=0.0), r"eps must be in \(0, inf\), got 0.0"),
        (lambda: nn101.LayerNorm(-2), r"LayerNorm: normalized_shape must be >= 1, got -2"),
        (lambda: nn101.LayerNorm(2, eps=-1.0), r"eps must be in \(0, inf\), got -1.0"),
        (lambda: nn101.LeakyReLU(float("nan")), "negative_slope must be finite"),
    ],
)
def test_constructors_reject_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_batchnorm_needs_two_values_per_channel_in_training():
    layer = nn101.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expected more than 1 value per "):
        layer.forward(np.ones((1, 3), np.float32), training=True)
    assert layer.forward(np.ones((1, 3), np.float32), training=False).shape == (1, 3)
