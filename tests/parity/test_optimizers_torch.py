"""Every optimizer against torch.optim in float64: 3 parameters of different shapes x 50 steps,
each option on and off, the same random gradients fed to both; the learning rate (and, for the
1cycle case, the momentum) changes along the way as a schedule would change it."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import nn101.optimizers as opt
from nn101.core import Parameter

SHAPES = [(4, 3), (5,), (2, 3, 2)]
STEPS = 50
TOLERANCE = 1e-9

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"weight_decay": 0.1}),
    ("SGD", {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("AdaGrad", {}),
    ("AdaGrad", {"lr_decay": 0.01}),
    ("AdaGrad", {"weight_decay": 0.1}),
    ("AdaGrad", {"initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "alpha": 0.9}),
    ("RMSprop", {"weight_decay": 0.1, "eps": 1e-3}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"betas": (0.8, 0.99), "eps": 1e-4, "amsgrad": True, "weight_decay": 0.05}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.0}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("AdaMax", {}),
    ("AdaMax", {"weight_decay": 0.1}),
    ("AdaMax", {"betas": (0.8, 0.99), "eps": 1e-3}),
    ("Nadam", {}),
    ("Nadam", {"weight_decay": 0.1}),
    ("Nadam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Nadam", {"momentum_decay": 0.05, "betas": (0.8, 0.99)}),
]
TORCH_NAMES = {"AdaGrad": "Adagrad", "AdaMax": "Adamax", "Nadam": "NAdam"}


def max_relative_difference(ours: list[np.ndarray], theirs: list[np.ndarray]) -> float:
    return max(
        float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3)))
        for a, b in zip(ours, theirs, strict=True)
    )


def run_both(torch, name, options, *, momentum_schedule=None):
    # torch keeps scalar state (Nadam's running product of momenta) in the default dtype:
    # float32 unless float64 is the default, which would cap agreement at ~1e-7.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _run_both(torch, name, options, momentum_schedule)
    finally:
        torch.set_default_dtype(previous)


def _run_both(torch, name, options, momentum_schedule):
    rng = np.random.default_rng(zlib.crc32(f"{name}{options}".encode()))
    start = [rng.normal(size=shape) for shape in SHAPES]
    ours = [Parameter(value.copy()) for value in start]
    theirs = [torch.tensor(value.copy(), requires_grad=True) for value in start]
    learning_rate = 0.05
    ours_opt = getattr(opt, name)(ours, learning_rate=learning_rate, **options)
    torch_class = getattr(torch.optim, TORCH_NAMES.get(name, name))
    torch_opt = torch_class(theirs, lr=learning_rate, foreach=False, **options)
    worst = 0.0
    for t in range(STEPS):
        if t == STEPS // 2:  # a schedule changes the rate mid-run
            ours_opt.learning_rate = torch_opt.param_groups[0]["lr"] = learning_rate / 3
        if momentum_schedule is not None:
            momentum = momentum_schedule(t)
            group = torch_opt.param_groups[0]
            if "betas" in group:
                ours_opt.beta1 = momentum
                group["betas"] = (momentum, group["betas"][1])
            else:
                ours_opt.momentum = group["momentum"] = momentum
        grads = [rng.normal(size=shape) * (1 + t % 3) for shape in SHAPES]
        for p, q, g in zip(ours, theirs, grads, strict=True):
            p.grad[...] = g
            q.grad = torch.from_numpy(g.copy())
        ours_opt.step()
        torch_opt.step()
        worst = max(
            worst,
            max_relative_difference([p.value for p in ours], [q.detach().numpy() for q in theirs]),
        )
    return worst


@pytest.mark.parametrize(
    ("name", "options"), CASES, ids=[f"{n}-{'-'.join(o) or 'defaults'}" for n, o in CASES]
)
def test_optimizer_matches_torch(torch, name, options):
    worst = run_both(torch, name, options)
    assert worst < TOLERANCE, f"{name}({options}): max relative difference {worst:.3g}"


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("SGD", {"momentum": 0.9}),
        ("SGD", {"momentum": 0.9, "nesterov": True}),
        ("RMSprop", {"momentum": 0.9}),
        ("Adam", {}),
        ("AdamW", {}),
        ("AdaMax", {}),
        ("Nadam", {}),
    ],
)
def test_cycled_momentum_matches_torch(torch, name, options):
    def momentum(t: int) -> float:  # 0.95 down to 0.85 and back, as 1cycle does
        return 0.85 + 0.1 * abs(np.cos(np.pi * t / STEPS))

    worst = run_both(torch, name, options, momentum_schedule=momentum)
    assert worst < TOLERANCE, f"{name}({options}) with cycled momentum: {worst:.3g}"


def test_defaults_match_torch(torch):
    import inspect

    for name in ["SGD", "AdaGrad", "RMSprop", "Adam", "AdamW", "AdaMax", "Nadam"]:
        ours = inspect.signature(getattr(opt, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, TORCH_NAMES.get(name, name))).parameters
        assert ours["learning_rate"].default == theirs["lr"].default, name
        for arg, parameter in ours.items():
            if arg not in ("parameters", "learning_rate"):
                assert parameter.default == theirs[arg].default, f"{name}.{arg}"


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e3])
def test_clipping_matches_torch(torch, max_norm):
    from nn101.regularizers import clip_grad_norm, clip_grad_value

    rng = np.random.default_rng(7)
    grads = [rng.normal(size=shape) * 3 for shape in SHAPES]
    ours = [Parameter(np.zeros(shape)) for shape in SHAPES]
    theirs = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in SHAPES]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad[...] = g
        q.grad = torch.from_numpy(g.copy())
    norm = clip_grad_norm(ours, max_norm)
    their_norm = float(torch.nn.utils.clip_grad_norm_(theirs, max_norm, foreach=False))
    assert norm == pytest.approx(their_norm, rel=1e-12)
    clip_grad_value(ours, max_norm / 10)
    torch.nn.utils.clip_grad_value_(theirs, max_norm / 10, foreach=False)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=0)
