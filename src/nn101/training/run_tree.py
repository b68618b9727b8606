"""A training run as data: ``capture(state)`` is a JSON tree (with arrays split out by
``split_arrays`` as ``{"__array__": key}``) holding everything ``fit`` needs to continue bit for
bit; ``restore(state, tree)`` puts it back. ``checkpoint.py`` stores the tree in a file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.optimizers import Optimizer
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
    """Put a ``capture`` back into ``state``; a malformed tree raises ValueError (or KeyError,
    TypeError) before anything that would only fail later, inside training."""
    if tree.get("format") != FORMAT or tree.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"not a {FORMAT} of version {FORMAT_VERSION}")
    _check_optimizer(state.optimizer, tree["optimizer"])
    state.optimizer.load_state_dict(tree["optimizer"])
    _restore_generators(state.generators(), tree["generators"])
    order = tree["order"]
    state.order = None if order is None else np.array(order, dtype=np.int64)
    state.batch_index = _count(tree["batch_index"], "batch_index")
    running = dict(tree["running"])
    if not all(_is_number(value) for value in running.values()):
        raise ValueError(f"running sums must be numbers, got {running!r:.80}")
    state.running, state.stop = running, tree["stop"] is True
    state.history.load_state_dict(tree["history"])
    _restore_callbacks(_stateful(state.callbacks), tree["callbacks"])
    _restore_layer_states(state.model, tree["layer_states"])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r:.40}")
    return value


def _check_optimizer(optimizer: Optimizer, saved: dict[str, Any]) -> None:
    """Only the optimizer's own hyperparameters and scalars, as numbers (no other attribute
    of the optimizer may be set from a file)."""
    allowed = {"hyperparameters": optimizer.hyperparameter_names, "scalars": optimizer.scalar_names}
    for part, names in allowed.items():
        for name, value in saved.get(part, {}).items():
            if name not in names:
                raise ValueError(f"optimizer {part}: {name!r} is not one of {names}")
            numbers = value if isinstance(value, list) else [value]
            if not all(_is_number(v) for v in numbers):
                raise ValueError(f"optimizer {name} must be a number, got {value!r:.40}")
    for name in ("step_count", "epoch_count"):
        _count(saved.get(name, 0), f"optimizer {name}")


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
    for name, value in saved.items():
        if value is not None and not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            raise ValueError(f"layer state {name!r} must be a float array or null")
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
    """The inverse of ``split_arrays`` (arrays copied: writable, owned)."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.array(arrays[value["__array__"]])
        return {k: join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(v, arrays) for v in value]
    return value
