"""``nn101 train``: check everything, load the data, build the recipe's model, fit, save.

Every option and path is checked before the data is read; the model is saved only when
training ended with finite weights, so a diverged run never replaces a good model.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nn101 import serialization
from nn101.cli import interrupt
from nn101.cli.datasets import InputSpec, load_dataset, split_validation
from nn101.cli.errors import UsageError
from nn101.cli.inputs import check_labels, read_array
from nn101.cli.models import MODELS, Built, ModelFamily
from nn101.cli.paths import check_model_out
from nn101.data.dataset import Dataset
from nn101.data.transforms import ScaleImages
from nn101.losses import SoftmaxCrossEntropy
from nn101.training.checkpoint import latest_checkpoint

__all__ = ["DEFAULT_OUT", "run_train"]

DEFAULT_OUT = "nn101-model.nn101"
"""Written when --out is not given; the one name replaced without --overwrite."""


@dataclass
class Data:
    """The run's data: ``name`` (a dataset, or ``own``), train, the set reported at the end
    (``test``, or the validation split for the user's own arrays) and the validation set."""

    name: str
    train: Dataset
    report: Dataset | None
    valid: Dataset | None
    spec: InputSpec
    num_classes: int


def run_train(args: argparse.Namespace) -> int:
    family = MODELS[args.model]
    out = _check_arguments(args, family)
    if family.run is not None:
        return family.run(args, out)
    assert family.build is not None
    data = _load_data(args, family)
    rng = np.random.default_rng(args.seed)
    built = family.build(args, data.name, data.spec.shape, data.num_classes, rng)
    if getattr(args, "augment", False):
        from nn101.recipes.cnn import augment_training_set

        data.train = augment_training_set(data.train, data.name, rng=rng)  # fit's generator
    _announce(built, data, args.resume)
    start = time.perf_counter()
    interrupt.fit_or_checkpoint(args, out, built, data.train, data.valid, rng)
    seconds = time.perf_counter() - start
    accuracy = _report(built, data, seconds)
    metadata = _metadata(args, built, data, accuracy)
    overwrite = args.overwrite or args.out is None  # the default name may be replaced
    path = serialization.save(built.model, out, metadata=metadata, overwrite=overwrite)
    print(f"Saved the model to {path} (nn101 evaluate {path})")
    return 0


def _check_arguments(args: argparse.Namespace, family: ModelFamily) -> Path:
    _check_data_arguments(args, family)
    if getattr(args, "augment", False) and args.model != "cnn":
        raise UsageError("--augment (random shifts of the images) is for --model cnn")
    if args.resume is not None:
        args.resume = str(_checkpoint_file(args.resume))
    default = args.out is None
    out = check_model_out("--out", args.out or DEFAULT_OUT, overwrite=args.overwrite or default)
    checkpoint = interrupt.checkpoint_path(out)
    if checkpoint.exists() and not serialization.is_model(checkpoint):
        raise UsageError(
            f"--out {out}: an interrupted run would be saved to {checkpoint}, which exists and "
            f"is not an nn101 file; move it or choose another --out"
        )
    folder = interrupt.checkpoint_dir(out)
    if args.checkpoint_every is not None and folder.exists() and not folder.is_dir():
        raise UsageError(f"--checkpoint-every: {folder} exists and is not a directory")
    return out


def _checkpoint_file(resume: str) -> Path:
    """The checkpoint ``--resume`` names: a file, or the latest in a directory."""
    path = Path(resume)
    if path.is_dir():
        latest = latest_checkpoint(path)
        if latest is None:
            raise UsageError(f"--resume {resume}: the directory holds no checkpoint")
        return latest
    if not path.is_file():
        raise UsageError(f"--resume {resume}: no such checkpoint file or directory")
    return path


def _check_data_arguments(args: argparse.Namespace, family: ModelFamily) -> None:
    if (args.x is None) != (args.y is None):
        raise UsageError("--x and --y go together: inputs X.npy and integer labels Y.npy")
    text = getattr(args, "text", None)
    own = "own" if args.x is not None else "own-text" if text is not None else None
    if own is not None and args.dataset is not None:
        raise UsageError("give either --dataset or your own data (--x/--y or --text), not both")
    wanted = own or args.dataset
    if wanted is not None and wanted not in family.datasets:
        raise UsageError(
            f"--model {args.model} trains on {_data_kinds(family)}; got {_data_kinds([wanted])}"
        )


def _data_kinds(datasets: Any) -> str:
    """'--dataset digits, --dataset mnist or --x/--y' for the dataset names of a family."""
    names = getattr(datasets, "datasets", datasets)
    own = {"own": "--x/--y", "own-text": "--text FILE"}
    words = [own.get(name, f"--dataset {name}") for name in names]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def _load_data(args: argparse.Namespace, family: ModelFamily) -> Data:
    if args.x is not None:
        return _own_data(args, family)
    name = args.dataset or family.datasets[0]
    train, test = load_dataset(
        name, args.data_dir, download=True, flatten=family.flatten, seed=args.seed
    )
    train, valid = split_validation(train, args.val_split or 0.0, args.seed)
    classes = train.classes
    assert train.y is not None and test.y is not None
    num_classes = len(classes) if classes else int(max(train.y.max(), test.y.max())) + 1
    return Data(name, train, test, valid, InputSpec.of(train), num_classes)


def _own_data(args: argparse.Namespace, family: ModelFamily) -> Data:
    """The user's arrays: uint8 inputs are pixels (divided by 255, as MNIST's), others are
    used as they are; an MLP reads each example flattened."""
    x = read_array("--x", args.x)
    y = read_array("--y", args.y)
    check_labels(y, len(x), None, "--y", args.y)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"--x {args.x}: expected finite numbers, got NaN or infinite values")
    if family.flatten:
        x = x.reshape(len(x), -1)  # (N, ...) -> (N, D)
    elif x.ndim == 3:
        x = x[:, np.newaxis]  # images (N, H, W) -> (N, 1, H, W)
    pixels = ScaleImages(255) if x.dtype == np.uint8 else None
    x = x if pixels is not None else x.astype(np.float32)
    own = Dataset(x, y.astype(np.int64), transform=pixels, name=Path(args.x).stem)
    fraction = 0.1 if args.val_split is None else args.val_split
    train, valid = split_validation(own, fraction, args.seed)
    return Data("own", train, valid, valid, InputSpec.of(train), int(y.max()) + 1)


