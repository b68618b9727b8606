"""Checkpoints: fit(resume_from=) continues a run bit for bit from any checkpoint (mid-epoch,
at an epoch's end, after the last batch); rotation keeps the last k and the best; a checkpoint
for another model or other data is refused. The SIGKILL tests are in test_kill.py."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from checkpoint_run import STEPS, build, data, run

import nn101
from nn101.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from nn101.training.state import TrainState


def assert_same_run(a, b):
    (model_a, opt_a, hist_a), (model_b, opt_b, hist_b) = a, b
    snap_a, snap_b = model_a.snapshot(), model_b.snapshot()
    assert snap_a.keys() == snap_b.keys()
    for name in snap_a:
        assert snap_a[name].tobytes() == snap_b[name].tobytes(), name  # bit for bit
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a["step_count"] == state_b["step_count"] == STEPS
    assert state_a["hyperparameters"] == state_b["hyperparameters"]
    for sa, sb in zip(state_a["state"], state_b["state"], strict=True):
        assert all(sa[k].tobytes() == sb[k].tobytes() for k in sa)
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert hist_a[key] == hist_b[key], key


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run that kept every checkpoint (every 5 steps and every epoch)."""
    directory = tmp_path_factory.mktemp("all")
    return directory, run(directory, every_steps=5, keep_last=None)


def test_checkpoints_do_not_change_the_run(reference):
    assert_same_run(reference[1], run(None))


@pytest.mark.parametrize("index", [0, 2, 5, 9, -2, -1])
def test_resuming_from_any_checkpoint_is_bit_identical(reference, tmp_path, index):
    directory, expected = reference
    files = sorted(directory.iterdir(), key=lambda p: (p.name.split("step")[1], p.name))
    shutil.copy(files[index], tmp_path / files[index].name)
    assert_same_run(expected, run(tmp_path, resume=True))


def test_checkpoints_are_named_by_epoch_and_step_and_hold_a_model(reference):
    directory, (model, _, _) = reference
    names = sorted(p.name for p in directory.iterdir())
    assert "epoch0000-step00000005.ckpt" in names and "epoch0001-step00000013.ckpt" in names
    assert latest_checkpoint(directory).name == f"epoch0006-step{STEPS:08d}.ckpt"
    x = data()[2]
    np.testing.assert_array_equal(
        nn101.load(latest_checkpoint(directory)).predict(x), model.predict(x)
    )


def test_epochs_is_the_runs_total_when_resuming(reference, tmp_path):
    directory, expected = reference
    first = run(tmp_path, epochs=2)
    assert first[1].epoch_count == 2
    assert_same_run(expected, run(tmp_path, resume=True))  # epochs=6 in all: 4 more
    assert_same_run(expected, run(tmp_path, resume=True))  # finished: nothing more to do


def test_keep_last_and_the_best(tmp_path):
    model, optimizer = build()
    x, y, x_val, y_val = data()
    checkpoint = nn101.Checkpoint(tmp_path, every_steps=4, keep_last=2, monitor="val_loss")
    history = model.fit(
        x,
        y,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=6,
        batch_size=16,
        validation_data=(x_val, y_val),
        rng=np.random.default_rng(0),
        verbose=0,
        callbacks=[checkpoint],
        schedule=nn101.OneCycle(0.2, total_steps=STEPS),
    )
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    names = sorted(p.name for p in tmp_path.iterdir())
    best = [n for n in names if n.startswith(f"epoch{best_epoch:04d}-step{13 * best_epoch:08d}")]
    assert best == [checkpoint.best_name]
    assert len(names) == (3 if best_epoch < 6 else 2), names
    assert f"epoch0006-step{STEPS:08d}.ckpt" in names


def test_a_checkpoint_of_another_model_or_other_data_is_refused(reference, tmp_path):
    directory = reference[0]
    x, y, _, _ = data()
    other = nn101.Sequential(nn101.Dense(6, 3))
    with pytest.raises(nn101.ModelFileError, match="another model"):
        other.fit(
            x,
            y,
            optimizer=nn101.SGD(other.parameters(), 0.1),
            loss=nn101.SoftmaxCrossEntropy(),
            epochs=6,
            verbose=0,
            resume_from=directory,
        )
    model, optimizer = build()
    mid_epoch = directory / "epoch0000-step00000005.ckpt"
    with pytest.raises(nn101.ModelFileError, match="for 200 examples.*has 100"):
        model.fit(
            x[:100],
            y[:100],
            optimizer=optimizer,
            loss=nn101.SoftmaxCrossEntropy(),
            epochs=6,
            batch_size=16,
            verbose=0,
            resume_from=mid_epoch,
        )
    model, optimizer = build(3)
    before = {name: value.tobytes() for name, value in model.snapshot().items()}
    with pytest.raises(nn101.ModelFileError, match="batch_size=32 that would be 160"):
        model.fit(
            x,
            y,
            optimizer=optimizer,
            loss=nn101.SoftmaxCrossEntropy(),
            epochs=6,
            batch_size=32,
            verbose=0,
            resume_from=mid_epoch,
        )
    # all or nothing: the refused checkpoint's weights and clocks were not left in the model
    assert {name: value.tobytes() for name, value in model.snapshot().items()} == before
    assert optimizer.state_dict()["step_count"] == 0
    plain = build()[0].save(tmp_path / "m.nn101")
    model, optimizer = build()
    with pytest.raises(nn101.ModelFileError, match="not a checkpoint"):
        model.fit(
            x,
            y,
            optimizer=optimizer,
            loss=nn101.SoftmaxCrossEntropy(),
            verbose=0,
            resume_from=plain,
        )
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        model.fit(
            x,
            y,
            optimizer=optimizer,
            loss=nn101.SoftmaxCrossEntropy(),
            verbose=0,
            resume_from=tmp_path,
        )


