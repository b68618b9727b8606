"""The nn101 command, end to end, as a user types it: the main paths that work."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import nn101
from nn101.cli import main, parse_hidden


def accuracy_in(text: str) -> float:
    match = re.search(r"(?:Test|Validation) accuracy: ([\d.]+)%", text)
    assert match, text
    return float(match.group(1)) / 100


def test_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "nn101", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("train", "evaluate", "predict", "lr-find", "data"):
        assert command in result.stdout


def test_default_train_reaches_97_percent_on_the_digits_and_saves_one_file(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert accuracy_in(text) >= 0.97
    saved = tmp_path / "nn101-model.nn101"
    assert saved.is_file() and nn101.serialization.is_model(saved)
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]  # nothing else written

    assert main(["evaluate", str(saved)]) == 0
    assert accuracy_in(capsys.readouterr().out) == pytest.approx(accuracy_in(text), abs=1e-4)


def test_the_default_output_name_is_replaced_without_overwrite(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--quiet", "--epochs", "1", "--hidden", "8"]) == 0
    first = (tmp_path / "nn101-model.nn101").read_bytes()
    assert main(["train", "--quiet", "--epochs", "1", "--hidden", "9"]) == 0
    assert (tmp_path / "nn101-model.nn101").read_bytes() != first
    assert nn101.load(tmp_path / "nn101-model.nn101").layers[0].weight.value.shape == (64, 9)


def test_overwrite_replaces_a_model_given_with_out(tmp_path, capsys):
    out = str(tmp_path / "m.nn101")
    assert main(["train", "--quiet", "--epochs", "1", "--hidden", "8", "--out", out]) == 0
    assert main(["train", "--quiet", "--epochs", "1", "--hidden", "9", "--out", out]) == 2
    assert nn101.load(out).layers[0].weight.value.shape == (64, 8)
    args = ["train", "--quiet", "--epochs", "1", "--hidden", "9", "--out", out, "--overwrite"]
    assert main(args) == 0
    assert nn101.load(out).layers[0].weight.value.shape == (64, 9)


def test_hidden_zero_is_softmax_regression(tmp_path, capsys):
    assert main(["train", "--quiet", "--hidden", "0", "--out", str(tmp_path / "m")]) == 0
    text = capsys.readouterr().out
    assert "softmax regression 64-10" in text
    assert accuracy_in(text) >= 0.93
    assert len(nn101.load(tmp_path / "m")) == 1


def test_the_model_file_records_how_inputs_were_prepared(tmp_path, capsys):
    out = tmp_path / "m.nn101"
    assert main(["train", "--quiet", "--epochs", "1", "--out", str(out)]) == 0
    metadata = nn101.serialization.read_metadata(out)
    assert metadata["input"] == {"shape": [64], "scale": 16.0}
    assert metadata["dataset"] == "digits" and metadata["num_classes"] == 10
    assert metadata["settings"]["seed"] == 0 and metadata["settings"]["epochs"] == 1


def test_train_on_own_arrays_with_a_validation_split(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)  # linearly separable: two classes
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "own.nn101"
    args = ["train", "--quiet", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    assert main([*args, "--val-split", "0.25", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "300 train / 100 validation examples" in text
    assert accuracy_in(text) >= 0.9
    metadata = nn101.serialization.read_metadata(out)
    assert metadata["input"] == {"shape": [5], "scale": 1.0}
    assert metadata["validation_accuracy"] == pytest.approx(accuracy_in(text), abs=1e-4)

    x_path, y_path = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    assert main(["evaluate", str(out), "--x", x_path, "--y", y_path]) == 0
    assert accuracy_in(capsys.readouterr().out) >= 0.9  # the training data, scaled by 1.0


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


@pytest.mark.slow
def test_train_on_real_mnist_from_a_data_dir(data_dir, tmp_path, capsys):
    out = tmp_path / "mnist.nn101"
    mnist = str(data_dir / "mnist")
    args = ["train", "--quiet", "--dataset", "mnist", "--data-dir", mnist, "--epochs", "1"]
    small = ["--hidden", "100", "--dropout", "0", "--schedule", "constant"]
    assert main([*args, *small, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "60,000 train / 10,000 test" in text
    assert accuracy_in(text) >= 0.94
    assert main(["evaluate", str(out), "--data-dir", mnist]) == 0
    assert accuracy_in(capsys.readouterr().out) == pytest.approx(accuracy_in(text), abs=1e-4)


def test_own_uint8_images_are_pixels_scaled_by_255(tmp_path, capsys):
    train, test = nn101.data.load_digits()
    images = (train.x.reshape(-1, 8, 8) * 15).astype(np.uint8)  # 0..240, as 8-bit pixels
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", train.y)
    out = tmp_path / "own.nn101"
    args = ["train", "--quiet", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    assert main([*args, "--epochs", "30", "--out", str(out)]) == 0
    assert accuracy_in(capsys.readouterr().out) >= 0.9
    assert nn101.serialization.read_metadata(out)["input"] == {"shape": [64], "scale": 255.0}
    np.save(tmp_path / "test.npy", (test.x.reshape(-1, 8, 8) * 15).astype(np.uint8))
    assert main(["predict", str(out), "--x", str(tmp_path / "test.npy"), "--limit", "0"]) == 0
    assert "Predicted classes:" in capsys.readouterr().out
