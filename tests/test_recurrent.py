"""RNN, LSTM, GRU and Embedding beyond the shared layer table: finite differences over the
shapes and options the issue lists, truncated BPTT, carried and initial state, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nn101
from nn101.gradcheck import check_layer

KINDS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
]
# (batch, steps, layers, return_sequences, initial state): every value of each option occurs
SHAPES = [
    (1, 1, 1, True, False),
    (3, 2, 2, False, True),
    (3, 7, 1, False, False),
    (1, 7, 2, True, True),
    (3, 1, 2, True, False),
    (1, 2, 1, False, True),
]


def make(kind, kwargs, layers=1, dtype=np.float64, seed=0, **options):
    return getattr(nn101, kind)(
        3, 5, num_layers=layers, rng=np.random.default_rng(seed), dtype=dtype, **kwargs, **options
    )


def random_state(layer, N, rng):
    shape = (layer.num_layers, N, layer.hidden_size)
    if isinstance(layer, nn101.LSTM):
        return rng.standard_normal(shape), rng.standard_normal(shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("kind, kwargs", KINDS)
@pytest.mark.parametrize("N, T, layers, sequences, with_state", SHAPES)
def test_finite_differences(kind, kwargs, N, T, layers, sequences, with_state):
    rng = np.random.default_rng(1)
    layer = make(kind, kwargs, layers, return_sequences=sequences)
    if with_state:
        layer.initial_state = random_state(layer, N, rng)
    x = rng.standard_normal((N, T, 3))
    assert check_layer(layer, x, rng=rng) < 1e-6


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_finite_differences_with_dropout_between_layers(kind, kwargs):
    layer = make(kind, kwargs, 2, dropout=0.3)
    x = np.random.default_rng(2).standard_normal((3, 4, 3))
    assert check_layer(layer, x, rng=np.random.default_rng(3), training=True) < 1e-6
    np.testing.assert_array_equal(layer.forward(x), layer.forward(x))  # inference: no dropout


@pytest.mark.parametrize("kind, kwargs", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_two_stateful_windows_equal_one_long_window(kind, kwargs, layers):
    x = np.random.default_rng(4).standard_normal((3, 10, 3))
    whole = make(kind, kwargs, layers)
    stateful = make(kind, kwargs, layers, stateful=True)
    y = whole.forward(x)
    y1, y2 = stateful.forward(x[:, :5]), stateful.forward(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), y, rtol=1e-12, atol=1e-12)
    for a, b in zip(np.atleast_1d(whole.final_state), np.atleast_1d(stateful.final_state)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert dict(stateful.named_states()).keys() == set(type(stateful).state_names)


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_carried_state_is_a_constant_for_the_gradient(kind, kwargs):
    """Backward through the second window equals that of a fresh layer started from the
    carried state: nothing flows into the first window (truncated BPTT)."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((2, 3, 4, 3))
    stateful = make(kind, kwargs, stateful=True)
    stateful.forward(x1)
    fresh = make(kind, kwargs)
    fresh.initial_state = stateful.final_state
    g = rng.standard_normal((3, 4, 5))
    stateful.forward(x2)
    fresh.forward(x2)
    np.testing.assert_allclose(stateful.backward(g), fresh.backward(g), rtol=1e-12)
    for p, q in zip(stateful.parameters(), fresh.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_reset_state_starts_over(kind, kwargs):
    x = np.random.default_rng(6).standard_normal((2, 3, 3))
    layer = make(kind, kwargs, stateful=True)
    first = layer.forward(x)
    assert not np.allclose(layer.forward(x), first)  # started from the carried state
    layer.reset_state()
    assert all(value is None for _, value in layer.named_states())
    np.testing.assert_array_equal(layer.forward(x), first)
    with pytest.raises(ValueError, match="carries state for batch size 2, got a batch of 1"):
        layer.forward(x[:1])


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_initial_state_is_used_and_checked(kind, kwargs):
    rng = np.random.default_rng(7)
    layer = make(kind, kwargs, 2)
    x = rng.standard_normal((2, 3, 3))
    zeros = layer.forward(x)
    layer.initial_state = random_state(layer, 2, rng)
    assert not np.allclose(layer.forward(x), zeros)
    layer.initial_state = np.zeros((1, 2, 5))
    with pytest.raises(ValueError, match=r"initial_state must be .* shape \(2, 2, 5\)"):
        layer.forward(x)


@pytest.mark.parametrize("kind, kwargs", KINDS)
def test_shapes_float32_and_errors(kind, kwargs):
    layer = make(kind, kwargs, 2, dtype=np.float32)
    x = np.random.default_rng(8).standard_normal((4, 6, 3))
    assert layer.forward(x).shape == (4, 6, 5) and layer.forward(x).dtype == np.float32
    final = layer.final_state if isinstance(layer.final_state, tuple) else (layer.final_state,)
    assert all(s.shape == (2, 4, 5) for s in final)
    with pytest.raises(
        ValueError, match=r"expected input \(N, T, 3\) with T >= 1, got \(4, 0, 3\)"
    ):
        layer.forward(np.zeros((4, 0, 3)))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        getattr(nn101, kind)(3, 0, **kwargs)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        getattr(nn101, kind)(3, 2, dropout=1.0, **kwargs)


def test_rnn_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'gelu'"):
        nn101.RNN(3, 4, nonlinearity="gelu")


def test_lstm_forward_matches_the_equations():
    """One step written out from the docstring: gates (i, f, o, g) in that column order."""
    rng = np.random.default_rng(9)
    layer = make("LSTM", {})
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    layer.initial_state = (h[None], c[None])
    z = x @ layer.weight_ih_l0.value + h @ layer.weight_hh_l0.value + layer.bias_l0.value
    sigmoid = 1 / (1 + np.exp(-z))
    i, f, o, g = sigmoid[:, :5], sigmoid[:, 5:10], sigmoid[:, 10:15], np.tanh(z[:, 15:])
    c_new = f * c + i * g
    np.testing.assert_allclose(layer.forward(x[:, None])[:, 0], o * np.tanh(c_new), rtol=1e-12)
    np.testing.assert_allclose(layer.final_state[1][0], c_new, rtol=1e-12)


def test_embedding_lookup_gradient_and_errors():
    layer = nn101.Embedding(5, 2, rng=np.random.default_rng(0), dtype=np.float64)
    ids = np.array([[0, 4, 4], [1, 0, 4]])
    y = layer.forward(ids)
    np.testing.assert_array_equal(y, layer.weight.value[ids])
    assert layer.backward(np.ones((2, 3, 2)), input_grad=False) is None
    np.testing.assert_array_equal(layer.weight.grad[:, 0], [2, 1, 0, 0, 3])  # counts per id
    with pytest.raises(ValueError, match=r"expected ids in \[0, 5\), got values from 0 to 5"):
        layer.forward(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=r"got values from -1 to 1"):
        layer.forward(np.array([[-1, 1]]))
    with pytest.raises(TypeError, match="expected integer ids, got dtype float64"):
        layer.forward(np.array([[0.0, 1.0]]))


def test_char_model_trains_on_a_tiny_sequence():
    """Embedding -> LSTM -> Dense learns to continue 'abcabc...' (loss falls well below log 3)."""
    rng = np.random.default_rng(0)
    emb = nn101.Embedding(3, 4, rng=rng)
    lstm = nn101.LSTM(4, 8, rng=rng)
    head = nn101.Dense(8, 3, rng=rng)
    params = emb.parameters() + lstm.parameters() + head.parameters()
    optimizer = nn101.Adam(params, learning_rate=0.05)
    ids = np.tile(np.arange(3), (4, 6))  # (4, 18)
    x, y = ids[:, :-1], ids[:, 1:]
    loss = nn101.SoftmaxCrossEntropy()
    for _ in range(60):
        optimizer.zero_grad()
        h = lstm.forward(emb.forward(x), training=True)  # (4, 17, 8)
        logits = head.forward(h.reshape(-1, 8), training=True)
        value = loss.forward(logits, y.reshape(-1))
        dh = head.backward(loss.backward()).reshape(h.shape)
        emb.backward(lstm.backward(dh), input_grad=False)
        optimizer.step()
    assert value < 0.1 < np.log(3)


@pytest.mark.slow
def test_recurrent_benchmark_harness_smoke(torch):
    """benchmarks/recurrent.py on a tiny config: timings in the suite's format, a profile."""
    from benchmarks import recurrent
    from benchmarks.report import summarize

    config = recurrent.recurrent_configs(quick=True)[0]
    (entry,) = recurrent.time_recurrent([config], ["nn101", "torch"], repeats=1, seed=0)
    summarize(entry, peak_gflops=100.0)
    assert entry["samples_used"] == config.steps * 32 * 64
    assert entry["ratio_to_torch"] > 0 and entry["systems"]["nn101"]["gflops"] > 0
    profile = recurrent.profile_recurrent(config)
    assert sum(profile["share"].values()) == pytest.approx(1.0)
    assert "char-LSTM" in recurrent.recurrent_profile_markdown([profile])
