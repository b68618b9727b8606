"""Initializers: functions ``init(rng, shape, fan_in=None, fan_out=None, dtype=np.float32)``.

Each returns a new C-contiguous array of ``shape`` and ``dtype``. Random ones draw from ``rng``
(a ``np.random.Generator``; the same seed gives the same numbers, whatever the dtype, because
samples are drawn in float64 and then cast). ``fan_in`` / ``fan_out`` default to
``compute_fans(shape)``.

Variance-preserving rules, with fan_in / fan_out the numbers of inputs / outputs of a unit:

* Glorot (Xavier): Var(W) = 2 / (fan_in + fan_out). Glorot & Bengio, AISTATS 2010.
* He (Kaiming):    Var(W) = 2 / fan_in (for ReLU). He et al., ICCV 2015.
* LeCun:           Var(W) = 1 / fan_in. LeCun et al., *Efficient BackProp*, 1998.

A uniform U(-a, a) has variance a² / 3, hence the bounds a = sqrt(3 Var). The normal variants
are plain (untruncated) normals, as in PyTorch.

Strings exist only at the config boundary: a layer takes ``weight_init="he_normal"``,
``weight_init=("normal", {"std": 1.0})`` (a named initializer with its keywords, stored as such
in the model file) or any function with this signature.

=================  ==================================  ==============================
name               distribution                        keywords (defaults)
=================  ==================================  ==============================
zeros, ones        W = 0, W = 1
constant           W = value                           value (0.0)
uniform            U(low, high)                        low (-0.05), high (0.05)
normal             N(mean, std²)                       mean (0.0), std (0.05)
glorot_uniform     U(-a, a), a = √(6/(fan_in+fan_out))  (alias xavier_uniform)
glorot_normal      N(0, 2/(fan_in+fan_out))            (alias xavier_normal)
he_uniform         U(-a, a), a = √(6/fan_in)           (alias kaiming_uniform)
he_normal          N(0, 2/fan_in)                      (alias kaiming_normal)
lecun_normal       N(0, 1/fan_in)                      Nielsen's "1/√n_in" weights
=================  ==================================  ==============================

Nielsen's first networks draw every weight from N(0, 1): ``("normal", {"std": 1.0})``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nn101.core import as_dtype
from nn101.registry import INITIALIZERS

__all__ = [
    "Initializer",
    "compute_fans",
    "zeros",
    "ones",
    "constant",
    "uniform",
    "normal",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "INITIALIZERS",
    "InitSpec",
    "get_initializer",
    "initializer_name",
]

Shape = tuple[int, ...]
Fan = int | None
Rng = np.random.Generator | None
Initializer = Callable[..., np.ndarray]


def compute_fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``.

    * (n,): fan_in = fan_out = n.
    * (in_features, out_features): a Dense weight, used as ``x @ W``.
    * (C_out, C_in, k1, k2, ...): a convolution kernel (PyTorch layout);
      fan_in = C_in·k1·k2·..., fan_out = C_out·k1·k2·...
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def resolve_fans(shape: Shape, fan_in: int | None, fan_out: int | None) -> tuple[int, int]:
    default_in, default_out = compute_fans(shape)
    fan_in = default_in if fan_in is None else fan_in
    fan_out = default_out if fan_out is None else fan_out
    if fan_in <= 0 or fan_out <= 0:
        raise ValueError(f"fan_in and fan_out must be positive, got {fan_in} and {fan_out}")
    return fan_in, fan_out


def to_dtype(values: np.ndarray, dtype: Any) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=as_dtype(dtype))


def zeros(
    rng: Rng = None,
    shape: Shape = (),
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W = 0 (biases)."""
    return np.zeros(shape, dtype=as_dtype(dtype))


