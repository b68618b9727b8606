"""A training run as data: ``capture(state)`` is a JSON tree (with arrays split out by
``split_arrays`` as ``{"__array__": key}``) holding everything ``fit`` needs to continue bit for
bit; ``restore(state, tree)`` puts it back. ``checkpoint.py`` stores the tree in a file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.serialization import layer_spec
from nn101.training.callbacks import Callback
from nn101.training.state import TrainState

__all__ = ["capture", "restore", "split_arrays", "join_arrays", "FORMAT", "FORMAT_VERSION"]

FORMAT = "nn101-checkpoint"
FORMAT_VERSION = 1


def capture(state: TrainState) -> dict[str, Any]:
    """Everything the run is, beyond the model's weights (which the model file holds)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": layer_spec(state.model),
        "optimizer": state.optimizer.state_dict(),
        "generators": {k: g.bit_generator.state for k, g in state.generators().items()},
        "order": state.order,
        "batch_index": state.batch_index,
        "running": state.running,
        "stop": state.stop,
        "history": state.history.state_dict(),
        "callbacks": [[type(c).__name__, c.state_dict()] for c in _stateful(state.callbacks)],
        "layer_states": dict(state.model.named_states()),
    }


def restore(state: TrainState, tree: dict[str, Any]) -> None:
    """Put a ``capture`` back into ``state`` (errors: KeyError, TypeError, ValueError ...)."""
    if tree.get("format") != FORMAT or tree.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"not a {FORMAT} of version {FORMAT_VERSION}")
    state.optimizer.load_state_dict(tree["optimizer"])
    _restore_generators(state.generators(), tree["generators"])
    order = tree["order"]
    state.order = None if order is None else np.array(order, dtype=np.int64)
    state.batch_index, state.running = int(tree["batch_index"]), dict(tree["running"])
    state.stop = bool(tree["stop"])
    state.history.load_state_dict(tree["history"])
    _restore_callbacks(_stateful(state.callbacks), tree["callbacks"])
    _restore_layer_states(state.model, tree["layer_states"])


def _restore_generators(generators: dict[str, np.random.Generator], saved: Any) -> None:
    if set(generators) != set(saved):
        raise ValueError(
            f"generators {sorted(saved)} were saved, this run has {sorted(generators)}"
        )
    for name, generator in generators.items():
        generator.bit_generator.state = saved[name]


def _stateful(callbacks: Any) -> list[Callback]:
    """Callbacks with state to keep (those that override ``state_dict``)."""
    return [c for c in callbacks if type(c).state_dict is not Callback.state_dict]


def _restore_callbacks(callbacks: list[Callback], saved: list[Any]) -> None:
    """Each callback gets the next saved state of its class (a callback added since the
    checkpoint starts afresh; the state of one removed is ignored)."""
    remaining = [(str(name), callback_state) for name, callback_state in saved]
    for callback in callbacks:
        name = type(callback).__name__
        match = next((i for i, (saved_name, _) in enumerate(remaining) if saved_name == name), None)
        if match is not None:
            callback.load_state_dict(remaining.pop(match)[1])


def _restore_layer_states(model: Layer, saved: dict[str, Any]) -> None:
    expected = dict(model.named_states())
    if set(expected) != set(saved):
        raise ValueError(
            f"layer states {sorted(saved)} were saved, the model has {sorted(expected)}"
        )
    for path, layer in model.named_layers():
        for attr in layer.state_names:
            setattr(layer, attr, saved[path + attr])


def split_arrays(value: Any, arrays: dict[str, np.ndarray], key: str) -> Any:
    """``value`` as JSON, its arrays moved into ``arrays`` (as ``{"__array__": key}``)."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): split_arrays(v, arrays, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [split_arrays(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]
    return value


def join_arrays(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``_split`` (arrays copied: writable, owned)."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.array(arrays[value["__array__"]])
        return {k: join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(v, arrays) for v in value]
    return value
