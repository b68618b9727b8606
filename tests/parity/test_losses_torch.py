"""Every loss and its gradient against PyTorch (float64: 1e-10, float32: 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

import nn101

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}


def _compare(torch, loss, torch_loss, z, y, y_t):
    dtype = z.dtype.type
    tol = TOLERANCE[dtype]
    value = loss(z, y)
    grad = loss.backward()
    z_t = torch.tensor(z, requires_grad=True)
    value_t = torch_loss(z_t, y_t)
    value_t.backward()
    assert value == pytest.approx(value_t.item(), rel=tol, abs=tol)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, z_t.grad.numpy(), rtol=tol, atol=tol)


def _logits(dtype, shape=(8, 5), scale=3.0, seed=0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_squared_error(torch, dtype):
    z = _logits(dtype)
    y = np.random.default_rng(1).standard_normal(z.shape).astype(dtype)
    _compare(
        torch, nn101.MeanSquaredError(), torch.nn.functional.mse_loss, z, y, torch.from_numpy(y)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [3.0, 50.0], ids=["moderate", "saturated"])
def test_binary_cross_entropy_with_logits(torch, dtype, scale):
    z = _logits(dtype, scale=scale)
    y = np.random.default_rng(2).random(z.shape).astype(dtype)
    _compare(
        torch,
        nn101.BinaryCrossEntropy(),
        torch.nn.functional.binary_cross_entropy_with_logits,
        z,
        y,
        torch.from_numpy(y),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [3.0, 50.0], ids=["moderate", "saturated"])
def test_softmax_cross_entropy_integer_labels(torch, dtype, scale):
    z = _logits(dtype, scale=scale)
    y = np.random.default_rng(3).integers(0, 5, len(z))
    _compare(
        torch,
        nn101.SoftmaxCrossEntropy(),
        torch.nn.functional.cross_entropy,
        z,
        y,
        torch.from_numpy(y),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["one_hot", "probabilities"])
def test_softmax_cross_entropy_distribution_targets(torch, dtype, kind):
    z = _logits(dtype)
    rng = np.random.default_rng(4)
    if kind == "one_hot":
        y = np.eye(5)[rng.integers(0, 5, len(z))].astype(dtype)
    else:
        e = np.exp(rng.standard_normal(z.shape))
        y = (e / e.sum(axis=1, keepdims=True)).astype(dtype)
    _compare(
        torch,
        nn101.SoftmaxCrossEntropy(),
        torch.nn.functional.cross_entropy,
        z,
        y,
        torch.from_numpy(y),
    )
