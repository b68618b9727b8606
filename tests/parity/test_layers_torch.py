"""Every layer's forward and backward against PyTorch (float64: 1e-10, float32: 1e-5).

nn101's Dense weight is (in, out) and PyTorch's Linear weight is (out, in): W = linear.weight.T.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nn101

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]


def assert_close(actual, expected, dtype) -> None:
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    tol = TOLERANCE[dtype]
    assert np.asarray(actual).dtype == dtype
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def run_both(
    torch,
    layer,
    torch_forward: Callable,
    pairs,
    x,
    *,
    training: bool,
    seed: int = 0,
    torch_penalty: Callable | None = None,
):
    """Forward and backward (upstream g) through both; compare y, dL/dx and each pair's grad.

    ``pairs``: (nn101 Parameter, torch tensor, transform of the torch grad to nn101's layout).
    ``torch_penalty()``: a torch scalar added to the torch loss (nn101 adds its gradient in
    ``backward``).
    """
    dtype = x.dtype.type
    y = layer.forward(x, training=training)
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    grad_x = layer.backward(g)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch_forward(x_t)
    loss_t = (y_t * torch.from_numpy(g)).sum()
    if torch_penalty is not None:
        loss_t = loss_t + torch_penalty()
    loss_t.backward()
    assert_close(y, y_t, dtype)
    assert_close(grad_x, x_t.grad, dtype)
    for p, p_t, transform in pairs:
        assert_close(p.grad, transform(p_t.grad), dtype)


def _input(shape, dtype, seed=1):
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x + 0.1 * np.sign(x)).astype(dtype)  # away from ReLU's kink


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.01, 0.1)])
def test_dense(torch, dtype, l1, l2):
    layer = nn101.Dense(6, 4, rng=np.random.default_rng(0), dtype=dtype, l1=l1, l2=l2)
    layer.bias.value[:] = np.random.default_rng(5).standard_normal(4)
    linear = torch.nn.Linear(6, 4, dtype=torch.float32 if dtype == np.float32 else torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.weight.value.T.copy()))
        linear.bias.copy_(torch.from_numpy(layer.bias.value))

    def penalty():
        return l1 * linear.weight.abs().sum() + l2 * (linear.weight**2).sum()

    pairs = [(layer.weight, linear.weight, lambda t: t.T), (layer.bias, linear.bias, lambda t: t)]
    run_both(
        torch, layer, linear, pairs, _input((5, 6), dtype), training=True, torch_penalty=penalty
    )
    W = layer.weight.value.astype(np.float64)
    assert layer.penalty() == pytest.approx(l1 * np.abs(W).sum() + l2 * (W**2).sum(), rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make, torch_name",
    [
        (lambda: nn101.ReLU(), "relu"),
        (lambda: nn101.LeakyReLU(0.2), "leaky_relu"),
        (lambda: nn101.Sigmoid(), "sigmoid"),
        (lambda: nn101.Tanh(), "tanh"),
        (lambda: nn101.Softmax(), "softmax"),
        (lambda: nn101.Softmax(axis=1), "softmax_axis1"),
        (lambda: nn101.Identity(), "identity"),
        (lambda: nn101.Flatten(), "flatten"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_parameterless_layers(torch, dtype, make, torch_name):
    F = torch.nn.functional
    forward = {
        "relu": torch.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda x: torch.softmax(x, dim=-1),
        "softmax_axis1": lambda x: torch.softmax(x, dim=1),
        "identity": lambda x: x * 1,
        "flatten": lambda x: torch.flatten(x, start_dim=1),
    }[torch_name]
    run_both(torch, make(), forward, [], 3 * _input((4, 3, 5), dtype), training=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_with_fixed_mask_against_formula(torch, dtype):
    rate, x = 0.4, _input((8, 9), dtype)
    layer = nn101.Dropout(rate, rng=np.random.default_rng(11))
    # the same draws, replayed: keep where u >= rate; y = x ⊙ keep / (1 - rate)
    keep = np.random.default_rng(11).random(x.shape, dtype=dtype) >= rate
    mask_t = torch.from_numpy((keep / (1 - rate)).astype(dtype))
    run_both(torch, layer, lambda x_t: x_t * mask_t, [], x, training=True)
    run_both(torch, layer, lambda x_t: x_t * 1, [], x, training=False)


def _torch_dtype(torch, dtype):
    return torch.float32 if dtype == np.float32 else torch.float64


def _copy_affine(torch, layer, module, seed):
    rng = np.random.default_rng(seed)
    layer.weight.value[...] = rng.uniform(0.5, 1.5, layer.weight.shape)
    layer.bias.value[...] = rng.standard_normal(layer.bias.shape)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.weight.value))
        module.bias.copy_(torch.from_numpy(layer.bias.value))
    return [(layer.weight, module.weight, lambda t: t), (layer.bias, module.bias, lambda t: t)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 5), (6, 5, 7)], ids=["2d", "3d"])
def test_batchnorm1d_training_then_inference(torch, dtype, shape):
    layer = nn101.BatchNorm1d(5, momentum=0.3, eps=1e-3, dtype=dtype)
    module = torch.nn.BatchNorm1d(5, momentum=0.3, eps=1e-3, dtype=_torch_dtype(torch, dtype))
    pairs = _copy_affine(torch, layer, module, seed=2)
    module.train()
    for step in range(3):
        layer.zero_grad()
        module.zero_grad()
        x = 2 * _input(shape, dtype, seed=10 + step) + 1
        run_both(torch, layer, module, pairs, x, training=True, seed=step)
        assert_close(layer.running_mean, module.running_mean, dtype)
        assert_close(layer.running_var, module.running_var, dtype)
    module.eval()
    layer.zero_grad()
    module.zero_grad()
    run_both(torch, layer, module, pairs, _input(shape, dtype, seed=20), training=False)
    assert_close(layer.running_var, module.running_var, dtype)  # unchanged by inference


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 6)], ids=["2d", "3d"])
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_layernorm(torch, dtype, shape, training):
    layer = nn101.LayerNorm(6, eps=1e-4, dtype=dtype)
    module = torch.nn.LayerNorm(6, eps=1e-4, dtype=_torch_dtype(torch, dtype))
    pairs = _copy_affine(torch, layer, module, seed=3)
    run_both(torch, layer, module, pairs, 3 * _input(shape, dtype) - 1, training=training)
