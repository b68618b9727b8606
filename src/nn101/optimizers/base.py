"""The optimizer base class: the parameters, the learning rate, two clocks, per-parameter state.

Every optimizer sees a list of Parameters and nothing else (no layers). ``step()`` updates each
``Parameter.value`` in place from its ``grad`` and leaves the ``grad`` as it is; ``zero_grad()``
clears the grads. ``learning_rate`` may be changed between steps (a schedule does that; 1cycle
also sets ``momentum`` on SGD / RMSprop or ``beta1`` on the Adam family). ``step_count`` counts
steps (``step()`` advances it); ``epoch_count`` counts epochs (the training loop advances it).
``state_dict()`` / ``load_state_dict()`` capture everything needed to resume bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np

from nn101.core import Parameter

__all__ = ["Optimizer", "check_range"]


def check_range(
    owner: str, name: str, value: float, low: float, high: float, *, high_open: bool = True
) -> None:
    """Raise ``ValueError`` naming the argument, the allowed range and the value given."""
    ok = low <= value < high if high_open else low <= value <= high
    if not ok or math.isnan(value):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be in [{low:g}, {high:g}{bracket}, got {value}")


class Optimizer:
    """Base class: the parameters, the learning rate, the clocks and per-parameter state.

    A subclass implements ``step()`` as a loop ``for p, state in self.parameter_states():``
    and names its hyperparameters in ``hyperparameter_names`` so that ``state_dict`` saves them.
    ``state[i]`` holds the arrays parameter ``i`` carries between steps (moments, momentum
    buffers), made by ``init_state`` before its first step. ``scratch(p)`` is one array shaped
    like ``p.value``, reused every step, so that a step allocates nothing; the one exception is
    coupled weight decay (``weight_decay > 0`` on all but AdamW), whose g = ∇L(θ) + λθ is a new
    array, as in PyTorch, so that ``p.grad`` stays as backward left it.
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = ("learning_rate",)
    scalar_names: ClassVar[tuple[str, ...]] = ()  # scalar state shared by all parameters

    def __init__(self, parameters: Iterable[Parameter], learning_rate: float) -> None:
        self.parameters = list(parameters)
        owner = type(self).__name__
        if not self.parameters:
            raise ValueError(f"{owner}: got an empty parameter list")
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"{owner}: expected Parameters, got {type(p).__name__}")
        check_range(owner, "learning_rate", learning_rate, 0.0, math.inf)
        self.learning_rate = float(learning_rate)
        self.step_count: int = 0
        self.epoch_count: int = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.parameters]
        self._scratch: dict[int, np.ndarray] = {}  # id(parameter) -> scratch array, never saved

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement step")

    def init_state(self, p: Parameter) -> dict[str, np.ndarray]:
        """The state of a parameter before its first step (empty unless overridden)."""
        return {}

    def parameter_states(self) -> Iterator[tuple[Parameter, dict[str, np.ndarray]]]:
        """Each parameter with its state (made by ``init_state`` before the first step)."""
        for i, p in enumerate(self.parameters):
            if not self.state[i]:
                self.state[i] = self.init_state(p)
            yield p, self.state[i]

    def scratch(self, p: Parameter) -> np.ndarray:
        """An array shaped like ``p.value`` for intermediate results, reused every step."""
        tmp = self._scratch.get(id(p))
        if tmp is None or tmp.shape != p.value.shape or tmp.dtype != p.value.dtype:
            tmp = self._scratch[id(p)] = np.empty_like(p.value)
        return tmp

    def hyperparameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def scalar_state(self) -> dict[str, float]:
        """Scalars (not hyperparameters) that the next step depends on; saved by state_dict."""
        return {name: getattr(self, name) for name in self.scalar_names}

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "step_count": self.step_count,
            "epoch_count": self.epoch_count,
            "scalars": self.scalar_state(),
            "state": [{k: v.copy() for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved; an older one without ``epoch_count`` means 0."""
        owner = type(self).__name__
        if state_dict.get("type") != owner:
            raise ValueError(f"{owner}: state_dict is for {state_dict.get('type')!r}")
        states = state_dict["state"]
        if len(states) != len(self.parameters):
            raise ValueError(
                f"{owner}: state_dict has {len(states)} parameter states, "
                f"this optimizer has {len(self.parameters)} parameters"
            )
        for i, (p, s) in enumerate(zip(self.parameters, states, strict=True)):
            for key, value in s.items():
                if np.shape(value) != p.shape:
                    raise ValueError(
                        f"{owner}: state {key!r} of parameter {i} has shape "
                        f"{np.shape(value)}, expected {p.shape}"
                    )
        for name, value in state_dict["hyperparameters"].items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        for name, value in state_dict.get("scalars", {}).items():
            setattr(self, name, float(value))
        self.step_count = int(state_dict["step_count"])
        self.epoch_count = int(state_dict.get("epoch_count", 0))
        self.state = [
            {k: np.array(v, dtype=p.dtype, copy=True) for k, v in s.items()}
            for p, s in zip(self.parameters, states, strict=True)
        ]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"