def ones(
    rng: Rng = None,
    shape: Shape = (),
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W = 1 (normalization scales)."""
    return np.ones(shape, dtype=as_dtype(dtype))


def constant(
    rng: Rng = None,
    shape: Shape = (),
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
    *,
    value: float = 0.0,
) -> np.ndarray:
    """W = value everywhere."""
    return np.full(shape, value, dtype=as_dtype(dtype))


def uniform(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
    *,
    low: float = -0.05,
    high: float = 0.05,
) -> np.ndarray:
    """W ~ U(low, high) (Keras RandomUniform defaults)."""
    return to_dtype(rng.uniform(low, high, size=shape), dtype)


def normal(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
    *,
    mean: float = 0.0,
    std: float = 0.05,
) -> np.ndarray:
    """W ~ N(mean, std²) (Keras RandomNormal defaults)."""
    return to_dtype(rng.normal(mean, std, size=shape), dtype)


def glorot_uniform(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)). Glorot & Bengio 2010, eq. 16."""
    fan_in, fan_out = resolve_fans(shape, fan_in, fan_out)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return to_dtype(rng.uniform(-bound, bound, size=shape), dtype)


def glorot_normal(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W ~ N(0, σ²), σ = sqrt(2 / (fan_in + fan_out)). Glorot & Bengio 2010."""
    fan_in, fan_out = resolve_fans(shape, fan_in, fan_out)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return to_dtype(rng.normal(0.0, std, size=shape), dtype)


def he_uniform(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W ~ U(-a, a), a = sqrt(6 / fan_in). He et al. 2015."""
    fan_in, _ = resolve_fans(shape, fan_in, fan_out)
    bound = math.sqrt(6.0 / fan_in)
    return to_dtype(rng.uniform(-bound, bound, size=shape), dtype)


def he_normal(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W ~ N(0, σ²), σ = sqrt(2 / fan_in). He et al. 2015, eq. 10."""
    fan_in, _ = resolve_fans(shape, fan_in, fan_out)
    return to_dtype(rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape), dtype)


def lecun_normal(
    rng: np.random.Generator,
    shape: Shape,
    fan_in: Fan = None,
    fan_out: Fan = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """W ~ N(0, σ²), σ = sqrt(1 / fan_in). LeCun et al. 1998 (and SELU networks)."""
    fan_in, _ = resolve_fans(shape, fan_in, fan_out)
    return to_dtype(rng.normal(0.0, math.sqrt(1.0 / fan_in), size=shape), dtype)


for _name, _function in (
    ("zeros", zeros),
    ("ones", ones),
    ("constant", constant),
    ("uniform", uniform),
    ("normal", normal),
    ("glorot_uniform", glorot_uniform),
    ("glorot_normal", glorot_normal),
    ("xavier_uniform", glorot_uniform),
    ("xavier_normal", glorot_normal),
    ("he_uniform", he_uniform),
    ("he_normal", he_normal),
    ("kaiming_uniform", he_uniform),
    ("kaiming_normal", he_normal),
    ("lecun_normal", lecun_normal),
):
    INITIALIZERS.add(_name, _function)

CUSTOM_PREFIX = "custom:"
InitSpec = str | tuple | list | Initializer
"""An initializer as a layer takes it: a name, ``(name, {keyword: value})``, or a function."""


def get_initializer(spec: InitSpec) -> Initializer:
    """The initializer ``spec`` names: ``"he_normal"``, ``("normal", {"std": 1.0})`` (a named
    initializer with its keyword arguments), or a function, returned as it is."""
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec.startswith(CUSTOM_PREFIX):
        raise ValueError(
            f"initializer {spec!r} was a custom function and cannot be rebuilt "
            "from its name; pass the function itself"
        )
    if isinstance(spec, (tuple, list)):
        if len(spec) != 2 or not isinstance(spec[0], str) or not isinstance(spec[1], dict):
            raise ValueError(f"expected an initializer as (name, {{keyword: value}}), got {spec!r}")
        function = INITIALIZERS.get(spec[0])
        allowed = _keyword_only(function)
        unknown = sorted(set(spec[1]) - allowed)
        if unknown:
            raise ValueError(
                f"initializer {spec[0]!r} takes keywords {sorted(allowed)}, got {unknown}"
            )
        return functools.partial(function, **spec[1])
    return INITIALIZERS.get(spec)


def initializer_name(spec: InitSpec) -> str | list[Any]:
    """What a layer's config stores: the name, ``[name, {keywords}]``, or for a function of the
    user's own a label ``"custom:<name>"`` (the weights themselves are saved with the model)."""
    if isinstance(spec, str):
        get_initializer(spec)  # validate
        return spec
    if isinstance(spec, (tuple, list)):
        get_initializer(spec)
        return [spec[0], dict(spec[1])]
    if isinstance(spec, functools.partial) and not spec.args:
        name = INITIALIZERS.name_of(spec.func)
        if name is not None:
            return [name, dict(spec.keywords)]
    name = INITIALIZERS.name_of(spec)
    if name is not None:
        return name
    label = getattr(spec, "__name__", type(spec).__name__)
    return f"{CUSTOM_PREFIX}{label}"


def _keyword_only(function: Initializer) -> set[str]:
    parameters = inspect.signature(function).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
