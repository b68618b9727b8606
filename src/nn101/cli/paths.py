"""Where the command line may write: checked before any work, so nothing is lost.

nn101 replaces only what it wrote itself: an nn101 model (with ``--overwrite``, or the default
output name) or a file it wrote before (with ``--overwrite``). A directory, ``.``, ``/``, a file
of any other kind, or a path in a missing directory is a usage error.
"""

from __future__ import annotations

import os
from pathlib import Path

from nn101 import serialization
from nn101.cli.errors import UsageError

__all__ = ["check_model_out", "check_output_file", "check_parent"]


def check_model_out(option: str, path: str, *, overwrite: bool) -> Path:
    """The model path ``path`` (``--out``) if a model may be written there."""
    out = Path(path)
    if out.name in ("", ".", "..") or out.is_dir():
        raise UsageError(
            f"{option} {path}: is a directory; nn101 never replaces a directory: give a model "
            f"file name such as {out / 'model.nn101'}"
        )
    if out.exists() or out.is_symlink():
        if not serialization.is_model(out):
            raise UsageError(
                f"{option} {path}: exists and is not an nn101 model; nn101 never replaces "
                f"files it did not write: choose another name"
            )
        if not overwrite:
            raise UsageError(
                f"{option} {path}: already holds an nn101 model; add --overwrite to replace it"
            )
    check_parent(option, out)
    return out


def check_output_file(option: str, path: str, *, overwrite: bool) -> Path:
    """A data file to write (``--output preds.npy``): new, or an old one with --overwrite."""
    out = Path(path)
    if out.name in ("", ".", "..") or out.is_dir():
        raise UsageError(f"{option} {path}: is a directory; expected a file name")
    if out.exists() and not overwrite:
        raise UsageError(f"{option} {path}: exists; add --overwrite to replace it")
    check_parent(option, out)
    return out


def check_parent(option: str, out: Path) -> None:
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {out}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {out}: the directory {parent} is not writable")
