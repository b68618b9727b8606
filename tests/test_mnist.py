"""MNIST / Fashion-MNIST loaders: lookup order, layout options and errors on small fake files,
then the real files from $NN101_DATA_DIR (counts, label counts, checksums)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from nn101.data import describe, fetch, load_fashion_mnist, load_mnist, write_idx
from nn101.data.fetch import DatasetNotFoundError, sha256_of

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
NAMES = list(fetch.FILENAMES.values())


def write_fake(directory, n_train=4, n_test=3, n_train_labels=None, label_value=None):
    """Small MNIST-layout IDX files; returns the train images written."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_train + n_test, 28, 28), dtype=np.uint8)
    labels = (np.arange(n_train + n_test) % 10).astype(np.uint8)
    if label_value is not None:
        labels[1] = label_value
    n_train_labels = n_train if n_train_labels is None else n_train_labels
    write_idx(directory / "train-images-idx3-ubyte.gz", images[:n_train])
    write_idx(directory / "train-labels-idx1-ubyte.gz", labels[:n_train_labels])
    write_idx(directory / "t10k-images-idx3-ubyte.gz", images[n_train:])
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", labels[n_train:])
    return images[:n_train]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $NN101_DATA_DIR, an empty cache under tmp_path, and no network."""
    monkeypatch.delenv("NN101_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(fetch.MIRRORS, "mnist", [])
    monkeypatch.setitem(fetch.MIRRORS, "fashion-mnist", [])
    return tmp_path


def trust(monkeypatch, directory, name="mnist"):
    """Make the checksum table agree with the fake files in ``directory``."""
    sums = {f: sha256_of(directory / f) for f in NAMES}
    monkeypatch.setitem(fetch.CHECKSUMS, name, sums)


def test_flat_normalized_batches_from_compact_storage(isolated, monkeypatch):
    images = write_fake(isolated / "d")
    trust(monkeypatch, isolated / "d")
    train, test = load_mnist(data_dir=isolated / "d")
    assert (len(train), len(test)) == (4, 3)
    assert train.x.dtype == np.uint8 and train.x.shape == (4, 784)  # kept compact
    x, y = train[0:2]
    assert x.dtype == np.float32 and x.shape == (2, 784)
    np.testing.assert_array_equal(x, images[:2].reshape(2, 784) / np.float32(255))
    assert y.dtype == np.int64 and y.tolist() == [0, 1]
    assert train.classes == [str(d) for d in range(10)]


def test_image_layout_and_raw_pixels(isolated, monkeypatch):
    images = write_fake(isolated / "d")
    trust(monkeypatch, isolated / "d")
    train, _ = load_mnist(data_dir=isolated / "d", flatten=False, normalize=False)
    assert train.x.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(train.inputs[:, 0], images)
    wide, _ = load_mnist(data_dir=isolated / "d", dtype=np.float64)
    assert wide[0:1][0].dtype == np.float64


@pytest.mark.parametrize("where", ["direct", "subdir", "env", "env-subdir", "cache"])
def test_lookup_order(isolated, monkeypatch, where):
    target = {
        "direct": isolated / "d",
        "subdir": isolated / "d" / "mnist",
        "env": isolated / "e",
        "env-subdir": isolated / "e" / "mnist",
        "cache": isolated / "cache" / "nn101" / "mnist",
    }[where]
    write_fake(target, n_train=5)
    trust(monkeypatch, target)
    if where.startswith("env"):
        monkeypatch.setenv("NN101_DATA_DIR", str(isolated / "e"))
    data_dir = isolated / "d" if where in ("direct", "subdir") else None
    train, _ = load_mnist(data_dir=data_dir, download=False)
    assert len(train) == 5


def test_data_dir_is_preferred_over_the_cache(isolated, monkeypatch):
    write_fake(isolated / "cache" / "nn101" / "mnist", n_train=6)
    write_fake(isolated / "d", n_train=5)
    train, _ = load_mnist(data_dir=isolated / "d", verify=False)
    assert len(train) == 5


def test_offline_error_says_where_and_which_names(isolated):
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(data_dir=isolated / "nowhere", download=False)
    message = str(info.value)
    for name in NAMES:
        assert name in message
    assert str(isolated / "nowhere") in message
    assert str(isolated / "cache" / "nn101" / "mnist") in message
    assert "NN101_DATA_DIR" in message and "nn101 data download mnist" in message


def test_failed_download_is_reported_with_the_places(isolated):
    with pytest.raises(DatasetNotFoundError, match="downloading failed") as info:
        load_fashion_mnist(download=True)
    assert "fashion-mnist" in str(info.value)
    assert not [p for p in (isolated / "cache").rglob("*") if p.is_file()]  # no leftovers


def test_label_and_image_counts_must_match(isolated):
    write_fake(isolated / "d", n_train=4, n_train_labels=3)
    with pytest.raises(ValueError, match="has 3 labels but train-images-idx3-ubyte.gz has 4"):
        load_mnist(data_dir=isolated / "d", verify=False)


def test_labels_out_of_range(isolated):
    write_fake(isolated / "d", label_value=12)
    with pytest.raises(ValueError, match=r"labels in \[0, 9\], got 12"):
        load_mnist(data_dir=isolated / "d", verify=False)


def test_files_that_do_not_match_the_known_checksums_are_refused(isolated):
    write_fake(isolated / "d")
    with pytest.raises(ValueError, match="checksum mismatch: expected sha256 440fcabf"):
        load_mnist(data_dir=isolated / "d")


def test_describe_fake_and_empty_directories(isolated, monkeypatch):
    write_fake(isolated / "d" / "mnist")
    (isolated / "d" / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    report = describe(isolated / "d")
    assert "mnist" in report and "MISMATCH" in report and "missing" in report
    assert "4 x 28 x 28 uint8" in report
    assert report.endswith("some files are missing or bad")
    write_fake(isolated / "other")  # the right names in a directory whose name says nothing
    assert "unrecognized" in describe(isolated / "other")
    write_fake(isolated / "d" / "mnist")
    trust(monkeypatch, isolated / "d" / "mnist")
    assert describe(isolated / "d" / "mnist").endswith("all files present and verified")
    (isolated / "empty").mkdir()
    assert "no MNIST or Fashion-MNIST files" in describe(isolated / "empty")
    with pytest.raises(NotADirectoryError):
        describe(isolated / "absent")


# -- the real files ---------------------------------------------------------------------------


def test_real_mnist(data_dir):
    train, test = load_mnist(data_dir=data_dir, download=False)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.x.shape == (60_000, 784) and train.x.dtype == np.uint8
    assert np.bincount(train.y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.y, minlength=10).sum() == 10_000
    x, _ = train[:256]
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    images, _ = load_mnist(data_dir=data_dir / "mnist", flatten=False, download=False)
    assert images.x.shape == (60_000, 1, 28, 28)


def test_real_fashion_mnist_is_balanced(data_dir):
    train, test = load_fashion_mnist(data_dir=data_dir, download=False)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert np.bincount(train.y).tolist() == [6000] * 10
    assert np.bincount(test.y).tolist() == [1000] * 10
    assert train.classes is not None and train.classes[9] == "Ankle boot"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_checksums(data_dir, name):
    for filename, expected in fetch.CHECKSUMS[name].items():
        digest = hashlib.sha256((data_dir / name / filename).read_bytes()).hexdigest()
        assert digest == expected, filename
    report = describe(data_dir)
    assert report.count("sha256 ok") == 8
    assert report.endswith("all files present and verified")
