"""Character-level text: the tiny Shakespeare corpus, its vocabulary, and windows of ids.

``load_shakespeare()`` finds (or downloads and verifies) Andrej Karpathy's tiny Shakespeare,
1,115,394 characters, and splits it as nanoGPT does: the first 90% (1,003,854 characters) for
training, the last 10% (111,540) for validation, so validation losses compare with its figures.
The vocabulary is that of the training text (65 characters, sorted).

``char_windows(ids, seq_len, batch_size)`` cuts ids into the (x, y) pairs of next-character
prediction, ordered for *stateful* training: the text is split into ``batch_size`` streams, and
row n of batch k + 1 continues row n of batch k, so a recurrent layer can carry its state from
one batch to the next (read the batches in order: ``shuffle=False``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nn101.data.dataset import Dataset
from nn101.data.fetch import cache_dir, fetch_file, sha256_of
from nn101.registry import DATASETS

__all__ = [
    "SHAKESPEARE",
    "CharVocabulary",
    "CharCorpus",
    "find_shakespeare",
    "load_shakespeare",
    "char_windows",
]

SHAKESPEARE: dict[str, Any] = {
    "filename": "input.txt",
    "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "size": 1_115_394,
    "mirrors": [
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",
        "https://raw.githubusercontent.com/karpathy/char-rnn/"
        "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/",
    ],
    "local_names": ["tinyshakespeare.txt", "text/tinyshakespeare.txt", "input.txt"],
}
"""Where tiny Shakespeare comes from (karpathy/char-rnn, MIT; the text is public domain)."""

TRAIN_FRACTION = 0.9


class CharVocabulary:
    """The characters of a text, sorted; id = position. ``encode`` / ``decode`` convert.

    ``chars`` (a string) is all there is to save: ``CharVocabulary(vocab.chars)`` rebuilds it.
    """

    def __init__(self, chars: str) -> None:
        if len(set(chars)) != len(chars) or not chars:
            raise ValueError(f"CharVocabulary expected distinct characters, got {chars!r}")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int64 ids, (len(text),); a character outside the vocabulary is an error."""
        try:
            return np.array([self._index[c] for c in text], dtype=np.int64)
        except KeyError as error:
            raise ValueError(
                f"character {error.args[0]!r} is not in the vocabulary of {len(self)} "
                f"characters {self.chars!r}"
            ) from None

    def decode(self, ids: np.ndarray) -> str:
        """Ids -> text."""
        return "".join(self.chars[int(i)] for i in np.ravel(ids))

    def __repr__(self) -> str:
        return f"CharVocabulary({len(self)} characters)"


@dataclass(frozen=True)
class CharCorpus:
    """A text split into training and validation ids, with the training text's vocabulary."""

    vocab: CharVocabulary
    train: np.ndarray  # (n_train,) int64 ids
    valid: np.ndarray  # (n_valid,) int64 ids
    path: Path


def find_shakespeare(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = True
) -> Path:
    """The path of tiny Shakespeare: ``data_dir`` (or ``$NN101_DATA_DIR``), then the cache
    (``~/.cache/nn101/tinyshakespeare``), else downloaded there and checked by SHA-256."""
    given = data_dir if data_dir is not None else os.environ.get("NN101_DATA_DIR")
    cache = cache_dir("tinyshakespeare")
    places = [Path(given) / name for name in SHAKESPEARE["local_names"]] if given else []
    places.append(cache / SHAKESPEARE["filename"])
    for place in places:
        if place.is_file():
            return place
    if not download:
        looked = "\n".join(f"  {place}" for place in places)
        raise FileNotFoundError(
            f"tiny Shakespeare was not found (download=False); looked in:\n{looked}"
        )
    return fetch_file(
        SHAKESPEARE["filename"],
        SHAKESPEARE["sha256"],
        cache,
        SHAKESPEARE["mirrors"],
        size=SHAKESPEARE["size"],
    )


def load_shakespeare(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> CharCorpus:
    """Tiny Shakespeare as ids: the first 90% for training, the last 10% for validation."""
    path = find_shakespeare(data_dir, download=download)
    if verify and sha256_of(path) != SHAKESPEARE["sha256"]:
        raise ValueError(
            f"{path}: expected tiny Shakespeare with SHA-256 {SHAKESPEARE['sha256']}, "
            f"got {sha256_of(path)}"
        )
    text = path.read_text(encoding="utf-8")
    n_train = int(len(text) * TRAIN_FRACTION)
    vocab = CharVocabulary.from_text(text[:n_train])
    return CharCorpus(vocab, vocab.encode(text[:n_train]), vocab.encode(text[n_train:]), path)


def char_windows(ids: np.ndarray, seq_len: int, batch_size: int, *, name: str = "text") -> Dataset:
    """(x, y) windows for next-character prediction, in stateful order.

    The ids are cut into ``batch_size`` equal streams (the tail that does not fill a window is
    dropped); window k of stream n is example ``k * batch_size + n``, with x its ``seq_len``
    ids and y the same shifted by one. Batches of ``batch_size`` read in order therefore
    continue each other row by row.
    Shapes: ids (L,) -> Dataset with x, y (num_windows * batch_size, seq_len), int64.
    """
    ids = np.asarray(ids, dtype=np.int64)
    stream = (len(ids) - 1) // batch_size  # each stream needs one extra id for its targets
    windows = stream // seq_len
    if windows < 1:
        raise ValueError(
            f"char_windows: {len(ids)} ids are too few for {batch_size} streams of windows of "
            f"{seq_len}; expected at least {batch_size * seq_len + 1}"
        )
    used = windows * seq_len
    starts = np.arange(batch_size) * stream  # (B,)
    x = np.stack([ids[s : s + used] for s in starts])  # (B, used)
    y = np.stack([ids[s + 1 : s + 1 + used] for s in starts])
    # (B, windows, T) -> (windows, B, T) -> (windows * B, T): window k of stream n at k*B + n
    x = x.reshape(batch_size, windows, seq_len).transpose(1, 0, 2).reshape(-1, seq_len)
    y = y.reshape(batch_size, windows, seq_len).transpose(1, 0, 2).reshape(-1, seq_len)
    return Dataset(x, y, name=name)


DATASETS.add("shakespeare", load_shakespeare)
