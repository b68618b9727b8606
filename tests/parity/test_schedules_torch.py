"""Every schedule against its torch.optim.lr_scheduler counterpart, for every step of a run:
torch's scheduler drives a dummy optimizer, we read its rate (and momentum) before each step."""

from __future__ import annotations

import numpy as np
import pytest

from nn101 import schedules

TOLERANCE = 1e-12  # torch updates some rates recursively; ours are closed forms


def torch_run(torch, make_scheduler, steps, *, initial=0.1, momentum=0.9, betas=None):
    """The rates (and momenta) a torch scheduler sets over ``steps`` optimizer steps."""
    weight = torch.zeros(1, requires_grad=True)
    if betas is None:
        optimizer = torch.optim.SGD([weight], lr=initial, momentum=momentum)
    else:
        optimizer = torch.optim.Adam([weight], lr=initial, betas=betas)
    scheduler = make_scheduler(optimizer)
    rates, momenta = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        rates.append(group["lr"])
        momenta.append(group["betas"][0] if betas is not None else group["momentum"])
        optimizer.step()  # no gradient: changes nothing, but torch expects it before the scheduler
        scheduler.step()
    return np.array(rates), np.array(momenta)


def assert_close(ours, theirs, what):
    relative = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)
    assert relative.max() < TOLERANCE, (
        f"{what}: worst step {relative.argmax()}, "
        f"ours {ours[relative.argmax()]!r}, torch {theirs[relative.argmax()]!r}"
    )


@pytest.mark.parametrize(("every", "factor"), [(1, 0.9), (7, 0.5), (30, 0.1)])
def test_step_decay(torch, every, factor):
    theirs, _ = torch_run(
        torch, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=every, gamma=factor), 100
    )
    assert_close(schedules.StepDecay(0.1, every, factor).values(100), theirs, "StepDecay")


@pytest.mark.parametrize("milestones", [[10], [5, 20, 21, 60]])
def test_multi_step(torch, milestones):
    theirs, _ = torch_run(
        torch,
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=milestones, gamma=0.3),
        80,
    )
    assert_close(schedules.MultiStep(0.1, milestones, 0.3).values(80), theirs, "MultiStep")


def test_exponential_decay(torch):
    theirs, _ = torch_run(
        torch, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97), 150
    )
    assert_close(schedules.ExponentialDecay(0.1, 0.97).values(150), theirs, "ExponentialDecay")


@pytest.mark.parametrize(
    ("total", "warmup", "start_factor", "final"),
    [(100, 0, 1.0, 0.0), (100, 0, 1.0, 0.01), (120, 10, 0.1, 0.001), (60, 25, 0.5, 0.0)],
)
def test_cosine_decay_with_warmup(torch, total, warmup, start_factor, final):
    lr_scheduler = torch.optim.lr_scheduler

    def make(optimizer):
        cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=final)
        if warmup == 0:
            return cosine
        linear = lr_scheduler.LinearLR(
            optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup
        )
        return lr_scheduler.SequentialLR(optimizer, [linear, cosine], milestones=[warmup])

    theirs, _ = torch_run(torch, make, total + 1)
    ours = schedules.CosineDecay(
        0.1, total, warmup_steps=warmup, warmup_start_factor=start_factor, final=final
    ).values(total + 1)
    np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE, atol=1e-15)


@pytest.mark.parametrize(
    ("mode", "up", "down", "gamma"),
    [
        ("triangular", 10, None, 1.0),
        ("triangular", 7, 13, 1.0),
        ("triangular2", 5, 8, 1.0),
        ("exp_range", 6, None, 0.99),
        ("exp_range", 4, 11, 0.95),
    ],
)
def test_cyclic(torch, mode, up, down, gamma):
    theirs, _ = torch_run(
        torch,
        lambda o: torch.optim.lr_scheduler.CyclicLR(
            o,
            base_lr=0.01,
            max_lr=0.2,
            step_size_up=up,
            step_size_down=down,
            mode=mode,
            gamma=gamma,
            cycle_momentum=False,
        ),
        100,
    )
    ours = schedules.CyclicLR(0.01, 0.2, up, down, mode=mode, gamma=gamma).values(100)
    assert_close(ours, theirs, f"CyclicLR({mode})")


@pytest.mark.parametrize(
    ("total", "options"),
    [
        (100, {}),
        (100, {"anneal": "linear"}),
        (57, {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0}),
        (90, {"three_phase": True}),
        (90, {"three_phase": True, "anneal": "linear", "base_momentum": 0.8, "max_momentum": 0.9}),
    ],
)
@pytest.mark.parametrize("adam", [False, True])
def test_one_cycle_rate_and_momentum(torch, total, options, adam):
    torch_options = dict(options)
    if "anneal" in torch_options:
        torch_options["anneal_strategy"] = torch_options.pop("anneal")
    theirs, their_momenta = torch_run(
        torch,
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.3, total_steps=total, **torch_options
        ),
        total,
        betas=(0.9, 0.999) if adam else None,
    )
    schedule = schedules.OneCycle(0.3, total, **options)
    assert_close(schedule.values(total), theirs, f"OneCycle({options}) rate")
    assert_close(schedule.momentum_values(total), their_momenta, f"OneCycle({options}) momentum")
