"""Where one nn101 training step spends its time: matrix products, optimizer, elementwise, Python.

The real ``model.fit`` runs for one epoch while every layer's ``forward`` / ``backward``, the
loss's ``forward`` / ``backward`` and the optimizer's ``step`` / ``zero_grad`` are wrapped with
``perf_counter`` timers (on the instances; nothing in nn101 changes). Then:

* matrix products: the three products of each Dense layer (x W, xᵀ g, g Wᵀ) timed alone on
  the same shapes and memory layouts, times the number of steps;
* elementwise: the rest of Dense (bias add, bias-gradient sum, gradient accumulation, input
  checks), the activations and the loss;
* optimizer: ``step`` + ``zero_grad``;
* Python overhead: everything else in ``fit`` (batch gathering and shuffling, dtype checks,
  penalty, accuracy, bookkeeping) and the timers' own cost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.configs import Config
from benchmarks.systems import nn101_model, nn101_optimizer

__all__ = ["profile_config", "profile_markdown"]


_depth = [0]  # how many timed calls are running: a call inside a timed call is not re-timed


def _wrap(obj: Any, method: str, totals: dict[str, float], key: str) -> None:
    """Time every outermost call of ``obj.method`` into ``totals[key]``; count the calls in
    ``totals["#<id>.<method>"]``."""
    original: Callable[..., Any] = getattr(obj, method)
    count = f"#{id(obj)}.{method}"

    def timed(*args: Any, **kwargs: Any) -> Any:
        totals[count] += 1
        if _depth[0]:
            return original(*args, **kwargs)
        _depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start
            _depth[0] -= 1

    setattr(obj, method, timed)  # an instance attribute shadows the class's method


def _matmul_seconds(
    sizes: tuple[int, ...], batch: int, repeats: int, first_input_grad: bool, rounds: int = 3
) -> float:
    """Seconds per step of the Dense products alone, for batches of ``batch`` (the best of
    ``rounds`` blocks of ``repeats`` calls per product, as the epoch is the best of rounds).
    ``first_input_grad``: whether training computes dL/dx of the first layer (the data)."""
    rng = np.random.default_rng(0)
    per_step = 0.0
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        x = rng.random((batch, a), dtype=np.float32)
        W = rng.random((a, b), dtype=np.float32)
        g = rng.random((batch, b), dtype=np.float32)
        products = [(x, W), (x.T, g), (g, W.T)]  # forward, dL/dW, dL/dx
        if i == 0 and not first_input_grad:
            products.pop()
        for left, right in products:
            np.matmul(left, right)  # warm-up
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(repeats):
                    np.matmul(left, right)
                best = min(best, (time.perf_counter() - start) / repeats)
            per_step += best
    return per_step


def profile_config(
    config: Config, x: np.ndarray, y: np.ndarray, seed: int = 0, rounds: int = 3
) -> dict[str, Any]:
    """The breakdown of one epoch of ``config`` (a training configuration) on nn101: the
    quietest of ``rounds`` epochs."""
    import nn101

    rng = np.random.default_rng(seed)
    model = nn101_model(config.sizes, rng)
    optimizer = nn101_optimizer(config.optimizer, model.parameters())
    loss = nn101.SoftmaxCrossEntropy()
    totals: dict[str, float] = defaultdict(float)
    for layer in model.layers:
        kind = "dense" if isinstance(layer, nn101.Dense) else "activation"
        _wrap(layer, "forward", totals, kind)
        _wrap(layer, "backward", totals, kind)
    _wrap(loss, "forward", totals, "loss")
    _wrap(loss, "backward", totals, "loss")
    _wrap(optimizer, "step", totals, "optimizer")
    _wrap(optimizer, "zero_grad", totals, "optimizer")

    def epoch(inputs: np.ndarray, targets: np.ndarray) -> float:
        start = time.perf_counter()
        model.fit(
            inputs,
            targets,
            epochs=1,
            batch_size=config.batch_size,
            optimizer=optimizer,
            loss=loss,
            verbose=0,
            rng=rng,
        )
        return time.perf_counter() - start

    epoch(x[: 4 * config.batch_size], y[: 4 * config.batch_size])  # warm-up, state allocated
    best: tuple[float, dict[str, float]] = (float("inf"), {})
    for _ in range(rounds):  # keep the quietest epoch: noise only ever adds time
        totals.clear()
        total = epoch(x, y)
        if total < best[0]:
            best = (total, dict(totals))
    total, totals = best
    full, last = divmod(len(x), config.batch_size)
    steps = full + (last > 0)
    first_input_grad = totals.get(f"#{id(model.layers[0])}.backward", 0) > 0
    matmul = full * _matmul_seconds(
        config.sizes, config.batch_size, min(full, 50), first_input_grad
    )
    if last:
        matmul += _matmul_seconds(config.sizes, last, 1, first_input_grad)
    matmul = min(matmul, totals.get("dense", 0.0))  # alone they may run faster than in place
    parts = {
        "matmul": matmul,
        "dense_other": totals.get("dense", 0.0) - matmul,
        "activations": totals.get("activation", 0.0),
        "loss": totals.get("loss", 0.0),
        "optimizer": totals.get("optimizer", 0.0),
    }
    parts["python"] = max(total - sum(parts.values()), 0.0)
    groups = {
        "matrix products": parts["matmul"],
        "optimizer": parts["optimizer"],
        "elementwise": parts["dense_other"] + parts["activations"] + parts["loss"],
        "Python overhead": parts["python"],
    }
    return {
        "config": config.name,
        "steps": steps,
        "step_us": 1e6 * total / steps,
        "share": {k: v / total for k, v in groups.items()},
        "detail_us_per_step": {k: 1e6 * v / steps for k, v in parts.items()},
        "first_layer_input_grad": first_input_grad,
    }


def profile_markdown(profiles: list[dict[str, Any]]) -> str:
    """A table: one row per configuration, the share of each group and the step time."""
    groups = ["matrix products", "optimizer", "elementwise", "Python overhead"]
    lines = [
        "| Configuration | µs / step | " + " | ".join(groups) + " | detail (µs / step) |",
        "|---|---:|" + "---:|" * len(groups) + "---|",
    ]
    for p in profiles:
        shares = " | ".join(f"{100 * p['share'][g]:.0f}%" for g in groups)
        detail = ", ".join(f"{k} {v:.0f}" for k, v in p["detail_us_per_step"].items())
        lines.append(f"| {p['config']} | {p['step_us']:.0f} | {shares} | {detail} |")
    return "\n".join(lines)
