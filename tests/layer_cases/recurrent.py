"""Layer cases for the recurrent half: Embedding, RNN (tanh, relu), LSTM, GRU.

The PyTorch twins load the nn101 weights through the documented conversion
(``to_torch_state_dict``); PyTorch's gradients come back through its inverse layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nn101
from layer_cases import Case, copy_in, same, torch_dtype

N, T, D, H = 3, 5, 4, 7


def _to_ours(layer: Any) -> Any:
    """PyTorch layout (G, D) or (G,), rows in PyTorch's gate order -> ours (D, G), our order."""
    inverse = np.argsort(layer.torch_gate_order)
    size = layer.hidden_size

    def transform(t: Any) -> np.ndarray:
        a = t.detach().numpy().T
        return np.concatenate([a[..., j * size : (j + 1) * size] for j in inverse], axis=-1)

    return transform


def _recurrent_twin(torch: Any, layer: Any, training: bool) -> Any:
    kwargs = {"nonlinearity": layer.nonlinearity} if isinstance(layer, nn101.RNN) else {}
    module = getattr(torch.nn, type(layer).__name__)(
        layer.input_size,
        layer.hidden_size,
        num_layers=layer.num_layers,
        batch_first=True,
        dtype=torch_dtype(torch, layer.dtype),
        **kwargs,
    )
    module.load_state_dict({k: torch.from_numpy(v) for k, v in layer.to_torch_state_dict().items()})
    module.train(training)

    def forward(x: Any) -> Any:
        y, _ = module(x)
        return y if layer.return_sequences else y[:, -1]

    ours, params = _to_ours(layer), dict(module.named_parameters())
    pairs = []
    for k in range(layer.num_layers):
        W_ih, W_hh, *biases = layer.layer_parameters(k)
        pairs += [(W_ih, params[f"weight_ih_l{k}"], ours), (W_hh, params[f"weight_hh_l{k}"], ours)]
        torch_biases = ("bias_ih", "bias_hh") if len(biases) == 2 else ("bias_ih",)
        pairs += [(b, params[f"{t}_l{k}"], ours) for b, t in zip(biases, torch_biases)]
    return forward, pairs


def _embedding_twin(torch: Any, layer: Any, training: bool) -> Any:
    module = torch.nn.Embedding(
        layer.num_embeddings, layer.embedding_dim, dtype=torch_dtype(torch, layer.dtype)
    )
    copy_in(torch, module.weight, layer.weight.value)  # the same layout
    return module, [(layer.weight, module.weight, same)]


def _recurrent(kind: str, layers: int, sequences: bool, **kwargs: Any) -> Case:
    def make(dtype: np.dtype, rng: np.random.Generator) -> Any:
        return getattr(nn101, kind)(
            D, H, num_layers=layers, return_sequences=sequences, rng=rng, dtype=dtype, **kwargs
        )

    label = "-".join([kind, *map(str, kwargs.values()), f"{layers}layers", "seq" * sequences])
    return Case(
        id=label,
        make=make,
        input_shape=(N, T, D),
        output_shape=(N, T, H) if sequences else (N, H),
        bad_shape=(N, D),
        name=f"{kind}({D}, {H})",
        torch=_recurrent_twin,
    )


CASES: list[Case] = [
    Case(
        id="Embedding",
        make=lambda dtype, rng: nn101.Embedding(11, D, rng=rng, dtype=dtype),
        input_shape=(N, T),
        output_shape=(N, T, D),
        integer_inputs=11,
        torch=_embedding_twin,
    ),
    _recurrent("RNN", 1, True, nonlinearity="tanh"),
    _recurrent("RNN", 2, False, nonlinearity="relu"),
    _recurrent("LSTM", 1, True),
    _recurrent("LSTM", 2, False),
    _recurrent("GRU", 1, False),
    _recurrent("GRU", 2, True),
]
"""Layer cases: see layer_cases/__init__.py for the fields."""
