"""The training core of issue 9: one TrainState and train_step, continuation, randomness,
the non-finite check, callbacks, sequences and integer inputs, registry and traversal."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import nn101
from nn101.core import Layer, Parameter
from nn101.training import Callback, EarlyStopping, ReduceOnPlateau


def dropout_mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(
        nn101.Dense(2, 16, rng=rng), nn101.ReLU(), nn101.Dropout(0.3), nn101.Dense(16, 3, rng=rng)
    )


@pytest.fixture(scope="module")
def spirals():
    return nn101.data.spirals(n_per_class=60, n_classes=3, rng=np.random.default_rng(0))


def run(model, x, y, epochs, optimizer, rng, schedule=None, **kwargs):
    return model.fit(
        x,
        y,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=epochs,
        batch_size=16,
        rng=rng,
        verbose=0,
        schedule=schedule,
        **kwargs,
    )


def test_fit_twice_equals_fit_once_bit_for_bit(spirals):
    x, y = spirals
    schedule = nn101.CosineDecay(0.05, total_steps=60)
    weights = []
    for calls in ([2], [1, 1]):
        model, rng = dropout_mlp(), np.random.default_rng(7)
        optimizer = nn101.Adam(model.parameters(), learning_rate=0.05)
        for epochs in calls:
            run(model, x, y, epochs, optimizer, rng, schedule)
        assert optimizer.step_count == 24 and optimizer.epoch_count == 2
        weights.append([p.value.copy() for p in model.parameters()])
    for once, twice in zip(*weights, strict=True):
        np.testing.assert_array_equal(once, twice)


def test_one_seed_fixes_dropout_without_its_own_generator(spirals):
    x, y = spirals
    results = []
    for _ in range(2):
        model = dropout_mlp()
        run(model, x, y, 2, nn101.SGD(model.parameters(), 0.1), np.random.default_rng(3))
        results.append(model.parameters()[0].value.copy())
        assert model[2].rng is None  # lent for the run, given back after
    np.testing.assert_array_equal(*results)


def test_per_epoch_schedule_continues_across_fit_calls(spirals):
    x, y = spirals
    model = dropout_mlp()
    optimizer = nn101.SGD(model.parameters(), learning_rate=1.0)
    seen: list[int] = []

    def schedule(epoch):
        seen.append(epoch)
        return 0.1 / (1 + epoch)

    for _ in range(2):
        history = run(
            model, x, y, 1, optimizer, np.random.default_rng(0), schedule, schedule_per="epoch"
        )
    assert seen == [0, 1] and history.epoch == [1]


class Recorder(Callback):
    """Copies of the weights after every step, and a value added to each epoch's logs."""

    def __init__(self):
        self.steps, self.hooks = [], []

    def on_train_begin(self, state):
        self.hooks.append("train_begin")

    def on_epoch_begin(self, state):
        self.hooks.append(f"epoch_begin {state.epoch}")

    def on_batch_end(self, state, loss):
        self.steps.append([p.value.copy() for p in state.model.parameters()])

    def on_epoch_end(self, state, logs):
        logs["steps_so_far"] = state.step
        self.hooks.append(f"epoch_end {state.history.epoch[-1]}")
        return False


def test_a_diverging_step_never_reaches_the_weights(spirals):
    x, y = spirals
    model = dropout_mlp()
    recorder = Recorder()
    with pytest.raises(FloatingPointError, match="keep their last finite values"):
        run(
            model,
            x * 1e3,
            y,
            5,
            nn101.SGD(model.parameters(), learning_rate=1e3),
            np.random.default_rng(0),
            callbacks=[recorder],
        )
    assert recorder.steps, "diverged before any step"
    for value, last in zip(model.parameters(), recorder.steps[-1], strict=True):
        assert np.isfinite(value.value).all()
        np.testing.assert_array_equal(value.value, last)


def test_callbacks_see_every_hook_and_history_keeps_what_they_log(spirals):
    x, y = spirals
    model, recorder = dropout_mlp(), Recorder()
    history = run(
        model,
        x,
        y,
        2,
        nn101.Adam(model.parameters()),
        np.random.default_rng(0),
        callbacks=[recorder],
    )
    assert recorder.hooks == [
        "train_begin",
        "epoch_begin 0",
        "epoch_end 0",
        "epoch_begin 1",
        "epoch_end 1",
    ]
    assert history["steps_so_far"] == [12, 24]
    assert all(t > 0 for t in history["time"])


class Scripted(Callback):
    """Puts a scripted value into the logs, so a monitor sees exactly that sequence."""

    def __init__(self, values):
        self.values = list(values)

    def on_epoch_end(self, state, logs):
        logs["metric"] = self.values[state.history.epoch[-1]]
        return False


