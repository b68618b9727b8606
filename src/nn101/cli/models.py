"""``--model``: the model families ``nn101 train`` can build, each from its recipe.

A family turns the command line and the data's shapes into a model, its fit settings and a
one-line description. ``mlp`` is always there; ``cnn`` and ``char-lstm`` come with their
recipes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nn101.cli.errors import UsageError
from nn101.core import Layer
from nn101.recipes import FitSettings, mlp_recipe

__all__ = ["MODELS", "ModelFamily", "Built", "fit_changes"]


@dataclass(frozen=True)
class Built:
    model: Layer
    settings: FitSettings
    description: str


@dataclass(frozen=True)
class ModelFamily:
    """``flatten``: whether image datasets are read as vectors (N, H*W) or images (N, 1, H, W).
    ``build(args, dataset, input_shape, num_classes, rng)`` makes the model."""

    flatten: bool
    build: Callable[[argparse.Namespace, str, tuple[int, ...], int, np.random.Generator], Built]


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


MODELS: dict[str, ModelFamily] = {"mlp": ModelFamily(flatten=True, build=_build_mlp)}
