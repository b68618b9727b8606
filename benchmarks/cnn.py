"""Convolutional configurations: LeNet-5 and conv32-conv64 on 28x28 images, nn101 next to
idiomatic PyTorch (oneDNN convolutions) in the same run, training (Adam) and inference.

* LeNet-5: conv6 5x5 pad 2 - ReLU - maxpool 2 - conv16 5x5 - ReLU - maxpool 2 - fc120 - fc84
  - fc10 (ReLU between the Dense layers).
* conv32-conv64 (PyTorch's MNIST example without dropout): conv32 3x3 - ReLU - conv64 3x3 -
  ReLU - maxpool 2 - fc128 - ReLU - fc10.

Training: batch 64, Adam (lr 1e-3), softmax cross-entropy; nn101 through ``model.fit`` (one
epoch over the measured examples, shuffled), PyTorch through the same loop as the MLP suite
(randperm, zero_grad, forward, cross_entropy, backward, step, ``loss.item()``). Inference:
batches of 256 (``model.predict`` / ``torch.inference_mode``). Data: random images in [0, 1)
and random labels (a step's cost does not depend on the values). GFLOP/s counts 2 x the
multiply-adds of a forward pass per predicted example and 3 x that per trained example (the
convention of the MLP rows; neither system computes the first layer's input gradient).

Peak memory: one measurement in a child process (``python -m benchmarks.cnn '<spec>'``), as
``benchmarks.memory`` does for the MLPs. The profile splits one nn101 training step into the
matrix products (timed alone on the same shapes), the im2col / col2im copies (the rest of the
convolution layers), pooling, elementwise (activations, Flatten, Dense's rest, loss), the
optimizer, and Python (the rest of the step).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from benchmarks.rounds import alternating_rounds

__all__ = ["ConvConfig", "cnn_configs", "time_cnn", "profile_cnn", "cnn_profile_markdown"]

# (kind, in, out, kernel, padding) per layer; "pool" halves the image
ARCHITECTURES: dict[str, list[tuple[Any, ...]]] = {
    "LeNet-5": [
        ("conv", 1, 6, 5, 2),
        ("pool",),
        ("conv", 6, 16, 5, 0),
        ("pool",),
        ("dense", 400, 120),
        ("dense", 120, 84),
        ("dense", 84, 10),
    ],
    "conv32-conv64": [
        ("conv", 1, 32, 3, 0),
        ("conv", 32, 64, 3, 0),
        ("pool",),
        ("dense", 9216, 128),
        ("dense", 128, 10),
    ],
}


@dataclass(frozen=True)
class ConvConfig:
    net: str
    task: str  # "train" or "predict"
    batch_size: int
    samples: int  # examples per measurement

    @property
    def name(self) -> str:
        if self.task == "train":
            return f"train {self.net} b{self.batch_size} Adam"
        return f"predict {self.net} b{self.batch_size}"

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds of one example's forward pass (convolutions and Dense layers)."""
        size, total = 28, 0
        for layer in ARCHITECTURES[self.net]:
            if layer[0] == "conv":
                _, c_in, c_out, k, pad = layer
                size = size + 2 * pad - k + 1
                total += size * size * c_out * c_in * k * k
            elif layer[0] == "pool":
                size //= 2
            else:
                total += layer[1] * layer[2]
        return total

    @property
    def flops_per_sample(self) -> int:
        return (6 if self.task == "train" else 2) * self.multiply_adds

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "net": self.net,
            "task": self.task,
            "optimizer": "adam" if self.task == "train" else "",
            "batch_size": self.batch_size,
            "samples": self.samples,
            "flops_per_sample": self.flops_per_sample,
        }


def cnn_configs(quick: bool = False) -> list[ConvConfig]:
    if quick:
        return [ConvConfig("LeNet-5", "train", 16, 64), ConvConfig("LeNet-5", "predict", 32, 64)]
    return [
        ConvConfig("LeNet-5", "train", 64, 2048),
        ConvConfig("conv32-conv64", "train", 64, 512),
        ConvConfig("LeNet-5", "predict", 256, 4096),
        ConvConfig("conv32-conv64", "predict", 256, 1024),
    ]


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


# -- the two systems -------------------------------------------------------------------------


