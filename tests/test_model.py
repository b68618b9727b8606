"""Sequential, fit / evaluate / predict, callbacks, and the errors users see at the boundary."""

from __future__ import annotations

import numpy as np
import pytest

import nn101
from nn101.training import EarlyStopping, ReduceOnPlateau, TrainState


def mlp(in_features=2, hidden=32, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(
        nn101.Dense(in_features, hidden, rng=rng, dtype=dtype),
        nn101.ReLU(),
        nn101.Dense(hidden, hidden, rng=rng, dtype=dtype),
        nn101.ReLU(),
        nn101.Dense(hidden, classes, rng=rng, dtype=dtype),
    )


@pytest.fixture(scope="module")
def spirals():
    x, y = nn101.data.spirals(n_per_class=100, n_classes=3, rng=np.random.default_rng(0))
    return x, y


def fit(model, x, y=None, **kwargs):
    defaults = dict(
        epochs=5,
        batch_size=32,
        verbose=0,
        rng=np.random.default_rng(1),
        optimizer=nn101.Adam(model.parameters(), learning_rate=1e-2),
        loss=nn101.SoftmaxCrossEntropy(),
    )
    return model.fit(x, y, **{**defaults, **kwargs})


def test_fit_learns_spirals(spirals):
    x, y = spirals
    model = mlp(hidden=64)
    history = fit(model, x, y, epochs=150)
    assert history["accuracy"][-1] >= 0.95
    assert model.evaluate(x, y, loss=nn101.SoftmaxCrossEntropy())["accuracy"] >= 0.95
    assert history["loss"][-1] < history["loss"][0] / 5


def test_same_seed_same_numbers(spirals):
    x, y = spirals
    a, b = mlp(seed=3), mlp(seed=3)
    fit(a, x, y, rng=np.random.default_rng(7))
    fit(b, x, y, rng=np.random.default_rng(7))
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.value, q.value)


def test_history_has_validation_and_learning_rate(spirals):
    x, y = spirals
    history = fit(mlp(), x, y, epochs=3, validation_data=(x[:50], y[:50]))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]


def test_fit_accepts_a_dataset(spirals):
    x, y = spirals
    train = nn101.data.Dataset(x, y)
    history = fit(mlp(), train, epochs=2)
    assert len(history["loss"]) == 2


def test_evaluate_and_predict_do_not_change_the_model(spirals):
    x, y = spirals
    model = mlp()
    before = [p.value.copy() for p in model.parameters()]
    out1 = model.predict(x, batch_size=7)
    model.evaluate(x, y, loss=nn101.SoftmaxCrossEntropy())
    out2 = model.predict(x)
    assert out1.shape == (len(x), 3)
    np.testing.assert_allclose(out1, out2, rtol=1e-5, atol=1e-6)  # BLAS blocks by batch size
    for p, v in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.value, v)


def test_predict_in_batches_equals_one_forward(spirals):
    x, _ = spirals
    model = mlp(dtype=np.float64)
    np.testing.assert_allclose(model.predict(x, batch_size=13), model.forward(x), rtol=1e-12)


def test_backward_is_the_chain_of_layer_backwards():
    # Tanh, not ReLU: with zero biases a ReLU kink can sit exactly at a perturbed point.
    rng = np.random.default_rng(0)
    model = nn101.Sequential(
        nn101.Dense(3, 5, rng=rng, dtype=np.float64),
        nn101.Tanh(),
        nn101.Dense(5, 5, rng=rng, dtype=np.float64),
        nn101.Sigmoid(),
        nn101.Dense(5, 4, rng=rng, dtype=np.float64),
    )
    x = rng.normal(size=(6, 3))
    assert nn101.gradcheck.check_layer(model, x) < 1e-6


