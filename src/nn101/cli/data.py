"""``nn101 data download NAME`` and ``nn101 data info DIR``."""

from __future__ import annotations

import argparse

from nn101 import data
from nn101.cli.errors import UsageError

__all__ = ["DOWNLOADABLE", "run_download", "run_info"]

DOWNLOADABLE = ("mnist", "fashion-mnist")

VERIFIED = "all files present and verified"
"""The last line of ``data.describe`` when every file found checks out."""


def run_download(args: argparse.Namespace) -> int:
    directory = data.download(args.name, args.dir)
    print(f"{args.name}: all files verified in {directory}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print the report; exit status 1 unless every dataset file found checks out."""
    try:
        report = data.describe(args.directory)
    except NotADirectoryError:
        raise UsageError(f"{args.directory}: not a directory") from None
    print(report)
    return 0 if report.rstrip().endswith(VERIFIED) else 1
