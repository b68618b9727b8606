"""The model loader against thousands of mutated model files (hypothesis): bytes flipped, files
cut short or extended, architecture values replaced by arbitrary JSON (huge sizes, wrong types,
null configs, unknown layers, deep nesting), ``.npy`` headers rewritten (shapes, dtypes, object
arrays), members added, removed or renamed, zip bombs. Every file gives a model or a
``ModelFileError`` naming the file: never another exception type, and never unbounded memory,
since the fuzz loop runs in a subprocess under an address-space limit (``RLIMIT_AS``), where an
oversized allocation is a MemoryError, which would fail the test.

Run by hand: ``python tests/test_fuzz_model_files.py DIR EXAMPLES [SEED]`` prints a JSON report.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fuzz_child import child_main, run_child

EXAMPLES = 500  # hypothesis examples; with their variants, 2500 files
SEED = 20261
VARIANTS = 4  # further files per example: random bytes of the outer file flipped or cut


@pytest.mark.slow
def test_mutated_model_files_give_a_model_or_a_model_file_error(tmp_path):
    report, elapsed = run_child(__file__, tmp_path, EXAMPLES, SEED, timeout=900)
    print(f"\nmodel-file fuzz: {report} (subprocess {elapsed:.1f} s)")
    assert report["cases"] >= (VARIANTS + 1) * EXAMPLES
    assert report["models"] > 0 and report["errors"] > 0  # both outcomes were exercised
    assert report["runs_restored"] > 0
    assert set(report["mutations"]) >= set(MUTATIONS)
    assert report["slowest_case_s"] < 5.0


# -- the fuzz loop, run in the subprocess --------------------------------------------------------

MUTATIONS = [
    "none",
    "flip",
    "truncate",
    "append",
    "json-value",
    "json-delete",
    "huge-size",
    "deep-json",
    "npy-header",
    "npy-data",
    "members",
    "bomb",
    "training-json",
    "training-npz",
]
DESCRS = ["<f4", "<f8", ">f4", "<f2", "|O", "<i8", "|b1", "<c8", "|V8", "<U3", "x", "<f4,<f4"]


def base_models():
    import numpy as np

    import nn101

    rng = np.random.default_rng(0)
    return [
        nn101.Sequential(
            nn101.Dense(5, 7, rng=rng),
            nn101.BatchNorm1d(7),
            nn101.ReLU(),
            nn101.Dense(7, 3, rng=rng),
        ),
        nn101.Sequential(
            nn101.Conv2d(1, 2, 3, rng=rng), nn101.MaxPool2d(2), nn101.Flatten(), nn101.Dense(2, 2)
        ),
        nn101.Sequential(nn101.Embedding(6, 3, rng=rng), nn101.LSTM(3, 4, rng=rng)),
    ]


def json_values(st):
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.sampled_from([0, 1, 2**31, 2**40, 10**12, -1])
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=8)
        | st.sampled_from(["Dense", "Sequential", "float64", "int8", "object", "rng", "custom"])
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=8,
    )


def nodes(tree, path=()):
    """Every (path, value) of a JSON tree."""
    yield path, tree
    items = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else ()
    )
    for key, value in items:
        yield from nodes(value, (*path, key))


def replace(tree, path, value, delete=False):
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return tree


def npy_bytes(descr, fortran, shape, data: bytes) -> bytes:
    header = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {tuple(shape)!r}, }}"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1") + data


def rezip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def mutate_architecture(draw, st, outer, mutation, member="architecture.json"):
    tree = json.loads(outer[member])
    paths = [path for path, _ in nodes(tree)]
    path = draw(st.sampled_from(paths))
    if mutation == "json-delete" and path:
        tree = replace(tree, path, None, delete=True)
    elif mutation == "huge-size":
        sizes = [
            p
            for p in paths
            if p
            and p[-1]
            in (
                "in_features",
                "out_features",
                "hidden_size",
                "num_embeddings",
                "out_channels",
                "num_features",
            )
        ]
        big = draw(st.sampled_from([2**14, 20000, 2**20, 2**31, 2**40]))
        tree = replace(tree, draw(st.sampled_from(sizes)), big)
    elif mutation == "deep-json":
        depth = draw(st.sampled_from([150, 250, 1000, 100_000]))
        outer["architecture.json"] = (
            b'{"format": "nn101", "model": ' + b"[" * depth + b"]" * depth + b"}"
        )
        return
    else:
        tree = replace(tree, path, draw(json_values(st)))
    outer[member] = json.dumps(tree).encode()


def mutate_weights(draw, st, outer, mutation, member="weights.npz"):
    inner = unzip(outer[member])
    name = draw(st.sampled_from(sorted(inner)))
    data = inner[name][128:]  # np.save headers of these small arrays are 128 bytes
    if mutation == "npy-header":
        shape = draw(st.lists(st.integers(0, 2**40) | st.integers(0, 8), max_size=4))
        descr = draw(st.sampled_from(DESCRS))
        inner[name] = npy_bytes(descr, draw(st.booleans()), shape, data)
    elif mutation == "npy-data":
        cut = draw(st.integers(0, len(data)))
        inner[name] = inner[name][: 128 + cut] + draw(st.binary(max_size=16))
    elif mutation == "members":
        action = draw(st.sampled_from(["drop", "rename", "add", "outer-add", "outer-drop"]))
        if action == "drop":
            del inner[name]
        elif action == "rename":
            inner[draw(st.text(min_size=1, max_size=10))] = inner.pop(name)
        elif action == "add":
            inner[draw(st.text(min_size=1, max_size=10))] = draw(st.binary(max_size=64))
        elif action == "outer-add":
            outer[draw(st.sampled_from(["training.json", "x.py", "weights.npz/"]))] = b"{}"
        else:
            del outer[draw(st.sampled_from(sorted(outer)))]
    elif mutation == "bomb":
        declared = draw(st.sampled_from([1 << 20, 1 << 24, 1 << 28]))
        zeros = npy_bytes("<f4", False, (declared // 4,), bytes(declared))
        outer["weights.npz"] = rezip({name: zeros}, zipfile.ZIP_DEFLATED)
        return
    outer[member] = rezip(inner)


def mutated_files(st, originals):
    @st.composite
    def build(draw):
        mutation = draw(st.sampled_from(MUTATIONS))
        index = draw(st.integers(0, len(originals) - 1))
        if mutation.startswith("training"):
            index = len(originals) - 1  # the checkpoint
        outer = unzip(originals[index])
        if mutation in ("json-value", "json-delete", "huge-size", "deep-json"):
            mutate_architecture(draw, st, outer, mutation)
        elif mutation in ("npy-header", "npy-data", "members", "bomb"):
            mutate_weights(draw, st, outer, mutation)
        elif mutation == "training-json" and "training.json" in outer:
            mutate_architecture(draw, st, outer, "json-value", "training.json")
        elif mutation == "training-npz" and "training.npz" in outer:
            kind = draw(st.sampled_from(["npy-header", "npy-data", "members"]))
            mutate_weights(draw, st, outer, kind, "training.npz")
        blob = bytearray(rezip(outer) if mutation != "none" else originals[index])
        if mutation == "flip":
            for _ in range(draw(st.integers(1, 4))):
                blob[draw(st.integers(0, len(blob) - 1))] ^= draw(st.integers(1, 255))
        elif mutation == "truncate":
            blob = blob[: draw(st.integers(0, len(blob) - 1))]
        elif mutation == "append":
            blob += draw(st.binary(min_size=1, max_size=64))
        return mutation, index, bytes(blob), draw(st.integers(0, 2**32 - 1))

    return build()


def check_one(path: Path, mutation: str, blob: bytes, original, tally, make_state=None) -> None:
    import numpy as np

    import nn101

    path.write_bytes(blob)
    tally["cases"] += 1
    tally["mutations"][mutation] = tally["mutations"].get(mutation, 0) + 1
    started = time.perf_counter()
    nn101.serialization.is_model(path)  # never raises
    try:
        model = nn101.load(path)
        nn101.serialization.read_metadata(path)
    except nn101.ModelFileError as error:
        assert str(path) in str(error), f"the error does not name the file: {error}"
        tally["errors"] += 1
    else:
        assert isinstance(model, nn101.Layer)
        if mutation == "none":  # an unmutated file loads the same weights
            saved, loaded = original.snapshot(), model.snapshot()
            assert all(np.array_equal(saved[k], loaded[k]) for k in saved)
        tally["models"] += 1
    if make_state is not None:  # a checkpoint: restoring a run from it is just as safe
        try:
            nn101.load_checkpoint(path, make_state())
            tally["runs_restored"] += 1
        except nn101.ModelFileError as error:
            assert str(path) in str(error), f"the error does not name the file: {error}"
    tally["slowest_case_s"] = max(tally["slowest_case_s"], time.perf_counter() - started)


def checkpoint_state():
    """A fresh run state, built as the base checkpoint's was."""
    import numpy as np

    import nn101

    rng = np.random.default_rng(3)
    model = nn101.Sequential(
        nn101.Dense(4, 6, rng=rng),
        nn101.Dropout(0.2, rng=np.random.default_rng(4)),
        nn101.Dense(6, 2, rng=rng),
    )
    optimizer = nn101.Nadam(model.parameters(), 0.01)
    callbacks = [nn101.EarlyStopping("loss"), nn101.ReduceOnPlateau("loss")]
    loss = nn101.SoftmaxCrossEntropy()
    return nn101.TrainState(model, optimizer, loss, np.random.default_rng(5), callbacks=callbacks)


