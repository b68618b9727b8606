"""``python -m benchmarks``: the side-by-side suite (see ``benchmarks/README.md``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import RESULTS_DIR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="nn101 against PyTorch (CPU) and scikit-learn: speed, memory, profile.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny configs: checks the harness")
    parser.add_argument(
        "--profile", action="store_true", help="only the breakdown of one nn101 training step"
    )
    parser.add_argument("--repeats", type=int, help="timed runs per system (default 7, quick 1)")
    parser.add_argument("--threads", type=int, help="BLAS / torch threads (default: NumPy's)")
    parser.add_argument(
        "--data", choices=("auto", "mnist", "synthetic"), default="auto", help="default: auto"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where results go")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile section")
    parser.add_argument(
        "--only",
        metavar="TEXT",
        help="only configurations whose name contains TEXT (or one of TEXT,TEXT,...)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.suite import run, run_profile

    if args.profile:
        run_profile(
            quick=args.quick, threads=args.threads, data=args.data, out_dir=args.out, only=args.only
        )
        return 0
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 7)
    if repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {repeats}")
    run(
        quick=args.quick,
        repeats=repeats,
        threads=args.threads,
        data=args.data,
        out_dir=args.out,
        measure_memory=not args.no_memory,
        profile=not args.no_profile,
        only=args.only,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
