"""``nn101 train --model cnn``: images stay images (N, C, H, W), inputs given later too."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nn101
from nn101.cli import main


@pytest.fixture(scope="module")
def digit_images(tmp_path_factory):
    """The shipped digits as 16x16 uint8 images (each pixel doubled, 0..16 -> 0..240)."""
    folder = tmp_path_factory.mktemp("images")
    train, test = nn101.data.load_digits()
    for name, split in (("train", train), ("test", test)):
        images = np.kron(split.x.reshape(-1, 8, 8), np.ones((2, 2), np.uint8)) * 15
        np.save(folder / f"{name}-x.npy", images.astype(np.uint8))  # (N, 16, 16)
        np.save(folder / f"{name}-y.npy", split.y)
    return folder


@pytest.mark.slow
def test_cnn_on_own_images_keeps_them_images(digit_images, tmp_path, capsys):
    out = tmp_path / "cnn.nn101"
    x, y = str(digit_images / "train-x.npy"), str(digit_images / "train-y.npy")
    args = ["train", "--quiet", "--model", "cnn", "--x", x, "--y", y, "--epochs", "2"]
    assert main([*args, "--batch-size", "32", "--augment", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "a CNN (conv 32, conv 64, dense 128) on 1x16x16 images, random shifts" in text
    assert float(re.search(r"Validation accuracy: ([\d.]+)%", text).group(1)) > 50
    metadata = nn101.serialization.read_metadata(out)
    assert metadata["input"] == {"shape": [1, 16, 16], "scale": 255.0}
    assert metadata["model"] == "cnn"

    test_x, test_y = str(digit_images / "test-x.npy"), str(digit_images / "test-y.npy")
    assert main(["evaluate", str(out), "--x", test_x, "--y", test_y]) == 0
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)%", capsys.readouterr().out).group(1))
    assert accuracy > 50
    flat = tmp_path / "flat.npy"  # (N, 256): the same pixels, flattened, are reshaped back
    np.save(flat, np.load(test_x).reshape(-1, 256))
    assert main(["evaluate", str(out), "--x", str(flat), "--y", test_y]) == 0
    assert f"Test accuracy: {accuracy:.2f}%" in capsys.readouterr().out

    preds = tmp_path / "preds.npy"  # nn101 predict on the (N, 16, 16) images
    assert main(["predict", str(out), "--x", test_x, "--output", str(preds)]) == 0
    predicted = np.load(preds)
    assert predicted.shape == (len(np.load(test_y)),)
    assert np.mean(predicted == np.load(test_y)) == pytest.approx(accuracy / 100, abs=5e-5)
    model = nn101.load(out)
    images = np.load(test_x)[:, None].astype(np.float32) / 255.0
    np.testing.assert_array_equal(predicted, model.predict(images).argmax(axis=1))


def test_cnn_options_are_checked(digit_images, tmp_path, capsys):
    assert main(["train", "--model", "cnn", "--dataset", "digits"]) == 2
    assert "--model cnn trains on --dataset mnist" in capsys.readouterr().err
    assert main(["train", "--augment", "--out", str(tmp_path / "m")]) == 2
    assert "--augment (random shifts of the images) is for --model cnn" in (capsys.readouterr().err)
    np.save(tmp_path / "small.npy", np.zeros((20, 8, 8), np.uint8))
    np.save(tmp_path / "labels.npy", np.arange(20) % 10)
    args = ["train", "--model", "cnn", "--x", str(tmp_path / "small.npy")]
    assert main([*args, "--y", str(tmp_path / "labels.npy"), "--out", str(tmp_path / "m")]) == 2
    assert "expected images of at least 16 x 16, got (8, 8)" in capsys.readouterr().err
