"""``--model``: the model families ``nn101 train`` can build, each from its recipe.

A classifier family (``mlp``, ``cnn``) turns the command line and the data's shapes into a
model, its fit settings and a one-line description; ``train.py`` does the rest. A family with a
loop of its own (``char-lstm``: text, not labelled examples) gives ``run`` instead. Families
whose recipe module is not there are not offered.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nn101.cli.errors import UsageError
from nn101.core import Layer
from nn101.recipes import FitSettings, mlp_recipe

__all__ = ["MODELS", "ModelFamily", "Built", "fit_changes"]

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist")


@dataclass(frozen=True)
class Built:
    """A model ready to fit: ``fit_options`` are further ``fit`` arguments (``clip_norm`` ...)."""

    model: Layer
    settings: FitSettings
    description: str
    fit_options: dict[str, Any] = field(default_factory=dict)


Build = Callable[[argparse.Namespace, str, tuple[int, ...], int, np.random.Generator], Built]


@dataclass(frozen=True)
class ModelFamily:
    """``datasets`` it trains on (the first is the default; ``own``: --x/--y arrays);
    ``flatten``: images read as vectors (N, H*W) or as (N, 1, H, W); ``build(args, dataset,
    input_shape, num_classes, rng)`` makes a classifier, or ``run(args, out)`` trains alone."""

    datasets: tuple[str, ...]
    flatten: bool = True
    build: Build | None = None
    run: Callable[[argparse.Namespace, Path], int] | None = None


def fit_changes(args: argparse.Namespace) -> dict[str, object]:
    """The fit settings given on the command line (None: the recipe's)."""
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "optimizer": args.optimizer,
        "schedule": args.schedule,
    }


def _build_mlp(
    args: argparse.Namespace,
    dataset: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    rng: np.random.Generator,
) -> Built:
    try:
        recipe = mlp_recipe(
            dataset,
            hidden=args.hidden,
            activation=args.activation,
            dropout=args.dropout,
            **fit_changes(args),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    in_features = int(np.prod(input_shape))
    sizes = "-".join(str(s) for s in [in_features, *recipe.hidden, num_classes])
    kind = "an MLP" if recipe.hidden else "softmax regression"
    extra = f", dropout {recipe.dropout:g}" if recipe.dropout else ""
    model = recipe.build(in_features, num_classes, rng)
    return Built(model, recipe.fit, f"{kind} {sizes}{extra}")


def _build_cnn(
    args: argparse.Namespace,
    dataset: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    rng: np.random.Generator,
) -> Built:
    from nn101.recipes.cnn import build_cnn

    if len(input_shape) != 3:
        raise UsageError(
            f"--model cnn expects images (N, H, W) or (N, C, H, W), got examples of shape "
            f"{input_shape}"
        )
    channels, height, width = input_shape
    try:
        model, fit = build_cnn(
            dataset,
            in_channels=channels,
            image_size=(height, width),
            num_classes=num_classes,
            augment=args.augment,
            rng=rng,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    shifts = ", random shifts" if args.augment else ""
    description = f"a CNN (conv 32, conv 64, dense 128) on {channels}x{height}x{width} images"
    return Built(model, fit.with_changes(**fit_changes(args)), description + shifts)


def _families() -> dict[str, ModelFamily]:
    families = {"mlp": ModelFamily((*IMAGE_DATASETS, "spirals", "own"), build=_build_mlp)}
    if importlib.util.find_spec("nn101.recipes.cnn") is not None:
        families["cnn"] = ModelFamily(("mnist", "fashion-mnist", "own"), False, _build_cnn)
    if importlib.util.find_spec("nn101.recipes.char") is not None:
        from nn101.cli import char

        families["char-lstm"] = ModelFamily(("shakespeare", "own-text"), run=char.run_train)
    return families


MODELS: dict[str, ModelFamily] = _families()
