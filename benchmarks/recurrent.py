"""Recurrent configurations: a character-level language model trained with Adam, nn101's
``LSTM`` / ``GRU`` next to PyTorch's ``nn.LSTM`` / ``nn.GRU`` (fused oneDNN kernels) in the same
run, in tokens per second.

The model is Embedding(65, 64) -> LSTM or GRU (hidden H) -> Dense(H, 65) on random ids, batch
32 x 64 steps, softmax cross-entropy on every step, Adam (lr 1e-3). Both systems run the same
loop: zero_grad, forward, loss, backward, step; PyTorch reads ``loss.item()`` like a training
loop. A measurement is ``steps`` training steps on a fresh model; the rounds alternate the
systems as the MLP suite does. GFLOP/s counts 6 x (recurrent + head parameters) per token, the
same convention as the MLPs (the embedding is a lookup, not a product).

The profile splits one nn101 step into the matrix products (timed alone on the same shapes:
the input projection, T recurrent products forward and backward, dW_ih, dW_hh, dx, the head's
three), the optimizer, and the rest (gate math, loss, Python).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np

from benchmarks.rounds import alternating_rounds

__all__ = ["SequenceConfig", "recurrent_configs", "time_recurrent", "profile_recurrent"]

VOCAB, EMBEDDING, STEPS_T, BATCH = 65, 64, 64, 32


@dataclass(frozen=True)
class SequenceConfig:
    kind: str  # "LSTM" or "GRU"
    hidden: int
    steps: int = 8  # training steps per measurement
    seq_len: int = STEPS_T
    batch_size: int = BATCH
    task: str = "train"

    @property
    def name(self) -> str:
        return f"train char-{self.kind} H{self.hidden} T{self.seq_len} b{self.batch_size} Adam"

    @property
    def gates(self) -> int:
        return {"LSTM": 4, "GRU": 3, "RNN": 1}[self.kind]

    @property
    def parameters(self) -> int:
        """Recurrent weights and biases plus the head (the embedding is excluded)."""
        H, G = self.hidden, self.gates * self.hidden
        return EMBEDDING * G + H * G + 2 * G + H * VOCAB + VOCAB

    @property
    def flops_per_sample(self) -> int:
        return 6 * self.parameters

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            name=self.name, parameters=self.parameters, flops_per_sample=self.flops_per_sample
        )
        return data


def recurrent_configs(quick: bool = False) -> list[SequenceConfig]:
    if quick:
        return [SequenceConfig("LSTM", 16, steps=2)]
    return [SequenceConfig("LSTM", 128), SequenceConfig("LSTM", 256), SequenceConfig("GRU", 256)]


def _data(config: SequenceConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (config.steps, config.batch_size, config.seq_len)
    return rng.integers(0, VOCAB, shape), rng.integers(0, VOCAB, shape)


def nn101_model(config: SequenceConfig, rng: np.random.Generator) -> Any:
    import nn101

    cell = getattr(nn101, config.kind)(EMBEDDING, config.hidden, rng=rng)
    return nn101.Sequential(
        nn101.Embedding(VOCAB, EMBEDDING, rng=rng), cell, nn101.Dense(config.hidden, VOCAB, rng=rng)
    )


def nn101_train(config: SequenceConfig, seed: int) -> float:
    import nn101

    model = nn101_model(config, np.random.default_rng(seed))
    optimizer = nn101.Adam(model.parameters(), learning_rate=1e-3)
    loss = nn101.SoftmaxCrossEntropy()
    xs, ys = _data(config, seed)
    start = time.perf_counter()
    for x, y in zip(xs, ys):
        optimizer.zero_grad()
        loss.forward(model.forward(x, training=True), y)
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()
    return time.perf_counter() - start


def torch_train(config: SequenceConfig, seed: int) -> float:
    import torch

    torch.manual_seed(seed)
    embedding = torch.nn.Embedding(VOCAB, EMBEDDING)
    cell = getattr(torch.nn, config.kind)(EMBEDDING, config.hidden, batch_first=True)
    head = torch.nn.Linear(config.hidden, VOCAB)
    parameters = [*embedding.parameters(), *cell.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    xs, ys = (torch.from_numpy(a) for a in _data(config, seed))
    start = time.perf_counter()
    for x, y in zip(xs, ys):
        optimizer.zero_grad()
        out, _ = cell(embedding(x))
        loss = torch.nn.functional.cross_entropy(head(out).flatten(0, 1), y.flatten())
        loss.backward()
        optimizer.step()
        loss.item()
    return time.perf_counter() - start


TIMERS = {"nn101": nn101_train, "torch": torch_train}


def time_recurrent(
    configs: list[SequenceConfig], systems: list[str], repeats: int, seed: int
) -> list[dict[str, Any]]:
    """Entries in the suite's format (``samples`` are tokens), systems alternating per round."""
    systems = [s for s in systems if s in TIMERS]
    entries = []
    for config in configs:
        tokens = config.steps * config.batch_size * config.seq_len
        for system in systems:  # warm-up: allocations, thread pools, oneDNN kernels
            TIMERS[system](config, seed)
        timers = {s: partial(TIMERS[s], config) for s in systems}
        results = alternating_rounds(timers, repeats, tokens, seed)
        entry = config.to_dict()
        entry.update(samples_used=tokens, systems=results)
        entries.append(entry)
    return entries


