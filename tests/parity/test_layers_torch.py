"""Every layer's forward and backward against PyTorch (float64: 1e-10, float32: 1e-5).

nn101's Dense weight is (in, out) and PyTorch's Linear weight is (out, in): W = linear.weight.T.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from layer_cases import ALL_CASES, make_input, make_layer

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
    ids = x.dtype.kind in "iu"  # token ids: no gradient with respect to the input
    y = layer.forward(x, training=training)
    dtype = y.dtype.type
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    grad_x = layer.backward(g, input_grad=not ids)
    x_t = torch.tensor(x) if ids else torch.tensor(x, requires_grad=True)
    y_t = torch_forward(x_t)
    loss_t = (y_t * torch.from_numpy(g)).sum()
    if torch_penalty is not None:
        loss_t = loss_t + torch_penalty()
    loss_t.backward()
    assert_close(y, y_t, dtype)
    if not ids:
        assert_close(grad_x, x_t.grad, dtype)
    for p, p_t, transform in pairs:
        assert_close(p.grad, transform(p_t.grad), dtype)


def _input(shape, dtype, seed=1):
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x + 0.1 * np.sign(x)).astype(dtype)  # away from ReLU's kink


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.torch is not None], ids=str)
def test_layer_matches_pytorch(torch, case, dtype):
    """Every case of the layer table, against its PyTorch twin: y, dL/dx and every grad, in
    each training mode the case lists; buffers (running statistics) too."""
    for training in case.parity_modes:
        layer = make_layer(case, dtype, randomize=True)
        forward, pairs = case.torch(torch, layer, training)
        x = make_input(case, dtype, seed=1)
        if case.integer_inputs is None:
            x = 3 * x - 1
        run_both(
            torch,
            layer,
            forward,
            pairs,
            x,
            training=training,
            torch_penalty=getattr(forward, "penalty", None),
        )
        buffers = dict(forward.named_buffers()) if hasattr(forward, "named_buffers") else {}
        for name, value in layer.named_buffers():
            if name in buffers:
                assert_close(value, buffers[name], dtype)


def test_every_case_has_a_parity_test():
    orphans = [c.id for c in ALL_CASES if c.torch is None and not c.parity_elsewhere]
    assert not orphans, f"cases with neither a torch twin nor a dedicated parity test: {orphans}"
    names = {c.parity_elsewhere for c in ALL_CASES if c.parity_elsewhere}
    assert all(callable(globals().get(name)) for name in names), names


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