def test_early_stopping_waits_exactly_patience_epochs_and_restores_the_best(spirals):
    x, y = spirals
    model = dropout_mlp()
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, state, logs):
            snapshots.append(state.model.snapshot())
            return False

    stopper = EarlyStopping(monitor="metric", patience=3, mode="min")
    history = run(
        model,
        x,
        y,
        20,
        nn101.Adam(model.parameters(), 0.02),
        np.random.default_rng(0),
        callbacks=[Scripted([5, 4, 3, 3.5, 3.2, 3.1, 1, 1]), Snap(), stopper],
    )
    assert len(history) == 6 and stopper.stopped_epoch == 5 and stopper.best_epoch == 2
    for name, p in model.named_parameters():  # the weights of epoch 2, not of the last one
        np.testing.assert_array_equal(p.value, snapshots[2][name])
    assert not all(np.array_equal(p.value, snapshots[5][n]) for n, p in model.named_parameters())


def test_reduce_on_plateau_counts_cooldown_like_pytorch(torch):
    metric = [1, 1, 1, 0.9, 1, 1, 1, 1, 1]
    w = torch.zeros(1, requires_grad=True)
    torch_optimizer = torch.optim.SGD([w], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        torch_optimizer, factor=0.5, patience=1, cooldown=2, threshold=0, threshold_mode="abs"
    )
    model = dropout_mlp()
    optimizer = nn101.SGD(model.parameters(), learning_rate=0.1)
    state = nn101.TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), np.random.default_rng())
    callback = ReduceOnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2)
    ours, theirs = [], []
    for value in metric:
        callback.on_epoch_end(state, {"loss": value})
        scheduler.step(value)
        ours.append(optimizer.learning_rate)
        theirs.append(torch_optimizer.param_groups[0]["lr"])
    assert ours == pytest.approx(theirs)
    assert ours[6] == pytest.approx(0.025)


def test_validation_targets_are_checked_before_the_first_epoch():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((40, 2)), rng.integers(0, 3, 40)
    one_hot = np.eye(3)[labels]
    model = dropout_mlp()
    optimizer = nn101.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match=r"fit\(validation_data\): the targets do not fit"):
        model.fit(
            x,
            one_hot,
            optimizer=optimizer,
            loss=nn101.MeanSquaredError(),
            verbose=0,
            validation_data=(x, labels),
        )
    assert optimizer.step_count == 0


def test_mse_on_one_hot_targets_logs_accuracy_and_evaluate_reports_it():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((40, 2)), rng.integers(0, 3, 40)
    one_hot = np.eye(3)[labels]
    model = dropout_mlp()
    history = model.fit(
        x,
        one_hot,
        optimizer=nn101.SGD(model.parameters(), 0.1),
        epochs=1,
        loss=nn101.MeanSquaredError(),
        verbose=0,
        validation_data=(x, one_hot),
    )
    assert {"accuracy", "val_accuracy"} <= set(history.history)
    assert set(model.evaluate(x, one_hot)) == {"accuracy"}


def test_evaluate_changes_nothing_in_a_model_with_batchnorm_buffers():
    rng = np.random.default_rng(0)
    model = nn101.Sequential(nn101.Dense(2, 8, rng=rng), nn101.BatchNorm1d(8), nn101.Dense(8, 3))
    x, y = rng.standard_normal((64, 2)), rng.integers(0, 3, 64)
    model.fit(
        x,
        y,
        optimizer=nn101.Adam(model.parameters()),
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=1,
        verbose=0,
        rng=rng,
    )
    before = model.snapshot()
    model.evaluate(x, y, loss=nn101.SoftmaxCrossEntropy())
    model.predict(x)
    for name, value in model.snapshot().items():
        np.testing.assert_array_equal(value, before[name])
    assert any(name.startswith("buffer:") for name in before)


def test_the_methods_carry_their_real_signatures():
    for method in ("fit", "evaluate", "predict"):
        parameters = inspect.signature(getattr(nn101.Sequential, method)).parameters
        assert "kwargs" not in parameters
    assert {"optimizer", "loss", "schedule", "clip_norm"} <= set(
        inspect.signature(nn101.Sequential.fit).parameters
    )


class Pair(Layer):
    """Two Dense layers held in a list: its parameters must be found through the list."""

    def __init__(self):
        self.blocks = [
            nn101.Dense(2, 4, rng=np.random.default_rng(0)),
            nn101.Dense(4, 3, rng=np.random.default_rng(1)),
        ]

    def forward(self, x, *, training=False):
        return self.blocks[1].forward(self.blocks[0].forward(x))

    def backward(self, grad_output, *, input_grad=True):
        return self.blocks[0].backward(self.blocks[1].backward(grad_output), input_grad=input_grad)


