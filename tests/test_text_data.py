"""Tiny Shakespeare: the split, the vocabulary, stateful windows, lookup and errors."""

from __future__ import annotations

import numpy as np
import pytest

from nn101.data.text import (
    SHAKESPEARE,
    CharVocabulary,
    char_windows,
    find_shakespeare,
    load_shakespeare,
)
from nn101.registry import DATASETS


def test_shakespeare_split_matches_nanogpt(data_dir):
    corpus = load_shakespeare(data_dir / "text")
    assert (len(corpus.train), len(corpus.valid)) == (1_003_854, 111_540)
    assert len(corpus.vocab) == 65
    assert corpus.vocab.decode(corpus.train[:14]) == "First Citizen:"
    assert corpus.train.dtype == np.int64
    assert DATASETS.get("shakespeare") is load_shakespeare


def test_vocabulary_round_trip_and_errors():
    vocab = CharVocabulary.from_text("hello world")
    assert vocab.chars == " dehlorw"
    ids = vocab.encode("world")
    assert vocab.decode(ids) == "world"
    assert CharVocabulary(vocab.chars).encode("hello").tolist() == vocab.encode("hello").tolist()
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary of 8"):
        vocab.encode("z")
    with pytest.raises(ValueError, match="expected distinct characters"):
        CharVocabulary("aa")


def test_windows_continue_each_other_row_by_row():
    ids = np.arange(103)
    data = char_windows(ids, seq_len=5, batch_size=4)
    # 4 streams of (103 - 1) // 4 = 25 ids -> 5 windows of 5 each
    assert data.x.shape == (20, 5) and data.y.shape == (20, 5)
    np.testing.assert_array_equal(data.y, data.x + 1)  # targets are the next ids
    first, second = data.x[0:4], data.x[4:8]  # batches 0 and 1
    np.testing.assert_array_equal(second[:, 0], first[:, -1] + 1)  # row n continues row n
    np.testing.assert_array_equal(first[:, 0], [0, 25, 50, 75])
    with pytest.raises(ValueError, match="expected at least 41"):
        char_windows(np.arange(30), seq_len=10, batch_size=4)


def test_lookup_order_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NN101_DATA_DIR", raising=False)
    (tmp_path / "text").mkdir()
    local = tmp_path / "text" / "tinyshakespeare.txt"
    local.write_text("not shakespeare")
    assert find_shakespeare(tmp_path, download=False) == local
    with pytest.raises(
        ValueError, match=f"expected tiny Shakespeare with SHA-256 {SHAKESPEARE['sha256']}"
    ):
        load_shakespeare(tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match="tiny Shakespeare was not found"):
        find_shakespeare(tmp_path / "empty", download=False)


def test_download_goes_through_fetch_file(tmp_path, monkeypatch):
    calls = []

    def fake_fetch(filename, sha256, directory, mirrors, **kwargs):
        calls.append((filename, sha256, str(directory), list(mirrors), kwargs))
        return tmp_path / "fetched.txt"

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NN101_DATA_DIR", raising=False)
    monkeypatch.setattr("nn101.data.text.fetch_file", fake_fetch)
    assert find_shakespeare() == tmp_path / "fetched.txt"
    (filename, sha256, directory, mirrors, kwargs) = calls[0]
    assert filename == "input.txt" and sha256 == SHAKESPEARE["sha256"]
    assert directory.endswith("nn101/tinyshakespeare") and mirrors == SHAKESPEARE["mirrors"]
    assert kwargs == {"size": 1_115_394}


def test_char_recipe_generates_deterministically_and_evaluates():
    from nn101.recipes.char import (
        CharSettings,
        build_char_lstm,
        evaluate_char_loss,
        generate,
        vocabulary_from_metadata,
        vocabulary_metadata,
    )

    vocab = CharVocabulary.from_text("to be or not to be\n")
    settings = CharSettings(embedding_dim=4, hidden_size=6, seq_len=5, batch_size=2)
    model = build_char_lstm(len(vocab), settings, rng=np.random.default_rng(0))
    texts = [generate(model, vocab, "to", 30, 0.8, np.random.default_rng(1)) for _ in range(2)]
    assert texts[0] == texts[1] and texts[0].startswith("to") and len(texts[0]) == 32
    assert generate(model, vocab, "to", 5, 0.0) == generate(model, vocab, "to", 5, 0.0)
    data = char_windows(vocab.encode("to be or not to be\n" * 3), 5, 2)
    loss = evaluate_char_loss(model, data, 2)
    assert 0.5 * np.log(len(vocab)) < loss < 2 * np.log(len(vocab))  # untrained: near uniform
    assert all(value is None for _, value in model.named_states())  # generation left no state
    assert vocabulary_from_metadata(vocabulary_metadata(vocab)).chars == vocab.chars
