"""Optimizers: rules that turn gradients into parameter updates.

Every optimizer sees a list of Parameters and nothing else (no layers). ``step()`` updates each
``Parameter.value`` in place from its ``grad``; ``zero_grad()`` clears the grads;
``learning_rate`` may be changed between steps (a schedule does that);
``state_dict()`` / ``load_state_dict()`` capture everything needed to resume exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nn101.core import Parameter

__all__ = ["Optimizer", "SGD"]


def _check_range(owner: str, name: str, value: float, low: float, high: float, *,
                 high_open: bool = True) -> None:
    ok = low <= value < high if high_open else low <= value <= high
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be in [{low}, {high}{bracket}, got {value}")


class Optimizer:
    """Base class: holds the parameters, the learning rate, a step counter and per-parameter state.

    Subclasses implement ``update(p, state)`` for one parameter and list their hyperparameters
    in ``hyperparameters()`` so that ``state_dict`` can save them.
    """

    def __init__(self, parameters: Iterable[Parameter], learning_rate: float) -> None:
        self.parameters = list(parameters)
        owner = type(self).__name__
        if not self.parameters:
            raise ValueError(f"{owner}: got an empty parameter list")
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"{owner}: expected Parameters, got {type(p).__name__}")
        if not np.isfinite(learning_rate) or learning_rate < 0:
            raise ValueError(f"{owner}: learning_rate must be in [0, inf), got {learning_rate}")
        self.learning_rate = float(learning_rate)
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.parameters]

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def step(self) -> None:
        self.step_count += 1
        for p, state in zip(self.parameters, self.state):
            self.update(p, state)

    def update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate}

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "step_count": self.step_count,
            "state": [{k: v.copy() for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        owner = type(self).__name__
        if state_dict.get("type") != owner:
            raise ValueError(f"{owner}: state_dict is for {state_dict.get('type')!r}")
        if len(state_dict["state"]) != len(self.parameters):
            raise ValueError(f"{owner}: state_dict has {len(state_dict['state'])} parameter "
                             f"states, this optimizer has {len(self.parameters)} parameters")
        for name, value in state_dict["hyperparameters"].items():
            setattr(self, name, value)
        self.step_count = int(state_dict["step_count"])
        self.state = [{k: np.array(v, copy=True) for k, v in s.items()}
                      for s in state_dict["state"]]


class SGD(Optimizer):
    """Stochastic gradient descent: θ <- θ - η g."""

    def update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        p.value -= self.learning_rate * p.grad
