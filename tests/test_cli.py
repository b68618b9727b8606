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


def test_lr_find_suggests_a_rate_and_plots(tmp_path, capsys):
    plot = tmp_path / "lr.png"
    assert main(["lr-find", "--steps", "60", "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    match = re.search(r"Suggested learning rate: ([\d.e+-]+)", text)
    assert match and 1e-6 <= float(match.group(1)) <= 10
    assert plot.stat().st_size > 1000


def test_data_info_reports_verified_files(data_dir, capsys):
    assert main(["data", "info", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert text.count("sha256 ok") == 8
    assert "all files present and verified" in text


def test_data_download_reports_a_failure_cleanly(tmp_path, capsys, monkeypatch):
    from nn101.data import fetch

    # A closed port on this machine: every mirror refuses, nothing may be left behind.
    monkeypatch.setitem(fetch.MIRRORS, "mnist", ["http://127.0.0.1:9/"])
    assert main(["data", "download", "mnist", "--dir", str(tmp_path / "cache")]) == 2
    assert "could not download" in capsys.readouterr().err
    leftovers = list((tmp_path / "cache").rglob("*")) if (tmp_path / "cache").exists() else []
    assert leftovers == []


def test_train_on_real_mnist_from_a_data_dir(data_dir, tmp_path, capsys):
    out = tmp_path / "mnist-model"
    args = [
        "train",
        "--quiet",
        "--dataset",
        "mnist",
        "--data-dir",
        str(data_dir / "mnist"),
        "--epochs",
        "1",
        "--hidden",
        "100",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "60,000 train / 10,000 test" in text
    assert accuracy_in(text) >= 0.94
    assert main(["evaluate", str(out), "--data-dir", str(data_dir / "mnist")]) == 0
    assert accuracy_in(capsys.readouterr().out) == pytest.approx(accuracy_in(text), abs=1e-4)


def test_bench_outside_a_source_checkout_says_where_to_run_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick"]) == 2
    assert "run 'nn101 bench' from the repository root" in capsys.readouterr().err
