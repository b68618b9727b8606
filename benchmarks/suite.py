"""The suite, top to bottom: machine, data, timings (alternating systems), memory, profile."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cnn, memory, recurrent
from benchmarks.configs import Config, default_configs, quick_configs
from benchmarks.machine import (
    blas_threads,
    describe_machine,
    load_data,
    matmul_peak_gflops,
    set_threads,
)
from benchmarks.profile import profile_config, profile_markdown
from benchmarks.report import evaluate_targets, markdown, summarize
from benchmarks.rounds import alternating_rounds
from benchmarks.systems import SYSTEMS, available_systems

__all__ = ["run", "run_profile"]

NOTE = (
    "Timings are medians over alternating repeats in one process; peak RSS comes from a "
    "separate child process per system and configuration. Other work on the machine during "
    "the run makes every number noisier (see the load average)."
)


_STARTED = time.perf_counter()


def _log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def _setup(threads: int | None, quick: bool = False) -> tuple[int, str]:
    if threads is not None:
        source = "--threads"
    elif quick:  # a smoke run: one thread stays fast even on a busy machine
        threads, source = 1, "--quick"
    else:
        threads, source = blas_threads()
    set_threads(threads)
    return threads, source


def time_config(
    config: Config,
    x: np.ndarray,
    y: np.ndarray,
    systems: list[str],
    repeats: int,
    seed: int,
    budget: float,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Raw timings of ``config`` for each system, and the number of examples used.

    Each system runs a warm-up and a calibration on 4 batches; the examples per measurement
    are then capped so that the slowest system takes about ``budget`` seconds (at least 8
    batches), which keeps the suite's length bounded on a busy machine. Then ``repeats``
    rounds, the order of the systems rotating by one each round so none always runs first.
    """
    warm = min(len(x), 4 * config.batch_size)
    slowest = float("inf")
    for system in systems:
        timer = SYSTEMS[system][config.task]
        timer(config, x[:warm], y[:warm], seed)  # warm-up
        slowest = min(slowest, warm / timer(config, x[:warm], y[:warm], seed))
    n = min(len(x), max(int(slowest * budget), 8 * config.batch_size))
    n -= n % config.batch_size if n < len(x) else 0  # whole batches when capped
    x, y = x[:n], y[:n]
    timers = {s: partial(SYSTEMS[s][config.task], config, x, y) for s in systems}
    return n, alternating_rounds(timers, repeats, n, seed)


def run(
    *,
    quick: bool = False,
    repeats: int = 7,
    threads: int | None = None,
    data: str = "auto",
    out_dir: Path,
    measure_memory: bool = True,
    profile: bool = True,
    seed: int = 0,
    budget: float = 1.5,
    only: str | None = None,
) -> dict[str, Any]:
    """Run the suite, write ``results.json`` and ``results.md`` into ``out_dir``, return both."""
    started = time.perf_counter()
    threads, source = _setup(threads, quick)
    status = available_systems()
    systems = [s for s in SYSTEMS if not status[s]]
    configs = _select(quick_configs() if quick else default_configs(), only)
    # the MLP quick run is the harness's smoke test; tests/test_recurrent.py smokes this part
    sequence_configs = [] if quick else recurrent.recurrent_configs()
    sequence_configs = [c for c in sequence_configs if _chosen(c.name, only)]
    conv_configs = [c for c in ([] if quick else cnn.cnn_configs()) if _chosen(c.name, only)]
    meta = describe_machine(threads, source)
    x, y, meta["data"] = load_data(max((c.samples for c in configs), default=64), data, seed)
    _log(f"{meta['cpu']}, {threads} threads; data: {meta['data']}")
    peak = matmul_peak_gflops(size=512 if quick else 2048)

    entries = []
    for config in configs:
        # The peak is the best seen during the run, measured again before every configuration.
        peak = max(peak, matmul_peak_gflops(size=512 if quick else 2048, repeats=3))
        entry = config.to_dict()
        used, timings = time_config(
            config, x[: config.samples], y[: config.samples], systems, repeats, seed, budget
        )
        entry["samples_used"] = used
        entry["systems"] = {s: timings.get(s, {"skipped": status[s]}) for s in SYSTEMS}
        entries.append(entry)
        rates = {s: f"{np.median(t['samples_per_s']):,.0f}/s" for s, t in timings.items()}
        _log(f"{config.name}: {used} examples, {rates}")
    entries += recurrent.time_recurrent(sequence_configs, systems, repeats, seed)
    conv_entries = cnn.time_cnn(conv_configs, systems, repeats, seed)
    entries += conv_entries

    mnist_memory = None
    if measure_memory:
        # Quick mode checks the children on the first configuration only (each costs imports).
        count = 1 if quick else len(configs)
        _measure_memory(entries[:count], configs[:count], x, y, systems, threads)
        if not quick and configs:
            _log("MNIST memory target ...")
            mnist_memory = memory.mnist_target(threads)
        cnn.measure_memory(conv_entries, systems, threads)
    profiles = _profiles(configs, [c.samples for c in configs], x, y, seed) if profile else []
    sequence_profiles = [recurrent.profile_recurrent(c) for c in sequence_configs if profile]
    conv_profiles = [cnn.profile_cnn(c) for c in conv_configs if profile and c.task == "train"]

    peak = max(peak, matmul_peak_gflops(size=512 if quick else 2048))  # best of start and end
    for entry in entries:
        summarize(entry, peak)
    meta.update(
        repeats=repeats,
        quick=quick,
        matmul_peak_gflops=peak,
        wall_seconds=time.perf_counter() - started,
        load_average_1min_end=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        note=NOTE,
    )
    results = {
        "meta": meta,
        "configs": entries,
        "mnist_memory": mnist_memory,
        "profile": profiles,
        "recurrent_profile": sequence_profiles,
        "cnn_profile": conv_profiles,
        "targets": evaluate_targets(entries, profiles, mnist_memory),
    }
    _write(out_dir, "results", results)
    return results


