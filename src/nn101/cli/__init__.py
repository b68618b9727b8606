"""The ``nn101`` command: train, evaluate, predict, find a learning rate, manage datasets.

This is the string boundary: names such as ``"relu"`` or ``"adam"`` become objects here,
through ``nn101.registry``, and nowhere else. Every expected error is one line on stderr,
``nn101 COMMAND: error: ...``, with exit status 2 for bad usage (checked before any work) and 1
for a failure while working; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from nn101.cli.errors import EXPECTED, UsageError, one_line
from nn101.cli.parser import build_parser
from nn101.recipes import parse_hidden

__all__ = ["main", "build_parser", "parse_hidden"]

INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) != "bench":  # only bench passes options on
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    if extra:
        args.args = [*args.args, *extra]
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to print a resume command
    return _run(args)


def _run(args: object) -> int:
    words = [getattr(args, "command", None), getattr(args, "data_command", None)]
    command = " ".join(["nn101", *(w for w in words if w)])
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.run(args) or 0)  # type: ignore[attr-defined]
    except UsageError as error:
        if debug:
            raise
        print(f"{command}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        if debug:
            raise
        kept = f"; {one_line(interrupt)}" if interrupt.args else ""
        print(f"{command}: interrupted{kept}", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (nn101 predict ... | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except EXPECTED as error:
        if debug:
            raise
        print(f"{command}: error: {one_line(error)}", file=sys.stderr)
        return 1
