"""The machine under test: CPU, library versions, BLAS threads, float32 matmul peak, the data."""

from __future__ import annotations

import datetime
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "blas_threads",
    "describe_machine",
    "load_data",
    "matmul_peak_gflops",
    "set_threads",
]

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_limits: Any = None  # keeps threadpoolctl's limit alive for the whole run


def blas_threads() -> tuple[int, str]:
    """NumPy's BLAS thread count and how it was found (threadpoolctl, an env var, CPU count)."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
                return int(pool["num_threads"]), f"threadpoolctl ({pool.get('internal_api')})"
    except ImportError:
        pass
    for variable in THREAD_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 0:
            return int(value), f"${variable}"
    return os.cpu_count() or 1, "os.cpu_count()"


def set_threads(threads: int, *, torch: bool = True) -> None:
    """Give NumPy's BLAS (hence nn101 and scikit-learn) and, with ``torch``, PyTorch the same
    thread count. (``torch=False`` keeps PyTorch out of a process that does not use it.)"""
    global _limits
    try:
        from threadpoolctl import threadpool_limits

        _limits = threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        if threads != blas_threads()[0]:
            raise RuntimeError(
                f"cannot set BLAS threads to {threads} without threadpoolctl; "
                f"set OPENBLAS_NUM_THREADS={threads} before starting Python"
            ) from None
    if torch:
        try:
            import torch as torch_module

            torch_module.set_num_threads(threads)
        except ImportError:
            pass


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("numpy", "nn101", "torch", "sklearn", "threadpoolctl", "psutil"):
        try:
            module = __import__(name)
            versions[name] = str(getattr(module, "__version__", "?"))
        except ImportError:
            versions[name] = "not installed"
    return versions


def describe_machine(threads: int, source: str) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "threads_from": source,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "versions": library_versions(),
    }


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """The best float32 GFLOP/s of ``np.matmul`` on (size, size) matrices: 2 size³ per product.

    This is the machine's own attainable peak for the BLAS NumPy uses (best of ``repeats``).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm up the thread pool
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def load_data(
    samples: int, source: str = "auto", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """``samples`` examples (x (N, 784) float32 in [0, 1], y (N,) int64) and where they came from.

    ``source``: "mnist" (from $NN101_DATA_DIR through ``nn101.data.load_mnist``, no download),
    "synthetic" (uniform random images, random labels: same shapes, same cost), or "auto"
    (MNIST when it is there, else synthetic).
    """
    if source in ("auto", "mnist"):
        data_dir = os.environ.get("NN101_DATA_DIR")
        try:
            from nn101.data import load_mnist

            train, _ = load_mnist(data_dir=data_dir, download=False)
            n = min(samples, len(train))
            x, y = train[:n]
            assert y is not None
            return (
                np.ascontiguousarray(x, dtype=np.float32),
                np.asarray(y, dtype=np.int64),
                f"MNIST training images, first {n} (from $NN101_DATA_DIR)",
            )
        except (ImportError, OSError, ValueError) as error:
            if source == "mnist":
                raise
            reason = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    else:
        reason = "asked for"
    rng = np.random.default_rng(seed)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    return x, y, f"synthetic uniform images and random labels ({reason})"
