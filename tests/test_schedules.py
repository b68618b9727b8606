"""Schedules: the shape of each curve (where it starts, peaks, ends; monotone where it should
be), purity, plotting helpers, and argument errors naming the argument, value and range."""

from __future__ import annotations

import numpy as np
import pytest

from nn101.schedules import (
    Constant,
    CosineDecay,
    CyclicLR,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStep,
    OneCycle,
    StepDecay,
)


def test_constant():
    np.testing.assert_array_equal(Constant(0.01).values(5), [0.01] * 5)


def test_step_decay_halves_every_k_steps():
    rates = StepDecay(0.8, every=3).values(10)
    np.testing.assert_array_equal(rates, [0.8] * 3 + [0.4] * 3 + [0.2] * 3 + [0.1])


def test_multi_step_drops_at_each_milestone():
    rates = MultiStep(1.0, [2, 5], factor=0.1).values(7)
    np.testing.assert_allclose(rates, [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])


def test_exponential_and_inverse_time_decay():
    np.testing.assert_allclose(ExponentialDecay(2.0, 0.5).values(4), [2, 1, 0.5, 0.25])
    np.testing.assert_allclose(InverseTimeDecay(1.0, 0.5).values(3), [1, 1 / 1.5, 1 / 2])
    staircase = InverseTimeDecay(1.0, 1.0, decay_steps=2, staircase=True).values(5)
    np.testing.assert_allclose(staircase, [1, 1, 0.5, 0.5, 1 / 3])


def test_cosine_decay_warms_up_linearly_then_falls_to_final_and_stays():
    schedule = CosineDecay(1.0, total_steps=20, warmup_steps=4, warmup_start_factor=0.2, final=0.1)
    rates = schedule.values(30)
    np.testing.assert_allclose(rates[:5], [0.2, 0.4, 0.6, 0.8, 1.0])
    assert np.all(np.diff(rates[4:21]) < 0)
    assert rates[12] == pytest.approx(0.55)  # halfway through the cosine: the mean
    np.testing.assert_allclose(rates[20:], 0.1)


