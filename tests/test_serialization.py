"""Model files: save -> load round trips bit-identically; save never destroys what nn101 did
not write and is atomic; hostile files give one ModelFileError naming the file, in bounded
time and memory (the hypothesis fuzzing is in test_fuzz_model_files.py)."""

from __future__ import annotations

import io
import json
import os
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from layer_cases import ALL_CASES, make_layer

import nn101
from nn101.serialization import checks, is_model, layer_spec


def model(seed=0):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(nn101.Dense(4, 8, rng=rng), nn101.Tanh(), nn101.Dense(8, 3, rng=rng))


X = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, contents, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def with_architecture(path, change):
    """A copy of the model file at ``path`` whose architecture.json is changed by ``change``."""
    contents = members(path)
    architecture = json.loads(contents["architecture.json"])
    change(architecture)
    contents["architecture.json"] = json.dumps(architecture).encode()
    return write_zip(path.with_name("edited.nn101"), contents)


def test_loaded_model_predicts_bit_identically(tmp_path):
    original = model()
    path = original.save(tmp_path / "m.nn101", metadata={"dataset": "toy"})
    assert path == tmp_path / "m.nn101" and path.is_file()  # one file, at exactly that name
    loaded = nn101.load(path)
    assert type(loaded) is nn101.Sequential and len(loaded) == 3
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    assert nn101.serialization.read_metadata(path) == {"dataset": "toy"}
    assert is_model(path)


def test_the_file_is_a_zip_of_plain_json_and_npz(tmp_path):
    path = model().save(tmp_path / "m.nn101")
    contents = members(path)
    assert sorted(contents) == ["architecture.json", "weights.npz"]
    architecture = json.loads(contents["architecture.json"])
    layers = architecture["model"]["config"]["layers"]
    assert [layer["type"] for layer in layers] == ["Dense", "Tanh", "Dense"]
    with np.load(io.BytesIO(contents["weights.npz"]), allow_pickle=False) as weights:
        assert sorted(weights.files) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_a_model_directory_saved_by_0_1_still_loads(tmp_path):
    original = model()
    directory = tmp_path / "old"
    directory.mkdir()
    architecture = {"format": "nn101", "format_version": 1, "model": layer_spec(original)}
    (directory / "architecture.json").write_text(json.dumps(architecture))
    np.savez(directory / "weights.npz", **{n: p.value for n, p in original.named_parameters()})
    np.testing.assert_array_equal(nn101.load(directory).predict(X), original.predict(X))
    assert is_model(directory)


def test_a_path_that_is_not_an_nn101_model_is_never_touched(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes")
    project = tmp_path / "project"
    project.mkdir()
    (project / "README").write_text("mine")
    for path in (notes, project):
        with pytest.raises(nn101.OverwriteError, match="never replaces"):
            model().save(path, overwrite=True)
    assert notes.read_bytes() == b"my notes" and (project / "README").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "project"]
    assert issubclass(nn101.OverwriteError, FileExistsError)


