"""Learning-rate schedules: pure functions of the step, ``schedule(t) -> learning_rate``.

``t = 0, 1, 2, ...`` counts optimizer steps (or epochs, if the training loop calls the schedule
once per epoch). A schedule holds only its constants, so calling it twice with the same ``t``
gives the same rate, and ``schedule.values(n)`` evaluates ``t = 0 .. n-1`` for a plot.
``OneCycle`` also gives ``momentum(t)``, which the training loop writes into the optimizer
(``momentum`` for SGD / RMSprop, ``beta1`` for the Adam family).

Each schedule equals its ``torch.optim.lr_scheduler`` counterpart step for step (see the
parity tests); unlike those, nothing here touches an optimizer.

One module per kind: ``base`` (Schedule), ``decay`` (Constant, StepDecay, MultiStep,
ExponentialDecay, InverseTimeDecay, CosineDecay), ``cyclic`` (CyclicLR, OneCycle).
"""

from nn101.schedules.base import Schedule
from nn101.schedules.cyclic import CyclicLR, OneCycle
from nn101.schedules.decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStep,
    StepDecay,
)

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "MultiStep",
    "ExponentialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CyclicLR",
    "OneCycle",
]
