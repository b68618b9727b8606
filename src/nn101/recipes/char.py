"""The character-level LSTM language model: its architecture, training settings, evaluation in
nats per character, and sampling with temperature (``nn101 train --model char-lstm`` and
``nn101 generate`` use these).

The model reads ids (N, T) and predicts the next character at every position:
Embedding(V, E) -> LSTM(E, H, stateful) -> Dense(H, V), logits (N, T, V). Training reads the
text as ``batch_size`` parallel streams in windows of ``seq_len`` (``char_windows``), in order,
so the LSTM carries its state from one window to the next and the gradient is truncated at the
window's start (truncated backpropagation through time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nn101.core import Layer
from nn101.data.dataset import Dataset
from nn101.data.text import CharCorpus, CharVocabulary, char_windows
from nn101.functional import log_softmax
from nn101.layers import LSTM, Dense, Embedding
from nn101.layers.recurrent_base import Recurrent
from nn101.losses import SoftmaxCrossEntropy
from nn101.model import Sequential
from nn101.optimizers import Adam

__all__ = [
    "CharSettings",
    "build_char_lstm",
    "char_datasets",
    "char_optimizer",
    "evaluate_char_loss",
    "generate",
    "vocabulary_metadata",
    "vocabulary_from_metadata",
]


@dataclass(frozen=True)
class CharSettings:
    """Architecture and training settings of the char-LSTM (the defaults are the recipe)."""

    embedding_dim: int = 64
    hidden_size: int = 512
    num_layers: int = 1
    dropout: float = 0.0
    seq_len: int = 64
    batch_size: int = 32
    learning_rate: float = 2e-3
    clip_norm: float = 5.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_char_lstm(
    vocab_size: int,
    settings: CharSettings = CharSettings(),
    *,
    rng: np.random.Generator | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """Embedding -> stateful LSTM -> Dense: ids (N, T) -> logits (N, T, vocab_size)."""
    rng = np.random.default_rng() if rng is None else rng
    s = settings
    return Sequential(
        Embedding(vocab_size, s.embedding_dim, rng=rng, dtype=dtype),
        LSTM(
            s.embedding_dim,
            s.hidden_size,
            num_layers=s.num_layers,
            dropout=s.dropout,
            stateful=True,
            rng=rng,
            dtype=dtype,
        ),
        Dense(s.hidden_size, vocab_size, rng=rng, dtype=dtype),
    )


def char_datasets(corpus: CharCorpus, settings: CharSettings) -> tuple[Dataset, Dataset]:
    """Training and validation windows, each in stateful order (read with shuffle=False)."""
    n, T = settings.batch_size, settings.seq_len
    train = char_windows(corpus.train, T, n, name="shakespeare-train")
    valid = char_windows(corpus.valid, T, n, name="shakespeare-valid")
    return train, valid


def char_optimizer(model: Layer, settings: CharSettings) -> Adam:
    return Adam(model.parameters(), learning_rate=settings.learning_rate)


def recurrent_layers(model: Layer) -> Iterator[Recurrent]:
    return (layer for layer in model.layers_below() if isinstance(layer, Recurrent))


class FreshState:
    """Within the block, recurrent layers are stateful and start from zeros; on exit, their
    flags and carried states are put back (evaluation does not disturb a training run)."""

    def __init__(self, model: Layer) -> None:
        self.layers = list(recurrent_layers(model))

    def __enter__(self) -> None:
        self.saved = [
            (layer.stateful, {a: getattr(layer, a) for a in layer.state_names})
            for layer in self.layers
        ]
        for layer in self.layers:
            layer.stateful = True
            layer.reset_state()

    def __exit__(self, *exc: Any) -> None:
        for layer, (stateful, states) in zip(self.layers, self.saved, strict=True):
            layer.stateful = stateful
            for attr, value in states.items():
                setattr(layer, attr, value)


def evaluate_char_loss(model: Layer, data: Dataset, batch_size: int) -> float:
    """Mean cross-entropy in nats per character over ``data`` (stateful windows, read in order,
    the state carried from window to window as in training)."""
    loss = SoftmaxCrossEntropy(reduction="sum")
    total, count = 0.0, 0
    with FreshState(model):
        for start in range(0, len(data) - batch_size + 1, batch_size):
            x, y = data[start : start + batch_size]
            assert y is not None, "evaluate_char_loss needs targets"
            total += loss.forward(model.forward(x, training=False), y)
            count += y.size
    return total / count


def generate(
    model: Layer,
    vocab: CharVocabulary,
    prompt: str,
    length: int,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
) -> str:
    """``prompt`` followed by ``length`` sampled characters.

    The prompt is read in one call; then each character is drawn from softmax(logits / τ) and
    fed back. τ < 1 sharpens the distribution (safer, more repetitive text), τ > 1 flattens it;
    τ = 0 takes the most likely character. The same ``rng`` seed gives the same text.
    """
    if length < 0 or temperature < 0:
        raise ValueError(
            f"generate: expected length >= 0 and temperature >= 0, got {length} and {temperature}"
        )
    rng = np.random.default_rng() if rng is None else rng
    ids = vocab.encode(prompt or "\n")[None, :]  # (1, P)
    sampled: list[int] = []
    with FreshState(model):
        logits = model.forward(ids, training=False)[0, -1]  # (V,)
        for _ in range(length):
            sampled.append(sample_character(logits, temperature, rng))
            logits = model.forward(np.array([[sampled[-1]]]), training=False)[0, -1]
    return prompt + vocab.decode(np.array(sampled, dtype=np.int64))


def sample_character(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature == 0:
        return int(np.argmax(logits))
    p = np.exp(log_softmax(np.asarray(logits, dtype=np.float64) / temperature))
    return int(rng.choice(len(p), p=p / p.sum()))


def vocabulary_metadata(vocab: CharVocabulary) -> dict[str, str]:
    """What a model file keeps of the vocabulary (``model.save(path, metadata=...)``)."""
    return {"vocabulary": vocab.chars}


def vocabulary_from_metadata(metadata: dict[str, Any]) -> CharVocabulary:
    if "vocabulary" not in metadata:
        raise ValueError("the model file has no character vocabulary (metadata 'vocabulary')")
    return CharVocabulary(metadata["vocabulary"])
