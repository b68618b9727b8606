"""Peak memory (RSS), each measurement in its own fresh Python process.

A child process imports one system, loads the data, builds the network, then resets the
kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0) and trains one
epoch; the peak it reports (``VmHWM``) is that epoch's alone, and ``delta`` is what training
added on top of the loaded process. Without ``clear_refs`` the peak is ``ru_maxrss`` since the
process started (reported as such).

The MNIST target runs the whole user path in one child: ``import nn101`` (baseline), load the
full MNIST (uint8 images in a Dataset, scaled per batch), train 784-800-10 with Adam for one
epoch with the test set as validation data. Target: peak <= baseline + dataset + 150 MB.

Child usage (the parent does this): ``python -m benchmarks.memory '<json spec>'``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["measure", "mnist_target"]

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
MNIST_BUDGET_MB = 150.0
IMPORTS = {"nn101": "nn101", "torch": "torch", "sklearn": "sklearn.neural_network"}


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS; False where the kernel cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if kb is None:
        import psutil

        return psutil.Process().memory_info().rss / MB
    return kb / 1024


def peak_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


# -- child side ------------------------------------------------------------------------------


def _child_train(spec: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from benchmarks.configs import Config
    from benchmarks.machine import set_threads
    from benchmarks.systems import SYSTEMS

    set_threads(spec["threads"], torch=spec["system"] == "torch")
    config = Config(tuple(spec["sizes"]), spec["batch_size"], spec["task"], spec["optimizer"], 0)
    x = np.load(spec["x"], allow_pickle=False)
    y = np.load(spec["y"], allow_pickle=False)
    timer = SYSTEMS[spec["system"]][config.task]
    __import__(IMPORTS[spec["system"]])  # imported before the baseline is read
    before = rss_mb()
    exact = reset_peak()
    seconds = timer(config, x, y, 0)
    peak = peak_mb()
    return {
        "rss_before_mb": round(before, 1),
        "peak_mb": round(peak, 1),
        "delta_mb": round(peak - before, 1),
        "seconds": round(seconds, 3),
        "method": "VmHWM after clear_refs" if exact else "ru_maxrss since start",
    }


def _child_mnist(spec: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    import nn101
    from benchmarks.machine import set_threads

    set_threads(spec["threads"], torch=False)
    baseline = rss_mb()
    exact = reset_peak()
    train, test = nn101.data.load_mnist(data_dir=spec["data_dir"], download=False)
    dataset_mb = sum(a.nbytes for d in (train, test) for a in (d.x, d.y) if a is not None) / MB
    after_load_peak = peak_mb()
    rng = np.random.default_rng(0)
    model = nn101.Sequential(
        nn101.Dense(784, spec["hidden"], rng=rng),
        nn101.ReLU(),
        nn101.Dense(spec["hidden"], 10, rng=rng),
    )
    model.fit(
        train,
        epochs=1,
        batch_size=spec["batch_size"],
        optimizer=nn101.Adam(model.parameters()),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=test,
        verbose=0,
        rng=rng,
    )
    peak = peak_mb()
    overhead = peak - baseline - dataset_mb
    return {
        "setup": f"784-{spec['hidden']}-10, Adam, batch {spec['batch_size']}, 1 epoch "
        "of 60,000 + validation on 10,000, uint8 Dataset scaled per batch",
        "baseline_mb": round(baseline, 1),
        "dataset_mb": round(dataset_mb, 1),
        "peak_after_load_mb": round(after_load_peak, 1),
        "peak_mb": round(peak, 1),
        "overhead_mb": round(overhead, 1),
        "budget_mb": MNIST_BUDGET_MB,
        "holds": bool(overhead <= MNIST_BUDGET_MB),
        "method": "VmHWM after clear_refs" if exact else "ru_maxrss since start",
    }


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    result = _child_mnist(spec) if spec.get("mnist") else _child_train(spec)
    print(json.dumps(result))
    return 0


# -- parent side -----------------------------------------------------------------------------


def _run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.memory", json.dumps(spec)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(
    system: str, config: Any, x_path: Path, y_path: Path, threads: int, timeout: float = 300
) -> dict[str, Any]:
    """Peak RSS of one epoch (or one predict pass) of ``config`` on ``system``, in a child."""
    spec = {
        "system": system,
        "sizes": list(config.sizes),
        "batch_size": config.batch_size,
        "task": config.task,
        "optimizer": config.optimizer,
        "x": str(x_path),
        "y": str(y_path),
        "threads": threads,
    }
    return _run_child(spec, timeout)


def mnist_target(threads: int, hidden: int = 800, batch_size: int = 128) -> dict[str, Any]:
    """The MNIST memory target, measured in a child; an "error" key when MNIST is missing."""
    spec = {
        "mnist": True,
        "data_dir": os.environ.get("NN101_DATA_DIR"),
        "hidden": hidden,
        "batch_size": batch_size,
        "threads": threads,
    }
    return _run_child(spec, timeout=600)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
