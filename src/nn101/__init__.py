"""nn101: neural networks from first principles, in NumPy.

Everything a user writes comes from here: ``nn101.Dense``, ``nn101.Sequential``,
``nn101.Adam``, ``nn101.load``, ``nn101.data`` ... Each section below re-exports one module;
each engineer edits only the section of the module they own.
"""

from nn101 import data
from nn101.core import Layer, Parameter

# -- layers (src/nn101/layers/) ---------------------------------------------------------------

# -- losses, gradcheck ------------------------------------------------------------------------

# -- optimizers, schedules, regularizers ------------------------------------------------------
from nn101.optimizers import SGD, Optimizer

# -- model, training, serialization -----------------------------------------------------------

__version__ = "0.1.0"
