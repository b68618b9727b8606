"""Inputs given with --x are prepared and checked as the training data was: the pixel scale
saved with the model is applied, bad files are one-line errors naming the file as given."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nn101
from nn101.cli import main


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "digits.nn101"
    assert main(["train", "--quiet", "--epochs", "10", "--hidden", "32", "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def digits_test():
    return nn101.data.load_digits()[1]


def loss_and_accuracy(text: str) -> tuple[float, float]:
    match = re.search(r"Test accuracy: ([\d.]+)% \(loss ([\d.]+)\)", text)
    assert match, text
    return float(match.group(2)), float(match.group(1)) / 100


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_raw_pixels_are_scaled_as_in_training(digits_model, digits_test, tmp_path, capsys):
    assert main(["evaluate", str(digits_model)]) == 0
    expected = loss_and_accuracy(capsys.readouterr().out)
    images = digits_test.x.reshape(-1, 8, 8)  # raw uint8 pixels 0..16, as images
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", digits_test.y)
    x, y = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    assert main(["evaluate", str(digits_model), "--x", x, "--y", y]) == 0
    assert loss_and_accuracy(capsys.readouterr().out) == pytest.approx(expected, abs=1e-4)


def test_predict_writes_exactly_the_output_named(digits_model, digits_test, tmp_path, capsys):
    np.save(tmp_path / "x.npy", digits_test.x[:5])
    output = tmp_path / "preds"  # no suffix: np.save alone would write preds.npy
    args = ["predict", str(digits_model), "--x", str(tmp_path / "x.npy")]
    assert main([*args, "--output", str(output)]) == 0
    expected = nn101.load(digits_model).predict(digits_test.inputs[:5]).argmax(axis=1)
    np.testing.assert_array_equal(np.load(output), expected)
    assert "Predicted classes: " + " ".join(map(str, expected)) in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds", "x.npy"]

    assert main([*args, "--output", str(output)]) == 2  # exists: --overwrite replaces it
    assert "add --overwrite" in one_error_line(capsys)
    assert main([*args, "--output", str(output), "--overwrite"]) == 0


def test_a_model_predicts_the_test_split_of_its_dataset(digits_model, digits_test, capsys):
    assert main(["predict", str(digits_model), "--limit", "3"]) == 0
    expected = nn101.load(digits_model).predict(digits_test.inputs[:3]).argmax(axis=1)
    text = capsys.readouterr().out
    assert "Predicted classes: " + " ".join(map(str, expected)) + " ..." in text


def bad_inputs(tmp_path):
    nan = np.full((4, 64), 3.0, np.float32)
    nan[2, 5] = np.nan
    np.savez(tmp_path / "arrays.npz", x=nan)
    (tmp_path / "empty.npy").write_bytes(b"")
    return {
        "nan.npy": (nan, "expected finite numbers, got 1 NaN or infinite values"),
        "shape.npy": (
            np.zeros((5, 7, 7)),
            "expected inputs of shape (N, 64) (64 values per example), got (5, 7, 7)",
        ),  # fmt: skip
        "range.npy": (np.full((2, 64), 255, np.uint8), "expected pixel values in [0, 16]"),
        "noexamples.npy": (np.zeros((0, 64)), "got an empty array of shape (0, 64)"),
        "text.npy": (np.array([["a"] * 64]), "expected numbers, got an array of dtype <U1"),
        "arrays.npz": (None, "expected a .npy file holding one array, got a .npz archive"),
        "empty.npy": (None, "not a readable .npy array file"),
    }


def test_bad_input_files_are_one_line_errors_naming_the_file(digits_model, tmp_path, capsys):
    for name, (array, message) in bad_inputs(tmp_path).items():
        if array is not None:
            np.save(tmp_path / name, array)
        path = str(tmp_path / name)
        assert main(["predict", str(digits_model), "--x", path]) == 1, name
        line = one_error_line(capsys)
        assert line.startswith(f"nn101 predict: error: --x {path}: ") and message in line, line
    assert main(["predict", str(digits_model), "--x", str(tmp_path / "nowhere.npy")]) == 2
    assert "no such file" in one_error_line(capsys)


def test_labels_are_checked(digits_model, digits_test, tmp_path, capsys):
    np.save(tmp_path / "x.npy", digits_test.x[:4])
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 10]))
    args = ["evaluate", str(digits_model), "--x", str(tmp_path / "x.npy")]
    assert main([*args, "--y", str(tmp_path / "y.npy")]) == 1
    assert "expected labels in [0, 10), got [0, 10]" in one_error_line(capsys)
    assert main(args) == 2
    assert "--x needs --y" in one_error_line(capsys)


def test_already_scaled_inputs_get_a_note(digits_model, digits_test, tmp_path, capsys):
    np.save(tmp_path / "x.npy", digits_test.inputs[:3])  # floats in [0, 1]
    assert main(["predict", str(digits_model), "--x", str(tmp_path / "x.npy")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: --x") and "give raw pixel values" in err


def test_a_model_directory_of_nn101_0_1_gets_its_dataset_scale(
    digits_model, digits_test, tmp_path, capsys
):
    import json
    import zipfile

    old = tmp_path / "nn101-model"  # 0.1 wrote a directory, and no input description
    old.mkdir()
    with zipfile.ZipFile(digits_model) as archive:
        architecture = json.loads(archive.read("architecture.json"))
        (old / "weights.npz").write_bytes(archive.read("weights.npz"))
    architecture["metadata"] = {"dataset": "digits"}
    (old / "architecture.json").write_text(json.dumps(architecture))
    assert main(["evaluate", str(old)]) == 0
    expected = loss_and_accuracy(capsys.readouterr().out)
    np.save(tmp_path / "x.npy", digits_test.x)  # raw pixels 0..16
    np.save(tmp_path / "y.npy", digits_test.y)
    x, y = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    assert main(["evaluate", str(old), "--x", x, "--y", y]) == 0
    assert loss_and_accuracy(capsys.readouterr().out) == pytest.approx(expected, abs=1e-4)


def test_a_closed_pipe_stops_predict_quietly(digits_model, tmp_path):
    import subprocess
    import sys

    many = np.random.default_rng(0).integers(0, 17, size=(50_000, 64), dtype=np.uint8)
    np.save(tmp_path / "x.npy", many)  # 100 kB of printed classes: more than a pipe holds
    predict = ["predict", str(digits_model), "--x", str(tmp_path / "x.npy")]
    command = [sys.executable, "-m", "nn101", *predict, "--limit", "100000"]
    python = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert python.stdout is not None and python.stderr is not None
    assert python.stdout.read(5) == b"Predi"
    python.stdout.close()  # as `| head -c 5` does
    with python.stderr:
        err = python.stderr.read().decode()
    assert python.wait(timeout=60) == 1
    assert err == ""
