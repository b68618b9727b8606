"""Layers, one concept per module; each class is registered in ``nn101.registry.LAYERS``."""

from nn101.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from nn101.layers.conv import Conv2d
from nn101.layers.dense import Dense
from nn101.layers.dropout import Dropout
from nn101.layers.embedding import Embedding
from nn101.layers.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from nn101.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from nn101.layers.recurrent import GRU, LSTM, RNN
from nn101.layers.reshape import Flatten
from nn101.layers.spatial_dropout import Dropout2d

__all__ = [
    "Dense",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Identity",
    "Flatten",
    "Dropout",
    "BatchNorm1d",
    "LayerNorm",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "GlobalAvgPool2d",
    "BatchNorm2d",
    "Dropout2d",
    "Embedding",
    "RNN",
    "LSTM",
    "GRU",
]