def _announce(built: Built, data: Data, resume: str | None) -> None:
    s = built.settings
    sizes = f"{len(data.train):,} train"
    if data.valid is not None:
        sizes += f" / {len(data.valid):,} validation"
    if data.report is not None and data.report is not data.valid:
        sizes += f" / {len(data.report):,} test"
    schedule = f" ({s.schedule})" if s.schedule != "constant" else ""
    print(
        f"Training {built.description} on {data.name} ({sizes} examples) for "
        f"{epochs(s.epochs)}, {s.optimizer} lr={s.learning_rate:g}{schedule}, "
        f"batch {s.batch_size}",
        flush=True,
    )
    if resume is not None:
        saved = serialization.read_metadata(resume).get("checkpoint", {})
        print(
            f"Resuming the run saved in {resume} (epoch {saved.get('epoch', 0) + 1}, step "
            f"{saved.get('step', '?')})",
            flush=True,
        )


def epochs(count: int) -> str:
    return f"{count} epoch{'' if count == 1 else 's'}"


def _report(built: Built, data: Data, seconds: float) -> float | None:
    if data.report is None:
        print(f"Trained in {seconds:.1f} s (no test or validation set to report)")
        return None
    result = built.model.evaluate(data.report, loss=SoftmaxCrossEntropy())  # type: ignore[attr-defined]
    which = "Test" if data.report is not data.valid else "Validation"
    print(
        f"{which} accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) "
        f"after {seconds:.1f} s of training",
        flush=True,
    )
    return float(result["accuracy"])


def _metadata(
    args: argparse.Namespace, built: Built, data: Data, accuracy: float | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "dataset": data.name,
        "model": args.model,
        "input": data.spec.as_dict(),
        "num_classes": data.num_classes,
        "settings": {**built.settings.as_dict(), "seed": args.seed},
    }
    if data.train.classes:
        metadata["classes"] = list(data.train.classes)
    if accuracy is not None:
        key = "test_accuracy" if data.report is not data.valid else "validation_accuracy"
        metadata[key] = accuracy
    return metadata
