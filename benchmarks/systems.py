"""The three systems, each behind the same two calls: train one epoch, predict a dataset.

Every call builds a fresh network (untimed) and returns the seconds of the timed part only:

* nn101 goes through the public API a user writes: ``Sequential`` of ``Dense`` / ``ReLU``,
  ``model.fit(x, y, epochs=1, ...)`` and ``model.predict(x, batch_size=...)``.
* PyTorch (CPU, float32) runs a plain, idiomatic loop over tensors made once from the same
  arrays: a fresh permutation per epoch, ``zero_grad``, forward, ``cross_entropy``,
  ``backward``, ``step``, and the running loss read with ``loss.item()`` as a training loop
  does. Prediction runs under ``torch.inference_mode()`` in the same batches as nn101.
* scikit-learn's ``MLPClassifier`` (same layers, ReLU, no L2: ``alpha=0``) is initialised by
  one untimed ``partial_fit`` on the first batch; the timed ``partial_fit`` is one epoch over
  the data (shuffled, same batch size). Prediction is ``predict_proba`` on the whole array.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.configs import LEARNING_RATES, Config

__all__ = ["SYSTEMS", "available_systems", "nn101_model"]

Timer = Callable[[Config, np.ndarray, np.ndarray, int], float]


# -- nn101 -----------------------------------------------------------------------------------


def nn101_model(sizes: tuple[int, ...], rng: np.random.Generator) -> Any:
    """Sequential(Dense, ReLU, Dense, ..., Dense) for ``sizes`` (logits out, float32)."""
    import nn101

    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn101.ReLU())
        layers.append(nn101.Dense(a, b, rng=rng))
    return nn101.Sequential(*layers)


def nn101_optimizer(name: str, parameters: list[Any]) -> Any:
    import nn101

    if name == "sgd":
        return nn101.SGD(parameters, learning_rate=LEARNING_RATES["sgd"], momentum=0.9)
    return nn101.Adam(parameters, learning_rate=LEARNING_RATES["adam"])


def nn101_train(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    import nn101

    rng = np.random.default_rng(seed)
    model = nn101_model(config.sizes, rng)
    optimizer = nn101_optimizer(config.optimizer, model.parameters())
    loss = nn101.SoftmaxCrossEntropy()
    start = time.perf_counter()
    model.fit(
        x,
        y,
        epochs=1,
        batch_size=config.batch_size,
        optimizer=optimizer,
        loss=loss,
        verbose=0,
        shuffle=True,
        rng=rng,
    )
    return time.perf_counter() - start


def nn101_predict(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    model = nn101_model(config.sizes, np.random.default_rng(seed))
    start = time.perf_counter()
    model.predict(x, batch_size=config.batch_size)
    return time.perf_counter() - start


# -- PyTorch ---------------------------------------------------------------------------------


def torch_model(sizes: tuple[int, ...]) -> Any:
    import torch

    modules: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            modules.append(torch.nn.ReLU())
        modules.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*modules)


def torch_train(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    model = torch_model(config.sizes)
    if config.optimizer == "sgd":
        optimizer: Any = torch.optim.SGD(model.parameters(), lr=LEARNING_RATES["sgd"], momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATES["adam"])
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)  # made once, shared memory
    n, batch_size = len(x), config.batch_size
    start = time.perf_counter()
    model.train()
    order = torch.randperm(n, generator=generator)
    running_loss = 0.0
    for first in range(0, n, batch_size):
        index = order[first : first + batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs[index]), targets[index])
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return time.perf_counter() - start


def torch_predict(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    import torch

    model = torch_model(config.sizes)
    model.eval()
    inputs = torch.from_numpy(x)
    start = time.perf_counter()
    with torch.inference_mode():
        batch = config.batch_size
        outputs = [model(inputs[i : i + batch]) for i in range(0, len(x), batch)]
        torch.cat(outputs).numpy()
    return time.perf_counter() - start


# -- scikit-learn ----------------------------------------------------------------------------


def sklearn_model(config: Config, seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    solver = "sgd" if config.optimizer == "sgd" else "adam"
    return MLPClassifier(
        hidden_layer_sizes=config.sizes[1:-1],
        activation="relu",
        solver=solver,
        alpha=0.0,
        batch_size=config.batch_size,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATES[solver],
        momentum=0.9,
        nesterovs_momentum=False,
        shuffle=True,
        random_state=seed,
    )


def sklearn_train(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    model = sklearn_model(config, seed)
    classes = np.arange(config.sizes[-1])
    first = config.batch_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of a one-epoch run
        model.partial_fit(x[:first], y[:first], classes=classes)  # allocate weights: untimed
        start = time.perf_counter()
        model.partial_fit(x, y)
        return time.perf_counter() - start


def sklearn_predict(config: Config, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    model = sklearn_model(Config(config.sizes, 64, "train", "adam", 64), seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(x[:64], y[:64], classes=np.arange(config.sizes[-1]))
    start = time.perf_counter()
    model.predict_proba(x)
    return time.perf_counter() - start


SYSTEMS: dict[str, dict[str, Timer]] = {
    "nn101": {"train": nn101_train, "predict": nn101_predict},
    "torch": {"train": torch_train, "predict": torch_predict},
    "sklearn": {"train": sklearn_train, "predict": sklearn_predict},
}
"""Per system, per task: ``timer(config, x, y, seed) -> seconds``."""


def available_systems() -> dict[str, str]:
    """System name -> "" when importable, else the reason it is left out."""
    status = {"nn101": ""}
    for name, module in (("torch", "torch"), ("sklearn", "sklearn.neural_network")):
        try:
            __import__(module)
            status[name] = ""
        except ImportError as error:
            status[name] = f"not installed ({error}); pip install -e '.[bench]'"
    return status