def test_save_and_load_checkpoint_keep_carried_recurrent_state(tmp_path):
    def state(seed):
        rng = np.random.default_rng(seed)
        model = nn101.Sequential(
            nn101.LSTM(3, 4, stateful=True, rng=rng), nn101.Dense(4, 2, rng=rng)
        )
        return TrainState(model, nn101.SGD(model.parameters(), 0.1), nn101.MeanSquaredError(), rng)

    saved = state(0)
    saved.model.forward(np.ones((2, 5, 3), np.float32))
    carried = dict(saved.model.named_states())
    assert all(value is not None for value in carried.values())
    path = save_checkpoint(saved, tmp_path / "run.ckpt")
    restored = state(1)
    assert load_checkpoint(path, restored) == path
    for name, value in restored.model.named_states():
        np.testing.assert_array_equal(value, carried[name])
    assert restored.rng.bit_generator.state == saved.rng.bit_generator.state


def test_save_checkpoint_never_replaces_a_file_it_did_not_write(tmp_path):
    model, optimizer = build()
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    state = TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), np.random.default_rng(0))
    with pytest.raises(nn101.OverwriteError):
        save_checkpoint(state, notes)
    assert notes.read_text() == "mine"
    save_checkpoint(state, tmp_path / "a.ckpt")
    save_checkpoint(state, tmp_path / "a.ckpt")  # its own: replaced
    with pytest.raises(nn101.OverwriteError):
        save_checkpoint(state, tmp_path / "a.ckpt", overwrite=False)


class Counter(nn101.Callback):
    """A callback whose state holds arrays, nested."""

    def __init__(self):
        self.seen = {"batches": np.zeros(0, np.int64), "last": {"loss": np.zeros(1)}}

    def on_batch_end(self, state, loss):
        self.seen["batches"] = np.append(self.seen["batches"], state.step)
        self.seen["last"]["loss"] = np.array([loss])

    def state_dict(self):
        return {"seen": self.seen, "note": "counts"}

    def load_state_dict(self, state):
        self.seen = state["seen"]


def test_callback_states_may_hold_arrays(tmp_path):
    model, optimizer = build()
    x, y, _, _ = data()
    counter = Counter()
    state = TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), np.random.default_rng(0))
    model.fit(
        x,
        y,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=1,
        verbose=0,
        callbacks=[counter],
    )
    state.callbacks = [counter]
    path = save_checkpoint(state, tmp_path / "run.ckpt")
    restored = Counter()
    state.callbacks = [restored]
    load_checkpoint(path, state)
    np.testing.assert_array_equal(restored.seen["batches"], np.arange(1, 8))
    assert restored.seen["last"]["loss"].tobytes() == counter.seen["last"]["loss"].tobytes()


def run_state(seed):
    """A TrainState two Adam steps into training, so that weights and moments are not fresh."""
    model, optimizer = build(seed)
    state = TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), np.random.default_rng(seed))
    x, y, _, _ = data()
    for batch in (slice(0, 16), slice(16, 32)):
        optimizer.zero_grad()
        state.loss.forward(model.forward(x[batch], training=True), y[batch])
        model.backward(state.loss.backward(), input_grad=False)
        optimizer.step()
    return state


def everything(state):
    """Weights, optimizer state and the generator's state, as bytes, to compare runs by."""
    weights = {name: value.tobytes() for name, value in state.model.snapshot().items()}
    optimizer = state.optimizer.state_dict()
    moments = [{k: v.tobytes() for k, v in s.items()} for s in optimizer["state"]]
    return weights, moments, optimizer["step_count"], state.rng.bit_generator.state


def test_a_refused_checkpoint_leaves_the_run_as_it_was(tmp_path):
    import json
    import zipfile

    path = save_checkpoint(run_state(0), tmp_path / "good.ckpt")
    bad = tmp_path / "bad.ckpt"  # valid weights and optimizer; its layer states name no layer
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            member = source.read(item)
            if item.filename == "training.json":
                tree = json.loads(member)
                tree["layer_states"] = {"nope": None}
                member = json.dumps(tree).encode()
            target.writestr(item, member)
    state = run_state(1)
    before = everything(state)
    with pytest.raises(nn101.ModelFileError, match="layer states"):
        load_checkpoint(bad, state)
    assert everything(state) == before  # weights and moments were read before the refusal
    load_checkpoint(path, state)  # the good one still loads
    assert everything(state) != before
