"""The errors the command line expects, and how one becomes a single line of text."""

from __future__ import annotations

from nn101.errors import NN101Error

__all__ = ["EXPECTED", "UsageError", "one_line"]


class UsageError(ValueError):
    """The command line asks for something impossible (exit status 2, before any work)."""


EXPECTED: tuple[type[BaseException], ...] = (
    NN101Error,
    ValueError,
    OSError,
    FloatingPointError,
    MemoryError,
)
"""Failures reported in one line (exit status 1); anything else is a bug and shows its trace."""


def one_line(error: BaseException) -> str:
    """The error's message on one line (a multi-line message's lines joined by '; ')."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if isinstance(error, MemoryError):
        lines = ["out of memory", *lines]
    return "; ".join(lines) or type(error).__name__
