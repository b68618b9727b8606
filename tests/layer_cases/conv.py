"""Layer cases for the convolutional part: Conv2d, pooling, BatchNorm2d.

nn101's Conv2d weight is (kh, kw, in, out); PyTorch's is (out, in, kh, kw): the twin copies
``weight_to_torch(W)`` in and maps the torch gradient back with ``weight_from_torch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nn101
from layer_cases import Case, copy_in, same, torch_dtype
from nn101.functional.conv import weight_from_torch, weight_to_torch


def _conv_twin(torch: Any, layer: Any, training: bool) -> Any:
    module = torch.nn.Conv2d(
        layer.in_channels,
        layer.out_channels,
        tuple(layer.kernel_size),
        stride=tuple(layer.stride),
        padding=layer.padding if isinstance(layer.padding, str) else tuple(layer.padding),
        dilation=tuple(layer.dilation),
        bias=layer.bias is not None,
        dtype=torch_dtype(torch, layer.dtype),
    )
    copy_in(torch, module.weight, weight_to_torch(layer.weight.value))
    pairs = [(layer.weight, module.weight, lambda t: weight_from_torch(t.numpy()))]
    if layer.bias is not None:
        copy_in(torch, module.bias, layer.bias.value)
        pairs.append((layer.bias, module.bias, same))
    return module, pairs


def _pool_twin(torch: Any, layer: Any, training: bool) -> Any:
    cls = torch.nn.MaxPool2d if isinstance(layer, nn101.MaxPool2d) else torch.nn.AvgPool2d
    module = cls(tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding))
    return module, []


def _global_pool_twin(torch: Any, layer: Any, training: bool) -> Any:
    return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), []


def _batchnorm2d_twin(torch: Any, layer: Any, training: bool) -> Any:
    module = torch.nn.BatchNorm2d(
        layer.num_features,
        momentum=layer.momentum,
        eps=layer.eps,
        dtype=torch_dtype(torch, layer.dtype),
    )
    for name in ("running_mean", "running_var"):
        copy_in(torch, getattr(module, name), getattr(layer, name))
    copy_in(torch, module.weight, layer.weight.value)
    copy_in(torch, module.bias, layer.bias.value)
    module.train(training)
    return module, [(layer.weight, module.weight, same), (layer.bias, module.bias, same)]


def _dropout2d_twin(torch: Any, layer: Any, training: bool) -> Any:
    """The same channel mask, drawn from a copy of the layer's generator (the formula of the
    Dropout2d docstring), applied by PyTorch."""
    replay = np.random.default_rng()
    replay.bit_generator.state = layer.rng.bit_generator.state

    def forward(x: Any) -> Any:
        if not training:
            return x * 1
        shape = (*x.shape[:2], 1, 1)
        layer_dtype = np.float64 if x.dtype == torch.float64 else np.float32
        keep = replay.random(shape, dtype=layer_dtype) >= layer.rate
        return x * torch.from_numpy((keep / (1 - layer.rate)).astype(layer_dtype))

    return forward, []


def _conv(in_channels: int, out_channels: int, **kwargs: Any) -> Any:
    return lambda d, r: nn101.Conv2d(in_channels, out_channels, rng=r, dtype=d, **kwargs)


CASES: list[Case] = [
    Case(
        "conv2d",
        _conv(2, 3, kernel_size=3),
        (2, 2, 6, 5),
        (2, 3, 4, 3),
        (2, 3, 6, 5),
        "Conv2d(2, 3, (3, 3))",
        torch=_conv_twin,
    ),
    Case(
        "conv2d_one_channel_padded",
        _conv(1, 4, kernel_size=5, padding=2),
        (1, 1, 7, 6),
        (1, 4, 7, 6),
        (1, 7, 6),
        "Conv2d(1, 4, (5, 5))",
        torch=_conv_twin,
    ),
    Case(
        "conv2d_strided_non_square",
        _conv(3, 2, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), bias=False),
        (2, 3, 7, 6),
        (2, 2, 4, 4),
        (2, 2, 7, 6),
        "Conv2d(3, 2, (2, 3))",
        torch=_conv_twin,
    ),
    Case(
        "conv2d_same_dilated",
        _conv(2, 2, kernel_size=3, padding="same", dilation=2),
        (2, 2, 5, 7),
        (2, 2, 5, 7),
        (2, 3, 5, 7),
        "Conv2d(2, 2, (3, 3))",
        torch=_conv_twin,
    ),
    Case(
        "conv2d_stride3",
        _conv(2, 2, kernel_size=2, stride=3, padding=1),
        (2, 2, 8, 7),
        (2, 2, 3, 3),
        (2, 8, 7),
        "Conv2d(2, 2, (2, 2))",
        torch=_conv_twin,
    ),
    Case(
        "maxpool2d",
        lambda d, r: nn101.MaxPool2d(2),
        (2, 3, 6, 5),
        (2, 3, 3, 2),
        (3, 6, 5),
        "MaxPool2d((2, 2))",
        torch=_pool_twin,
    ),
    Case(
        "maxpool2d_overlapping_padded",
        lambda d, r: nn101.MaxPool2d(3, stride=2, padding=1),
        (2, 2, 7, 6),
        (2, 2, 4, 3),
        (7, 6),
        "MaxPool2d((3, 3))",
        torch=_pool_twin,
    ),
    Case(
        "avgpool2d",
        lambda d, r: nn101.AvgPool2d((2, 3), stride=(2, 1)),
        (2, 2, 6, 5),
        (2, 2, 3, 3),
        (2, 6, 5),
        "AvgPool2d((2, 3))",
        torch=_pool_twin,
    ),
    Case(
        "avgpool2d_padded",
        lambda d, r: nn101.AvgPool2d(3, stride=2, padding=1),
        (1, 3, 5, 6),
        (1, 3, 3, 3),
        (1, 3, 5),
        "AvgPool2d((3, 3))",
        torch=_pool_twin,
    ),
    Case(
        "global_avgpool2d",
        lambda d, r: nn101.GlobalAvgPool2d(),
        (2, 3, 4, 5),
        (2, 3),
        (2, 3),
        "GlobalAvgPool2d()",
        torch=_global_pool_twin,
    ),
    Case(
        "batchnorm2d",
        lambda d, r: nn101.BatchNorm2d(3, momentum=0.2, dtype=d),
        (4, 3, 3, 5),
        (4, 3, 3, 5),
        (4, 5, 3, 3),
        "BatchNorm2d(3)",
        training_matters=True,
        torch=_batchnorm2d_twin,
    ),
    Case(
        "dropout2d",
        lambda d, r: nn101.Dropout2d(0.4, rng=r),
        (4, 5, 3, 2),
        (4, 5, 3, 2),
        (4, 5),
        "Dropout2d(0.4)",
        training_matters=True,
        torch=_dropout2d_twin,
    ),
]
