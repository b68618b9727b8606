"""Dataset and batching, splits, one-hot, standardization, image scaling, the shipped digits."""

from __future__ import annotations

import numpy as np
import pytest

from nn101.data import (
    Dataset,
    ScaleImages,
    batch_indices,
    load_digits,
    normalize_images,
    one_hot,
    standardize,
    train_test_split,
)
from nn101.data.digits import load_digits_arrays

# -- Dataset and batching -------------------------------------------------------------------


def covered(batches: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(batches))


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 5), (1, 4), (7, 7), (100, 32)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_cover_every_index_once(n, batch_size, shuffle):
    index = np.arange(n)
    rng = np.random.default_rng(0)
    batches = [index[b] for b in batch_indices(n, batch_size, shuffle=shuffle, rng=rng)]
    assert covered(batches).tolist() == list(range(n))
    sizes = [len(b) for b in batches]
    assert sizes[:-1] == [batch_size] * (len(sizes) - 1)
    assert sizes[-1] == n - batch_size * (len(sizes) - 1)  # the last batch holds the rest


def test_seeded_shuffling_is_reproducible_and_shuffles():
    def order(seed):
        batches = batch_indices(50, 8, shuffle=True, rng=np.random.default_rng(seed))
        return np.concatenate(list(batches))

    assert np.array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))
    assert not np.array_equal(order(1), np.arange(50))


def test_unshuffled_batches_are_views_in_order():
    x = np.arange(20.0).reshape(10, 2)
    batches = list(Dataset(x, np.arange(10)).batches(4))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    assert np.shares_memory(batches[0][0], x)
    assert batches[2][1].tolist() == [8, 9]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8"])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        list(batch_indices(10, batch_size))


def test_dataset_pairs_inputs_and_targets_through_the_transform():
    x = np.arange(12, dtype=np.uint8).reshape(6, 2)
    data = Dataset(x, np.arange(6), transform=ScaleImages(255))
    xb, yb = data[np.array([4, 1])]
    assert xb.dtype == np.float32
    np.testing.assert_array_equal(xb, x[[4, 1]] / np.float32(255))
    assert yb.tolist() == [4, 1]
    assert data.inputs.shape == (6, 2) and data.inputs.dtype == np.float32
    assert data.x.dtype == np.uint8  # storage stays compact
    rng = np.random.default_rng(3)
    seen = [(xb, yb) for xb, yb in data.batches(4, shuffle=True, rng=rng)]
    for xb, yb in seen:  # inputs and targets stay paired under shuffling
        np.testing.assert_array_equal(xb * 255, x[yb])


def test_dataset_errors_are_clear():
    with pytest.raises(ValueError, match="empty"):
        Dataset(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="expected 4 targets"):
        Dataset(np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="scalar"):
        Dataset(np.float32(1.0))


# -- train_test_split -----------------------------------------------------------------------


def test_split_is_a_seeded_partition():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    x_train, x_test, y_train, y_test = train_test_split(x, y, 0.2, rng=np.random.default_rng(0))
    assert len(x_test) == 10 and len(x_train) == 40
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))
    np.testing.assert_array_equal(x_train[:, 0] // 2, y_train)  # rows stay paired
    again = train_test_split(x, y, 0.2, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again[3], y_test)
    other = train_test_split(x, y, 0.2, rng=np.random.default_rng(1))
    assert not np.array_equal(other[3], y_test)


def test_split_by_count_and_without_targets():
    x_train, x_test = train_test_split(np.arange(10), test_size=3, rng=np.random.default_rng(0))
    assert len(x_test) == 3 and len(x_train) == 7


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = np.arange(100)
    _, _, y_train, y_test = train_test_split(x, y, 0.2, rng=np.random.default_rng(0), stratify=True)
    assert np.bincount(y_test).tolist() == [12, 6, 2]
    assert np.bincount(y_train).tolist() == [48, 24, 8]


def test_split_of_a_dataset_keeps_its_transform():
    data = Dataset(np.full((10, 2), 255, np.uint8), np.arange(10), transform=ScaleImages())
    train, test = train_test_split(data, test_size=0.3, rng=np.random.default_rng(0))
    assert (len(train), len(test)) == (7, 3)
    assert train.inputs.dtype == np.float32 and float(test.inputs.max()) == 1.0


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, -0.1, 0, 10, 12, "0.2"])
def test_split_refuses_sizes_that_leave_a_side_empty(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.arange(10), np.arange(10), test_size)