def base_checkpoint(path: Path) -> bytes:
    """A checkpoint taken in the middle of the second epoch of a short run."""
    import numpy as np

    import nn101

    state = checkpoint_state()
    x = np.random.default_rng(6).normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    class SaveAtStep(nn101.Callback):
        def on_batch_end(self, run, loss):
            if run.step == 7:
                nn101.save_checkpoint(run, path)

    state.model.fit(
        x,
        y,
        optimizer=state.optimizer,
        loss=state.loss,
        epochs=2,
        batch_size=8,
        rng=state.rng,
        verbose=0,
        callbacks=[*state.callbacks, SaveAtStep()],
    )
    return path.read_bytes()


def variants(blob: bytes, seed: int) -> list[tuple[str, bytes]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    files = []
    for index in range(VARIANTS):
        data = bytearray(blob)
        if not data or index % 2:
            files.append(("truncate", bytes(data[: rng.integers(0, max(len(data), 1))])))
            continue
        for _ in range(rng.integers(1, 4)):
            data[rng.integers(0, len(data))] ^= int(rng.integers(1, 256))
        files.append(("flip", bytes(data)))
    return files


def fuzz(directory: Path, examples: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    import nn101

    models = base_models()
    originals = []
    for k, model in enumerate(models):
        path = nn101.save(model, directory / f"base{k}.nn101", overwrite=True)
        originals.append(path.read_bytes())
    originals.append(base_checkpoint(directory / "base.ckpt"))
    models.append(nn101.load(directory / "base.ckpt"))
    checkpoint_index = len(originals) - 1
    tally = {"cases": 0, "models": 0, "errors": 0, "runs_restored": 0, "mutations": {}}
    tally["slowest_case_s"] = 0.0

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated_files(st, originals))
    def each(case):
        mutation, index, blob, variant_seed = case
        path = directory / "case.nn101"
        make_state = checkpoint_state if index == checkpoint_index else None
        check_one(path, mutation, blob, models[index], tally, make_state)
        for name, variant in variants(blob, variant_seed):
            check_one(path, name, variant, models[index], tally, make_state)

    each()
    tally["slowest_case_s"] = round(tally["slowest_case_s"], 3)
    return tally


if __name__ == "__main__":
    child_main(fuzz, SEED)
