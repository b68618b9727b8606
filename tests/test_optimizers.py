"""Optimizers: each update restated from its formula (2 parameters x 2 steps), exact resume from
state_dict (both clocks included), hyperparameter validation, the in-place contract (grads
untouched, dtype kept, no allocation beyond one scratch array), the package layout and the
registry the CLI reads."""

from __future__ import annotations

import importlib
import math
import tracemalloc

import numpy as np
import pytest

import nn101
from nn101.core import Parameter
from nn101.optimizers import SGD, AdaGrad, Adam, AdaMax, AdamW, Nadam, Optimizer, RMSprop
from nn101.registry import OPTIMIZERS

LR = 0.1
SHAPES = [(3, 2), (4,)]


# -- the formulas, restated one step at a time with plain (allocating) numpy -----------------


def sgd(w, g, s, t, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * w
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return w - LR * g


def adagrad(w, g, s, t, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    g = g + weight_decay * w
    s["G"] = s.get("G", np.full_like(w, initial_accumulator_value)) + g**2
    return w - LR / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["G"]) + eps)


def rmsprop(w, g, s, t, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    g = g + weight_decay * w
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g**2
    v = s["v"]
    if centered:
        s["gbar"] = alpha * s.get("gbar", 0.0) + (1 - alpha) * g
        v = v - s["gbar"] ** 2
    step = g / (np.sqrt(v) + eps)
    if momentum:
        s["b"] = momentum * s.get("b", 0.0) + step
        step = s["b"]
    return w - LR * step


def adam(
    w, g, s, t, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    b1, b2 = betas
    if decoupled:
        w = w - LR * weight_decay * w
    else:
        g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
    v = s["v"]
    if amsgrad:
        s["vmax"] = v = np.maximum(s.get("vmax", 0.0), v)
    m_hat, v_hat = s["m"] / (1 - b1**t), v / (1 - b2**t)
    return w - LR * m_hat / (np.sqrt(v_hat) + eps)


def adamw(w, g, s, t, weight_decay=1e-2, **options):
    return adam(w, g, s, t, weight_decay=weight_decay, decoupled=True, **options)


def adamax(w, g, s, t, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    g = g + weight_decay * w
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g) + eps)
    return w - LR / (1 - b1**t) * s["m"] / s["u"]


def nadam(
    w,
    g,
    s,
    t,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
):
    b1, b2 = betas
    if decoupled_weight_decay:
        w = w - LR * weight_decay * w
    else:
        g = g + weight_decay * w

    def mu(k):
        return b1 * (1 - 0.5 * 0.96 ** (k * momentum_decay))

    product = math.prod(mu(k) for k in range(1, t + 1))
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
    denominator = np.sqrt(s["v"] / (1 - b2**t)) + eps
    return (
        w
        - LR * (1 - mu(t)) / (1 - product) * g / denominator
        - LR * mu(t + 1) / (1 - product * mu(t + 1)) * s["m"] / denominator
    )


CASES = [
    (SGD, sgd, {}),
    (SGD, sgd, {"momentum": 0.9, "dampening": 0.2}),
    (SGD, sgd, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (AdaGrad, adagrad, {}),
    (AdaGrad, adagrad, {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.3}),
    (RMSprop, rmsprop, {}),
    (RMSprop, rmsprop, {"momentum": 0.9, "weight_decay": 0.1}),
    (RMSprop, rmsprop, {"centered": True, "alpha": 0.9}),
    (Adam, adam, {}),
    (Adam, adam, {"amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.9)}),
    (AdamW, adamw, {}),
    (AdamW, adamw, {"amsgrad": True, "weight_decay": 0.2}),
    (AdaMax, adamax, {}),
    (AdaMax, adamax, {"weight_decay": 0.1, "eps": 1e-2}),
    (Nadam, nadam, {}),
    (Nadam, nadam, {"weight_decay": 0.1}),
    (Nadam, nadam, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
]
IDS = [f"{cls.__name__}-{'-'.join(options) or 'defaults'}" for cls, _, options in CASES]


@pytest.mark.parametrize(("cls", "formula", "options"), CASES, ids=IDS)
def test_update_matches_restated_formula(cls, formula, options):
    rng = np.random.default_rng(0)
    params = [Parameter(rng.normal(size=shape)) for shape in SHAPES]
    expected = [p.value.copy() for p in params]
    states: list[dict] = [{} for _ in params]
    optimizer = cls(params, learning_rate=LR, **options)
    for t in (1, 2):
        for i, p in enumerate(params):
            p.grad[...] = rng.normal(size=p.shape)
            expected[i] = formula(expected[i], p.grad.copy(), states[i], t, **options)
        optimizer.step()
        for p, w in zip(params, expected, strict=True):
            np.testing.assert_allclose(p.value, w, rtol=1e-12, atol=1e-14)
    assert optimizer.step_count == 2


@pytest.mark.parametrize(("cls", "options"), [(cls, options) for cls, _, options in CASES], ids=IDS)
def test_state_dict_resumes_bit_identically(cls, options):
    rng = np.random.default_rng(1)
    start = [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]
    grads = [[rng.normal(size=shape).astype(np.float32) for shape in SHAPES] for _ in range(6)]

    def run(params, optimizer, steps):
        for step_grads in steps:
            for p, g in zip(params, step_grads, strict=True):
                p.grad[...] = g
            optimizer.step()

    straight = [Parameter(w.copy()) for w in start]
    straight_opt = cls(straight, learning_rate=LR, **options)
    run(straight, straight_opt, grads)

    first = [Parameter(w.copy()) for w in start]
    first_opt = cls(first, learning_rate=LR, **options)
    run(first, first_opt, grads[:3])
    checkpoint = first_opt.state_dict()
    run(first, first_opt, grads[3:4])  # the checkpoint must not alias the live state
    # the parameters as they were at the checkpoint; a fresh optimizer with other settings
    resumed = [Parameter(w.copy()) for w in start]
    run(resumed, cls(resumed, learning_rate=LR, **options), grads[:3])
    resumed_opt = cls(resumed, learning_rate=LR / 7)
    resumed_opt.load_state_dict(checkpoint)
    run(resumed, resumed_opt, grads[3:])
    for a, b in zip(resumed, straight, strict=True):
        assert a.value.dtype == np.float32
        np.testing.assert_array_equal(a.value, b.value)
    assert resumed_opt.step_count == straight_opt.step_count == 6
    assert resumed_opt.epoch_count == straight_opt.epoch_count == 0
    assert resumed_opt.hyperparameters() == straight_opt.hyperparameters()


@pytest.mark.parametrize("cls", [SGD, AdaGrad, RMSprop, Adam, AdamW, AdaMax, Nadam])
def test_step_keeps_dtype_and_leaves_grads_alone(cls):
    params = [Parameter(np.ones((3, 4), np.float32)), Parameter(np.ones(4, np.float32))]
    options = {"weight_decay": 0.1}
    optimizer = cls(params, learning_rate=0.01, **options)
    for p in params:
        p.grad[...] = 0.5
    values = [p.value for p in params]
    optimizer.step()
    for p, value in zip(params, values, strict=True):
        assert p.value is value and p.value.dtype == np.float32  # updated in place
        np.testing.assert_array_equal(p.grad, 0.5)
        assert np.all(p.value < 1)
    optimizer.zero_grad()
    assert all(not p.grad.any() for p in params)


def test_learning_rate_and_momentum_are_settable():
    p = Parameter(np.zeros(2))
    sgd_opt = SGD([p], learning_rate=0.1)
    sgd_opt.learning_rate = 0.5
    sgd_opt.momentum = 0.9  # a 1cycle schedule may switch momentum on mid-run
    p.grad[...] = 1.0
    sgd_opt.step()
    sgd_opt.step()
    np.testing.assert_allclose(p.value, -0.5 - 0.5 * 1.9)
    adam_opt = Adam([p])
    adam_opt.beta1 = 0.8
    assert adam_opt.betas == (0.8, 0.999)
    with pytest.raises(ValueError, match=r"betas\[0\] must be in \[0, 1\), got 1.5"):
        adam_opt.beta1 = 1.5


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (
            lambda ps: SGD(ps, learning_rate=-0.1),
            r"SGD: learning_rate must be in \[0, inf\), got -0.1",
        ),
        (lambda ps: Adam(ps, learning_rate=float("nan")), r"learning_rate .* got nan"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (
            lambda ps: AdamW(ps, betas=(0.9, -0.1)),
            r"AdamW: betas\[1\] must be in \[0, 1\), got -0.1",
        ),
        (lambda ps: Nadam(ps, betas=(0.9,)), r"betas must be a pair"),
        (lambda ps: AdaMax(ps, eps=-1e-8), r"AdaMax: eps must be in \[0, inf\), got -1e-08"),
        (lambda ps: RMSprop(ps, weight_decay=-1), r"RMSprop: weight_decay must be in \[0, inf\)"),
        (lambda ps: RMSprop(ps, alpha=1.5), r"RMSprop: alpha must be in \[0, 1\), got 1.5"),
        (lambda ps: AdaGrad(ps, lr_decay=-0.5), r"AdaGrad: lr_decay must be in \[0, inf\)"),
        (lambda ps: SGD(ps, nesterov=True), r"SGD: nesterov=True requires momentum in \(0, 1\)"),
        (lambda ps: SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), r"dampening=0.1"),
        (lambda ps: SGD(ps, momentum=-0.9), r"SGD: momentum must be in \[0, 1\), got -0.9"),
        (lambda ps: Nadam(ps, momentum_decay=-1), r"Nadam: momentum_decay must be in \[0, inf\)"),
        (lambda ps: SGD([]), r"SGD: got an empty parameter list"),
    ],
)
def test_bad_hyperparameters_name_argument_value_and_range(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build([Parameter(np.zeros(3))])


def test_load_state_dict_rejects_mismatches():
    p = Parameter(np.zeros(3))
    adam_opt = Adam([p])
    p.grad[...] = 1.0
    adam_opt.step()
    with pytest.raises(ValueError, match="state_dict is for 'Adam'"):
        SGD([p]).load_state_dict(adam_opt.state_dict())
    with pytest.raises(ValueError, match=r"has shape \(3,\), expected \(4,\)"):
        Adam([Parameter(np.zeros(4))]).load_state_dict(adam_opt.state_dict())


def test_epoch_count_is_saved_and_restored():
    p = Parameter(np.zeros(3))
    optimizer = Adam([p])
    assert optimizer.epoch_count == 0 and optimizer.step_count == 0
    p.grad[...] = 1.0
    optimizer.step()
    optimizer.epoch_count += 1  # what the training loop does at the end of an epoch
    optimizer.epoch_count += 1
    saved = optimizer.state_dict()
    assert saved["epoch_count"] == 2
    resumed = Adam([Parameter(np.zeros(3))])
    resumed.load_state_dict(saved)
    assert (resumed.epoch_count, resumed.step_count) == (2, 1)
    older = {k: v for k, v in saved.items() if k != "epoch_count"}  # before the epoch clock
    resumed.epoch_count = 5
    resumed.load_state_dict(older)
    assert (resumed.epoch_count, resumed.step_count) == (0, 1)


ALL = [SGD, AdaGrad, RMSprop, Adam, AdamW, AdaMax, Nadam]
NO_ALLOCATION = [
    (SGD, {}),
    (SGD, {"momentum": 0.9, "dampening": 0.1}),
    (SGD, {"momentum": 0.9, "nesterov": True}),
    (AdaGrad, {"lr_decay": 0.1}),
    (RMSprop, {"momentum": 0.9, "centered": True}),
    (Adam, {"amsgrad": True}),
    (AdamW, {"weight_decay": 0.1}),  # decoupled weight decay scales θ in place
    (AdaMax, {}),
    (Nadam, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
]


@pytest.mark.parametrize(("cls", "options"), NO_ALLOCATION, ids=lambda x: str(x))
def test_step_allocates_nothing_beyond_one_scratch_array(cls, options):
    rng = np.random.default_rng(2)
    params = [Parameter(rng.normal(size=shape)) for shape in [(200, 100), (100,)]]
    optimizer = cls(params, learning_rate=LR, **options)
    for p in params:
        p.grad[...] = rng.normal(size=p.shape)
    optimizer.step()  # the first step makes the state and the scratch arrays
    tracemalloc.start()
    try:
        optimizer.step()
        optimizer.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    smallest_full_size = params[0].value.nbytes // 2  # a (100, 100) float64 array
    assert peak < smallest_full_size / 10, f"{cls.__name__} step allocated {peak} bytes"


def test_one_module_per_family_all_exported_at_the_top():
    families = {
        "sgd": ["SGD"],
        "adagrad": ["AdaGrad"],
        "rmsprop": ["RMSprop"],
        "adam": ["Adam", "AdamW", "AdaMax", "Nadam"],
        "base": ["Optimizer"],
    }
    for module_name, names in families.items():
        module = importlib.import_module(f"nn101.optimizers.{module_name}")
        for name in names:
            cls = getattr(module, name)
            assert cls.__module__ == module.__name__, name
            assert getattr(nn101.optimizers, name) is cls is getattr(nn101, name)
    assert sorted(nn101.optimizers.__all__) == sorted(n for ns in families.values() for n in ns)
    assert all(issubclass(cls, Optimizer) for cls in ALL)


def test_registry_lists_exactly_the_seven_optimizers_by_lowercase_name():
    expected = ["adagrad", "adam", "adamax", "adamw", "nadam", "rmsprop", "sgd"]
    assert OPTIMIZERS.names() == expected
    for cls in ALL:
        assert OPTIMIZERS.get(cls.__name__.lower()) is cls
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamfamily'.*adagrad, adam, adamax"):
        OPTIMIZERS.get("adamfamily")
