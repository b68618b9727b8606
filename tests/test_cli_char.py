"""``nn101 train --model char-lstm`` and ``nn101 generate``, on a small text of our own."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nn101
from nn101.cli import main

SMALL = ["--hidden", "16", "--batch-size", "4", "--seq-len", "16", "--epochs", "1"]


@pytest.fixture(scope="module")
def char_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("char")
    rng = np.random.default_rng(0)
    words = np.array(["to", "be", "or", "not", "that", "is", "the", "question"])
    lines = [" ".join(rng.choice(words, size=6)) for _ in range(120)]
    (folder / "text.txt").write_text("\n".join(lines) + "\n")
    out = folder / "char.nn101"
    args = ["train", "--quiet", "--model", "char-lstm", "--text", str(folder / "text.txt")]
    assert main([*args, *SMALL, "--out", str(out)]) == 0
    return out


def test_train_reports_nats_per_character_and_saves_the_vocabulary(char_model, capsys):
    metadata = nn101.serialization.read_metadata(char_model)
    assert metadata["model"] == "char-lstm"
    assert metadata["vocabulary"] == "\n abehinoqrstu"
    vocabulary_size = len(metadata["vocabulary"])
    assert 0 < metadata["validation_loss"] < np.log(vocabulary_size)  # better than uniform


def test_generate_is_deterministic_for_a_seed(char_model, capsys):
    args = ["generate", str(char_model), "--prompt", "to be", "--length", "40"]
    texts = []
    for seed in ("0", "0", "1"):
        assert main([*args, "--temperature", "0.8", "--seed", seed]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1] != texts[2]
    assert texts[0].startswith("to be") and len(texts[0]) == len("to be") + 40 + 1
    assert set(texts[0]) <= set("\n abehinoqrstu")


def test_generate_refuses_what_it_cannot_do(char_model, tmp_path, capsys):
    assert main(["generate", str(char_model), "--prompt", "ROMEO:"]) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"nn101 generate: error: --prompt: the characters .* vocabulary", err)
    digits = tmp_path / "digits.nn101"
    assert main(["train", "--quiet", "--epochs", "1", "--out", str(digits)]) == 0
    capsys.readouterr()
    assert main(["generate", str(digits)]) == 2
    assert "not a character model" in capsys.readouterr().err


def test_char_model_options_are_checked(tmp_path, capsys):
    assert main(["train", "--model", "char-lstm", "--dataset", "mnist"]) == 2
    assert "--model char-lstm trains on --dataset shakespeare or --text FILE" in (
        capsys.readouterr().err
    )
    (tmp_path / "short.txt").write_text("too short")
    args = ["train", "--model", "char-lstm", "--text", str(tmp_path / "short.txt")]
    assert main([*args, "--out", str(tmp_path / "m.nn101")]) == 1
    assert "expected at least 100 characters, got 9" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["generate", str(tmp_path / "nothing.nn101"), "--length", "-1"])
    assert stop.value.code == 2
    assert "--length: expected an integer >= 0, got -1" in capsys.readouterr().err


@pytest.mark.slow
def test_char_lstm_on_tiny_shakespeare_learns_in_a_few_steps(data_dir, tmp_path, capsys):
    out = tmp_path / "shakespeare.nn101"
    args = ["train", "--quiet", "--model", "char-lstm", "--data-dir", str(data_dir / "text")]
    small = ["--hidden", "32", "--batch-size", "256", "--seq-len", "32", "--epochs", "1"]
    assert main([*args, *small, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1,003,854 / 111,540 characters, vocabulary 65" in text
    loss = float(re.search(r"Validation loss: ([\d.]+) nats per character", text).group(1))
    assert loss < 3.0  # uniform over 65 characters: ln 65 = 4.17
    assert main(["generate", str(out), "--prompt", "ROMEO:", "--length", "20", "--seed", "0"]) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")


def test_predict_and_evaluate_point_a_char_model_elsewhere(char_model, capsys):
    assert main(["predict", str(char_model)]) == 2
    assert "'nn101 generate' samples from it" in capsys.readouterr().err
    assert main(["evaluate", str(char_model)]) == 2
    assert "trained on a text of its own" in capsys.readouterr().err
