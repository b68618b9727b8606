"""save -> load round trips bit-identically; broken files give clear errors; writes are atomic."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nn101


def model(seed=0):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(nn101.Dense(4, 8, rng=rng), nn101.Tanh(), nn101.Dense(8, 3, rng=rng))


def test_loaded_model_predicts_bit_identically(tmp_path):
    original = model()
    x = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    original.save(tmp_path / "m", metadata={"dataset": "toy"})
    loaded = nn101.load(tmp_path / "m")
    assert type(loaded) is nn101.Sequential and len(loaded) == 3
    np.testing.assert_array_equal(loaded.predict(x), original.predict(x))
    assert nn101.serialization.read_metadata(tmp_path / "m") == {"dataset": "toy"}


def test_files_are_plain_json_and_npz(tmp_path):
    model().save(tmp_path / "m")
    architecture = json.loads((tmp_path / "m" / "architecture.json").read_text())
    assert [layer["type"] for layer in architecture["model"]["config"]["layers"]] == [
        "Dense",
        "Tanh",
        "Dense",
    ]
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as weights:
        assert sorted(weights.files) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_saving_again_replaces_atomically(tmp_path):
    model(0).save(tmp_path / "m")
    second = model(1)
    second.save(tmp_path / "m")
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(nn101.load(tmp_path / "m").predict(x), second.predict(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging leftovers


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        nn101.load(tmp_path / "nothing")
    model().save(tmp_path / "m")
    (tmp_path / "m" / "weights.npz").unlink()
    with pytest.raises(FileNotFoundError, match="weights.npz"):
        nn101.load(tmp_path / "m")


def edit_architecture(path, change):
    file = path / "architecture.json"
    architecture = json.loads(file.read_text())
    change(architecture)
    file.write_text(json.dumps(architecture))


def test_unknown_layer_type(tmp_path):
    model().save(tmp_path / "m")
    edit_architecture(
        tmp_path / "m", lambda a: a["model"]["config"]["layers"][1].update(type="Swish")
    )
    with pytest.raises(ValueError, match="unknown layer type 'Swish'"):
        nn101.load(tmp_path / "m")


def test_mis_shaped_array(tmp_path):
    model().save(tmp_path / "m")
    edit_architecture(
        tmp_path / "m", lambda a: a["model"]["config"]["layers"][2]["config"].update(out_features=5)
    )
    with pytest.raises(ValueError, match=r"'2.weight'.*shape \(8, 3\).*expects \(8, 5\)"):
        nn101.load(tmp_path / "m")


def test_not_json_and_not_nn101(tmp_path):
    model().save(tmp_path / "m")
    (tmp_path / "m" / "architecture.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        nn101.load(tmp_path / "m")
    (tmp_path / "m" / "architecture.json").write_text('{"format": "keras"}')
    with pytest.raises(ValueError, match="not an nn101 architecture"):
        nn101.load(tmp_path / "m")


def test_pickled_arrays_are_refused(tmp_path):
    model().save(tmp_path / "m")
    objects = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "m" / "weights.npz", **{"0.weight": objects})
    with pytest.raises(ValueError, match="(?i)pickle"):
        nn101.load(tmp_path / "m")


def test_batchnorm_running_statistics_and_dropout_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    original = nn101.Sequential(
        nn101.Dense(4, 6, rng=rng),
        nn101.BatchNorm1d(6),
        nn101.ReLU(),
        nn101.Dropout(0.5, rng=rng),
        nn101.Dense(6, 2, rng=rng),
    )
    x = rng.normal(size=(32, 4)).astype(np.float32)
    for _ in range(3):  # training-mode passes move the running statistics away from 0 / 1
        original.forward(x, training=True)
    original.save(tmp_path / "m")
    loaded = nn101.load(tmp_path / "m")
    assert not np.allclose(loaded[1].running_mean, 0)
    np.testing.assert_array_equal(loaded[1].running_var, original[1].running_var)
    np.testing.assert_array_equal(loaded.predict(x), original.predict(x))
    assert loaded[3].rate == 0.5


def test_a_model_with_a_custom_initializer_saves_and_loads(tmp_path):
    import functools

    init = functools.partial(nn101.init.normal, std=0.3)
    rng = np.random.default_rng(0)
    original = nn101.Sequential(nn101.Dense(3, 4, rng=rng, weight_init=init))
    # a partial of a named initializer is stored as [name, keywords], so it rebuilds exactly
    assert original[0].config()["weight_init"] == ["normal", {"std": 0.3}]
    rebuilt = nn101.Dense(3, 4, rng=np.random.default_rng(0), weight_init=("normal", {"std": 0.3}))
    np.testing.assert_array_equal(rebuilt.weight.value, original[0].weight.value)
    original.save(tmp_path / "m")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(nn101.load(tmp_path / "m").predict(x), original.predict(x))

    def mine(rng, shape, fan_in=None, fan_out=None, dtype=np.float32):
        return np.full(shape, 0.5, dtype)

    assert nn101.Dense(3, 4, weight_init=mine).config()["weight_init"] == "custom:mine"
    with pytest.raises(ValueError, match="custom function and cannot be rebuilt"):
        nn101.Dense(3, 4, weight_init="custom:partial")
