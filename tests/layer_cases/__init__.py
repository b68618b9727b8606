"""One table of layer cases (in the spirit of Keras's run_layer_test) that drives BOTH the
contract tests (tests/test_layers.py: shapes, dtype, finite differences, config round trip,
training flag, shape errors) and the PyTorch parity tests (tests/parity/test_layers_torch.py).

Each module here (dense.py, conv.py, recurrent.py) owns a list ``CASES``; ``ALL_CASES`` joins
them, and a test fails if an exported layer has no case.

A Case:

* ``make(dtype, rng) -> Layer``: the layer under test.
* ``input_shape`` / ``output_shape``: one input batch and what it must become.
* ``bad_shape`` / ``name``: an input shape the layer must refuse, and the layer name the error
  must mention (``bad_shape=None``: the layer accepts any shape).
* ``training_matters``: forward differs between training and inference (dropout, batch norm).
* ``integer_inputs``: inputs are integer ids in [0, n) (Embedding): no finite differences
  with respect to the input, and ``backward`` may return None.
* ``torch``: ``twin(torch, layer) -> (forward, pairs)``: the same layer in PyTorch with the nn101
  layer's weights copied in; ``forward(x_tensor) -> y_tensor`` and ``pairs`` =
  [(nn101 Parameter, torch tensor, transform of the torch grad into nn101's layout)].
  None only where parity is checked by a dedicated test (``parity_elsewhere`` names it).
* ``parity_modes``: which ``training`` flags the parity test runs (PyTorch module .train()/.eval()
  is set by the twin from the flag it is given: ``twin(torch, layer, training)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nn101.core import Layer

Twin = Callable[..., tuple[Callable[[Any], Any], list[tuple[Any, Any, Callable[[Any], Any]]]]]


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[np.dtype, np.random.Generator], Layer]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    bad_shape: tuple[int, ...] | None = None
    name: str = ""
    training_matters: bool = False
    integer_inputs: int | None = None
    torch: Twin | None = None
    parity_elsewhere: str = ""
    parity_modes: tuple[bool, ...] = (True, False)

    def __str__(self) -> str:
        return self.id


def make_input(case: Case, dtype: Any, seed: int = 0) -> np.ndarray:
    """Standard normal entries pushed at least 0.1 away from 0 (ReLU's kink), or integer ids."""
    rng = np.random.default_rng(seed)
    if case.integer_inputs is not None:
        return rng.integers(0, case.integer_inputs, size=case.input_shape)
    x = rng.standard_normal(case.input_shape)
    return (x + 0.1 * np.sign(x)).astype(dtype)


def make_layer(case: Case, dtype: Any, seed: int = 1, randomize: bool = False) -> Layer:
    """The case's layer; with ``randomize``, parameters and buffers moved off their defaults
    (a γ of ones and a β of zeros would hide mistakes)."""
    rng = np.random.default_rng(seed)
    layer = case.make(np.dtype(dtype), rng)
    if randomize:
        for p in layer.parameters():
            p.value += (0.5 * rng.standard_normal(p.shape)).astype(p.dtype)
        for _, buffer in layer.named_buffers():
            buffer += rng.uniform(0.1, 0.5, buffer.shape).astype(buffer.dtype)
    return layer


def torch_dtype(torch: Any, dtype: Any) -> Any:
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def copy_in(torch: Any, tensor: Any, array: np.ndarray) -> None:
    """tensor <- array, without recording a gradient."""
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def same(t: Any) -> Any:
    return t


def transpose(t: Any) -> Any:
    return t.T


from layer_cases import conv, dense, recurrent  # noqa: E402  (the case lists use the above)

ALL_CASES: list[Case] = [*dense.CASES, *conv.CASES, *recurrent.CASES]
