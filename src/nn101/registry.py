"""The one registry mechanism: names that the CLI and config files use, mapped to objects.

Strings exist only at the boundary (a model file's ``"type": "Dense"``, ``nn101 train
--optimizer adam``). Registration is explicit: a library class is decorated, a user's class is
passed to ``nn101.load(..., custom_layers=[...])`` or registered with ``@register_layer``.
A name is never silently taken over: registering a second object under a known name raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

__all__ = [
    "Registry",
    "LAYERS",
    "OPTIMIZERS",
    "LOSSES",
    "ACTIVATIONS",
    "INITIALIZERS",
    "DATASETS",
    "register_layer",
]

T = TypeVar("T")


class Registry(Generic[T]):
    """Objects of one kind (``"layer"``, ``"optimizer"`` ...) by name; duplicates raise."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` as ``name``; the same object twice is fine, another one raises."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} registry: expected a non-empty name, got {name!r}")
        known = self._items.get(name)
        if known is not None and known is not obj:
            raise ValueError(
                f"{self.kind} name {name!r} is already registered to {_label(known)}; "
                f"choose another name for {_label(obj)}"
            )
        self._items[name] = obj
        return obj

    def register(self, obj: Any = None, /, *, name: str | None = None) -> Any:
        """Decorator: ``@LAYERS.register`` (the class's ``__name__``) or ``register(name=...)``."""
        if obj is None:
            return lambda target: self.add(name or target.__name__, target)
        return self.add(name or obj.__name__, obj)

    def get(self, name: str) -> T:
        """The object called ``name``; an unknown name lists the known ones."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._items))
            plural = self.kind + ("es" if self.kind.endswith("s") else "s")
            raise ValueError(f"unknown {self.kind} {name!r}; known {plural}: {known}") from None

    def name_of(self, obj: Any) -> str | None:
        """The name ``obj`` is registered under, or None."""
        for name, known in self._items.items():
            if known is obj:
                return name
        return None

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def _label(obj: Any) -> str:
    module = getattr(obj, "__module__", "")
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}" if module else repr(obj)


LAYERS: Registry[Any] = Registry("layer type")
OPTIMIZERS: Registry[Any] = Registry("optimizer")
LOSSES: Registry[Any] = Registry("loss")
ACTIVATIONS: Registry[Any] = Registry("activation")
INITIALIZERS: Registry[Any] = Registry("initializer")
DATASETS: Registry[Any] = Registry("dataset")


def register_layer(cls: T) -> T:
    """Class decorator: make a Layer subclass loadable by name (``nn101.load``)."""
    return LAYERS.register(cls)
