"""Save and load models as a directory of plain data: architecture.json + weights.npz.

Never pickle: the architecture is JSON (layer types from the one registry, ``core.LAYERS``, and
their ``config()``), the arrays are ``.npz`` read with ``allow_pickle=False``. Writes go to a
temporary directory beside the target and are renamed into place, so a crash never leaves a
half-written model behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.registry import LAYERS

__all__ = ["save", "load", "read_metadata", "layer_spec", "layer_from_spec", "FORMAT_VERSION"]

FORMAT_VERSION = 1
ARCHITECTURE = "architecture.json"
WEIGHTS = "weights.npz"
BUFFER_PREFIX = "buffer:"


def save(model: Layer, path: str | Path, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` into the directory ``path`` (created or replaced atomically).

    ``metadata`` (JSON-serializable: the dataset it was trained on, its accuracy ...) is stored
    in architecture.json and returned by :func:`read_metadata`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    architecture = {
        "format": "nn101",
        "format_version": FORMAT_VERSION,
        "model": layer_spec(model),
        "metadata": metadata or {},
    }
    arrays = {name: p.value for name, p in model.named_parameters()}
    arrays.update({BUFFER_PREFIX + name: np.asarray(b) for name, b in model.named_buffers()})
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        (staging / ARCHITECTURE).write_text(json.dumps(architecture, indent=2) + "\n")
        with open(staging / WEIGHTS, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        _replace_directory(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def load(path: str | Path, *, custom_layers: Sequence[type[Layer]] = ()) -> Layer:
    """Rebuild the model saved in directory ``path``; it predicts bit-identically.

    A model that uses layer classes of your own (not registered with ``@register_layer``)
    needs them passed as ``custom_layers=[MyLayer, ...]``; a class is matched by its name.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"load: expected a model directory with {ARCHITECTURE} and "
            f"{WEIGHTS}, got {str(path)!r}, which is not a directory"
        )
    for name in (ARCHITECTURE, WEIGHTS):
        if not (path / name).is_file():
            raise FileNotFoundError(f"load: {str(path)!r} has no {name}")
    architecture = _read_architecture(path / ARCHITECTURE)
    model = layer_from_spec(architecture["model"], custom_layers)
    with np.load(path / WEIGHTS, allow_pickle=False) as weights:
        _assign(model, {key: weights[key] for key in weights.files}, path / WEIGHTS)
    return model


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``metadata`` stored with a saved model (an empty dict when there is none)."""
    file = Path(path) / ARCHITECTURE
    if not file.is_file():
        raise FileNotFoundError(f"read_metadata: {str(path)!r} has no {ARCHITECTURE}")
    metadata = _read_architecture(file).get("metadata", {})
    return metadata if isinstance(metadata, dict) else {}


def _read_architecture(file: Path) -> dict[str, Any]:
    try:
        architecture = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"load: {file} is not valid JSON ({error})") from None
    if not isinstance(architecture, dict) or architecture.get("format") != "nn101":
        raise ValueError(
            f"load: {file} is not an nn101 architecture file "
            '(expected a JSON object with "format": "nn101")'
        )
    version = architecture.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"load: {file} has format_version {version!r}; this nn101 reads "
            f"version {FORMAT_VERSION}"
        )
    model = architecture.get("model")
    if not isinstance(model, dict) or "type" not in model:
        raise ValueError(f'load: {file} has no "model": {{"type": ..., "config": ...}}')
    return architecture


def _assign(model: Layer, arrays: dict[str, np.ndarray], file: Path) -> None:
    expected: dict[str, np.ndarray] = {name: p.value for name, p in model.named_parameters()}
    expected.update({BUFFER_PREFIX + name: b for name, b in model.named_buffers()})
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"load: {file} does not match the architecture: "
            f"missing arrays {missing}, unexpected arrays {unexpected}"
        )
    for name, target in expected.items():
        source = arrays[name]
        if source.shape != target.shape:
            raise ValueError(
                f"load: array {name!r} in {file} has shape {source.shape}, "
                f"the architecture expects {target.shape}"
            )
        if source.dtype != target.dtype:
            raise ValueError(
                f"load: array {name!r} in {file} has dtype {source.dtype}, "
                f"the architecture expects {target.dtype}"
            )
        target[...] = source


def _replace_directory(staging: Path, path: Path) -> None:
    """Move ``staging`` to ``path``; an existing ``path`` is swapped out, then removed."""
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"save: {str(path)!r} exists and is not a directory")
    if not path.exists():
        os.replace(staging, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
    old.rmdir()
    os.replace(path, old)
    os.replace(staging, path)
    shutil.rmtree(old, ignore_errors=True)


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
        raise ValueError(f'expected a layer {{"type": ..., "config": ...}}, got {spec!r}')
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer {spec['type']!r}: config must be a JSON object, got {config!r}")
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