def test_cyclic_triangle_shapes():
    tri = CyclicLR(0.1, 1.0, step_size_up=2, step_size_down=3).values(11)
    np.testing.assert_allclose(tri, [0.1, 0.55, 1.0, 0.7, 0.4, 0.1, 0.55, 1.0, 0.7, 0.4, 0.1])
    halving = CyclicLR(0.0, 1.0, step_size_up=2, mode="triangular2").values(12)
    np.testing.assert_allclose(halving[[2, 6, 10]], [1.0, 0.5, 0.25])
    shrinking = CyclicLR(0.0, 1.0, step_size_up=2, mode="exp_range", gamma=0.9).values(7)
    np.testing.assert_allclose(shrinking[[2, 6]], [0.9**2, 0.9**6])


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_rate_up_then_down_momentum_opposite(anneal):
    schedule = OneCycle(1.0, total_steps=100, anneal=anneal)
    rates, momenta = schedule.values(100), schedule.momentum_values(100)
    peak = int(np.argmax(rates))
    assert peak == 29  # pct_start 0.3 of 100 steps: the rate peaks at step 30 - 1
    assert rates[0] == pytest.approx(1.0 / 25) and rates[peak] == pytest.approx(1.0)
    assert rates[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    assert momenta[0] == pytest.approx(0.95) and momenta[peak] == pytest.approx(0.85)
    assert momenta[-1] == pytest.approx(0.95)
    assert int(np.argmin(momenta)) == peak
    assert schedule(500) == rates[-1]  # past the end it stays at its last value


def test_one_cycle_three_phase_returns_to_the_start_before_annealing():
    schedule = OneCycle(1.0, total_steps=100, three_phase=True, anneal="linear")
    rates, momenta = schedule.values(100), schedule.momentum_values(100)
    assert rates[29] == pytest.approx(1.0) and rates[58] == pytest.approx(0.04)
    assert rates[-1] == pytest.approx(0.04 / 1e4)
    np.testing.assert_allclose(momenta[58:], 0.95)


def test_schedules_are_pure_functions_of_the_step():
    schedule = OneCycle(0.5, total_steps=50)
    forward = schedule.values(50)
    backward = schedule.values(range(49, -1, -1))[::-1]
    np.testing.assert_array_equal(forward, backward)
    assert "OneCycle(max_lr=0.5, total_steps=50" in repr(schedule)


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (
            lambda: Constant(-1.0),
            r"Constant: learning_rate must be a number in \[0, inf\), got -1.0",
        ),
        (lambda: StepDecay(0.1, every=0), r"StepDecay: every must be an integer >= 1, got 0"),
        (lambda: StepDecay(0.1, every=2, factor=1.5), r"factor must be in \(0, 1\], got 1.5"),
        (lambda: MultiStep(0.1, [5, 3]), r"milestones must be strictly increasing .* got \[5, 3\]"),
        (lambda: ExponentialDecay(0.1, 0.0), r"ExponentialDecay: factor must be in \(0, 1\]"),
        (lambda: InverseTimeDecay(0.1, 1.0, decay_steps=0), r"decay_steps must be an integer >= 1"),
        (
            lambda: CosineDecay(0.1, total_steps=0),
            r"CosineDecay: total_steps must be an integer >= 1, "
            r"got 0",
        ),
        (
            lambda: CosineDecay(0.1, 10, warmup_steps=10),
            r"warmup_steps must be an integer in "
            r"\[0, total_steps=10\), got 10",
        ),
        (lambda: CosineDecay(0.1, 10, final=0.2), r"final must be in \[0, initial=0.1\], got 0.2"),
        (lambda: CyclicLR(0.1, 0.01), r"CyclicLR: max_lr must be a number in \[base_lr=0.1, inf\)"),
        (
            lambda: CyclicLR(0.01, 0.1, step_size_up=-3),
            r"step_size_up must be an integer >= 1, "
            r"got -3",
        ),
        (lambda: CyclicLR(0.01, 0.1, mode="sawtooth"), r"mode must be one of .* got 'sawtooth'"),
        (
            lambda: OneCycle(0.1, total_steps=0),
            r"OneCycle: total_steps must be an integer >= 2, got 0",
        ),
        (lambda: OneCycle(0.1, 100, pct_start=1.2), r"pct_start must be in \(0, 1\), got 1.2"),
        (lambda: OneCycle(0.1, 3, pct_start=0.3), r"pct_start must be such that every phase lasts"),
        (lambda: OneCycle(0.1, 100, anneal="cosine"), r"anneal must be 'cos' or 'linear'"),
        (
            lambda: OneCycle(0.1, 100, base_momentum=0.9, max_momentum=0.8),
            r"max_momentum must be in "
            r"\[base_momentum=0.9, 1\), got 0.8",
        ),
    ],
)
def test_bad_arguments_name_argument_value_and_range(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def test_negative_step_is_an_error():
    with pytest.raises(ValueError, match=r"step t must be >= 0, got -1"):
        StepDecay(0.1, every=2)(-1)


def test_one_module_per_kind_every_name_at_the_package_and_the_top():
    import importlib

    import nn101
    import nn101.schedules

    kinds = {
        "base": ["Schedule"],
        "decay": [
            "Constant",
            "StepDecay",
            "MultiStep",
            "ExponentialDecay",
            "InverseTimeDecay",
            "CosineDecay",
        ],
        "cyclic": ["CyclicLR", "OneCycle"],
    }
    for module_name, names in kinds.items():
        module = importlib.import_module(f"nn101.schedules.{module_name}")
        for name in names:
            cls = getattr(module, name)
            assert cls.__module__ == module.__name__, name
            assert getattr(nn101.schedules, name) is cls is getattr(nn101, name), name
            assert cls is nn101.schedules.Schedule or issubclass(cls, nn101.schedules.Schedule)
    assert sorted(nn101.schedules.__all__) == sorted(n for ns in kinds.values() for n in ns)
