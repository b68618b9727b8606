"""Model files: one zip (suffix ``.nn101`` suggested) holding ``architecture.json`` (the layer
specs, JSON) and ``weights.npz`` (the parameters and buffers, ``.npy`` arrays).

``save`` never replaces what nn101 did not write, replaces an nn101 model only when asked, and
writes atomically (``container.py``). ``load`` treats the file as hostile input: sizes are
checked from the headers before anything is built or allocated (``checks.py``, ``arrays.py``),
and every problem is a ``ModelFileError`` naming the file. Directories saved by nn101 0.1
(``architecture.json`` + ``weights.npz``) load the same way.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.errors import ModelFileError, NN101Error, NonFiniteWeightsError
from nn101.serialization.arrays import Header, read_array, read_headers, write_npz
from nn101.serialization.checks import MAX_JSON_BYTES, declared_elements, parse_json
from nn101.serialization.container import (
    Container,
    check_overwrite,
    open_container,
    write_atomically,
)
from nn101.serialization.specs import layer_from_spec, layer_spec

__all__ = ["save", "load", "read_metadata", "is_model", "FORMAT_VERSION", "SUFFIX"]

FORMAT_VERSION = 1
SUFFIX = ".nn101"
ARCHITECTURE = "architecture.json"
WEIGHTS = "weights.npz"
BUFFER_PREFIX = "buffer:"
SLACK = 1 << 16  # elements an architecture may declare beyond twice what the weights hold
MEMBERS = {ARCHITECTURE, WEIGHTS, "training.json", "training.npz"}  # the last two: checkpoints


def save(
    model: Layer,
    path: str | Path,
    *,
    metadata: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` to the single file ``path`` (exactly that name; ``.nn101`` suggested).

    ``metadata`` (JSON: the dataset, the accuracy ...) is returned by :func:`read_metadata`.
    A ``path`` that exists and is not an nn101 model raises ``OverwriteError`` and is left
    untouched; an nn101 model is replaced (atomically) only with ``overwrite=True``; a
    directory is never replaced. NaN or infinite weights raise ``NonFiniteWeightsError``.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save: the directory {str(path.parent)!r} does not exist")
    check_overwrite(path, overwrite, is_model(path), "model")
    write_atomically(path, model_members(model, metadata))
    return path


def model_members(model: Layer, metadata: dict[str, Any] | None = None) -> dict[str, bytes]:
    """The container members of a model: its architecture (JSON) and arrays (npz)."""
    architecture = {
        "format": "nn101",
        "format_version": FORMAT_VERSION,
        "model": layer_spec(model),
        "metadata": metadata or {},
    }
    text = json.dumps(architecture, indent=2) + "\n"
    return {ARCHITECTURE: text.encode("utf-8"), WEIGHTS: write_npz(model_arrays(model))}


def model_arrays(model: Layer) -> dict[str, np.ndarray]:
    """Parameters and buffers by name (buffers prefixed ``buffer:``), all finite."""
    arrays = {name: p.value for name, p in model.named_parameters()}
    arrays.update({BUFFER_PREFIX + name: np.asarray(b) for name, b in model.named_buffers()})
    for name, array in arrays.items():
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise NonFiniteWeightsError(
                f"save: {name!r} has {bad} NaN or infinite values of {array.size}: the run "
                "diverged (lower the learning rate); the model was not saved"
            )
    return arrays


def load(path: str | Path, *, custom_layers: Sequence[type[Layer]] = ()) -> Layer:
    """Rebuild the model saved at ``path`` (a file, or a 0.1 directory); it predicts
    bit-identically. Layer classes of your own (not registered with ``@register_layer``) are
    passed as ``custom_layers=[MyLayer, ...]`` and matched by class name.
    """
    path = Path(path)
    with open_container(path) as container:
        spec = read_architecture(container)["model"]
        with container.zip_member(WEIGHTS) as weights:
            source = f"{path} ({WEIGHTS})"
            headers = read_headers(weights, source)
            _check_declared_size(spec, headers, path)
            model = build(spec, custom_layers, path)
            assign(model_targets(model), weights, headers, source)
    return model


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``metadata`` stored with a saved model (an empty dict when there is none)."""
    with open_container(Path(path)) as container:
        metadata = read_architecture(container).get("metadata", {})
    return metadata if isinstance(metadata, dict) else {}


