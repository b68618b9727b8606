"""What the fuzz tests share: each fuzz loop runs in a child interpreter under an address-space
limit (``RLIMIT_AS``), where an oversized allocation is a MemoryError (which fails the loop)
instead of a machine swapping; the child prints a JSON report as its last line of output.

``run_child`` is the test's side; ``child_main`` the child's entry point.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ADDRESS_SPACE = 1 << 30  # 1 GiB for the whole interpreter: numpy alone maps ~130 MB


def run_child(
    script: str, directory: Path, examples: int, seed: int, timeout: float
) -> tuple[dict[str, Any], float]:
    """Run ``script DIRECTORY EXAMPLES SEED`` in a fresh interpreter (one BLAS thread, a fixed
    hash seed); return its report and the seconds it took. A failed loop fails the test."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    args = [sys.executable, script, str(directory), str(examples), str(seed)]
    start = time.monotonic()
    child = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    elapsed = time.monotonic() - start
    assert child.returncode == 0, f"fuzz loop failed:\n{child.stdout[-4000:]}{child.stderr[-8000:]}"
    return json.loads(child.stdout.strip().splitlines()[-1]), elapsed


def child_main(fuzz: Callable[[Path, int, int], dict[str, Any]], default_seed: int) -> None:
    """Limit the address space, run ``fuzz(DIRECTORY, EXAMPLES, SEED)`` from the command line,
    and print its report (with the peak memory and the limit) as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    directory, examples = Path(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else default_seed
    report = fuzz(directory, examples, seed)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["address_space_limit_mb"] = ADDRESS_SPACE >> 20
    print(json.dumps(report))
