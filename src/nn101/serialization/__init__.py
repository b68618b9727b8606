"""Saving and loading: model files and the container checkpoints share (never pickle).

* ``model_file.py``: ``save`` / ``load`` / ``read_metadata`` / ``is_model``: one zip file
  holding ``architecture.json`` and ``weights.npz``; 0.1 model directories still load.
* ``specs.py``: a layer as data, ``{"type": ..., "config": ...}`` (the one registry).
* ``container.py``: atomic writes (temporary file, fsync, ``os.replace``), bounded reads.
* ``arrays.py`` and ``checks.py``: hostile-file bounds (``.npy`` headers before data, sizes
  declared by the architecture before building, JSON size and depth).

Training checkpoints use the same container; they live in ``nn101.training.checkpoint``.
"""

from nn101.serialization.model_file import (
    FORMAT_VERSION,
    SUFFIX,
    is_model,
    load,
    read_metadata,
    save,
)
from nn101.serialization.specs import layer_from_spec, layer_spec

__all__ = [
    "save",
    "load",
    "read_metadata",
    "is_model",
    "layer_spec",
    "layer_from_spec",
    "FORMAT_VERSION",
    "SUFFIX",
]
