"""Convolution, pooling and BatchNorm2d against PyTorch beyond the layer table: many conv
geometries, max-pool ties, BatchNorm2d's running statistics over several steps then eval mode,
and a whole small CNN (forward, every gradient), in float64 to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import nn101
from nn101.functional.conv import weight_from_torch, weight_to_torch

TOL = 1e-10

GEOMETRIES = [
    {"kernel_size": 3},
    {"kernel_size": 5, "padding": 2},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": 3, "stride": 3, "padding": 1},
    {"kernel_size": (1, 3), "stride": (2, 1)},
    {"kernel_size": (3, 2), "padding": (2, 1)},
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": 2, "padding": "same", "dilation": 3},
    {"kernel_size": 3, "dilation": (1, 2), "padding": "valid"},
    {"kernel_size": 3, "bias": False},
]


def close(actual, expected) -> None:
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's own note
@pytest.mark.parametrize("kwargs", GEOMETRIES, ids=repr)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (1, 1, 7, 11)], ids=["c3", "one_channel"])
def test_conv2d_forward_and_backward(torch, kwargs, shape):
    rng = np.random.default_rng(0)
    layer = nn101.Conv2d(shape[1], 4, rng=rng, dtype=np.float64, **kwargs)
    module = torch.nn.Conv2d(shape[1], 4, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight_to_torch(layer.weight.value)))
        if layer.bias is not None:
            layer.bias.value[:] = rng.standard_normal(4)
            module.bias.copy_(torch.from_numpy(layer.bias.value))
    x = rng.standard_normal(shape)
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    x_t = torch.tensor(x, requires_grad=True)
    (module(x_t) * torch.from_numpy(g)).sum().backward()
    close(y, module(x_t))
    close(dx, x_t.grad)
    close(layer.weight.grad, weight_from_torch(module.weight.grad.numpy()))
    if layer.bias is not None:
        close(layer.bias.grad, module.bias.grad)


@pytest.mark.parametrize(
    "kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}], ids=repr
)
def test_max_pool_ties_route_like_pytorch(torch, kwargs):
    """ReLU outputs are full of exact ties (zeros); windows of equal values everywhere."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=(2, 3, 6, 6)).astype(np.float64)  # many equal values
    layer = nn101.MaxPool2d(**kwargs)
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = torch.nn.functional.max_pool2d(x_t, **kwargs)
    (y_t * torch.from_numpy(g)).sum().backward()
    close(y, y_t)
    close(dx, x_t.grad)


def test_batchnorm2d_running_statistics_then_eval(torch):
    rng = np.random.default_rng(2)
    layer = nn101.BatchNorm2d(4, momentum=0.3, eps=1e-3, dtype=np.float64)
    module = torch.nn.BatchNorm2d(4, momentum=0.3, eps=1e-3, dtype=torch.float64)
    layer.weight.value[:] = rng.uniform(0.5, 1.5, 4)
    layer.bias.value[:] = rng.standard_normal(4)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.weight.value))
        module.bias.copy_(torch.from_numpy(layer.bias.value))
    for training in (True, True, True, False):
        module.train(training)
        layer.zero_grad()
        module.zero_grad()
        x = 2 * rng.standard_normal((3, 4, 5, 6)) + 1
        y = layer.forward(x, training=training)
        g = rng.standard_normal(y.shape)
        dx = layer.backward(g)
        x_t = torch.tensor(x, requires_grad=True)
        y_t = module(x_t)
        (y_t * torch.from_numpy(g)).sum().backward()
        close(y, y_t)
        close(dx, x_t.grad)
        close(layer.weight.grad, module.weight.grad)
        close(layer.bias.grad, module.bias.grad)
        close(layer.running_mean, module.running_mean)
        close(layer.running_var, module.running_var)


def test_a_small_cnn_end_to_end(torch):
    """Conv-BN-ReLU-MaxPool-Conv-ReLU-AvgPool-Flatten-Dense, weights copied, one loss."""
    rng = np.random.default_rng(3)
    d = np.float64
    ours = nn101.Sequential(
        nn101.Conv2d(1, 4, 3, padding=1, bias=False, rng=rng, dtype=d),
        nn101.BatchNorm2d(4, dtype=d),
        nn101.ReLU(),
        nn101.MaxPool2d(2),
        nn101.Conv2d(4, 6, 3, rng=rng, dtype=d),
        nn101.ReLU(),
        nn101.AvgPool2d(2),
        nn101.Flatten(),
        nn101.Dense(6, 3, rng=rng, dtype=d),
    )
    nn = torch.nn
    theirs = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(6, 3),
    ).double()
    convert = {0: weight_to_torch, 4: weight_to_torch, 8: lambda w: w.T}
    params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, p in ours.named_parameters():
            index = int(name.split(".")[0])
            value = p.value if name.endswith("bias") else convert.get(index, np.copy)(p.value)
            params[name].copy_(torch.from_numpy(np.ascontiguousarray(value)))
    x = rng.standard_normal((3, 1, 8, 8))
    y = ours.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    dx = ours.backward(g)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = theirs(x_t)
    (y_t * torch.from_numpy(g)).sum().backward()
    close(y, y_t)
    close(dx, x_t.grad)
    back = {0: weight_from_torch, 4: weight_from_torch, 8: lambda w: w.T}
    for name, p in ours.named_parameters():
        index = int(name.split(".")[0])
        grad = params[name].grad.numpy()
        close(p.grad, grad if name.endswith("bias") else back.get(index, np.copy)(grad))
