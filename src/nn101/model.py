"""Sequential: a stack of layers that is itself a Layer, with fit / evaluate / predict."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn101 import serialization, training
from nn101.core import Layer, Parameter, layer_class

__all__ = ["Sequential"]


class Sequential(Layer):
    """Layers applied one after another: y = f_L(... f_2(f_1(x))).

    Backward runs the chain rule in reverse: each layer turns dL/d(its output) into
    dL/d(its input), adding its parameters' gradients on the way.
    """

    def __init__(self, *layers: Layer) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {i} must be a Layer, got {type(layer).__name__}"
                )
        self.layers: list[Layer] = list(layers)

    # -- the Layer contract ----------------------------------------------------------------

    def forward(self, x: np.ndarray, *, training: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad_output = layer.backward(grad_output)
        return grad_output

    def backward_parameters(self, grad_output: np.ndarray) -> None:
        """``backward`` without dL/d(input): what a training step needs, since the input is data.

        The first layer skips that gradient when it can (``Dense.backward_parameters``): for a
        784-100-10 MLP it is a third of the matrix-product time (PyTorch skips it too, for
        inputs that do not require grad).
        """
        for layer in self.layers[:0:-1]:  # every layer but the first, last first
            grad_output = layer.backward(grad_output)
        if self.layers:
            first = self.layers[0]
            getattr(first, "backward_parameters", first.backward)(grad_output)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for i, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{prefix}{i}.")

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            yield from layer.named_buffers(f"{prefix}{i}.")

    def penalty(self) -> float:
        return sum((layer.penalty() for layer in self.layers), 0.0)

    def config(self) -> dict[str, Any]:
        return {
            "layers": [
                {"type": type(layer).__name__, "config": layer.config()} for layer in self.layers
            ]
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        layers = []
        for i, spec in enumerate(config.get("layers", [])):
            if not isinstance(spec, dict) or "type" not in spec:
                raise ValueError(
                    f"Sequential: layer {i} must be {{'type': ..., 'config': ...}}, got {spec!r}"
                )
            layers.append(layer_class(spec["type"]).from_config(spec.get("config", {})))
        return cls(*layers)

    # -- containers ------------------------------------------------------------------------

    def add(self, layer: Layer) -> Sequential:
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        return self

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"

    # -- training and inference (the loop itself lives in training.py) ---------------------

    def fit(self, x: Any, y: Any = None, **kwargs: Any) -> training.History:
        """Train the model; see :func:`nn101.training.fit` for every argument."""
        return training.fit(self, x, y, **kwargs)

    def evaluate(self, x: Any, y: Any = None, **kwargs: Any) -> dict[str, float]:
        """Loss and accuracy on data, without changing the model; see :func:`training.evaluate`."""
        return training.evaluate(self, x, y, **kwargs)

    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """The model's outputs (inference mode) for inputs ``x``, in batches."""
        return training.predict(self, x, batch_size=batch_size)

    def save(self, path: str | Path, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write ``architecture.json`` + ``weights.npz`` into the directory ``path``."""
        return serialization.save(self, path, metadata=metadata)

    # -- inspection ------------------------------------------------------------------------

    def summary(
        self, input_shape: Sequence[int] | None = None, print_fn: Callable[[str], Any] = print
    ) -> None:
        """Print each layer with its output shape and parameter count.

        ``input_shape`` is one example's shape, e.g. ``(64,)``; when omitted it is read from the
        first layer that declares ``in_features``.
        """
        if input_shape is None:
            input_shape = self._infer_input_shape()
        x = np.zeros((1, *input_shape), dtype=training.parameter_dtype(self))
        rows = [("Layer", "Output shape", "Parameters")]
        for i, layer in enumerate(self.layers):
            x = layer.forward(x, training=False)
            rows.append(
                (
                    f"({i}) {type(layer).__name__}",
                    str(("N", *x.shape[1:])),
                    f"{layer.num_parameters():,}",
                )
            )
        widths = [max(len(row[k]) for row in rows) for k in range(3)]
        rule = "-" * (sum(widths) + 4)
        lines = [rule] + [
            f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows
        ]
        lines.insert(2, rule)
        lines += [rule, f"Total parameters: {self.num_parameters():,}", rule]
        print_fn("\n".join(lines))

    def _infer_input_shape(self) -> tuple[int, ...]:
        for layer in self.layers:
            if hasattr(layer, "in_features"):
                return (int(layer.in_features),)
        raise ValueError(
            "Sequential.summary: cannot infer the input shape; pass input_shape=, e.g. (1, 28, 28)"
        )
