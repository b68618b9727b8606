"""Recurrent layers: RNN, LSTM and GRU, batch first, stacked, optionally stateful.

The cell math (forward and backpropagation through time) lives in ``nn101.functional.recurrent``;
this module holds the parameters, the stacking, the carried state and the PyTorch conversion.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nn101.functional import recurrent as F
from nn101.layers.recurrent_base import Recurrent
from nn101.registry import register_layer

__all__ = ["Recurrent", "RNN", "LSTM", "GRU"]


@register_layer
class RNN(Recurrent):
    """Elman RNN, as PyTorch's ``nn.RNN(batch_first=True)``:

        h_t = φ(x_t W_ih + h_(t-1) W_hh + b),  φ = tanh or relu (``nonlinearity``)

    Parameters of stacked layer k: ``weight_ih_l{k}`` (D_k, H), ``weight_hh_l{k}`` (H, H),
    ``bias_l{k}`` (H,), with D_0 = input_size and D_k = H above. PyTorch: weight_ih_l{k} =
    W_ihᵀ, weight_hh_l{k} = W_hhᵀ, bias_ih_l{k} + bias_hh_l{k} = b (``to_torch_state_dict``
    puts all of b into bias_ih). Shapes, state and options: see ``Recurrent``.
    """

    num_gates: ClassVar[int] = 1
    torch_gate_order: ClassVar[tuple[int, ...]] = (0,)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        return_sequences: bool = True,
        stateful: bool = False,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers=num_layers,
            return_sequences=return_sequences,
            stateful=stateful,
            dropout=dropout,
            rng=rng,
            dtype=dtype,
        )

    def config(self) -> dict[str, Any]:
        return {**super().config(), "nonlinearity": self.nonlinearity}

    def cell_forward(self, k, x, state):
        W_ih, W_hh, b = self.layer_parameters(k)
        hs, cache = F.rnn_forward(x, W_ih.value, W_hh.value, b.value, state[0], self.nonlinearity)
        return hs[1:], (hs[-1],), cache

    def cell_backward(self, k, dhs, dfinal, cache, need_dx):
        W_ih, W_hh, b = self.layer_parameters(k)
        dx, dW_ih, dW_hh, db, dh0 = F.rnn_backward(
            dhs, dfinal[0], cache, W_ih.value, W_hh.value, need_dx
        )
        W_ih.grad += dW_ih
        W_hh.grad += dW_hh
        b.grad += db
        return dx, (dh0,)


@register_layer
class LSTM(Recurrent):
    """Long short-term memory, as PyTorch's ``nn.LSTM(batch_first=True)``:

        i = σ(x_t W_ii + h_(t-1) W_hi + b_i)      input gate
        f = σ(x_t W_if + h_(t-1) W_hf + b_f)      forget gate
        g = tanh(x_t W_ig + h_(t-1) W_hg + b_g)   candidate cell
        o = σ(x_t W_io + h_(t-1) W_ho + b_o)      output gate
        c_t = f ⊙ c_(t-1) + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    Layout (for speed: one product for all gates, sigmoid gates contiguous): layer k has
    ``weight_ih_l{k}`` (D_k, 4H), ``weight_hh_l{k}`` (H, 4H), ``bias_l{k}`` (4H,), the column
    blocks of H in the order **(i, f, o, g)**. PyTorch stores (4H, D) with rows (i, f, g, o) and
    two biases: weight_ih_l{k} = W_ih[:, blocks (i, f, g, o)]ᵀ, bias_ih + bias_hh = b.
    State: a pair (h, c), each (num_layers, N, H). Source: Hochreiter & Schmidhuber 1997;
    the forget gate: Gers et al. 2000.
    """

    num_gates: ClassVar[int] = 4
    torch_gate_order: ClassVar[tuple[int, ...]] = (0, 1, 3, 2)
    state_names: ClassVar[tuple[str, ...]] = ("state_h", "state_c")

    def cell_forward(self, k, x, state):
        W_ih, W_hh, b = self.layer_parameters(k)
        hs, cs, cache = F.lstm_forward(x, W_ih.value, W_hh.value, b.value, *state)
        return hs[1:], (hs[-1], cs[-1]), cache

    def cell_backward(self, k, dhs, dfinal, cache, need_dx):
        W_ih, W_hh, b = self.layer_parameters(k)
        dx, dW_ih, dW_hh, db, dh0, dc0 = F.lstm_backward(
            dhs, dfinal[0], dfinal[1], cache, W_ih.value, W_hh.value, need_dx
        )
        W_ih.grad += dW_ih
        W_hh.grad += dW_hh
        b.grad += db
        return dx, (dh0, dc0)


@register_layer
class GRU(Recurrent):
    """Gated recurrent unit, as PyTorch's ``nn.GRU(batch_first=True)``:

        r = σ(x_t W_ir + b_ir + h_(t-1) W_hr + b_hr)           reset gate
        z = σ(x_t W_iz + b_iz + h_(t-1) W_hz + b_hz)           update gate
        n = tanh(x_t W_in + b_in + r ⊙ (h_(t-1) W_hn + b_hn))  candidate
        h_t = (1 - z) ⊙ n + z ⊙ h_(t-1)

    Layout: layer k has ``weight_ih_l{k}`` (D_k, 3H), ``weight_hh_l{k}`` (H, 3H), and two
    biases ``bias_ih_l{k}``, ``bias_hh_l{k}`` (3H,) (b_hn sits inside r ⊙ (·), so it cannot be
    merged), column blocks in PyTorch's order (r, z, n); PyTorch's weights are the transposes.
    Source: Cho et al. 2014 (with PyTorch's placement of the reset gate).
    """

    num_gates: ClassVar[int] = 3
    torch_gate_order: ClassVar[tuple[int, ...]] = (0, 1, 2)
    two_biases: ClassVar[bool] = True

    def cell_forward(self, k, x, state):
        W_ih, W_hh, b_ih, b_hh = self.layer_parameters(k)
        hs, cache = F.gru_forward(x, W_ih.value, W_hh.value, b_ih.value, b_hh.value, state[0])
        return hs[1:], (hs[-1],), cache

    def cell_backward(self, k, dhs, dfinal, cache, need_dx):
        W_ih, W_hh, b_ih, b_hh = self.layer_parameters(k)
        dx, dW_ih, dW_hh, db_ih, db_hh, dh0 = F.gru_backward(
            dhs, dfinal[0], cache, W_ih.value, W_hh.value, need_dx
        )
        W_ih.grad += dW_ih
        W_hh.grad += dW_hh
        b_ih.grad += db_ih
        b_hh.grad += db_hh
        return dx, (dh0,)