def _best(f: Any, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def _products(config: SequenceConfig, rng: np.random.Generator) -> float:
    """Seconds of one step's matrix products, each timed alone on its real shapes."""
    T, N, H, G = config.seq_len, config.batch_size, config.hidden, config.gates * config.hidden

    def a(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    x, W_ih, W_hh, h, dz = a(T * N, EMBEDDING), a(EMBEDDING, G), a(H, G), a(N, H), a(N, G)
    hs, dZ, W_head, g = a(T * N, H), a(T * N, G), a(H, VOCAB), a(T * N, VOCAB)
    out_g, out_h = np.empty((N, G), np.float32), np.empty((N, H), np.float32)
    products = [
        lambda: x @ W_ih,  # projection
        lambda: [np.matmul(h, W_hh, out=out_g) for _ in range(T)],  # recurrent, forward
        lambda: [np.matmul(dz, W_hh.T, out=out_h) for _ in range(T)],  # recurrent, backward
        lambda: x.T @ dZ,  # dW_ih
        lambda: hs.T @ dZ,  # dW_hh
        lambda: dZ @ W_ih.T,  # dx
        lambda: hs @ W_head,  # head forward
        lambda: hs.T @ g,  # head dW
        lambda: g @ W_head.T,  # head dx
    ]
    return sum(_best(p) for p in products)


def profile_recurrent(config: SequenceConfig, seed: int = 0) -> dict[str, Any]:
    """Where one nn101 training step goes: products, optimizer, the rest."""
    import nn101

    rng = np.random.default_rng(seed)
    model = nn101_model(config, rng)
    optimizer = nn101.Adam(model.parameters(), learning_rate=1e-3)
    loss = nn101.SoftmaxCrossEntropy()
    x, y = (d[0] for d in _data(config, seed))

    def step() -> None:
        optimizer.zero_grad()
        loss.forward(model.forward(x, training=True), y)
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()

    step()
    total = _best(step)
    optimizer_time = _best(lambda: (optimizer.zero_grad(), optimizer.step()))
    matmul = min(_products(config, rng), total)
    rest = max(total - matmul - optimizer_time, 0.0)
    seconds = {"matrix products": matmul, "optimizer": optimizer_time, "gate math + other": rest}
    return {
        "config": config.name,
        "us_per_step": 1e6 * total,
        "share": {k: v / sum(seconds.values()) for k, v in seconds.items()},
        "detail_us": {k: round(1e6 * v) for k, v in seconds.items()},
    }


def recurrent_profile_markdown(profiles: list[dict[str, Any]]) -> str:
    groups = ["matrix products", "optimizer", "gate math + other"]
    lines = [
        "| Configuration | µs / step | " + " | ".join(groups) + " | detail (µs / step) |",
        "|---|---:|" + "---:|" * len(groups) + "---|",
    ]
    for p in profiles:
        shares = " | ".join(f"{100 * p['share'][g]:.0f}%" for g in groups)
        detail = ", ".join(f"{k} {v}" for k, v in p["detail_us"].items())
        lines.append(f"| {p['config']} | {p['us_per_step']:.0f} | {shares} | {detail} |")
    return "\n".join(lines)