def nn101_model(net: str, rng: np.random.Generator) -> Any:
    import nn101

    layers: list[Any] = []
    for layer in ARCHITECTURES[net]:
        if layer[0] == "conv":
            _, c_in, c_out, k, pad = layer
            layers += [nn101.Conv2d(c_in, c_out, k, padding=pad, rng=rng), nn101.ReLU()]
        elif layer[0] == "pool":
            layers.append(nn101.MaxPool2d(2))
        else:
            if not any(isinstance(x, nn101.Flatten) for x in layers):
                layers.append(nn101.Flatten())
            layers += [nn101.Dense(layer[1], layer[2], rng=rng), nn101.ReLU()]
    return nn101.Sequential(*layers[:-1])  # logits: no ReLU after the last Dense


def torch_model(net: str) -> Any:
    import torch

    nn = torch.nn
    modules: list[Any] = []
    for layer in ARCHITECTURES[net]:
        if layer[0] == "conv":
            _, c_in, c_out, k, pad = layer
            modules += [nn.Conv2d(c_in, c_out, k, padding=pad), nn.ReLU()]
        elif layer[0] == "pool":
            modules.append(nn.MaxPool2d(2))
        else:
            if not any(isinstance(m, nn.Flatten) for m in modules):
                modules.append(nn.Flatten())
            modules += [nn.Linear(layer[1], layer[2]), nn.ReLU()]
    return nn.Sequential(*modules[:-1])


def nn101_time(config: ConvConfig, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    import nn101

    rng = np.random.default_rng(seed)
    model = nn101_model(config.net, rng)
    start = time.perf_counter()
    if config.task == "predict":
        model.predict(x, batch_size=config.batch_size)
    else:
        model.fit(
            x,
            y,
            epochs=1,
            batch_size=config.batch_size,
            optimizer=nn101.Adam(model.parameters(), learning_rate=1e-3),
            loss=nn101.SoftmaxCrossEntropy(),
            verbose=0,
            shuffle=True,
            rng=rng,
        )
    return time.perf_counter() - start


def torch_time(config: ConvConfig, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    import torch

    generator = torch.Generator().manual_seed(seed)
    model = torch_model(config.net)
    inputs, targets, b = torch.from_numpy(x), torch.from_numpy(y), config.batch_size
    start = time.perf_counter()
    if config.task == "predict":
        model.eval()
        with torch.inference_mode():
            torch.cat([model(inputs[i : i + b]) for i in range(0, len(x), b)]).numpy()
        return time.perf_counter() - start
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order, running = torch.randperm(len(x), generator=generator), 0.0
    for first in range(0, len(x), b):
        index = order[first : first + b]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs[index]), targets[index])
        loss.backward()
        optimizer.step()
        running += loss.item()
    return time.perf_counter() - start


TIMERS = {"nn101": nn101_time, "torch": torch_time}


def time_cnn(
    configs: list[ConvConfig], systems: list[str], repeats: int, seed: int
) -> list[dict[str, Any]]:
    """Entries in the suite's format, systems alternating per round (warm-up untimed)."""
    systems = [s for s in systems if s in TIMERS]
    entries = []
    for config in configs:
        x, y = data(config.samples, seed)
        for system in systems:
            TIMERS[system](config, x[: 2 * config.batch_size], y[: 2 * config.batch_size], seed)
        timers = {s: partial(TIMERS[s], config, x, y) for s in systems}
        results = alternating_rounds(timers, repeats, len(x), seed)
        entry = config.to_dict()
        entry.update(samples_used=len(x), systems=results)
        entries.append(entry)
    return entries


# -- peak memory, one child process per system and configuration -----------------------------


def measure_memory(entries: list[dict[str, Any]], systems: list[str], threads: int) -> None:
    """Add ``memory`` (peak RSS of one measurement, and what it added) to each entry."""
    for entry in entries:
        for system in [s for s in systems if s in TIMERS]:
            spec = {"system": system, "threads": threads}
            spec.update({k: entry[k] for k in ("net", "task", "batch_size", "samples")})
            entry["systems"][system]["memory"] = _run_child(spec)


