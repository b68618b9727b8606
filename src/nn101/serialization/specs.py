"""Architectures as data: a layer is ``{"type": name, "config": {...}}`` (never pickle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nn101.core import Layer
from nn101.registry import LAYERS

__all__ = ["layer_spec", "layer_from_spec"]


def layer_spec(layer: Layer) -> dict[str, Any]:
    """``{"type": name, "config": {...}}``: the registered name of a library (or registered)
    layer; a class of the user's own is stored by class name with ``"custom": true``, so that it
    can never be confused with a library layer of the same name."""
    cls = type(layer)
    name = LAYERS.name_of(cls)
    if name is not None:
        return {"type": name, "config": layer.config()}
    return {"type": cls.__name__, "custom": True, "config": layer.config()}


def layer_from_spec(spec: Any, custom_layers: Sequence[type[Layer]] = ()) -> Layer:
    """The layer a ``layer_spec`` describes (custom classes from ``custom_layers``)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ValueError(f'expected a layer {{"type": ..., "config": ...}}, got {spec!r:.200}')
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer {spec['type']!r}: config must be a JSON object, got {config!r}")
    if "rng" in config:  # a generator is state, never configuration (see Layer.config)
        raise ValueError(f"layer {spec['type']!r}: config must not contain 'rng'")
    cls = _custom_class(spec["type"], custom_layers) if spec.get("custom") else None
    cls = cls or LAYERS.get(spec["type"])
    return cls.from_config(config, custom_layers=custom_layers)


def _custom_class(name: str, custom_layers: Sequence[type[Layer]]) -> type[Layer]:
    for cls in custom_layers:
        if cls.__name__ == name:
            return cls
    given = [cls.__name__ for cls in custom_layers]
    raise ValueError(
        f"the model uses a custom layer class {name!r}; pass it to load: "
        f"nn101.load(path, custom_layers=[{name}]) (custom_layers given: {given})"
    )
