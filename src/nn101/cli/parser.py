"""The argument parser of ``nn101``: every command, option and choice, checked by argparse.

Choices come from the registries (``OPTIMIZERS``, ``ACTIVATIONS``) and the dataset and model
tables, so ``--help`` lists exactly what works. Numbers are checked as they are parsed
(``--epochs 0`` and ``--seed -1`` are usage errors, before any data is read).
"""

from __future__ import annotations

import argparse
import math
from typing import NoReturn

import nn101
from nn101.cli import data, evaluate, tools, train
from nn101.cli.models import MODELS
from nn101.recipes import SCHEDULES
from nn101.registry import ACTIVATIONS, OPTIMIZERS

__all__ = ["build_parser", "Parser"]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``nn101 train: error: ...``, status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    value = int(_number(text, int, "an integer"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def nonnegative_int(text: str) -> int:
    value = int(_number(text, int, "an integer"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float, "a number")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def nonnegative_float(text: str) -> float:
    value = _number(text, float, "a number")
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def _number(text: str, kind: type, expected: str) -> int | float:
    try:
        number: int | float = kind(text)
        return number
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def build_parser() -> Parser:
    parser = Parser(prog="nn101", description="Neural networks from first principles, in NumPy.")
    parser.add_argument("--version", action="version", version=f"nn101 {nn101.__version__}")
    _add_debug(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_train(commands)
    _add_evaluate(commands)
    _add_predict(commands)
    if "char-lstm" in MODELS:
        _add_generate(commands)
    _add_lr_find(commands)
    _add_bench(commands)
    _add_data(commands)
    return parser


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    help: str,
    description: str | None = None,
    epilog: str | None = None,
) -> Parser:
    command: Parser = commands.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_debug(command)
    return command


DATASET_NAMES = sorted({d for f in MODELS.values() for d in f.datasets if not d.startswith("own")})


def _add_data_arguments(parser: argparse.ArgumentParser, *, for_model: bool = False) -> None:
    parser.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        help="dataset (default: the one the model was trained on)"
        if for_model
        else "dataset (default: digits, the 8x8 digits shipped with nn101; shakespeare for "
        "--model char-lstm)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="directory holding the dataset files (default: $NN101_DATA_DIR, then the cache)",
    )


TRAIN_EXAMPLES = """examples:
  nn101 train                                  # MLP on the shipped 8x8 digits, in seconds
  nn101 train --dataset mnist --data-dir DIR   # 784-800-10 MLP, 15 epochs, about 98.5%
  nn101 train --x X.npy --y Y.npy --val-split 0.1 --out mine.nn101
  nn101 train --model cnn --dataset mnist       # two conv layers; --augment: shifts
  nn101 train --model char-lstm --dataset shakespeare
Ctrl-C saves the run and prints the command that resumes it (--resume)."""


def _add_train(commands: argparse._SubParsersAction) -> None:
    command = _command(
        commands,
        "train",
        help="train a model and save it",
        description="Train a model on a dataset or on your own arrays (--x, --y) and save it\n"
        "as one file. Settings left out come from the recipe for the dataset.",
        epilog=TRAIN_EXAMPLES,
    )
    command.add_argument("--model", default="mlp", choices=sorted(MODELS), help="(default: mlp)")
    _add_data_arguments(command)
    _add_own_data_arguments(command)
    _add_fit_arguments(command)
    command.add_argument("--seed", type=nonnegative_int, default=0, help="(default: 0)")
    command.add_argument(
        "--out", metavar="PATH", help=f"model file to write (default: {train.DEFAULT_OUT})"
    )
    command.add_argument(
        "--overwrite", action="store_true", help="replace the nn101 model already at --out"
    )
    command.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue a run from a checkpoint file, or from the latest in a directory",
    )
    command.add_argument(
        "--checkpoint-every",
        type=positive_int,
        metavar="N",
        help="also save the run every N epochs into OUT-checkpoints/ (the last 2 are kept)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.set_defaults(run=train.run_train)


def _add_own_data_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--x", metavar="X.npy", help="your own inputs (N, ...), with --y")
    command.add_argument("--y", metavar="Y.npy", help="your own integer labels (N,), with --x")
    if "char-lstm" in MODELS:
        command.add_argument("--text", metavar="FILE", help="your own text (--model char-lstm)")
        command.add_argument(
            "--seq-len", type=positive_int, help="characters per window (--model char-lstm)"
        )
    command.add_argument(
        "--val-split",
        type=fraction,
        metavar="F",
        help="hold out this fraction of the training data for validation (default: 0; "
        "0.1 with --x)",
    )


def _add_fit_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--epochs", type=positive_int, help="passes over the training set")
    command.add_argument("--batch-size", type=positive_int, help="examples per step")
    command.add_argument("--lr", type=positive_float, help="(initial) learning rate")
    command.add_argument("--optimizer", choices=OPTIMIZERS.names(), help="(default: adam)")
    command.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    command.add_argument(
        "--hidden", help="MLP hidden layer sizes, e.g. 128,64 (0: none, i.e. softmax regression)"
    )
    command.add_argument("--activation", choices=ACTIVATIONS.names(), help="(default: relu)")
    command.add_argument(
        "--dropout", type=fraction, metavar="RATE", help="MLP dropout after each hidden layer"
    )
    if "cnn" in MODELS:
        command.add_argument(
            "--augment",
            action="store_true",
            help="random shifts of up to 2 pixels, new every epoch (--model cnn)",
        )


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    command = _command(commands, "evaluate", help="accuracy of a saved model")
    command.add_argument("model", help="model file written by 'nn101 train'")
    _add_data_arguments(command, for_model=True)
    _add_download(command)
    command.add_argument("--x", metavar="X.npy", help="inputs (instead of the dataset's test set)")
    command.add_argument("--y", metavar="Y.npy", help="integer labels of --x")
    command.set_defaults(run=evaluate.run_evaluate)


def _add_predict(commands: argparse._SubParsersAction) -> None:
    command = _command(commands, "predict", help="predicted classes of a saved model")
    command.add_argument("model", help="model file written by 'nn101 train'")
    _add_data_arguments(command, for_model=True)
    _add_download(command)
    command.add_argument("--x", metavar="X.npy", help="inputs (default: the dataset's test set)")
    command.add_argument("--output", metavar="PREDS.npy", help="write the classes to this file")
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing --output file"
    )
    command.add_argument(
        "--limit", type=nonnegative_int, default=20, help="how many predictions to print"
    )
    command.set_defaults(run=evaluate.run_predict)


def _add_download(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--download", action="store_true", help="download the dataset if it is not found"
    )


def _add_generate(commands: argparse._SubParsersAction) -> None:
    from nn101.cli import char

    command = _command(commands, "generate", help="sample text from a character model")
    char.add_command(command, {"count": nonnegative_int, "temperature": nonnegative_float})


def _add_lr_find(commands: argparse._SubParsersAction) -> None:
    command = _command(
        commands,
        "lr-find",
        help="learning-rate range test (Smith 2017)",
        description="Sweep the learning rate exponentially over a few hundred steps of an MLP "
        "and suggest one; optionally plot loss against rate.",
    )
    _add_data_arguments(command)
    command.add_argument("--hidden", help="hidden layer sizes (default: as 'train')")
    command.add_argument("--activation", default="relu", choices=ACTIVATIONS.names())
    command.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS.names())
    command.add_argument("--batch-size", type=positive_int, default=32)
    command.add_argument("--steps", type=positive_int, default=200, help="steps of the sweep")
    command.add_argument("--start-lr", type=positive_float, default=1e-6)
    command.add_argument("--end-lr", type=positive_float, default=10.0)
    command.add_argument("--seed", type=nonnegative_int, default=0)
    command.add_argument("--plot", help="save a loss-vs-rate figure here (needs matplotlib)")
    command.set_defaults(run=tools.run_lr_find)


def _add_bench(commands: argparse._SubParsersAction) -> None:
    command = _command(
        commands,
        "bench",
        help="run the benchmark suite (from a source checkout's root)",
        description="Run `python -m benchmarks` with these arguments (benchmarks/README.md).",
    )
    command.add_argument("args", nargs=argparse.REMAINDER, help="e.g. --quick, --profile")
    command.set_defaults(run=tools.run_bench)


def _add_data(commands: argparse._SubParsersAction) -> None:
    command = _command(commands, "data", help="download or inspect datasets")
    actions = command.add_subparsers(
        dest="data_command", metavar="ACTION", required=True, parser_class=Parser
    )
    download = actions.add_parser(
        "download", help="download and verify MNIST or Fashion-MNIST into the cache"
    )
    download.add_argument("name", choices=data.DOWNLOADABLE)
    download.add_argument("--dir", help="directory to put the files in (default: the cache)")
    download.set_defaults(run=data.run_download)
    info = actions.add_parser("info", help="which dataset files a directory holds")
    info.add_argument("directory")
    info.set_defaults(run=data.run_info)
