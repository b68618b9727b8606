"""The benchmark configurations: which network, which batch size, which optimizer, how much data.

A training configuration costs about 6 x parameters floating-point operations per example
(forward 2P, backward 4P: one product for the weight gradient, one for the input gradient);
an inference configuration about 2 x parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Config", "LEARNING_RATES", "default_configs", "quick_configs"]

LEARNING_RATES = {"sgd": 0.01, "adam": 1e-3}
"""The same step size for every system: SGD with momentum 0.9, Adam with its usual default."""

PREDICT_BATCH = 256  # nn101's predict default; PyTorch gets the same batches


@dataclass(frozen=True)
class Config:
    """One measured case: an MLP ``sizes`` (ReLU between Dense layers), trained or evaluated.

    ``task`` is "train" (one epoch: forward, loss, backward, optimizer step per batch) or
    "predict" (forward only, in batches). ``optimizer`` is "sgd" (momentum 0.9) or "adam"
    for training, "" for predict. ``samples`` examples are used per measurement.
    """

    sizes: tuple[int, ...]
    batch_size: int
    task: str
    optimizer: str
    samples: int

    @property
    def name(self) -> str:
        arch = "-".join(str(s) for s in self.sizes)
        if self.task == "train":
            label = "SGD+momentum" if self.optimizer == "sgd" else "Adam"
            return f"train {arch} b{self.batch_size} {label}"
        return f"predict {arch} b{self.batch_size}"

    @property
    def parameters(self) -> int:
        """Weights and biases of the MLP: Σ (in x out + out)."""
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def flops_per_sample(self) -> int:
        return (6 if self.task == "train" else 2) * self.parameters

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            name=self.name,
            sizes=list(self.sizes),
            parameters=self.parameters,
            flops_per_sample=self.flops_per_sample,
        )
        return data


ARCHITECTURES = [
    # (sizes, training batch size, examples per training measurement)
    ((784, 100, 10), 32, 12_000),
    ((784, 256, 10), 128, 12_000),
    ((784, 1024, 1024, 10), 256, 6_144),
]


def default_configs() -> list[Config]:
    """Every architecture trained with SGD+momentum and with Adam, then predict for each."""
    configs = [
        Config(sizes, batch, "train", optimizer, samples)
        for sizes, batch, samples in ARCHITECTURES
        for optimizer in ("sgd", "adam")
    ]
    configs += [
        Config(sizes, PREDICT_BATCH, "predict", "", 12_000) for sizes, _, _ in ARCHITECTURES
    ]
    return configs


def quick_configs() -> list[Config]:
    """A tiny network on a few hundred examples: checks the harness, measures nothing useful."""
    sizes = (784, 32, 10)
    return [
        Config(sizes, 32, "train", "sgd", 512),
        Config(sizes, 32, "train", "adam", 512),
        Config(sizes, 64, "predict", "", 512),
    ]
