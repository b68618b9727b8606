"""The two contracts everything else stands on: Parameter and Layer.

A Parameter is an array that training changes, together with the gradient of the loss with
respect to it. A Layer maps an input batch to an output batch (``forward``) and maps the
gradient of the loss with respect to its output back to the gradient with respect to its input
(``backward``), adding its parameters' gradients into ``Parameter.grad`` on the way.

Everything else a layer offers (its parameters, buffers, carried state, penalty, snapshots) is
derived from one traversal, ``named_children``: attributes that are Layers, or lists / tuples of
Layers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

__all__ = ["Parameter", "Layer", "as_dtype"]


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


class Layer:
    """Base class of every layer, and of Sequential.

    Subclasses implement:

    * ``forward(x, *, training=False) -> y``: compute the output and save exactly what
      ``backward`` needs (named as in the math).
    * ``backward(grad_output, *, input_grad=True) -> grad_input | None``: given dL/dy, add
      dL/dθ into each parameter's ``grad`` and return dL/dx; with ``input_grad=False`` (the
      input is data or integer ids) skip dL/dx and return None.
    * ``config() -> dict``: the constructor's keyword arguments, JSON-serializable, so that
      ``type(layer)(**layer.config())`` rebuilds the layer (weights come separately).

    Parameters are the attributes that are Parameters, in assignment order; sub-layers are the
    attributes that are Layers or lists / tuples of Layers (``children``). Non-trainable state
    saved with the model (BatchNorm's running statistics) is listed in ``buffer_names``; state
    carried between calls (a stateful RNN's last hidden state: saved by checkpoints, not by
    model files) in ``state_names``. A layer that samples keeps its generator in ``self.rng``.
    """

    buffer_names: ClassVar[tuple[str, ...]] = ()
    state_names: ClassVar[tuple[str, ...]] = ()

    # -- the contract ------------------------------------------------------------------------

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(
        cls, config: dict[str, Any], *, custom_layers: Sequence[type[Layer]] = ()
    ) -> Layer:
        """Rebuild a layer from ``config()``; containers pass ``custom_layers`` (the user's own
        layer classes, see ``nn101.load``) down to their sub-layers."""
        return cls(**config)

    def __call__(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        return self.forward(x, training=training)

    def label(self) -> str:
        """The short name error messages use: ``ReLU()``, ``Dense(784, 10)``."""
        return f"{type(self).__name__}()"

    # -- the one traversal -------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """Yield ``(name, layer)`` for each sub-layer: ``"encoder"``, or ``"blocks.0"`` for the
        first Layer of a list or tuple attribute."""
        for attr, value in vars(self).items():
            if isinstance(value, Layer):
                yield attr, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Layer):
                        yield f"{attr}.{i}", item

    def children(self) -> Iterator[Layer]:
        for _, child in self.named_children():
            yield child

    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, Layer]]:
        """This layer (named ``prefix``) and every layer below it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_layers(f"{prefix}{name}.")

    def layers_below(self) -> Iterator[Layer]:
        """Every layer of the tree, this one included."""
        for _, layer in self.named_layers():
            yield layer

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs, e.g. ``("weight", W)`` or ``("0.weight", W)``."""
        for path, layer in self.named_layers(prefix):
            for attr, value in vars(layer).items():
                if isinstance(value, Parameter):
                    yield path + attr, value

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, array)`` for non-trainable state that save / load must keep."""
        for path, layer in self.named_layers(prefix):
            for attr in layer.buffer_names:
                yield path + attr, getattr(layer, attr)

    def named_states(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """Yield ``(name, value)`` for carried state (``state_names``); values may be None."""
        for path, layer in self.named_layers(prefix):
            for attr in layer.state_names:
                yield path + attr, getattr(layer, attr)

    def reset_state(self) -> None:
        """Forget carried state (a stateful layer overrides this and calls super)."""
        for child in self.children():
            child.reset_state()

    @contextmanager
    def state_kept(self) -> Iterator[None]:
        """Inside the block, carried state (a stateful RNN's) may change freely; on exit it is
        put back, so evaluating in the middle of training does not disturb the state the next
        training batch continues from."""
        saved = [
            (layer, a, getattr(layer, a))
            for layer in self.layers_below()
            for a in layer.state_names
        ]
        try:
            yield
        finally:
            for layer, attr, value in saved:
                setattr(layer, attr, value)

    def penalty(self) -> float:
        """Regularization penalty this layer and its sub-layers add to the loss.

        A layer with a penalty (Dense's ``l1`` / ``l2``) overrides this, and adds the
        penalty's gradient into its weights' grads in ``backward``.
        """
        return sum((child.penalty() for child in self.children()), 0.0)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- snapshots (EarlyStopping's best weights, the LR finder's rewind) --------------------

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by name."""
        state = {name: p.value.copy() for name, p in self.named_parameters()}
        state.update({f"buffer:{n}": np.array(b, copy=True) for n, b in self.named_buffers()})
        return state

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Put a ``snapshot()`` back, in place (optimizers keep pointing at the same arrays)."""
        for name, p in self.named_parameters():
            p.value[...] = snapshot[name]
        for name, b in self.named_buffers():
            b[...] = snapshot[f"buffer:{name}"]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
