"""nn101: neural networks from first principles, in NumPy.

Everything a user writes comes from here: ``nn101.Dense``, ``nn101.Sequential``,
``nn101.Adam``, ``nn101.load``, ``nn101.data`` ... Each section below re-exports one module;
each engineer edits only the section of the module they own.
"""

from nn101 import data
from nn101.core import Layer, Parameter
from nn101.registry import register_layer

# -- layers (src/nn101/layers/) ---------------------------------------------------------------
from nn101.layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dense,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    GlobalAvgPool2d,
    GRU,
    Identity,
    LayerNorm,
    LeakyReLU,
    LSTM,
    MaxPool2d,
    RNN,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

# -- losses, gradcheck ------------------------------------------------------------------------
from nn101 import functional, gradcheck, init
from nn101.losses import BinaryCrossEntropy, Loss, MeanSquaredError, SoftmaxCrossEntropy

# -- optimizers, schedules, regularizers ------------------------------------------------------
from nn101.optimizers import SGD, AdaGrad, Adam, AdaMax, AdamW, Nadam, Optimizer, RMSprop
from nn101.regularizers import clip_grad_norm, clip_grad_value
from nn101.schedules import (
    Constant,
    CosineDecay,
    CyclicLR,
    ExponentialDecay,
    InverseTimeDecay,
    MultiStep,
    OneCycle,
    Schedule,
    StepDecay,
)

# -- model, training, serialization -----------------------------------------------------------
from nn101 import metrics, serialization, training
from nn101.model import Sequential
from nn101.serialization import load, save
from nn101.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from nn101.training import (
    Callback,
    EarlyStopping,
    History,
    LRFindResult,
    ReduceOnPlateau,
    TrainState,
    lr_find,
    train_step,
)

# -- errors (src/nn101/errors.py) -------------------------------------------------------------
from nn101.errors import (
    DatasetNotFoundError,
    DownloadError,
    FileFormatError,
    IdxFormatError,
    ModelFileError,
    NN101Error,
    NonFiniteWeightsError,
    OverwriteError,
)

__version__ = "0.1.0"