def _run_child(spec: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    from benchmarks.memory import ROOT

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "benchmarks.cnn", json.dumps(spec)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: " + done.stderr.strip()[-300:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.machine import set_threads
    from benchmarks.memory import IMPORTS, peak_mb, reset_peak, rss_mb

    set_threads(spec["threads"], torch=spec["system"] == "torch")
    config = ConvConfig(spec["net"], spec["task"], spec["batch_size"], spec["samples"])
    x, y = data(config.samples, 0)
    __import__(IMPORTS[spec["system"]])
    before = rss_mb()
    exact = reset_peak()
    seconds = TIMERS[spec["system"]](config, x, y, 0)
    peak = peak_mb()
    return {
        "rss_before_mb": round(before, 1),
        "peak_mb": round(peak, 1),
        "delta_mb": round(peak - before, 1),
        "seconds": round(seconds, 3),
        "method": "VmHWM after clear_refs" if exact else "ru_maxrss since start",
    }


# -- profile ---------------------------------------------------------------------------------


def _best(f: Any, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _layer_products(layer: Any, x: np.ndarray, g: np.ndarray, first: bool) -> float:
    """Seconds of a Conv2d's or Dense's matrix products alone, on the shapes of this step."""
    import nn101

    if isinstance(layer, nn101.Dense):
        W = layer.weight.value
        products = [lambda: x @ W, lambda: x.T @ g] + ([] if first else [lambda: g @ W.T])
    else:
        X_col = layer.saved[0]
        G = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, layer.out_channels)
        W = layer.weight.value.reshape(-1, layer.out_channels)
        products = [lambda: X_col @ W, lambda: X_col.T @ G] + ([] if first else [lambda: G @ W.T])
    return sum(_best(p) for p in products)


def profile_cnn(config: ConvConfig, seed: int = 0) -> dict[str, Any]:
    """Where one nn101 training step goes (see the module docstring for the groups)."""
    import nn101

    rng = np.random.default_rng(seed)
    model = nn101_model(config.net, rng)
    optimizer = nn101.Adam(model.parameters(), learning_rate=1e-3)
    loss = nn101.SoftmaxCrossEntropy()
    x, y = data(config.batch_size, seed)
    seen: dict[int, list[np.ndarray]] = {}
    times: dict[int, float] = {}
    for i, layer in enumerate(model.layers):
        _time_layer(layer, i, times, seen)

    def step() -> None:
        optimizer.zero_grad()
        loss.forward(model.forward(x, training=True), y)
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()

    step()
    times.clear()
    total = sum(_timed_steps(step, 5)) / 5
    per_step = {k: v / 5 for k, v in times.items()}
    groups = dict.fromkeys(["matrix products", "im2col / col2im", "pooling", "elementwise"], 0.0)
    for i, layer in enumerate(model.layers):
        spent = per_step.get(i, 0.0)
        if isinstance(layer, nn101.Conv2d | nn101.Dense):
            products = min(_layer_products(layer, *seen[i], first=i == 0), spent)
            groups["matrix products"] += products
            rest = "im2col / col2im" if isinstance(layer, nn101.Conv2d) else "elementwise"
            groups[rest] += spent - products
        elif isinstance(layer, nn101.MaxPool2d):
            groups["pooling"] += spent
        else:
            groups["elementwise"] += spent
    groups["optimizer"] = _best(lambda: (optimizer.zero_grad(), optimizer.step()))
    groups["Python + loss"] = max(total - sum(groups.values()), 0.0)
    return {
        "config": config.name,
        "us_per_step": 1e6 * total,
        "share": {k: v / sum(groups.values()) for k, v in groups.items()},
        "detail_us": {k: round(1e6 * v) for k, v in groups.items()},
    }


def _time_layer(layer: Any, i: int, times: dict[int, float], seen: dict[int, Any]) -> None:
    """Wrap forward / backward of one layer instance: accumulate its seconds under ``i`` and
    keep its last input and upstream gradient (for timing its products alone)."""
    forward, backward = layer.forward, layer.backward

    def timed_forward(x: np.ndarray, *, training: bool = False) -> np.ndarray:
        start = time.perf_counter()
        out = forward(x, training=training)
        times[i] = times.get(i, 0.0) + time.perf_counter() - start
        seen[i] = [x, None]
        return out

    def timed_backward(g: np.ndarray, *, input_grad: bool = True) -> Any:
        start = time.perf_counter()
        out = backward(g, input_grad=input_grad)
        times[i] = times.get(i, 0.0) + time.perf_counter() - start
        seen[i][1] = g
        return out

    layer.forward, layer.backward = timed_forward, timed_backward


def _timed_steps(step: Any, count: int) -> list[float]:
    totals = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        totals.append(time.perf_counter() - start)
    return totals


def cnn_profile_markdown(profiles: list[dict[str, Any]]) -> str:
    groups = list(profiles[0]["share"]) if profiles else []
    lines = [
        "| Configuration | µs / step | " + " | ".join(groups) + " |",
        "|---|---:|" + "---:|" * len(groups),
    ]
    for p in profiles:
        shares = " | ".join(f"{100 * p['share'][g]:.0f}% ({p['detail_us'][g]})" for g in groups)
        lines.append(f"| {p['config']} | {p['us_per_step']:.0f} | {shares} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
