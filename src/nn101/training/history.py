"""History: what a ``fit`` run logged, epoch by epoch (Keras-style)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["History"]


class History:
    """Per-epoch logs of training: ``history["loss"][i]`` is the loss of the i-th epoch logged.

    Each epoch's logs are kept as the dict the callbacks saw, so a value a callback adds to the
    logs (a checkpoint path, a gradient norm) is recorded too. ``epoch`` lists the epoch
    numbers (they continue across ``fit`` calls with the same optimizer).
    """

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.logs: list[dict[str, Any]] = []

    def record(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch.append(epoch)
        self.logs.append(logs)

    @property
    def history(self) -> dict[str, list[Any]]:
        """Every logged key, with one value per epoch (NaN where an epoch did not log it)."""
        keys = list(dict.fromkeys(key for logs in self.logs for key in logs))
        return {key: [logs.get(key, math.nan) for logs in self.logs] for key in keys}

    def __getitem__(self, key: str) -> list[Any]:
        if not any(key in logs for logs in self.logs):
            raise KeyError(f"History has no {key!r}; logged: {sorted(self.history)}")
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), "logs": [dict(logs) for logs in self.logs]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.logs = [dict(logs) for logs in state["logs"]]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