def test_split_refuses_mismatched_or_missing_targets():
    with pytest.raises(ValueError, match="10 rows"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="stratify"):
        train_test_split(np.arange(10), stratify=True)


# -- one_hot --------------------------------------------------------------------------------


def test_one_hot_rows():
    Y = one_hot(np.array([2, 0, 1, 2]))
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.eye(3, dtype=np.float32)[[2, 0, 1, 2]])
    assert one_hot([1], num_classes=4, dtype=np.float64).tolist() == [[0.0, 1.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    "labels, num_classes, error, message",
    [
        ([0, 3, 1], 3, ValueError, r"\[0, 2\], got 3 at index 1"),
        ([0, -1], None, ValueError, "got -1 at index 1"),
        ([], None, ValueError, "empty"),
        ([[0, 1]], None, ValueError, r"shape \(N,\)"),
        ([0.0, 1.0], None, TypeError, "integer labels"),
        ([0], 0, ValueError, "num_classes"),
    ],
)
def test_one_hot_errors(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        one_hot(np.array(labels), num_classes)


# -- standardize and image scaling ----------------------------------------------------------


def test_standardize_gives_zero_mean_unit_std_and_reuses_statistics():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, (200, 4)).astype(np.float32)
    x[:, 3] = 7.0  # a constant feature is left at 0, not divided by 0
    z, mean, std = standardize(x)
    assert z.dtype == np.float32 and mean.shape == std.shape == (4,)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z[:, :3].std(axis=0), 1.0, rtol=1e-5)
    assert np.all(z[:, 3] == 0.0) and std[3] == 1.0
    z_test, _, _ = standardize(x[:10] + 1.0, mean, std)
    np.testing.assert_allclose(z_test, (x[:10] + 1.0 - mean) / std)


def test_standardize_errors():
    with pytest.raises(ValueError, match="both mean and std"):
        standardize(np.ones((3, 2)), mean=np.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        standardize(np.ones((3, 2)), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="N >= 1"):
        standardize(np.ones((0, 2)))


def test_integer_input_standardizes_to_float32():
    z, _, _ = standardize(np.arange(6).reshape(3, 2))
    assert z.dtype == np.float32


def test_normalize_images_maps_uint8_to_unit_float32():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    out = normalize_images(x)
    assert out.dtype == np.float32 and out.shape == (1, 3)
    np.testing.assert_array_equal(out, [[0.0, np.float32(51) / np.float32(255), 1.0]])
    assert normalize_images(x, dtype=np.float64).dtype == np.float64
    assert repr(ScaleImages(16)) == "ScaleImages(max_value=16, dtype=float32)"


# -- the shipped digits ---------------------------------------------------------------------


def test_shipped_digits_file_matches_its_description():
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_load_digits_fixed_stratified_split():
    train, test = load_digits()
    assert (len(train), len(test)) == (1438, 359)
    assert train.inputs.shape == (1438, 64) and train.inputs.dtype == np.float32
    assert 0.0 <= train.inputs.min() and train.inputs.max() == 1.0
    assert np.bincount(test.y).tolist() == [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]
    again_train, again_test = load_digits()
    np.testing.assert_array_equal(again_test.x, test.x)  # everyone gets the same test set
    images, _ = load_digits_arrays()
    all_rows = np.concatenate([train.x, test.x])  # a partition of the 1,797 images
    assert len(np.unique(all_rows, axis=0)) == len(np.unique(images.reshape(-1, 64), axis=0))


def test_load_digits_images_and_options():
    train, test = load_digits(flatten=False, normalize=False)
    assert train.x.shape == (1438, 1, 8, 8) and train.inputs.dtype == np.uint8
    assert test.classes == [str(d) for d in range(10)]
    train64, _ = load_digits(dtype=np.float64)
    assert train64.inputs.dtype == np.float64
    _, other_test = load_digits(seed=1)
    assert not np.array_equal(other_test.x, test.x.reshape(-1, 64))
