"""The ``nn101`` command: train, evaluate, predict, find a learning rate, manage datasets.

This is the string boundary: names such as ``"relu"`` or ``"adam"`` become classes here, through
the registries below, and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import nn101
from nn101 import data, optimizers, serialization
from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.data.fetch import DownloadError
from nn101.layers import Dense, LeakyReLU, ReLU, Sigmoid, Tanh
from nn101.losses import SoftmaxCrossEntropy
from nn101.model import Sequential

ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}
OPTIMIZERS: dict[str, type[optimizers.Optimizer]] = {
    cls.__name__.lower(): cls
    for cls in vars(optimizers).values()
    if isinstance(cls, type)
    and issubclass(cls, optimizers.Optimizer)
    and cls is not optimizers.Optimizer
}
DATASETS = ("digits", "mnist", "fashion-mnist", "spirals")

# Settings that reach the accuracy the README documents, per dataset (see README). Without a
# hidden layer (softmax regression) the default rate is LINEAR_LR: a convex problem with few
# parameters takes larger steps safely.
LINEAR_LR = 1e-2
DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"epochs": 40, "batch_size": 16, "lr": 1e-3, "hidden": "128,64"},
    "spirals": {"epochs": 200, "batch_size": 32, "lr": 1e-2, "hidden": "64,64"},
    "mnist": {"epochs": 20, "batch_size": 128, "lr": 1e-3, "hidden": "800"},
    "fashion-mnist": {"epochs": 20, "batch_size": 128, "lr": 1e-3, "hidden": "800"},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) != "bench":  # only bench passes options on
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.args = [*args.args, *extra]
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError, FloatingPointError, DownloadError) as error:
        print(f"nn101 {args.command}: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nn101", description="Neural networks from first principles, in NumPy."
    )
    parser.add_argument("--version", action="version", version=f"nn101 {nn101.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train an MLP and save it",
        description="Train an MLP (defaults: the shipped 8x8 digits).",
    )
    _add_data_arguments(train)
    train.add_argument("--epochs", type=int, help="passes over the training set")
    train.add_argument("--batch-size", type=int, help="examples per step")
    train.add_argument(
        "--lr",
        type=float,
        help=f"learning rate (default: 1e-3 for an MLP, {LINEAR_LR:g} without a hidden layer)",
    )
    train.add_argument(
        "--hidden", help="hidden layer sizes, e.g. 128,64 (0: none, i.e. softmax regression)"
    )
    train.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS))
    train.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    train.add_argument("--seed", type=int, default=0, help="seed for init and shuffling")
    train.add_argument("--out", default="nn101-model", help="directory to save the model in")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser("evaluate", help="accuracy of a saved model")
    evaluate.add_argument("model", help="model directory written by 'nn101 train'")
    _add_data_arguments(evaluate, default=None)
    evaluate.add_argument("--x", help=".npy file of inputs (instead of a dataset)")
    evaluate.add_argument("--y", help=".npy file of integer labels (with --x)")
    evaluate.set_defaults(run=run_evaluate)

    predict = commands.add_parser("predict", help="predicted classes of a saved model")
    predict.add_argument("model", help="model directory written by 'nn101 train'")
    _add_data_arguments(predict, default=None)
    predict.add_argument("--x", help=".npy file of inputs (default: the dataset's test split)")
    predict.add_argument("--output", help="write the predictions to this .npy file")
    predict.add_argument("--limit", type=int, default=20, help="how many predictions to print")
    predict.set_defaults(run=run_predict)

    finder = commands.add_parser(
        "lr-find",
        help="learning-rate range test (Smith 2017)",
        description="Sweep the learning rate exponentially over a few hundred steps of an MLP "
        "and suggest one; optionally plot loss against rate.",
    )
    _add_data_arguments(finder)
    finder.add_argument("--hidden", help="hidden layer sizes (default: as 'train')")
    finder.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS))
    finder.add_argument("--optimizer", default="sgd", choices=sorted(OPTIMIZERS))
    finder.add_argument("--batch-size", type=int, default=32)
    finder.add_argument("--steps", type=int, default=200, help="steps of the sweep")
    finder.add_argument("--start-lr", type=float, default=1e-6)
    finder.add_argument("--end-lr", type=float, default=10.0)
    finder.add_argument("--seed", type=int, default=0)
    finder.add_argument("--plot", help="save a loss-vs-rate figure here (needs matplotlib)")
    finder.set_defaults(run=run_lr_find)

    bench = commands.add_parser(
        "bench",
        help="run the benchmark suite (from a source checkout's root)",
        description="Run `python -m benchmarks` with these arguments (benchmarks/README.md).",
    )
    bench.add_argument("args", nargs=argparse.REMAINDER, help="e.g. --quick, --profile")
    bench.set_defaults(run=run_bench)

    data_command = commands.add_parser("data", help="download or inspect datasets")
    data_commands = data_command.add_subparsers(
        dest="data_command", metavar="ACTION", required=True
    )
    download = data_commands.add_parser(
        "download", help="download and verify MNIST or Fashion-MNIST into the cache"
    )
    download.add_argument("name", choices=("mnist", "fashion-mnist"))
    download.add_argument("--dir", help="directory to put the files in (default: the cache)")
    download.set_defaults(run=run_data_download)
    info = data_commands.add_parser("info", help="which dataset files a directory holds")
    info.add_argument("directory")
    info.set_defaults(run=run_data_info)
    return parser


def _add_data_arguments(parser: argparse.ArgumentParser, default: str | None = "digits") -> None:
    parser.add_argument(
        "--dataset",
        default=default,
        choices=DATASETS,
        help="dataset (default: %(default)s)"
        if default
        else "dataset (default: the one the model was trained on)",
    )
    parser.add_argument(
        "--data-dir",
        help="directory holding the dataset files (default: $NN101_DATA_DIR, then the cache)",
    )


# -- commands ------------------------------------------------------------------------------


def run_train(args: argparse.Namespace) -> int:
    settings = {
        **DEFAULTS[args.dataset],
        **{k: v for k, v in vars(args).items() if k in DEFAULTS["digits"] and v is not None},
    }
    rng = np.random.default_rng(args.seed)
    train, test = load_dataset(args.dataset, args.data_dir, seed=args.seed)
    num_classes = int(max(train.y.max(), test.y.max())) + 1  # type: ignore[union-attr]
    in_features = int(np.prod(train.x.shape[1:]))
    hidden = parse_hidden(settings["hidden"])
    if not hidden and args.lr is None:
        settings["lr"] = LINEAR_LR
    model = build_mlp(in_features, hidden, num_classes, args.activation, rng=rng)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), learning_rate=settings["lr"])
    print(
        f"Training {_describe(in_features, hidden, num_classes)} on {args.dataset} "
        f"({len(train):,} train / {len(test):,} test examples) for {settings['epochs']} "
        f"epochs, {args.optimizer} lr={settings['lr']:g}, batch {settings['batch_size']}"
    )
    start = time.perf_counter()
    model.fit(
        train,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        optimizer=optimizer,
        loss=SoftmaxCrossEntropy(),
        rng=rng,
        verbose=0 if args.quiet else 1,
    )
    seconds = time.perf_counter() - start
    result = model.evaluate(test, loss=SoftmaxCrossEntropy())
    print(
        f"Test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) "
        f"after {seconds:.1f} s of training"
    )
    metadata = {
        "dataset": args.dataset,
        "test_accuracy": result["accuracy"],
        "settings": {
            **settings,
            "activation": args.activation,
            "optimizer": args.optimizer,
            "seed": args.seed,
        },
    }
    path = model.save(args.out, metadata=metadata)
    print(f"Saved the model to {path}/ (nn101 evaluate {path})")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    model = _load_sequential(args.model)
    test = _inputs_for(args, need_labels=True)
    result = model.evaluate(test, loss=SoftmaxCrossEntropy())
    print(
        f"Test accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) "
        f"on {len(test):,} examples"
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    model = _load_sequential(args.model)
    inputs = _inputs_for(args, need_labels=False)
    labels = model.predict(inputs).argmax(axis=1)
    if args.output:
        np.save(args.output, labels, allow_pickle=False)
        print(f"Wrote {len(labels):,} predictions to {args.output}")
    shown = labels[: max(args.limit, 0)]
    print(
        "Predicted classes: "
        + " ".join(str(int(c)) for c in shown)
        + (" ..." if len(labels) > len(shown) else "")
    )
    return 0


def run_lr_find(args: argparse.Namespace) -> int:
    from nn101.training import lr_find

    rng = np.random.default_rng(args.seed)
    train, _ = load_dataset(args.dataset, args.data_dir, seed=args.seed)
    num_classes = int(train.y.max()) + 1  # type: ignore[union-attr]
    in_features = int(np.prod(train.x.shape[1:]))
    hidden = parse_hidden(args.hidden or DEFAULTS[args.dataset]["hidden"])
    model = build_mlp(in_features, hidden, num_classes, args.activation, rng=rng)
    cls = OPTIMIZERS[args.optimizer]
    result = lr_find(
        model,
        train,
        loss=SoftmaxCrossEntropy(),
        optimizer_factory=lambda params, rate: cls(params, learning_rate=rate),
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_steps=args.steps,
        batch_size=args.batch_size,
        rng=rng,
    )
    print(
        f"Swept {len(result.rates)} rates from {result.rates[0]:.2g} to "
        f"{result.rates[-1]:.2g} ({args.optimizer}, {_describe(in_features, hidden, num_classes)})"
    )
    print(f"Suggested learning rate: {result.suggestion:.3g}")
    if args.plot:
        _plot_lr_find(result, args.plot)
        print(f"Saved the plot to {args.plot}")
    return 0


def _plot_lr_find(result: Any, path: str) -> None:
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
    import subprocess

    if not Path("benchmarks", "__main__.py").is_file():
        raise FileNotFoundError(
            "the benchmarks/ package is part of a source checkout: run "
            "'nn101 bench' from the repository root"
        )
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.args])


def run_data_download(args: argparse.Namespace) -> int:
    directory = data.download(args.name, args.dir)
    print(f"{args.name}: all files verified in {directory}")
    return 0


def run_data_info(args: argparse.Namespace) -> int:
    print(data.describe(args.directory))
    return 0


# -- helpers --------------------------------------------------------------------------------


def build_mlp(
    in_features: int,
    hidden: list[int],
    num_classes: int,
    activation: str,
    *,
    rng: np.random.Generator,
) -> Sequential:
    """Dense + activation per hidden size, then a Dense to the class scores (logits)."""
    layers: list[Layer] = []
    sizes = [in_features, *hidden]
    init = "he_uniform" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(fan_in, fan_out, rng=rng, weight_init=init), ACTIVATIONS[activation]()]
    layers.append(Dense(sizes[-1], num_classes, rng=rng))
    return Sequential(*layers)


def parse_hidden(text: str) -> list[int]:
    """'128,64' -> [128, 64]; '0' or '' -> [] (no hidden layer)."""
    try:
        sizes = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--hidden expects sizes like 128,64, got {text!r}") from None
    if any(size < 0 for size in sizes):
        raise ValueError(f"--hidden sizes must be >= 0, got {text!r}")
    return [size for size in sizes if size > 0]


def load_dataset(name: str, data_dir: str | None, seed: int = 0) -> tuple[Dataset, Dataset]:
    if name == "digits":
        return data.load_digits()
    if name == "mnist":
        return data.load_mnist(data_dir=data_dir)
    if name == "fashion-mnist":
        return data.load_fashion_mnist(data_dir=data_dir)
    if name == "spirals":
        x, y = data.spirals(rng=np.random.default_rng(seed))
        x_train, x_test, y_train, y_test = data.train_test_split(
            x, y, test_size=0.25, rng=np.random.default_rng(seed)
        )
        return Dataset(x_train, y_train, name="spirals"), Dataset(x_test, y_test, name="spirals")
    raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


def _inputs_for(args: argparse.Namespace, *, need_labels: bool) -> Dataset:
    if args.x:
        x = np.load(args.x, allow_pickle=False)
        y = np.load(args.y, allow_pickle=False) if getattr(args, "y", None) else None
        if need_labels and y is None:
            raise ValueError("--x needs --y (a .npy file of integer labels) to evaluate")
        return Dataset(x.reshape(len(x), -1).astype(np.float32), y, name=Path(args.x).name)
    name = args.dataset or serialization.read_metadata(args.model).get("dataset", "digits")
    return load_dataset(name, args.data_dir)[1]


def _load_sequential(path: str) -> Sequential:
    model = serialization.load(path)
    if not isinstance(model, Sequential):
        raise ValueError(f"{path} holds a {type(model).__name__}, expected a Sequential model")
    return model


def _describe(in_features: int, hidden: list[int], num_classes: int) -> str:
    sizes = "-".join(str(s) for s in [in_features, *hidden, num_classes])
    return f"an MLP {sizes}" if hidden else f"softmax regression {sizes}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
