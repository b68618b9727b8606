"""Training: the loop (``train_step``, ``fit``), its state, evaluation and prediction,
callbacks and the learning-rate finder.

``loop.py`` holds the loop, top to bottom; ``state.py`` the TrainState a checkpoint saves;
``inference.py`` evaluate / predict; ``checks.py`` the data validation at the boundary.
"""

from nn101.training.callbacks import Callback, EarlyStopping, ReduceOnPlateau
from nn101.training.checks import as_dataset, parameter_dtype
from nn101.training.history import History
from nn101.training.inference import evaluate, predict
from nn101.training.loop import fit, train_step
from nn101.training.lr_finder import LRFindResult, lr_find
from nn101.training.state import TrainState

__all__ = [
    "fit",
    "train_step",
    "evaluate",
    "predict",
    "TrainState",
    "History",
    "Callback",
    "EarlyStopping",
    "ReduceOnPlateau",
    "lr_find",
    "LRFindResult",
    "as_dataset",
    "parameter_dtype",
]
