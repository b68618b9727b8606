"""Layer cases for the dense half: Dense, activations, reshape, dropout, normalization."""

from __future__ import annotations

from typing import Any

import nn101
from layer_cases import Case, copy_in, same, torch_dtype, transpose


def _dense_twin(torch: Any, layer: Any, training: bool) -> Any:
    linear = torch.nn.Linear(
        layer.in_features, layer.out_features, dtype=torch_dtype(torch, layer.dtype)
    )
    copy_in(torch, linear.weight, layer.weight.value.T)  # PyTorch stores Wᵀ
    copy_in(torch, linear.bias, layer.bias.value)

    def forward(x: Any) -> Any:
        return linear(x)

    # added to the torch loss by the parity test (nn101 adds its gradient in backward)
    forward.penalty = lambda: (  # type: ignore[attr-defined]
        layer.l1 * linear.weight.abs().sum() + layer.l2 * (linear.weight**2).sum()
    )
    return forward, [(layer.weight, linear.weight, transpose), (layer.bias, linear.bias, same)]


def _function_twin(name: str) -> Any:
    def twin(torch: Any, layer: Any, training: bool) -> Any:
        F = torch.nn.functional
        forward = {
            "relu": torch.relu,
            "leaky_relu": lambda x: F.leaky_relu(x, layer.negative_slope),
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
            "softmax": lambda x: torch.softmax(x, dim=getattr(layer, "axis", -1)),
            "identity": lambda x: x * 1,
            "flatten": lambda x: torch.flatten(x, start_dim=1),
        }[name]
        return forward, []

    return twin


def _norm_twin(kind: str) -> Any:
    def twin(torch: Any, layer: Any, training: bool) -> Any:
        dtype = torch_dtype(torch, layer.dtype)
        if kind == "batchnorm1d":
            module = torch.nn.BatchNorm1d(
                layer.num_features, momentum=layer.momentum, eps=layer.eps, dtype=dtype
            )
            copy_in(torch, module.running_mean, layer.running_mean)
            copy_in(torch, module.running_var, layer.running_var)
        else:
            module = torch.nn.LayerNorm(layer.normalized_shape, eps=layer.eps, dtype=dtype)
        copy_in(torch, module.weight, layer.weight.value)
        copy_in(torch, module.bias, layer.bias.value)
        module.train(training)
        pairs = [(layer.weight, module.weight, same), (layer.bias, module.bias, same)]
        return module, pairs

    return twin


CASES = [
    Case(
        "dense",
        lambda d, r: nn101.Dense(4, 3, rng=r, dtype=d),
        (5, 4),
        (5, 3),
        (5, 2, 2),
        "Dense(4, 3)",
        torch=_dense_twin,
    ),
    Case(
        "dense_sequence",
        lambda d, r: nn101.Dense(4, 3, rng=r, dtype=d),
        (2, 5, 4),
        (2, 5, 3),
        (5,),
        "Dense(4, 3)",
        torch=_dense_twin,
    ),
    Case(
        "dense_l1_l2",
        lambda d, r: nn101.Dense(
            4,
            3,
            rng=r,
            dtype=d,
            l1=0.01,
            l2=0.02,
            weight_init=("normal", {"std": 0.5}),
            bias_init="normal",
        ),
        (5, 4),
        (5, 3),
        (5, 3),
        "Dense(4, 3)",
        torch=_dense_twin,
    ),
    Case("relu", lambda d, r: nn101.ReLU(), (5, 4), (5, 4), torch=_function_twin("relu")),
    Case(
        "leaky_relu",
        lambda d, r: nn101.LeakyReLU(0.2),
        (3, 2, 4),
        (3, 2, 4),
        torch=_function_twin("leaky_relu"),
    ),
    Case("sigmoid", lambda d, r: nn101.Sigmoid(), (5, 4), (5, 4), torch=_function_twin("sigmoid")),
    Case("tanh", lambda d, r: nn101.Tanh(), (5, 4), (5, 4), torch=_function_twin("tanh")),
    Case("softmax", lambda d, r: nn101.Softmax(), (5, 6), (5, 6), torch=_function_twin("softmax")),
    Case(
        "softmax_axis1",
        lambda d, r: nn101.Softmax(axis=1),
        (2, 3, 4),
        (2, 3, 4),
        (4,),
        "Softmax(axis=1)",
        torch=_function_twin("softmax"),
    ),
    Case(
        "identity", lambda d, r: nn101.Identity(), (5, 4), (5, 4), torch=_function_twin("identity")
    ),
    Case(
        "flatten",
        lambda d, r: nn101.Flatten(),
        (2, 3, 2, 2),
        (2, 12),
        (),
        "Flatten()",
        torch=_function_twin("flatten"),
    ),
    Case(
        "dropout",
        lambda d, r: nn101.Dropout(0.3, rng=r),
        (6, 5),
        (6, 5),
        training_matters=True,
        parity_elsewhere="test_dropout_with_fixed_mask_against_formula",
    ),
    Case(
        "batchnorm1d",
        lambda d, r: nn101.BatchNorm1d(4, dtype=d),
        (6, 4),
        (6, 4),
        (6, 3),
        "BatchNorm1d(4)",
        training_matters=True,
        torch=_norm_twin("batchnorm1d"),
    ),
    Case(
        "batchnorm1d_3d",
        lambda d, r: nn101.BatchNorm1d(3, momentum=0.2, dtype=d),
        (4, 3, 5),
        (4, 3, 5),
        (4, 5, 3),
        "BatchNorm1d(3)",
        training_matters=True,
        torch=_norm_twin("batchnorm1d"),
    ),
    Case(
        "layernorm",
        lambda d, r: nn101.LayerNorm(6, dtype=d),
        (5, 6),
        (5, 6),
        (5, 4),
        "LayerNorm(6)",
        torch=_norm_twin("layernorm"),
    ),
    Case(
        "layernorm_3d",
        lambda d, r: nn101.LayerNorm(4, eps=1e-3, dtype=d),
        (2, 3, 4),
        (2, 3, 4),
        (2, 4, 3),
        "LayerNorm(4)",
        torch=_norm_twin("layernorm"),
    ),
]
