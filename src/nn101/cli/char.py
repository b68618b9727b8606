"""``nn101 train --model char-lstm`` and ``nn101 generate``: a character-level language model.

Training reads tiny Shakespeare (or ``--text FILE``, split the same way: the first 90% for
training, the last 10% for validation) as parallel streams of windows, in order, so that the
LSTM carries its state from window to window; the recipe is ``nn101.recipes.char``. The
vocabulary is saved with the model, and ``generate`` samples from it with a temperature.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nn101 import serialization
from nn101.cli import interrupt
from nn101.cli.errors import UsageError
from nn101.cli.models import Built
from nn101.core import Layer
from nn101.data.text import CharCorpus, CharVocabulary, load_shakespeare
from nn101.recipes import FitSettings, parse_hidden
from nn101.recipes.char import (
    CharSettings,
    build_char_lstm,
    char_datasets,
    evaluate_char_loss,
    generate,
    vocabulary_from_metadata,
    vocabulary_metadata,
)

__all__ = ["CHAR_EPOCHS", "run_train", "add_command", "run_generate"]

CHAR_EPOCHS = 5
"""Passes over the text by default (tiny Shakespeare: about 245 steps each)."""


def run_train(args: argparse.Namespace, out: Path) -> int:
    settings, fit = _settings(args)
    corpus = _corpus(args)
    train, valid = char_datasets(corpus, settings)
    rng = np.random.default_rng(args.seed)
    model = build_char_lstm(len(corpus.vocab), settings, rng=rng)
    options = {"shuffle": False, "clip_norm": settings.clip_norm}  # stateful windows, in order
    e, h = settings.embedding_dim, settings.hidden_size
    built = Built(model, fit, f"a char-LSTM (embedding {e}, LSTM {h})", options)
    name = corpus.path.name
    print(
        f"Training {built.description} on {name} ({len(corpus.train):,} / {len(corpus.valid):,} "
        f"characters, vocabulary {len(corpus.vocab)}) for {fit.epochs} epochs, "
        f"{fit.optimizer} lr={fit.learning_rate:g} ({fit.schedule}), batch {fit.batch_size} x "
        f"{settings.seq_len} characters",
        flush=True,
    )
    start = time.perf_counter()
    interrupt.fit_or_checkpoint(args, out, built, train, None, rng)
    seconds = time.perf_counter() - start
    loss = evaluate_char_loss(model, valid, settings.batch_size)
    print(f"Validation loss: {loss:.4f} nats per character after {seconds:.1f} s of training")
    metadata = _metadata(args, corpus, settings, fit, loss)
    overwrite = args.overwrite or args.out is None
    path = serialization.save(model, out, metadata=metadata, overwrite=overwrite)
    print(f"Saved the model to {path} (nn101 generate {path} --length 200)")
    return 0


def _settings(args: argparse.Namespace) -> tuple[CharSettings, FitSettings]:
    changes: dict[str, Any] = {
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "seq_len": getattr(args, "seq_len", None),
        "dropout": args.dropout,
    }
    if args.hidden is not None:
        sizes = parse_hidden(args.hidden)
        if len(set(sizes)) != 1:
            raise UsageError(f"--hidden for char-lstm: expected one LSTM size, got {args.hidden!r}")
        changes.update(hidden_size=sizes[0], num_layers=len(sizes))
    settings = replace(CharSettings(), **{k: v for k, v in changes.items() if v is not None})
    fit = FitSettings(
        args.epochs or CHAR_EPOCHS,
        settings.batch_size,
        settings.learning_rate,
        optimizer=args.optimizer or "adam",
        schedule=args.schedule or "cosine",
    )
    return settings, fit


def _corpus(args: argparse.Namespace) -> CharCorpus:
    if args.text is None:
        return load_shakespeare(args.data_dir)
    path = Path(args.text)
    if not path.is_file():
        raise UsageError(f"--text {args.text}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"--text {args.text}: expected UTF-8 text ({error.reason})") from None
    vocab = CharVocabulary.from_text(text) if text else None
    if vocab is None or len(text) < 100:
        raise ValueError(f"--text {args.text}: expected at least 100 characters, got {len(text)}")
    n_train = int(len(text) * 0.9)
    return CharCorpus(vocab, vocab.encode(text[:n_train]), vocab.encode(text[n_train:]), path)


def _metadata(
    args: argparse.Namespace,
    corpus: CharCorpus,
    settings: CharSettings,
    fit: FitSettings,
    loss: float,
) -> dict[str, Any]:
    return {
        "dataset": "shakespeare" if args.text is None else "own-text",
        "model": "char-lstm",
        **vocabulary_metadata(corpus.vocab),
        "settings": {**settings.to_dict(), **fit.as_dict(), "seed": args.seed},
        "validation_loss": loss,
    }


def run_evaluate(args: argparse.Namespace, model: Layer, metadata: dict[str, Any]) -> int:
    """Validation loss of a character model on tiny Shakespeare's last 10%."""
    if metadata.get("dataset") != "shakespeare" or args.x is not None:
        raise UsageError(
            f"{args.model} was trained on a text of its own; nn101 evaluates character models "
            f"on tiny Shakespeare only"
        )
    saved = metadata.get("settings", {})
    settings = replace(
        CharSettings(), **{k: saved[k] for k in ("batch_size", "seq_len") if k in saved}
    )
    corpus = load_shakespeare(args.data_dir, download=args.download)
    if corpus.vocab.chars != metadata.get("vocabulary"):
        raise ValueError(f"{args.model}: its vocabulary is not tiny Shakespeare's")
    _, valid = char_datasets(corpus, settings)
    loss = evaluate_char_loss(model, valid, settings.batch_size)
    print(f"Validation loss: {loss:.4f} nats per character on {len(corpus.valid):,} characters")
    return 0


def add_command(command: argparse.ArgumentParser, kinds: dict[str, Any]) -> None:
    """The options of ``nn101 generate`` (``kinds``: the parser's checked number types)."""
    command.add_argument("model", help="model file written by 'nn101 train --model char-lstm'")
    command.add_argument("--prompt", default="\n", help="text to start from (default: a newline)")
    command.add_argument("--length", type=kinds["count"], default=500, help="characters to add")
    command.add_argument(
        "--temperature",
        type=kinds["temperature"],
        default=1.0,
        help="below 1: safer, more repetitive; above 1: wilder; 0: always the likeliest",
    )
    command.add_argument("--seed", type=kinds["count"], help="the same seed, the same text")
    command.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    path = Path(args.model)
    if not path.exists():
        raise UsageError(f"{args.model}: no such model file")
    if not serialization.is_model(path):
        raise UsageError(f"{args.model}: not an nn101 model")
    metadata = serialization.read_metadata(path)
    if "vocabulary" not in metadata:
        raise UsageError(
            f"{args.model}: not a character model (it has no vocabulary); train one with "
            f"'nn101 train --model char-lstm'"
        )
    vocab = vocabulary_from_metadata(metadata)
    unknown = sorted(set(args.prompt) - set(vocab.chars))
    if unknown:
        raise UsageError(
            f"--prompt: the characters {''.join(unknown)!r} are not in the model's vocabulary"
        )
    model = serialization.load(path)
    rng = np.random.default_rng(args.seed)
    print(generate(model, vocab, args.prompt, args.length, args.temperature, rng))
    return 0