def _measure_memory(
    entries: list[dict[str, Any]],
    configs: list[Config],
    x: np.ndarray,
    y: np.ndarray,
    systems: list[str],
    threads: int,
) -> None:
    with tempfile.TemporaryDirectory(prefix="nn101-bench-") as tmp:
        for entry, config in zip(entries, configs):
            n = entry["samples_used"]
            x_path, y_path = Path(tmp) / f"x{n}.npy", Path(tmp) / f"y{n}.npy"
            if not x_path.exists():
                np.save(x_path, x[:n])
                np.save(y_path, y[:n])
            for system in systems:
                result = memory.measure(system, config, x_path, y_path, threads)
                entry["systems"][system]["memory"] = result
            _log(
                f"{config.name} memory: "
                + ", ".join(
                    f"{s}: {entry['systems'][s]['memory'].get('peak_mb', 'error')} MB"
                    for s in systems
                )
            )


def _profiles(
    configs: list[Config], samples: list[int], x: np.ndarray, y: np.ndarray, seed: int
) -> list[dict[str, Any]]:
    profiles = []
    for config, n in zip(configs, samples):
        if config.task == "train":
            profiles.append(profile_config(config, x[:n], y[:n], seed))
            shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in profiles[-1]["share"].items())
            _log(f"profile {config.name}: {shares}")
    return profiles


def run_profile(
    *,
    quick: bool = False,
    threads: int | None = None,
    data: str = "auto",
    out_dir: Path,
    seed: int = 0,
    only: str | None = None,
) -> dict[str, Any]:
    """Only the profile of each training configuration; writes ``profile.json`` / ``.md``."""
    threads, source = _setup(threads, quick)
    configs = _select(quick_configs() if quick else default_configs(), only)
    meta = describe_machine(threads, source)
    x, y, meta["data"] = load_data(max(c.samples for c in configs), data, seed)
    results = {
        "meta": meta,
        "profile": _profiles(configs, [c.samples for c in configs], x, y, seed),
    }
    header = (
        f"Profile of one nn101 training step, {meta['date']}, {meta['cpu']}, "
        f"{threads} threads, numpy {meta['versions']['numpy']}.\n\n"
    )
    _write(out_dir, "profile", results, header + profile_markdown(results["profile"]) + "\n")
    return results


def _chosen(name: str, only: str | None) -> bool:
    """Whether ``--only`` (one text, or several separated by commas) selects ``name``."""
    return only is None or any(part in name for part in only.split(","))


def _select(configs: list[Config], only: str | None) -> list[Config]:
    chosen = [c for c in configs if _chosen(c.name, only)]
    others = [*recurrent.recurrent_configs(), *cnn.cnn_configs()]
    if not chosen and not any(_chosen(c.name, only) for c in others):
        names = "; ".join(c.name for c in configs)
        raise SystemExit(f"--only {only!r} matches no configuration; the names are: {names}")
    return chosen


def _write(out_dir: Path, stem: str, results: dict[str, Any], text: str | None = None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    if text is None:
        text = markdown(results)
    (out_dir / f"{stem}.md").write_text(text)
    print(text)
