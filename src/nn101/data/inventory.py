"""``describe(directory)``: what dataset files a directory holds, and whether they check out.

Backs ``nn101 data info DIR``. Looks at DIR itself and at its ``mnist/`` and
``fashion-mnist/`` subdirectories; for each expected file: present or not, size, SHA-256
against the known value, and the shape its IDX header declares.
"""

from __future__ import annotations

import os
from pathlib import Path

from nn101.data.fetch import CHECKSUMS, sha256_of
from nn101.data.idx import IdxFormatError, read_idx_header

__all__ = ["describe"]


UNKNOWN = "unrecognized: named like MNIST files, but matching neither dataset's checksums"


def _which_dataset(directory: Path) -> str | None:
    """The dataset a directory holds: by its name, else by the checksum of any file in it;
    ``UNKNOWN`` if it has files with the expected names that match no known checksum."""
    if directory.name in CHECKSUMS:
        return directory.name
    present = [f for f in CHECKSUMS["mnist"] if (directory / f).is_file()]
    for filename in present:
        actual = sha256_of(directory / filename)
        for name, checksums in CHECKSUMS.items():
            if checksums[filename] == actual:
                return name
    return UNKNOWN if present else None


def _file_line(path: Path, expected: str | None) -> tuple[str, bool]:
    if not path.is_file():
        return f"  {path.name:<28} missing", False
    actual = sha256_of(path)
    ok = actual == expected
    if expected is None:
        checksum = f"sha256 {actual}"
    else:
        checksum = "sha256 ok" if ok else f"sha256 MISMATCH (expected {expected}, got {actual})"
    try:
        dtype, shape = read_idx_header(path)
        content = f"{' x '.join(str(d) for d in shape)} {dtype.name}"
    except (IdxFormatError, OSError) as error:
        content, ok = f"unreadable IDX header ({error})", False
    size = f"{path.stat().st_size:,} bytes"
    return f"  {path.name:<28} {size:>18}  {content:<22} {checksum}", ok


def describe(directory: str | os.PathLike[str]) -> str:
    """A human-readable report of the MNIST / Fashion-MNIST files in ``directory``.

    The last line says whether every dataset found is complete and verified.
    """
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"describe: expected a directory, got {str(root)!r}")
    lines = []
    all_ok, found = True, False
    for place in [root, *(root / name for name in CHECKSUMS)]:
        name = _which_dataset(place) if place.is_dir() else None
        if name is None:
            continue
        found = True
        lines.append(f"{place}: {name}")
        for filename in CHECKSUMS["mnist"]:
            expected = CHECKSUMS[name][filename] if name in CHECKSUMS else None
            line, ok = _file_line(place / filename, expected)
            lines.append(line)
            all_ok = all_ok and ok
    if not found:
        names = ", ".join(CHECKSUMS["mnist"])
        return (
            f"{root}: no MNIST or Fashion-MNIST files found (expected {names} in {root}, "
            f"{root / 'mnist'} or {root / 'fashion-mnist'})"
        )
    lines.append("all files present and verified" if all_ok else "some files are missing or bad")
    return "\n".join(lines)
