"""``nn101 evaluate`` and ``nn101 predict``: a saved model on a dataset or on ``--x``.

Inputs given with ``--x`` are prepared as the training inputs were (the description saved
with the model: shape and pixel scale); datasets are never downloaded unless ``--download``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nn101 import serialization
from nn101.cli.datasets import DATASETS, InputSpec, load_dataset
from nn101.cli.errors import UsageError
from nn101.cli.inputs import check_labels, prepare_inputs, read_array
from nn101.cli.paths import check_output_file
from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.losses import SoftmaxCrossEntropy
from nn101.training import evaluate, predict

__all__ = ["run_evaluate", "run_predict"]


def run_evaluate(args: argparse.Namespace) -> int:
    if args.y is not None and args.x is None:
        raise UsageError("--y needs --x (the inputs the labels belong to)")
    if args.x is not None and args.y is None:
        raise UsageError("--x needs --y (a .npy file of integer labels) to evaluate")
    model, metadata = _load_model(args.model)
    if metadata.get("model") == "char-lstm":
        from nn101.cli import char

        return char.run_evaluate(args, model, metadata)
    test = _inputs(args, model, metadata, need_labels=True)
    result = evaluate(model, test, loss=SoftmaxCrossEntropy())
    print(
        f"Test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) "
        f"on {len(test):,} examples"
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    output = None
    if args.output is not None:
        output = check_output_file("--output", args.output, overwrite=args.overwrite)
    model, metadata = _load_model(args.model)
    if metadata.get("model") == "char-lstm":
        raise UsageError(f"{args.model} is a character model: 'nn101 generate' samples from it")
    inputs = _inputs(args, model, metadata, need_labels=False)
    labels = predict(model, inputs).argmax(axis=-1)
    if output is not None:
        _save_npy(output, labels)
        print(f"Wrote {len(labels):,} predictions to {output}")
    shown = labels[: args.limit]
    more = " ..." if len(labels) > len(shown) else ""
    print("Predicted classes: " + " ".join(str(int(c)) for c in shown) + more)
    return 0


def _load_model(path: str) -> tuple[Layer, dict[str, Any]]:
    if not Path(path).exists():
        raise UsageError(f"{path}: no such model file")
    if not serialization.is_model(path):
        raise UsageError(f"{path}: not an nn101 model (expected a file written by nn101 train)")
    return serialization.load(path), serialization.read_metadata(path)


def _inputs(
    args: argparse.Namespace, model: Layer, metadata: dict[str, Any], *, need_labels: bool
) -> Dataset:
    spec = InputSpec.from_metadata(metadata, _in_features(model))
    if args.x is None:
        name = args.dataset or str(metadata.get("dataset", "digits"))
        if name not in DATASETS:
            raise UsageError(f"{name} is not a dataset of labelled examples: give inputs with --x")
        flatten = len(spec.shape) <= 1
        return load_dataset(name, args.data_dir, download=args.download, flatten=flatten)[1]
    x = prepare_inputs(read_array("--x", args.x), spec, "--x", args.x)
    y = None
    if need_labels:
        y = read_array("--y", args.y)
        num_classes = metadata.get("num_classes")
        check_labels(y, len(x), num_classes, "--y", args.y)
    return Dataset(x, y, name=Path(args.x).name)


def _in_features(model: Layer) -> int | None:
    """The input width of a model whose first layer is Dense (0.1 models), else None."""
    first = next(iter(getattr(model, "layers", [])), None)
    weight = getattr(first, "weight", None)
    return int(weight.value.shape[0]) if weight is not None and weight.value.ndim == 2 else None


def _save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to exactly ``path`` (np.save would add '.npy'), atomically."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # as open() would create it
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, array, allow_pickle=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
