"""The nn101 command, end to end, as a user types it."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import nn101
from nn101.cli import main, parse_hidden


def accuracy_in(text: str) -> float:
    match = re.search(r"Test accuracy: ([\d.]+)%", text)
    assert match, text
    return float(match.group(1)) / 100


def test_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "nn101", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("train", "evaluate", "predict"):
        assert command in result.stdout


def test_default_train_reaches_97_percent_on_the_digits_and_saves(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert accuracy_in(text) >= 0.97
    assert (out / "architecture.json").is_file() and (out / "weights.npz").is_file()

    assert main(["evaluate", str(out)]) == 0
    assert accuracy_in(capsys.readouterr().out) == pytest.approx(accuracy_in(text), abs=1e-4)


def test_hidden_zero_is_softmax_regression(tmp_path, capsys):
    assert main(["train", "--quiet", "--hidden", "0", "--out", str(tmp_path / "m")]) == 0
    text = capsys.readouterr().out
    assert "softmax regression 64-10" in text
    assert accuracy_in(text) >= 0.93
    assert len(nn101.load(tmp_path / "m")) == 1


def test_predict_on_a_npy_file(tmp_path, capsys):
    model_dir = tmp_path / "m"
    assert main(["train", "--quiet", "--epochs", "2", "--out", str(model_dir)]) == 0
    train, test = nn101.data.load_digits()
    np.save(tmp_path / "x.npy", test.inputs[:5])
    assert (
        main(
            [
                "predict",
                str(model_dir),
                "--x",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "p.npy"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    predictions = np.load(tmp_path / "p.npy")
    expected = nn101.load(model_dir).predict(test.inputs[:5]).argmax(axis=1)
    np.testing.assert_array_equal(predictions, expected)
    assert "Predicted classes: " + " ".join(map(str, expected)) in printed


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["train", "--hidden", "12,x", "--out", str(tmp_path / "m")]) == 2
    assert "--hidden expects sizes like 128,64" in capsys.readouterr().err


def test_parse_hidden():
    assert parse_hidden("128,64") == [128, 64]
    assert parse_hidden("0") == []
    with pytest.raises(ValueError, match=">= 0"):
        parse_hidden("-3")
