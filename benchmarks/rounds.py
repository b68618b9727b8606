"""The timing loop every benchmark shares: rounds of all systems, the order rotating."""

from __future__ import annotations

import gc
from collections.abc import Callable

__all__ = ["alternating_rounds"]


def alternating_rounds(
    timers: dict[str, Callable[[int], float]], repeats: int, samples: int, seed: int
) -> dict[str, dict[str, list[float]]]:
    """``repeats`` rounds in which every system runs once, the order rotating by one each round
    so that none always runs first or always right after another. ``timers[name](seed)`` runs
    one measurement of ``samples`` examples and returns its seconds; round r passes seed + r.

    Returns, per system, the seconds and the throughput (samples / s) of each round.
    """
    systems = list(timers)
    results: dict[str, dict[str, list[float]]] = {
        s: {"seconds": [], "samples_per_s": []} for s in systems
    }
    for r in range(repeats):
        shift = r % len(systems)
        for system in systems[shift:] + systems[:shift]:
            gc.collect()  # no system pays for another's garbage
            seconds = timers[system](seed + r)
            results[system]["seconds"].append(seconds)
            results[system]["samples_per_s"].append(samples / seconds)
    return results
