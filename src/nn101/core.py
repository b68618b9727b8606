"""The two contracts everything else stands on: Parameter and Layer.

A Parameter is an array that training changes, together with the gradient of the loss with
respect to it. A Layer maps an input batch to an output batch (``forward``) and maps the
gradient of the loss with respect to its output back to the gradient with respect to its input
(``backward``), adding its parameters' gradients into ``Parameter.grad`` on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

__all__ = ["Parameter", "Layer", "LAYERS", "layer_class", "as_dtype"]


def as_dtype(dtype: Any) -> np.dtype:
    """Return ``np.dtype(dtype)``, refusing anything that is not a floating type."""
    result = np.dtype(dtype)
    if result.kind != "f":
        raise TypeError(f"expected a floating dtype such as float32 or float64, got {result}")
    return result


class Parameter:
    """A trainable array ``value`` and the gradient ``grad`` of the loss with respect to it.

    ``backward`` passes *add* into ``grad`` (so shared weights and backprop through time add
    up naturally); ``zero_grad`` resets it in place; optimizers update ``value`` in place.
    """

    def __init__(self, value: np.ndarray, name: str = "") -> None:
        self.value = np.asarray(value)
        self.grad = np.zeros_like(self.value)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def size(self) -> int:
        return int(self.value.size)

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def __repr__(self) -> str:
        label = f"{self.name}, " if self.name else ""
        return f"Parameter({label}shape={self.shape}, dtype={self.dtype})"


LAYERS: dict[str, type[Layer]] = {}
"""Every Layer subclass by class name: the one registry save / load uses to rebuild a model."""


def layer_class(name: str) -> type[Layer]:
    """The Layer subclass called ``name``, or a clear error listing the known ones."""
    try:
        return LAYERS[name]
    except KeyError:
        known = ", ".join(sorted(LAYERS))
        raise ValueError(f"unknown layer type {name!r}; known layer types: {known}") from None


class Layer:
    """Base class of every layer, and of Sequential.

    Subclasses implement:

    * ``forward(x, *, training=False) -> y``: compute the output and save exactly what
      ``backward`` needs (named as in the math).
    * ``backward(grad_output) -> grad_input``: given dL/dy, add dL/dθ into each parameter's
      ``grad`` and return dL/dx.
    * ``config() -> dict``: the constructor's keyword arguments, JSON-serializable, so that
      ``type(layer)(**layer.config())`` rebuilds the layer (weights come separately).

    Parameters are found automatically: every attribute that is a Parameter (or a Layer, whose
    parameters are included under a dotted name), in the order the attributes were assigned.
    Non-trainable state that must be saved with the model (BatchNorm's running statistics) is
    declared by listing attribute names in ``buffer_names``.
    """

    buffer_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        LAYERS[cls.__name__] = cls

    # -- the contract ------------------------------------------------------------------------

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from ``config()`` (container layers override this)."""
        return cls(**config)

    # -- derived helpers -------------------------------------------------------------------

    def __call__(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs, e.g. ``("weight", W)`` or ``("0.weight", W)``."""
        for attr, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + attr, value
            elif isinstance(value, Layer):
                yield from value.named_parameters(prefix + attr + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, array)`` for non-trainable state that save / load must keep."""
        for attr in self.buffer_names:
            yield prefix + attr, getattr(self, attr)
        for attr, value in vars(self).items():
            if isinstance(value, Layer):
                yield from value.named_buffers(prefix + attr + ".")

    def penalty(self) -> float:
        """Regularization penalty this layer adds to the loss (L1 / L2 on its weights).

        Layers that have one add its gradient into their weights' grads in ``backward``.
        """
        return sum((v.penalty() for v in vars(self).values() if isinstance(v, Layer)), 0.0)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
