"""Input validation shared by the layers: say which layer, what was expected and what came."""

from __future__ import annotations

from typing import Any

import numpy as np


def shape_error(layer: str, expected: str, x: np.ndarray) -> ValueError:
    """``Dense(784, 10) expected input (N, 784), got (32, 28, 28)``."""
    got = "(" + ", ".join(str(n) for n in np.shape(x)) + ")"
    return ValueError(f"{layer} expected input {expected}, got {got}")


def backward_before_forward(layer: Any) -> RuntimeError:
    """``Dense(4, 3): backward called before forward``; ``layer`` is a Layer or its label."""
    label = layer if isinstance(layer, str) else layer.label()
    return RuntimeError(f"{label}: backward called before forward")