def is_model(path: str | Path) -> bool:
    """Whether ``path`` is an nn101 model file (or checkpoint, or 0.1 model directory): a
    quick look at its architecture, not a full check of its weights."""
    try:
        with open_container(Path(path)) as container:
            read_architecture(container)
            return WEIGHTS in container.names()
    except (NN101Error, OSError, ValueError):
        return False


def read_architecture(container: Container) -> dict[str, Any]:
    """architecture.json, checked: an nn101 file of a version this nn101 reads."""
    names, file = container.names(), f"{container.path}"
    if container.archive is not None and not names <= MEMBERS:
        raise ModelFileError(f"{file}: unexpected members {sorted(names - MEMBERS)}")
    for name in (ARCHITECTURE, WEIGHTS):
        if name not in names:
            raise ModelFileError(f"{file}: not an nn101 model (no {name})")
    architecture = parse_json(container.read(ARCHITECTURE, MAX_JSON_BYTES), file)
    if not isinstance(architecture, dict) or architecture.get("format") != "nn101":
        raise ModelFileError(
            f'{file}: not an nn101 architecture (expected a JSON object with "format": "nn101")'
        )
    version = architecture.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{file}: format_version {version!r}; this nn101 reads version {FORMAT_VERSION}"
        )
    if not isinstance(architecture.get("model"), dict):
        raise ModelFileError(f'{file}: no "model": {{"type": ..., "config": ...}}')
    return architecture


def _check_declared_size(spec: Any, headers: dict[str, Header], path: Path) -> None:
    declared = declared_elements(spec, str(path))
    held = sum(math.prod(header.shape) for header in headers.values())
    if declared > 2 * held + SLACK:  # beyond a small slack, the exact check names the arrays
        raise ModelFileError(
            f"{path}: the architecture declares {declared:,} parameters and buffers, the "
            f"weights file holds {held:,}: refused before allocating anything"
        )


def build(spec: Any, custom_layers: Sequence[type[Layer]], path: Path) -> Layer:
    """The model of ``spec``; any failure to build it is the file's fault: ModelFileError."""
    try:
        model = layer_from_spec(spec, custom_layers)
    except ModelFileError:
        raise
    except Exception as error:  # a hostile config reaches layer constructors: one error type
        raise ModelFileError(f"{path}: the architecture cannot be built: {error}") from error
    if not isinstance(model, Layer):
        raise ModelFileError(f"{path}: the architecture does not describe a Layer")
    return model


def model_targets(model: Layer) -> dict[str, np.ndarray]:
    """The arrays a model file fills in, by name: parameters, then buffers."""
    targets = {name: p.value for name, p in model.named_parameters()}
    targets.update({BUFFER_PREFIX + name: b for name, b in model.named_buffers()})
    return targets


def assign(
    targets: dict[str, np.ndarray],
    archive: zipfile.ZipFile,
    headers: dict[str, Header],
    source: str,
) -> None:
    """Check every header against its target, then copy the arrays in, in place."""
    missing, unexpected = sorted(set(targets) - set(headers)), sorted(set(headers) - set(targets))
    if missing or unexpected:
        raise ModelFileError(
            f"{source} does not match the architecture: missing arrays {missing[:10]}, "
            f"unexpected arrays {unexpected[:10]}"
        )
    for name, target in targets.items():
        header = headers[name]
        for what, found, expected in (
            ("shape", header.shape, target.shape),
            ("dtype", header.dtype, target.dtype),
        ):
            if found != expected:
                raise ModelFileError(
                    f"{source}: array {name!r} has {what} {found}, the architecture expects "
                    f"{expected}"
                )
    for name, target in targets.items():
        target[...] = read_array(archive, headers[name], source)