def test_a_0_1_model_directory_is_never_replaced(tmp_path):
    test_a_model_directory_saved_by_0_1_still_loads(tmp_path)
    with pytest.raises(nn101.OverwriteError, match="0.1.*never replaces a directory"):
        model(1).save(tmp_path / "old", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == [
        "architecture.json",
        "weights.npz",
    ]


def test_replacing_a_model_needs_overwrite(tmp_path):
    path = model(0).save(tmp_path / "m.nn101")
    with pytest.raises(nn101.OverwriteError, match="overwrite=True"):
        model(1).save(path)
    np.testing.assert_array_equal(nn101.load(path).predict(X), model(0).predict(X))
    model(1).save(path, overwrite=True)
    np.testing.assert_array_equal(nn101.load(path).predict(X), model(1).predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nn101"]


def test_leftover_temporary_files_are_not_models_and_the_next_save_removes_them(tmp_path):
    path = model(0).save(tmp_path / "m.nn101")
    leftover = tmp_path / ".m.nn101.nn101-tmp-0123456789ab"
    leftover.write_bytes(path.read_bytes()[:100])  # what a killed save leaves
    other = tmp_path / ".m.nn101.notes"  # not ours: kept
    other.write_text("x")
    assert not is_model(leftover)
    model(1).save(path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".m.nn101.notes", "m.nn101"]


def test_a_temporary_file_is_removed_only_when_its_writer_is_gone(tmp_path):
    import subprocess
    import sys

    path = model(0).save(tmp_path / "m.nn101")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    writing = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = tmp_path / f".m.nn101.nn101-tmp-{gone.stdout.strip()}-0123456789ab"
        alive = tmp_path / f".m.nn101.nn101-tmp-{writing.pid}-0123456789ab"
        for leftover in (dead, alive):
            leftover.write_bytes(b"PK")
        model(1).save(path, overwrite=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "m.nn101"]
    finally:
        writing.kill()
        writing.wait()
    model(0).save(path, overwrite=True)  # its writer is gone now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nn101"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_two_processes_saving_to_one_path_at_once_both_succeed(tmp_path):
    path = model(0).save(tmp_path / "m.nn101")
    children = []
    for seed in (0, 1):
        pid = os.fork()
        if pid == 0:  # the child: save 60 times, exit 0 only if every save succeeded
            status = 1
            try:
                saved = model(seed)
                for _ in range(60):
                    saved.save(path, overwrite=True)
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children] == [0, 0]
    loaded = nn101.load(path).predict(X)
    assert any(np.array_equal(loaded, model(seed).predict(X)) for seed in (0, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nn101"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_users_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = model().save(tmp_path / "m.nn101")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused_and_nothing_is_written(tmp_path, bad):
    good = model(0).save(tmp_path / "m.nn101")
    diverged = model(1)
    diverged[2].weight.value[1, 2] = bad
    with pytest.raises(nn101.NonFiniteWeightsError, match=r"'2.weight' has 1 NaN or infinite"):
        diverged.save(good, overwrite=True)
    np.testing.assert_array_equal(nn101.load(good).predict(X), model(0).predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nn101"]


def test_missing_paths_and_parents(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        nn101.load(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model().save(tmp_path / "missing" / "m.nn101")
    assert not is_model(tmp_path / "nothing")


def test_the_layer_size_table_matches_every_library_layer():
    """``checks.ELEMENTS`` predicts, from the config alone, what building allocates: the bound
    that refuses a tiny file declaring a huge layer before allocating it."""
    for case in ALL_CASES:
        layer = make_layer(case, np.float32)
        actual = layer.num_parameters() + sum(np.size(b) for _, b in layer.named_buffers())
        spec = json.loads(json.dumps(layer_spec(layer)))
        assert checks.declared_elements(spec, "x") == actual, case.id


# -- hostile files: one error type, naming the file --------------------------------------------


def refused(path, match=""):
    with pytest.raises(nn101.ModelFileError, match=match) as caught:
        nn101.load(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_a_tiny_architecture_declaring_a_huge_layer_allocates_nothing(tmp_path):
    path = model().save(tmp_path / "m.nn101")
    edited = with_architecture(
        path,
        lambda a: a["model"]["config"]["layers"][0]["config"].update(
            in_features=20000, out_features=20000
        ),
    )
    tracemalloc.start()
    try:
        refused(edited, "declares 400,020,027 parameters")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20  # bytes; Dense(20000, 20000) alone would be 1.6 GB


def test_a_zip_bomb_member_is_refused_before_it_is_decompressed(tmp_path):
    path = model().save(tmp_path / "m.nn101")
    npy = io.BytesIO()
    np.save(npy, np.zeros((1 << 22,), np.float32))  # 16 MiB of zeros: 16 kB deflated
    bomb = io.BytesIO()
    write_zip(bomb, {"0.weight.npy": npy.getvalue()}, zipfile.ZIP_DEFLATED)
    contents = members(path)
    contents["weights.npz"] = bomb.getvalue()
    started = time.perf_counter()
    refused(write_zip(tmp_path / "bomb.nn101", contents), "zip bomb")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda a: a["model"]["config"]["layers"][0].update(config=None), "config must be"),
        (lambda a: a["model"]["config"]["layers"][0]["config"].update(rng=1), "'rng'"),
        (lambda a: a["model"]["config"]["layers"][1].update(type="Swish"), "unknown layer"),
        (lambda a: a["model"]["config"]["layers"][0]["config"].update(l1="x"), "cannot be built"),
        (lambda a: a["model"]["config"]["layers"][0]["config"].update(out_features=-3), "non-neg"),
        (lambda a: a.update(format_version=99), "format_version 99"),
        (lambda a: a.update(model=[]), '"model"'),
        (lambda a: a["model"]["config"]["layers"][2]["config"].update(out_features=5), "shape"),
        (lambda a: a["model"]["config"]["layers"][2]["config"].update(dtype="float64"), "dtype"),
    ],
)
def test_broken_architectures(tmp_path, change, match):
    refused(with_architecture(model().save(tmp_path / "m.nn101"), change), match)


@pytest.mark.parametrize(
    ("replace", "match"),
    [
        ({"architecture.json": b"[" * 100_000 + b"]" * 100_000}, "JSON"),
        ({"architecture.json": b"{not json"}, "not valid JSON"),
        ({"architecture.json": b'{"format": "keras"}'}, "not an nn101 architecture"),
        ({"architecture.json": b"\xff\xfe"}, "not valid JSON"),
        ({"weights.npz": b"PK\x03\x04 not a zip"}, "not a zip"),
        ({"evil.py": b"print(1)"}, "unexpected members"),
    ],
)
def test_broken_members(tmp_path, replace, match):
    contents = members(model().save(tmp_path / "m.nn101"))
    refused(write_zip(tmp_path / "bad.nn101", {**contents, **replace}), match)


def npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (lambda w: {**w, "0.weight": np.array([{"evil": 1}], dtype=object)}, "object"),
        (lambda w: {k: v for k, v in w.items() if k != "2.bias"}, "missing arrays"),
        (lambda w: {**w, "extra": np.zeros(3, np.float32)}, "unexpected arrays"),
    ],
)
def test_broken_weights(tmp_path, weights, match):
    path = model().save(tmp_path / "m.nn101")
    contents = members(path)
    with np.load(io.BytesIO(contents["weights.npz"])) as saved:
        arrays = weights({k: saved[k] for k in saved.files})
    contents["weights.npz"] = npz(**arrays)
    refused(write_zip(tmp_path / "bad.nn101", contents), match)


def test_a_non_npy_member_in_the_weights(tmp_path):
    contents = members(model().save(tmp_path / "m.nn101"))
    inner = io.BytesIO(contents["weights.npz"])
    with zipfile.ZipFile(inner, "a") as archive:
        archive.writestr("payload.pkl", b"\x80\x04K\x01.")
    contents["weights.npz"] = inner.getvalue()
    refused(write_zip(tmp_path / "bad.nn101", contents), "not a .npy array")


def test_truncated_and_flipped_files(tmp_path):
    data = model().save(tmp_path / "m.nn101").read_bytes()
    rng = np.random.default_rng(0)
    for k in range(60):
        blob = bytearray(data[: rng.integers(0, len(data))] if k % 2 else data)
        if k % 2 == 0:
            blob[rng.integers(0, len(blob))] ^= int(rng.integers(1, 256))
        path = tmp_path / f"bad{k}.nn101"
        path.write_bytes(bytes(blob))
        try:
            nn101.load(path)  # a flip in an unused byte (a zip comment, padding) may load
        except nn101.ModelFileError as error:
            assert str(path) in str(error)


def test_a_size_field_larger_than_the_file_is_refused_before_reading(tmp_path):
    """Found by the fuzzer: zipfile reads a stored member's declared size in one call, so a
    flipped size field made it allocate gigabytes."""
    data = bytearray(model().save(tmp_path / "m.nn101").read_bytes())
    entry = data.rindex(b"architecture.json") - 46  # its entry in the central directory
    data[entry + 20 : entry + 28] = (0x7FFFFFF0).to_bytes(4, "little") * 2
    path = tmp_path / "bad.nn101"
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        refused(path, "declares 2147483632 stored bytes")
        assert not is_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20


def test_a_deflated_member_that_lies_about_its_size_inflates_no_further():
    """32 MiB of zeros deflated, declared (sizes and CRC) as its first 928 bytes: reading
    stops at the declared size instead of inflating everything."""
    import struct
    import zlib

    from nn101.serialization.arrays import read_array, read_headers

    npy = io.BytesIO()
    np.save(npy, np.zeros(200, np.float32))  # a 128-byte header + 800 bytes
    payload = npy.getvalue()[:128] + bytes(32 << 20)
    buffer = io.BytesIO()
    write_zip(buffer, {"0.weight.npy": payload}, zipfile.ZIP_DEFLATED)
    data = bytearray(buffer.getvalue())
    for entry, crc_at, size_at in (
        (data.index(b"PK\x03\x04"), 14, 22),
        (data.rindex(b"PK\x01\x02"), 16, 24),
    ):
        data[entry + crc_at : entry + crc_at + 4] = struct.pack("<I", zlib.crc32(payload[:928]))
        data[entry + size_at : entry + size_at + 4] = struct.pack("<I", 928)
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    tracemalloc.start()
    try:
        array = read_array(archive, read_headers(archive, "x")["0.weight"], "x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert array.shape == (200,) and peak < 1 << 20
