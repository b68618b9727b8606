"""Side-by-side benchmarks: nn101 against PyTorch (CPU) and scikit-learn, speed and memory.

Run ``python -m benchmarks`` from the repository root (``--quick`` for a smoke run,
``--profile`` for the breakdown of one training step). Results go to ``benchmarks/results/``
as JSON and as a Markdown table. See ``benchmarks/README.md`` for what is measured and how.
"""

__all__ = ["RESULTS_DIR"]

from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
