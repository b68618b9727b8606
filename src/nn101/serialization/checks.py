"""Bounds for hostile model files: JSON size and depth, and the size an architecture declares.

``parse_json`` refuses more than ``MAX_JSON_BYTES`` and nesting deeper than ``MAX_DEPTH``.
``declared_elements`` computes, from a layer spec alone (before anything is built), how many
parameter and buffer numbers the library layers it names will allocate: ``load`` refuses an
architecture declaring more than twice what the weights file's headers hold (plus 65,536), so a
600-byte architecture declaring ``Dense(20000, 20000)`` is refused before 1.6 GB are allocated;
the exact check, array by array, follows the build. Layers of the user's own (``custom_layers``, or
registered outside nn101) are trusted code: they count 0 here and are checked after building.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from nn101.errors import ModelFileError

__all__ = ["parse_json", "declared_elements", "MAX_JSON_BYTES", "MAX_DEPTH", "ELEMENTS"]

MAX_JSON_BYTES = 4 << 20
MAX_DEPTH = 200


def parse_json(data: bytes, source: str) -> Any:
    """The JSON value in ``data``, or a ModelFileError saying why not."""
    if len(data) > MAX_JSON_BYTES:
        raise ModelFileError(f"{source}: {len(data)} bytes of JSON, more than {MAX_JSON_BYTES}")
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
        raise ModelFileError(f"{source}: not valid JSON ({error})") from None
    if _depth(value) > MAX_DEPTH:
        raise ModelFileError(f"{source}: JSON nested more than {MAX_DEPTH} levels deep")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _count(config: dict[str, Any], key: str, default: Any = None) -> int:
    value = config.get(key, default)
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        value = math.prod(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelFileError(f"{key} must be a non-negative integer, got {value!r}")
    return value


def _dense(c: dict[str, Any]) -> int:
    return (_count(c, "in_features") + 1) * _count(c, "out_features")


def _conv(c: dict[str, Any]) -> int:
    out = _count(c, "out_channels")
    kernel = _count(c, "kernel_size")
    return _count(c, "in_channels") * kernel * out + (out if c.get("bias", True) else 0)


def _recurrent(gates: int, biases: int) -> Callable[[dict[str, Any]], int]:
    def elements(c: dict[str, Any]) -> int:
        inputs, H, layers = (
            _count(c, "input_size"),
            _count(c, "hidden_size"),
            _count(c, "num_layers", 1),
        )
        first = (inputs + H + biases) * gates * H
        return first + max(layers - 1, 0) * (2 * H + biases) * gates * H

    return elements


def _norm(key: str, arrays: int) -> Callable[[dict[str, Any]], int]:
    return lambda c: arrays * _count(c, key)


# Library layer type -> parameters + buffers it allocates, from its config alone.
ELEMENTS: dict[str, Callable[[dict[str, Any]], int]] = {
    "Dense": _dense,
    "Conv2d": _conv,
    "Embedding": lambda c: _count(c, "num_embeddings") * _count(c, "embedding_dim"),
    "RNN": _recurrent(1, 1),
    "LSTM": _recurrent(4, 1),
    "GRU": _recurrent(3, 2),
    "BatchNorm1d": _norm("num_features", 4),
    "BatchNorm2d": _norm("num_features", 4),
    "LayerNorm": _norm("normalized_shape", 2),
}


def declared_elements(spec: Any, source: str) -> int:
    """Parameter and buffer numbers the library layers of ``spec`` will allocate when built."""
    total, stack = 0, [spec]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict) or not isinstance(item.get("config"), dict):
            continue  # layer_from_spec reports malformed specs
        config, kind = item["config"], item.get("type")
        if kind == "Sequential" and isinstance(config.get("layers"), list):
            stack.extend(config["layers"])
        elif isinstance(kind, str) and kind in ELEMENTS and not item.get("custom"):
            try:
                total += ELEMENTS[kind](config)
            except ModelFileError as error:
                raise ModelFileError(f"{source}: layer {item['type']}: {error}") from None
    return total
