"""``nn101 lr-find`` (the learning-rate range test) and ``nn101 bench``."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nn101.cli.datasets import DATASETS, load_dataset
from nn101.cli.errors import UsageError
from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.losses import SoftmaxCrossEntropy
from nn101.recipes import MLPRecipe, mlp_recipe
from nn101.registry import OPTIMIZERS
from nn101.training import lr_find

__all__ = ["run_lr_find", "run_bench"]


def run_lr_find(args: argparse.Namespace) -> int:
    if args.start_lr >= args.end_lr:
        raise UsageError(f"--start-lr {args.start_lr:g} must be below --end-lr {args.end_lr:g}")
    name = args.dataset or "digits"
    if name not in DATASETS:
        raise UsageError(f"lr-find sweeps an MLP: expected one of {', '.join(DATASETS)}")
    rng = np.random.default_rng(args.seed)
    train, _ = load_dataset(name, args.data_dir, download=True, seed=args.seed)
    model, in_features, recipe, num_classes = _model(args, name, train, rng)
    make = OPTIMIZERS.get(args.optimizer)
    result = lr_find(
        model,
        train,
        loss=SoftmaxCrossEntropy(),
        optimizer_factory=lambda params, rate: make(params, learning_rate=rate),
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_steps=args.steps,
        batch_size=args.batch_size,
        rng=rng,
    )
    sizes = "-".join(str(s) for s in [in_features, *recipe.hidden, num_classes])
    print(
        f"Swept {len(result.rates)} rates from {result.rates[0]:.2g} to "
        f"{result.rates[-1]:.2g} ({args.optimizer}, MLP {sizes})"
    )
    print(f"Suggested learning rate: {result.suggestion:.3g}")
    if args.plot:
        _plot(result, args.plot)
        print(f"Saved the plot to {args.plot}")
    return 0


def _model(
    args: argparse.Namespace, name: str, train: Dataset, rng: np.random.Generator
) -> tuple[Layer, int, MLPRecipe, int]:
    """The MLP of the dataset's recipe (with --hidden and --activation) to sweep."""
    assert train.y is not None
    num_classes = len(train.classes) if train.classes else int(train.y.max()) + 1
    try:
        recipe = mlp_recipe(name, hidden=args.hidden, activation=args.activation)
    except ValueError as error:
        raise UsageError(str(error)) from None
    in_features = int(np.prod(train.x.shape[1:]))
    return recipe.build(in_features, num_classes, rng), in_features, recipe, num_classes


def _plot(result: Any, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(result.rates, result.losses)
    top = min(float(np.max(result.losses)), 1.5 * float(result.losses[0]))  # hide the blow-up
    ax.set_ylim(float(np.min(result.losses)) * 0.95, top)
    ax.axvline(
        result.suggestion, color="C3", linestyle="--", label=f"suggested {result.suggestion:.2g}"
    )
    ax.set(xlabel="learning rate", ylabel="smoothed loss", title="Learning-rate range test")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_bench(args: argparse.Namespace) -> int:
    if not Path("benchmarks", "__main__.py").is_file():
        raise UsageError(
            "the benchmarks/ package is part of a source checkout: run "
            "'nn101 bench' from the repository root"
        )
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.args])
