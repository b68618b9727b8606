"""What RNN, LSTM and GRU share: parameters, stacking, initial / final / carried state, dropout
between stacked layers, and the conversion to and from a PyTorch ``state_dict``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from nn101.core import Layer, Parameter, as_dtype
from nn101.layers._checks import backward_before_forward, shape_error

__all__ = ["Recurrent"]

State = tuple[np.ndarray, ...]  # per stacked layer: (h,) or (h, c), each (N, H)


class Recurrent(Layer):
    """Base of the recurrent layers (the cell equations are in each subclass's docstring).

    Shapes: x (N, T, input_size) -> (N, T, hidden_size), or (N, hidden_size), the last step,
    with ``return_sequences=False``. ``num_layers`` cells are stacked, each reading the sequence
    of the one below, with inverted dropout of rate ``dropout`` between them during training.

    State (h, and c for the LSTM), each of shape (num_layers, N, H):

    * ``layer.initial_state = h0`` (LSTM: ``(h0, c0)``) starts every call from it (None:
      zeros); after ``backward``, ``layer.initial_state_grad`` holds dL/d(initial state);
    * ``layer.final_state`` is the state after the last step of the latest call;
    * ``stateful=True`` carries the final state of one call into the next (attributes
      ``state_names``, saved by checkpoints and not by model files) as a constant for the
      gradient: truncated backpropagation through time. ``reset_state()`` forgets it (the
      training loop does so at each epoch); a carried state takes precedence over
      ``initial_state``, and a call with another batch size is an error.

    Initialization, as PyTorch: every weight and bias ~ U(-1/√H, 1/√H).
    """

    num_gates: ClassVar[int] = 1
    torch_gate_order: ClassVar[tuple[int, ...]] = (0,)  # our block of each PyTorch gate
    two_biases: ClassVar[bool] = False
    state_names: ClassVar[tuple[str, ...]] = ("state_h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        return_sequences: bool = True,
        stateful: bool = False,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        name = type(self).__name__
        for label, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.dropout = int(num_layers), float(dropout)
        self.return_sequences, self.stateful = bool(return_sequences), bool(stateful)
        self.dtype = as_dtype(dtype)
        self.rng = rng
        self.initial_state: np.ndarray | State | None = None
        self.final_state: np.ndarray | State | None = None
        self.initial_state_grad: np.ndarray | State | None = None
        for attr in self.state_names:
            setattr(self, attr, None)
        self.init_parameters(np.random.default_rng() if rng is None else rng)
        self.caches: list[Any] | None = None
        self.masks: list[np.ndarray | None] = []

    def init_parameters(self, rng: np.random.Generator) -> None:
        H, G = self.hidden_size, self.num_gates * self.hidden_size
        bound = 1.0 / math.sqrt(H)

        def uniform(*shape: int) -> np.ndarray:
            return rng.uniform(-bound, bound, size=shape).astype(self.dtype)

        for k in range(self.num_layers):
            D = self.input_size if k == 0 else H
            setattr(self, f"weight_ih_l{k}", Parameter(uniform(D, G), f"weight_ih_l{k}"))
            setattr(self, f"weight_hh_l{k}", Parameter(uniform(H, G), f"weight_hh_l{k}"))
            for bias in self.bias_names(k):
                setattr(self, bias, Parameter(uniform(G), bias))

    def bias_names(self, k: int) -> tuple[str, ...]:
        return (f"bias_ih_l{k}", f"bias_hh_l{k}") if self.two_biases else (f"bias_l{k}",)

    def layer_parameters(self, k: int) -> tuple[Parameter, ...]:
        """(W_ih, W_hh, bias...) of stacked layer k."""
        names = (f"weight_ih_l{k}", f"weight_hh_l{k}", *self.bias_names(k))
        return tuple(getattr(self, name) for name in names)

    def label(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    # -- state -------------------------------------------------------------------------------

    def pack_state(self, per_layer: list[State]) -> np.ndarray | State:
        """Per-layer states -> the public form: (L, N, H), or a pair of them for the LSTM."""
        stacked = tuple(np.stack(parts) for parts in zip(*per_layer, strict=True))
        return stacked if len(stacked) > 1 else stacked[0]

    def unpack_state(self, value: Any, N: int, what: str) -> list[State]:
        """The public form (checked against (num_layers, N, H)) -> per-layer states."""
        parts = tuple(value) if isinstance(value, tuple | list) else (value,)
        expected = (self.num_layers, N, self.hidden_size)
        if len(parts) != len(self.state_names) or any(np.shape(p) != expected for p in parts):
            got = [np.shape(p) for p in parts]
            raise ValueError(
                f"{self.label()}: {what} must be {len(self.state_names)} array(s) of shape "
                f"{expected} (num_layers, N, hidden_size), got shapes {got}"
            )
        arrays = [np.asarray(p, dtype=self.dtype) for p in parts]
        return [tuple(a[k] for a in arrays) for k in range(self.num_layers)]

    def start_state(self, N: int) -> list[State]:
        carried = tuple(getattr(self, attr) for attr in self.state_names)
        if self.stateful and carried[0] is not None:
            if carried[0].shape[1] != N:
                raise ValueError(
                    f"{self.label()} is stateful and carries state for batch size "
                    f"{carried[0].shape[1]}, got a batch of {N}; call reset_state() first "
                    "or use batches of one size"
                )
            return self.unpack_state(carried, N, "the carried state")
        if self.initial_state is not None:
            return self.unpack_state(self.initial_state, N, "initial_state")
        zeros = np.zeros((N, self.hidden_size), dtype=self.dtype)
        return [tuple(zeros for _ in self.state_names) for _ in range(self.num_layers)]

    def reset_state(self) -> None:
        """Forget the carried state: the next call starts from ``initial_state`` (or zeros)."""
        super().reset_state()
        for attr in self.state_names:
            setattr(self, attr, None)

    # -- forward / backward ------------------------------------------------------------------

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        if np.ndim(x) != 3 or np.shape(x)[2] != self.input_size or np.shape(x)[1] < 1:
            raise shape_error(self.label(), f"(N, T, {self.input_size}) with T >= 1", x)
        x = np.asarray(x, dtype=self.dtype)
        states = self.start_state(x.shape[0])
        seq = np.ascontiguousarray(x.transpose(1, 0, 2))  # (N, T, D) -> (T, N, D)
        self.caches, self.masks, finals = [], [], []
        for k in range(self.num_layers):
            if k > 0:
                seq = self.dropout_between(seq, training)
            seq, final, cache = self.cell_forward(k, seq, states[k])
            self.caches.append(cache)
            finals.append(final)
        self.final_state = self.pack_state(finals)
        if self.stateful:
            for attr, value in zip(self.state_names, map(np.stack, zip(*finals)), strict=True):
                setattr(self, attr, value)
        if not self.return_sequences:
            return seq[-1].copy()  # (N, H)
        return np.ascontiguousarray(seq.transpose(1, 0, 2))  # (T, N, H) -> (N, T, H)

    def dropout_between(self, seq: np.ndarray, training: bool) -> np.ndarray:
        if not training or self.dropout == 0.0:
            self.masks.append(None)
            return seq
        if self.rng is None:
            self.rng = np.random.default_rng()
        keep = self.rng.random(seq.shape, dtype=self.dtype) >= self.dropout
        mask = keep * self.dtype.type(1.0 / (1.0 - self.dropout))
        self.masks.append(mask)
        return seq * mask

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.caches is None:
            raise backward_before_forward(self.label())
        g = np.asarray(grad_output, dtype=self.dtype)
        if self.return_sequences:
            dhs: np.ndarray | None = np.ascontiguousarray(g.transpose(1, 0, 2))  # (T, N, H)
            dlast: np.ndarray | None = None
        else:
            dhs, dlast = None, g
        dstates: list[State] = []
        for k in range(self.num_layers - 1, -1, -1):
            dfinal = (dlast,) + (None,) * (len(self.state_names) - 1)
            need_dx = k > 0 or input_grad
            dhs, dstate = self.cell_backward(k, dhs, dfinal, self.caches[k], need_dx)
            dstates.insert(0, dstate)
            mask = self.masks[k - 1] if k > 0 else None
            if mask is not None and dhs is not None:
                dhs = dhs * mask
            dlast = None
        self.initial_state_grad = self.pack_state(dstates)
        if dhs is None:
            return None
        return np.ascontiguousarray(dhs.transpose(1, 0, 2))  # (T, N, D) -> (N, T, D)

    def cell_forward(self, k: int, x: np.ndarray, state: State) -> tuple[Any, State, Any]:
        raise NotImplementedError

    def cell_backward(
        self, k: int, dhs: Any, dfinal: tuple, cache: Any, need_dx: bool
    ) -> tuple[Any, State]:
        raise NotImplementedError

    # -- config and PyTorch ------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "return_sequences": self.return_sequences,
            "stateful": self.stateful,
            "dropout": self.dropout,
            "dtype": self.dtype.name,
        }

    def gate_blocks(self, a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
        """The gate blocks of the last axis of ``a`` (blocks of H) rearranged into ``order``."""
        H = self.hidden_size
        return np.concatenate([a[..., j * H : (j + 1) * H] for j in order], axis=-1)

    def to_torch_state_dict(self) -> dict[str, np.ndarray]:
        """PyTorch's parameters as arrays: ``torch_layer.load_state_dict({k:
        torch.from_numpy(v) for k, v in layer.to_torch_state_dict().items()})``.

        weight_ih_l{k} = W_ih[:, PyTorch's gate order]ᵀ, the same for weight_hh; a single bias
        b goes to bias_ih_l{k}, with bias_hh_l{k} = 0 (PyTorch adds the two).
        """
        order = self.torch_gate_order
        result: dict[str, np.ndarray] = {}
        for k in range(self.num_layers):
            W_ih, W_hh, *biases = self.layer_parameters(k)
            result[f"weight_ih_l{k}"] = self.gate_blocks(W_ih.value, order).T.copy()
            result[f"weight_hh_l{k}"] = self.gate_blocks(W_hh.value, order).T.copy()
            b_ih = self.gate_blocks(biases[0].value, order)
            b_hh = self.gate_blocks(biases[1].value, order) if self.two_biases else 0 * b_ih
            result[f"bias_ih_l{k}"], result[f"bias_hh_l{k}"] = b_ih, b_hh
        return result

    def from_torch_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load PyTorch parameters (tensors or arrays) into this layer, in place: the inverse
        of ``to_torch_state_dict`` (bias_ih + bias_hh become the single bias, if one)."""
        inverse = tuple(int(j) for j in np.argsort(self.torch_gate_order))
        for k in range(self.num_layers):
            arrays = {}
            for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                value = state_dict[f"{key}_l{k}"]
                value = value.detach().cpu().numpy() if hasattr(value, "detach") else value
                arrays[key] = self.gate_blocks(np.asarray(value, dtype=np.float64).T, inverse)
            W_ih, W_hh, *biases = self.layer_parameters(k)
            values = [arrays["weight_ih"], arrays["weight_hh"]]
            if self.two_biases:
                values += [arrays["bias_ih"], arrays["bias_hh"]]
            else:
                values.append(arrays["bias_ih"] + arrays["bias_hh"])
            for p, value in zip((W_ih, W_hh, *biases), values, strict=True):
                if p.value.shape != value.shape:
                    raise ValueError(
                        f"{self.label()}: PyTorch layer {k} has shape {value.shape[::-1]} "
                        f"for {p.name}, expected {p.value.shape[::-1]}"
                    )
                p.value[...] = value
