"""The learning-rate range test: train briefly while the rate grows exponentially, watch the loss.

The loss first barely moves (rate too small), then falls fast, then explodes (rate too large).
A good rate sits where the loss falls fastest, well before the minimum.

Source: Smith 2017, "Cyclical learning rates for training neural networks", WACV, section 3.3;
the exponential sweep, smoothed loss and divergence stop are the fastai habit (Howard & Gugger
2020, "Fastai: a layered API for deep learning").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nn101.core import Layer, Parameter
from nn101.data.dataset import Dataset
from nn101.losses import Loss
from nn101.optimizers import SGD, Optimizer
from nn101.training import checks
from nn101.training.loop import train_step
from nn101.training.state import TrainState, lend_rng

__all__ = ["lr_find", "LRFindResult"]

SUGGESTIONS = ("valley", "steepest", "min/10")


@dataclass
class LRFindResult:
    """Rates tried, the smoothed loss after each, the raw mini-batch losses, and suggestions.

    Three readings of the curve (all rates):

    * ``steepest``: where the smoothed loss falls fastest against log rate, searched between
      the first tenth of the sweep and the minimum (Smith 2017);
    * ``valley``: the middle of the longest descent, i.e. of the longest run of ever lower
      losses, skips allowed (fastai's default since 2021: robust to a noisy flat start);
    * ``min_loss_rate / 10``: a decade below the rate of lowest loss (fastai's older rule).

    ``suggestion`` is the one chosen by ``lr_find(..., suggest=)``.
    """

    rates: np.ndarray  # (steps,) float64, the rate used at each step
    losses: np.ndarray  # (steps,) smoothed, bias-corrected running mean of the loss
    raw_losses: np.ndarray  # (steps,) the mini-batch loss at each step
    suggestion: float
    steepest: float
    valley: float
    min_loss_rate: float

    def plot(self, ax: Any = None) -> Any:
        """Smoothed loss against rate (log axis), the suggestion marked; needs matplotlib."""
        import matplotlib.pyplot as plt

        ax = ax if ax is not None else plt.figure().gca()
        ax.plot(self.rates, self.losses)
        ax.axvline(
            self.suggestion, linestyle="--", color="gray", label=f"suggestion {self.suggestion:.2g}"
        )
        ax.set(xscale="log", xlabel="learning rate", ylabel="loss (smoothed)")
        ax.legend()
        return ax


def _batches(
    data: Dataset, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, Any]]:
    """Shuffled mini-batches forever, a fresh permutation each pass."""
    while True:
        order = rng.permutation(len(data))
        for start in range(0, len(data), batch_size):
            yield data[order[start : start + batch_size]]


def _steepest(rates: np.ndarray, losses: np.ndarray, skip_start: int) -> float:
    """Rate of steepest descent before the minimum, ignoring the first ``skip_start`` points
    (there the running mean covers only a few mini-batches and its wiggles look like steep
    slopes); the minimum's rate / 10 when too few points are left."""
    best = int(np.argmin(losses))
    if best - skip_start < 2:
        return float(rates[best]) / 10
    # Rates are evenly spaced in log, so the slope against log rate is the plain difference.
    slope = np.diff(losses[skip_start : best + 1])  # (best - skip_start,)
    return float(rates[skip_start + int(np.argmin(slope))])


def _valley(rates: np.ndarray, losses: np.ndarray) -> float:
    """Rate in the middle of the longest descent: the longest subsequence of strictly
    decreasing losses (O(n²) dynamic programme; n is a few hundred at most)."""
    run = np.ones(len(losses), dtype=np.int64)  # run[i]: longest descent ending at point i
    for i in range(1, len(losses)):
        higher_before = losses[:i] > losses[i]  # (i,)
        if higher_before.any():
            run[i] = run[:i][higher_before].max() + 1
    end = int(np.argmax(run))
    start = end - int(run[end]) + 1
    return float(rates[start + (end - start) // 2])


def lr_find(
    model: Layer,
    x: Any,
    y: Any = None,
    *,
    loss: Loss,
    optimizer: Optimizer | None = None,
    optimizer_factory: Callable[[list[Parameter], float], Optimizer] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    batch_size: int = 32,
    rng: np.random.Generator | None = None,
    smooth: float = 0.98,
    diverge: float = 4.0,
    suggest: str = "valley",
) -> LRFindResult:
    """Sweep the rate from ``start_lr`` to ``end_lr`` over ``num_steps`` mini-batch steps.

        η_i = start_lr · (end_lr / start_lr)^(i / (num_steps - 1))
        a_i = smooth · a_{i-1} + (1 - smooth) · loss_i,   loss̄_i = a_i / (1 - smoothⁱ⁺¹)

    Stops early once loss̄_i > diverge · min loss̄ (or is not finite); ``suggest`` picks the
    reading of the curve returned as ``suggestion`` (see LRFindResult). The optimizer is
    ``optimizer`` (its state is restored afterwards), or ``optimizer_factory(parameters, rate)``,
    or by default SGD with momentum 0.9 as in Smith 2017. ``x`` is an array (with targets ``y``)
    or a Dataset. The model's parameters and buffers are restored afterwards: the test trains
    nothing. Each step is the training loop's own ``train_step``.
    """
    _check_arguments(start_lr, end_lr, num_steps, batch_size, smooth, diverge, suggest)
    if optimizer is not None and optimizer_factory is not None:
        raise ValueError("lr_find: pass optimizer or optimizer_factory, not both")
    data = x if isinstance(x, Dataset) else Dataset(x, y, name="lr_find data")
    rng = rng if rng is not None else np.random.default_rng()
    saved_model = model.snapshot()
    saved_optimizer = optimizer.state_dict() if optimizer is not None else None
    if optimizer is None:
        factory = optimizer_factory or (lambda ps, lr: SGD(ps, learning_rate=lr, momentum=0.9))
        optimizer = factory(model.parameters(), start_lr)
    state = TrainState(model, optimizer, loss, rng, dtype=checks.parameter_dtype(model))
    rates = start_lr * (end_lr / start_lr) ** np.linspace(0.0, 1.0, num_steps)  # (num_steps,)
    try:
        raw = _sweep(state, _batches(data, batch_size, rng), rates, smooth, diverge)
    finally:
        model.restore(saved_model)
        model.zero_grad()
        if saved_optimizer is not None:
            optimizer.load_state_dict(saved_optimizer)
    return _result(rates, raw, smooth, suggest, num_steps)


def _result(
    rates: np.ndarray, raw: list[float], smooth: float, suggest: str, num_steps: int
) -> LRFindResult:
    """The three readings of the smoothed curve, over the rates that gave a finite loss."""
    losses = _smoothed(raw, smooth)
    tried = rates[: len(losses)]
    finite = np.isfinite(losses)
    if not finite.any():
        raise ValueError(
            f"lr_find: the loss was not finite from the first step "
            f"(rate {rates[0]:g}): check the data and the model"
        )
    rates_ok, losses_ok = tried[finite], losses[finite]
    readings = {
        "steepest": _steepest(rates_ok, losses_ok, num_steps // 10),
        "valley": _valley(rates_ok, losses_ok),
        "min/10": float(rates_ok[np.argmin(losses_ok)]) / 10,
    }
    return LRFindResult(
        rates=tried,
        losses=losses,
        raw_losses=np.array(raw),
        suggestion=readings[suggest],
        steepest=readings["steepest"],
        valley=readings["valley"],
        min_loss_rate=readings["min/10"] * 10,
    )


def _check_arguments(
    start_lr: float,
    end_lr: float,
    num_steps: int,
    batch_size: int,
    smooth: float,
    diverge: float,
    suggest: str,
) -> None:
    if not 0 < start_lr < end_lr < math.inf:
        raise ValueError(
            f"lr_find: start_lr and end_lr must satisfy 0 < start_lr < end_lr < inf, "
            f"got start_lr={start_lr}, end_lr={end_lr}"
        )
    for name, count, minimum in (("num_steps", num_steps, 2), ("batch_size", batch_size, 1)):
        if not isinstance(count, (int, np.integer)) or count < minimum:
            raise ValueError(f"lr_find: {name} must be an integer >= {minimum}, got {count!r}")
    if not 0 <= smooth < 1:
        raise ValueError(f"lr_find: smooth must be in [0, 1), got {smooth}")
    if not diverge > 1:
        raise ValueError(f"lr_find: diverge must be in (1, inf), got {diverge}")
    if suggest not in SUGGESTIONS:
        raise ValueError(f"lr_find: suggest must be one of {SUGGESTIONS}, got {suggest!r}")


def _sweep(
    state: TrainState,
    batches: Iterator[tuple[np.ndarray, Any]],
    rates: np.ndarray,
    smooth: float,
    diverge: float,
) -> list[float]:
    """``train_step`` at each rate in turn; stop once the smoothed loss exceeds ``diverge``
    times its minimum, or the loss is not finite (the step that diverged is not taken)."""
    raw: list[float] = []
    average, best = 0.0, math.inf
    with lend_rng(state.model, state.rng), np.errstate(over="ignore", invalid="ignore"):
        for i, rate in enumerate(rates):
            xb, yb = next(batches)
            state.optimizer.learning_rate = float(rate)
            try:
                value, _ = train_step(state, checks.cast(xb, state.dtype), yb)
            except FloatingPointError:
                raw.append(math.inf)
                break
            raw.append(value)
            average = smooth * average + (1 - smooth) * value
            smoothed = average / (1 - smooth ** (i + 1))
            best = min(best, smoothed)
            if smoothed > diverge * best:
                break
    return raw


def _smoothed(raw: list[float], smooth: float) -> np.ndarray:
    """Bias-corrected running mean a_i / (1 - smoothⁱ⁺¹) of the raw losses, with
    a_i = smooth·a_{i-1} + (1 - smooth)·loss_i."""
    out = np.empty(len(raw))
    average = 0.0
    for i, value in enumerate(raw):
        average = smooth * average + (1 - smooth) * value
        out[i] = average / (1 - smooth ** (i + 1))
    return out
