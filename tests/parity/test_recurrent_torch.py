"""RNN, LSTM, GRU and Embedding against PyTorch in float64 (1e-10), through the documented
conversion ``to_torch_state_dict`` / ``from_torch_state_dict``: outputs, final states, the
input gradient, the initial-state gradient and every parameter gradient."""

from __future__ import annotations

import numpy as np
import pytest

import nn101

TOL = 1e-10
KINDS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
]


def close(actual, expected) -> None:
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL)


def make_pair(torch, kind: str, kwargs: dict, num_layers: int, seed: int = 0):
    layer = getattr(nn101, kind)(
        4, 5, num_layers=num_layers, rng=np.random.default_rng(seed), dtype=np.float64, **kwargs
    )
    torch_layer = getattr(torch.nn, kind)(
        4, 5, num_layers=num_layers, batch_first=True, dtype=torch.float64, **kwargs
    )
    torch_layer.load_state_dict(
        {k: torch.from_numpy(v) for k, v in layer.to_torch_state_dict().items()}
    )
    return layer, torch_layer


def torch_state(torch, state):
    if isinstance(state, tuple):
        return tuple(torch.tensor(s, requires_grad=True) for s in state)
    return torch.tensor(state, requires_grad=True)


def initial_state(kind: str, num_layers: int, N: int, rng):
    h0 = rng.standard_normal((num_layers, N, 5))
    return (h0, rng.standard_normal((num_layers, N, 5))) if kind == "LSTM" else h0


def flat(state) -> list:
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind, kwargs", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_recurrent_matches_torch(torch, kind, kwargs, num_layers, with_state, return_sequences):
    rng = np.random.default_rng(1)
    layer, torch_layer = make_pair(torch, kind, kwargs, num_layers)
    layer.return_sequences = return_sequences
    x = rng.standard_normal((3, 6, 4))
    state = initial_state(kind, num_layers, 3, rng) if with_state else None
    layer.initial_state = state
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)

    x_t = torch.tensor(x, requires_grad=True)
    state_t = torch_state(torch, state) if with_state else None
    y_t, final_t = torch_layer(x_t, state_t)
    y_t = y_t if return_sequences else y_t[:, -1]
    (y_t * torch.from_numpy(g)).sum().backward()

    close(y, y_t)
    for ours, theirs in zip(flat(layer.final_state), flat(final_t), strict=True):
        close(ours, theirs)
    close(dx, x_t.grad)
    if with_state:
        for ours, theirs in zip(flat(layer.initial_state_grad), flat(state_t), strict=True):
            close(ours, theirs.grad)
    grads = {k: v.grad for k, v in torch_layer.named_parameters()}
    check_parameter_grads(layer, grads)


def check_parameter_grads(layer, torch_grads: dict) -> None:
    """PyTorch's gradients, put through the same conversion, equal ours (a single bias's
    gradient equals both bias_ih's and bias_hh's in PyTorch)."""
    shadow = type(layer)(**layer.config())
    shadow.from_torch_state_dict(
        {
            k: (v if not k.startswith("bias_hh") or layer.two_biases else 0 * v)
            for k, v in torch_grads.items()
        }
    )
    for (name, p), (_, expected) in zip(
        layer.named_parameters(), shadow.named_parameters(), strict=True
    ):
        np.testing.assert_allclose(p.grad, expected.value, rtol=TOL, atol=TOL, err_msg=name)


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_state_dict_round_trip(torch, kind, kwargs):
    layer, torch_layer = make_pair(torch, kind, kwargs, 2, seed=3)
    again = type(layer)(**layer.config())
    again.from_torch_state_dict(torch_layer.state_dict())
    for (name, p), (_, q) in zip(layer.named_parameters(), again.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value, err_msg=name)


def test_embedding_matches_torch(torch):
    rng = np.random.default_rng(0)
    layer = nn101.Embedding(7, 3, rng=rng, dtype=np.float64)
    torch_layer = torch.nn.Embedding(7, 3, dtype=torch.float64)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(layer.weight.value))
    ids = rng.integers(0, 7, size=(4, 9))
    y = layer.forward(ids)
    g = rng.standard_normal(y.shape)
    assert layer.backward(g, input_grad=False) is None
    y_t = torch_layer(torch.from_numpy(ids))
    (y_t * torch.from_numpy(g)).sum().backward()
    close(y, y_t)
    close(layer.weight.grad, torch_layer.weight.grad)
