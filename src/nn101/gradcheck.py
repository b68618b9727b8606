"""Gradient checking: compare a backward pass with centered finite differences, in float64.

For a layer y = f(x; θ) the check uses one scalar, s = Σ (y ⊙ u) with a fixed random upstream
gradient u, whose gradient with respect to x and to every parameter is exactly what ``backward(u)``
computes. One check therefore covers the input and all parameters at once (llm.c's trick).

Centered differences: ∂s/∂v_i ≈ (s(v + ε e_i) - s(v - ε e_i)) / 2ε, error O(ε²) + O(δ/ε) with δ
the rounding error of s; ε = 1e-6 in float64 typically agrees to 1e-8 or better.

Relative error of two arrays a (analytic) and b (numerical) is taken over the whole array,
‖a - b‖ / max(‖a‖ + ‖b‖, tiny), so a single entry that is zero up to rounding cannot blow it up.
Source: cs231n notes, "Gradient checks"; PyTorch ``torch.autograd.gradcheck``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from nn101.core import Layer

__all__ = ["numerical_gradient", "relative_error", "check_layer", "check_loss"]

TINY = 1e-30


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """∂f/∂x by centered differences, one entry at a time.

    ``x`` must be a float64 array; it is perturbed in place and restored exactly, so ``f`` may
    read it directly or through another reference (a Parameter's value).
    Shapes: x any -> gradient of x's shape, float64.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_gradient expected a float64 array, got {got}")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views (x is perturbed through this)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient expected a contiguous array it can perturb in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f(x)
        flat_x[i] = original - eps
        f_minus = f(x)
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a - b‖ / max(‖a‖ + ‖b‖, tiny): 0 for equal arrays, 1 for opposite ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error expected arrays of one shape, got {a.shape} and {b.shape}"
        )
    scale = max(float(np.linalg.norm(a) + np.linalg.norm(b)), TINY)
    return float(np.linalg.norm(a - b)) / scale


def _generators(layer: Layer) -> list[np.random.Generator]:
    """Every np.random.Generator held by a layer and its sublayers (Dropout's rng, ...)."""
    found = [getattr(sub, "rng", None) for sub in layer.layers_below()]
    return list({id(g): g for g in found if isinstance(g, np.random.Generator)}.values())


def _carried_states(layer: Layer) -> list[tuple[Layer, str, Any]]:
    """(layer, attribute, copy of its value) for every carried state (stateful RNNs)."""
    return [
        (sub, attr, copy.deepcopy(getattr(sub, attr)))
        for sub in layer.layers_below()
        for attr in sub.state_names
    ]


def check_layer(
    layer: Layer,
    x: np.ndarray,
    *,
    rng: np.random.Generator | None = None,
    training: bool = True,
    eps: float = 1e-6,
) -> float:
    """Worst relative error between ``layer.backward`` and finite differences, over the input
    and every parameter, on s = Σ (layer.forward(x) ⊙ u) + layer.penalty(), u ~ N(0, 1) drawn
    from ``rng`` (the penalty term because ``backward`` adds its gradient to the weights).

    The layer must be float64 (``dtype=np.float64``). Randomness inside the layer (Dropout) is
    frozen: the state of every Generator the layer holds is restored before each evaluation, so
    every forward pass draws the same mask, and the check runs in training mode by default;
    carried state (a stateful RNN's) is restored too. Buffers (BatchNorm running statistics)
    and parameter grads are restored afterwards. Integer inputs (token ids) have no gradient:
    only the parameters are checked, with ``backward(..., input_grad=False)``.
    """
    rng = np.random.default_rng() if rng is None else rng
    _require_float64(layer)
    ids = np.asarray(x).dtype.kind in "iu"
    x = np.array(x) if ids else np.array(x, dtype=np.float64)  # our own copy, perturbed in place
    forward = _frozen_forward(layer, x, training)
    buffers = {name: np.copy(value) for name, value in layer.named_buffers()}
    grads = [(p, p.grad.copy()) for p in layer.parameters()]
    try:
        upstream = rng.standard_normal(forward().shape)  # u

        def objective(_: np.ndarray) -> float:
            return float(np.sum(forward() * upstream)) + layer.penalty()

        layer.zero_grad()
        forward()
        grad_x = (
            layer.backward(upstream.copy(), input_grad=False)
            if ids
            else layer.backward(upstream.copy())
        )
        errors = []
        if not ids:
            assert grad_x is not None, f"{type(layer).__name__}.backward returned None"
            errors.append(relative_error(grad_x, numerical_gradient(objective, x, eps)))
        for p in layer.parameters():
            analytic = p.grad.copy()
            errors.append(relative_error(analytic, numerical_gradient(objective, p.value, eps)))
    finally:
        for name, value in layer.named_buffers():
            value[...] = buffers[name]
        for p, grad in grads:
            p.grad[...] = grad
    return max(errors)


def _require_float64(layer: Layer) -> None:
    for name, p in layer.named_parameters():
        if p.dtype != np.float64:
            raise TypeError(
                f"check_layer needs a float64 layer (dtype=np.float64); "
                f"{type(layer).__name__}.{name} is {p.dtype}"
            )


def _frozen_forward(layer: Layer, x: np.ndarray, training: bool) -> Callable[[], np.ndarray]:
    """``layer.forward(x)`` with every generator and carried state put back first, so that
    each evaluation draws the same dropout mask and starts from the same state."""
    generators = _generators(layer)
    rng_states = [g.bit_generator.state for g in generators]
    carried = _carried_states(layer)

    def forward() -> np.ndarray:
        for g, state in zip(generators, rng_states, strict=True):
            g.bit_generator.state = state
        for sub, attr, value in carried:
            setattr(sub, attr, copy.deepcopy(value))
        return layer.forward(x, training=training)

    return forward


def check_loss(loss: Any, prediction: np.ndarray, target: np.ndarray, eps: float = 1e-6) -> float:
    """Relative error between ``loss.backward()`` and finite differences of ``loss.forward``."""
    z = np.array(prediction, dtype=np.float64)
    loss.forward(z, target)
    analytic = np.array(loss.backward(), dtype=np.float64)

    def objective(_: np.ndarray) -> float:
        return float(loss.forward(z, target))

    return relative_error(analytic, numerical_gradient(objective, z, eps))