def test_a_layer_holding_a_list_of_layers_reports_and_trains_their_parameters(spirals):
    x, y = spirals
    model = Pair()
    assert [n for n, _ in model.named_parameters()] == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    before = [p.value.copy() for p in model.parameters()]
    nn101.training.fit(
        model,
        x,
        y,
        optimizer=nn101.SGD(model.parameters(), 0.1),
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=1,
        verbose=0,
    )
    assert all(not np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))


class Ids(Layer):
    """Looks up a row per integer id: fails if the loop casts ids to float."""

    def __init__(self):
        self.table = Parameter(np.random.default_rng(0).standard_normal((5, 3)))

    def forward(self, x, *, training=False):
        assert x.dtype.kind == "i", f"ids were cast to {x.dtype}"
        self.ids = x
        return self.table.value[x]

    def backward(self, grad_output, *, input_grad=True):
        np.add.at(self.table.grad, self.ids, grad_output)
        return None


def test_integer_inputs_and_sequence_targets_train_without_casting():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, (20, 7))  # (N, T) token ids
    targets = np.where(rng.random((20, 7)) < 0.2, -1, ids % 3)  # (N, T), -1 is padding
    model = Ids()
    loss = nn101.SoftmaxCrossEntropy(ignore_index=-1)
    history = nn101.training.fit(
        model,
        ids,
        targets,
        optimizer=nn101.Adam(model.parameters(), 0.1),
        loss=loss,
        epochs=30,
        batch_size=5,
        verbose=0,
    )
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] == 1.0  # ids % 3 is learnable exactly


def test_a_user_class_named_like_a_library_layer_replaces_nothing(tmp_path):
    class Dense(nn101.Dense):  # a learner's experiment, same name as the library's
        pass

    assert nn101.registry.LAYERS.get("Dense") is nn101.Dense
    mine = nn101.Sequential(Dense(2, 3, rng=np.random.default_rng(0)))
    mine.save(tmp_path / "mine")
    with pytest.raises(ValueError, match=r"custom_layers=\[Dense\]"):
        nn101.load(tmp_path / "mine")
    assert type(nn101.load(tmp_path / "mine", custom_layers=[Dense])[0]) is Dense
    library = nn101.Sequential(nn101.Dense(2, 3, rng=np.random.default_rng(0)))
    library.save(tmp_path / "library")
    assert type(nn101.load(tmp_path / "library")[0]) is nn101.Dense


def test_registering_a_taken_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        nn101.registry.LAYERS.add("Dense", type("Dense", (nn101.Dense,), {}))


def test_dense_keeps_a_reference_to_its_input_as_documented():
    layer = nn101.Dense(2, 2, rng=np.random.default_rng(0), dtype=np.float64)
    x = np.ones((3, 2))
    layer.forward(x)
    x *= 2  # in place, between forward and backward
    layer.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(layer.weight.grad, np.full((2, 2), 6.0))  # xᵀg with the new x
    assert "reference to ``x``" in nn101.Dense.__doc__


def test_log_softmax_keeps_float32_precision_for_large_logits():
    x = np.full(10, 1000.0, dtype=np.float32)
    assert nn101.functional.log_softmax(x)[0] == np.float32(-np.log(10.0))


def test_a_stateful_model_validates_and_evaluation_leaves_its_state_alone():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, (24, 6))
    targets = np.roll(ids, -1, axis=1)
    model = nn101.Sequential(
        nn101.Embedding(5, 4, rng=rng),
        nn101.LSTM(4, 8, stateful=True, rng=rng),
        nn101.Dense(8, 5, rng=rng),
    )
    history = model.fit(
        ids,
        targets,
        optimizer=nn101.Adam(model.parameters()),
        epochs=2,
        loss=nn101.SoftmaxCrossEntropy(),
        batch_size=8,
        shuffle=False,
        verbose=0,
        validation_data=(ids[:10], targets[:10]),
        rng=rng,
    )
    assert "val_loss" in history.history
    carried = [np.copy(v) for _, v in model.named_states() if v is not None]
    assert carried, "the stateful layer carried nothing"
    model.evaluate(ids[:7], targets[:7], loss=nn101.SoftmaxCrossEntropy())
    model.predict(ids[:3])
    after = [v for _, v in model.named_states() if v is not None]
    for before, now in zip(carried, after, strict=True):
        np.testing.assert_array_equal(before, now)