def test_parameters_are_named_by_position():
    names = [name for name, _ in mlp().named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_summary_lists_shapes_and_counts():
    lines: list[str] = []
    mlp(in_features=64, hidden=16, classes=10).summary(print_fn=lines.append)
    text = lines[0]
    assert "('N', 16)" in text and "('N', 10)" in text
    assert f"Total parameters: {64 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10:,}" in text


def test_early_stopping_stops_and_restores_the_best_weights(spirals):
    x, y = spirals
    model = mlp()
    # A rate this large makes the loss jump around, so the best epoch is not the last.
    stopper = EarlyStopping(monitor="loss", patience=1)
    history = fit(
        model,
        x,
        y,
        epochs=40,
        callbacks=[stopper],
        optimizer=nn101.SGD(model.parameters(), learning_rate=3.0),
    )
    assert stopper.stopped_epoch is not None
    assert len(history["loss"]) == stopper.stopped_epoch + 1 < 40
    best = min(history["loss"])
    assert history["loss"][stopper.best_epoch] == best


def test_early_stopping_names_a_missing_metric(spirals):
    x, y = spirals
    with pytest.raises(KeyError, match="val_loss"):
        fit(mlp(), x, y, epochs=1, callbacks=[EarlyStopping()])


def test_reduce_on_plateau_lowers_the_rate():
    callback = ReduceOnPlateau(monitor="loss", factor=0.5, patience=1)
    model = mlp()
    optimizer = nn101.SGD(model.parameters(), learning_rate=0.4)
    state = TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), np.random.default_rng(0))
    callback.on_train_begin(state)
    for loss in [1.0, 0.9, 0.9, 0.95, 0.9]:
        callback.on_epoch_end(state, {"loss": loss})
    assert optimizer.learning_rate == pytest.approx(0.2)


def test_schedule_sets_the_rate_each_step(spirals):
    x, y = spirals
    model = mlp()
    optimizer = nn101.SGD(model.parameters(), learning_rate=1.0)
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    history = fit(
        model, x[:64], y[:64], epochs=2, batch_size=32, optimizer=optimizer, schedule=schedule
    )
    assert seen == [0, 1, 2, 3]
    assert history["lr"] == [pytest.approx(0.1 / 2), pytest.approx(0.1 / 4)]


def test_a_diverging_loss_stops_with_advice(spirals):
    x, y = spirals
    model = mlp()
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(
            model, x * 1e3, y, epochs=20, optimizer=nn101.SGD(model.parameters(), learning_rate=1e6)
        )


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((0, 2)), np.zeros(0, dtype=int), "at least one example"),
        (np.full((4, 2), np.nan), np.zeros(4, dtype=int), "non-finite"),
        (np.zeros((4, 2)), np.zeros(3, dtype=int), "4 targets"),
        (
            np.zeros((4, 3)),
            np.zeros(4, dtype=int),
            r"x of shape \(4, 3\) do not fit the model: "
            r"Dense\(2, 32\) expected input \(N, \.\.\., 2\)",
        ),
        (np.zeros((4, 2)), np.array([0, 1, 2, 7]), "7"),
    ],
)
def test_bad_input_gets_a_clear_error(x, y, message):
    with pytest.raises(ValueError, match=message):
        fit(mlp(), x, y, epochs=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": -1}, "batch_size must be a positive integer, got -1"),
        ({"schedule_per": "batch"}, "schedule_per"),
    ],
)
def test_bad_arguments_get_a_clear_error(spirals, kwargs, message):
    x, y = spirals
    with pytest.raises(ValueError, match=message):
        fit(mlp(), x, y, **kwargs)


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="layer 1 must be a Layer, got int"):
        nn101.Sequential(nn101.ReLU(), 3)


def test_one_cycle_drives_rate_and_momentum(spirals):
    x, y = spirals
    model = mlp()
    optimizer = nn101.SGD(model.parameters(), learning_rate=0.1, momentum=0.9)
    schedule = nn101.OneCycle(0.5, total_steps=20)
    fit(model, x[:64], y[:64], epochs=10, batch_size=32, optimizer=optimizer, schedule=schedule)
    assert optimizer.learning_rate == pytest.approx(schedule(19))
    assert optimizer.momentum == pytest.approx(schedule.momentum(19))


def test_momentum_schedule_needs_a_momentum_optimizer(spirals):
    x, y = spirals
    model = mlp()
    with pytest.raises(ValueError, match="AdaGrad has neither momentum nor beta1"):
        fit(
            model,
            x,
            y,
            epochs=1,
            optimizer=nn101.AdaGrad(model.parameters()),
            schedule=nn101.OneCycle(0.1, total_steps=10),
        )


def test_clip_norm_bounds_the_update(spirals):
    x, y = spirals
    model = mlp()
    before = [p.value.copy() for p in model.parameters()]
    fit(
        model,
        x[:32],
        y[:32],
        epochs=1,
        batch_size=32,
        clip_norm=1e-3,
        optimizer=nn101.SGD(model.parameters(), learning_rate=1.0),
    )
    step = np.sqrt(sum(np.sum((p.value - b) ** 2) for p, b in zip(model.parameters(), before)))
    assert step <= 1e-3 * (1 + 1e-5)
