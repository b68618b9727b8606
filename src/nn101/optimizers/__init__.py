"""Optimizers: rules that turn gradients into parameter updates.

One module per family: ``base`` (the Optimizer class: parameters, learning rate, the step and
epoch clocks, state_dict), ``sgd``, ``adagrad``, ``rmsprop`` and ``adam`` (Adam, AdamW,
AdaMax, Nadam). Each ``step`` is written as its docstring's equations, in place, with one
scratch array per parameter. Defaults are those of ``torch.optim`` (PyTorch 2.13), and each
update matches it to rounding. Each optimizer is registered in ``nn101.registry.OPTIMIZERS``
under its lowercase class name (``"sgd"``, ``"adam"`` ...), the names the CLI accepts.
"""

from nn101.optimizers.adagrad import AdaGrad
from nn101.optimizers.adam import Adam, AdaMax, AdamW, Nadam
from nn101.optimizers.base import Optimizer
from nn101.optimizers.rmsprop import RMSprop
from nn101.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW", "AdaMax", "Nadam"]
