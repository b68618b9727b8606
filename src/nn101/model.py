"""Sequential: a stack of layers that is itself a Layer, with fit / evaluate / predict."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn101 import serialization, training
from nn101.core import Layer
from nn101.losses import Loss
from nn101.optimizers import Optimizer
from nn101.registry import register_layer
from nn101.training import Callback, History

__all__ = ["Sequential"]


@register_layer
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

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """The chain rule in reverse. With ``input_grad=False`` (training: the input is data)
        the first layer skips dL/d(input): for a 784-100-10 MLP that is a third of the
        matrix-product time."""
        g: np.ndarray | None = grad_output
        for i in range(len(self.layers) - 1, -1, -1):
            assert g is not None  # only the first layer (i = 0) may return None
            g = self.layers[i].backward(g, input_grad=input_grad or i > 0)
        return g

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        for i, layer in enumerate(self.layers):  # "0.weight", as PyTorch names them
            yield str(i), layer

    def config(self) -> dict[str, Any]:
        return {"layers": [serialization.layer_spec(layer) for layer in self.layers]}

    @classmethod
    def from_config(
        cls, config: dict[str, Any], *, custom_layers: Sequence[type[Layer]] = ()
    ) -> Sequential:
        specs = config.get("layers", [])
        if not isinstance(specs, list):
            raise ValueError(f"Sequential: config 'layers' must be a list, got {specs!r}")
        return cls(*(serialization.layer_from_spec(spec, custom_layers) for spec in specs))

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

    def fit(
        self,
        x: Any,
        y: Any = None,
        *,
        optimizer: Optimizer,
        loss: Loss,
        epochs: int = 10,
        batch_size: int = 32,
        validation_data: Any = None,
        shuffle: bool = True,
        rng: np.random.Generator | None = None,
        verbose: int = 1,
        callbacks: Sequence[Callback] = (),
        schedule: Callable[[int], float] | None = None,
        schedule_per: str = "step",
        clip_norm: float | None = None,
        clip_value: float | None = None,
        resume_from: str | Path | None = None,
    ) -> History:
        """Train the model by mini-batch descent; see :func:`nn101.training.fit`."""
        return training.fit(
            self,
            x,
            y,
            optimizer=optimizer,
            loss=loss,
            epochs=epochs,
            batch_size=batch_size,
            validation_data=validation_data,
            shuffle=shuffle,
            rng=rng,
            verbose=verbose,
            callbacks=callbacks,
            schedule=schedule,
            schedule_per=schedule_per,
            clip_norm=clip_norm,
            clip_value=clip_value,
            resume_from=resume_from,
        )

    def evaluate(
        self, x: Any, y: Any = None, *, loss: Loss | None = None, batch_size: int = 256
    ) -> dict[str, float]:
        """Loss and metrics on data, without changing the model; see :func:`training.evaluate`."""
        return training.evaluate(self, x, y, loss=loss, batch_size=batch_size)

    def predict(self, x: Any, *, batch_size: int = 256) -> np.ndarray:
        """The model's outputs (inference mode) for inputs ``x``, in batches."""
        return training.predict(self, x, batch_size=batch_size)

    def save(
        self, path: str | Path, *, metadata: dict[str, Any] | None = None, overwrite: bool = False
    ) -> Path:
        """Write the model to the one file ``path``; see :func:`nn101.save`."""
        return serialization.save(self, path, metadata=metadata, overwrite=overwrite)

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
