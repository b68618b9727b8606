"""The library code the book prints reads as the math: no private names in it (issue 9).

Every chapter shows library functions and methods with ``show(nn101....)`` or
``inspect.getsource(nn101....)``; a reader cannot follow ``self._x`` or a call to a private
helper they never see, so the printed source may use no name that starts with one underscore.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import nn101

CHAPTERS = Path(__file__).resolve().parents[1] / "book" / "chapters"
PRINTED = re.compile(r"(?:show|inspect\.getsource)\(((?:nn101|recurrent|pooling|F)(?:\.\w+)+)\)")
# the module aliases the chapters import: `from nn101.functional import conv as F` ...
ALIASES = {
    "recurrent": "nn101.functional.recurrent",
    "pooling": "nn101.functional.pooling",
    "F": "nn101.functional.conv",
}
PRIVATE = re.compile(r"(?<![\w.])_[A-Za-z]\w*|\._[A-Za-z]\w*")


def printed_objects() -> list[str]:
    names = set()
    for chapter in sorted(CHAPTERS.glob("[0-9][0-9]_*.py")):
        for dotted in PRINTED.findall(chapter.read_text()):
            head, _, rest = dotted.partition(".")
            names.add(f"{ALIASES[head]}.{rest}" if head in ALIASES else dotted)
    return sorted(names)


def resolve(dotted: str) -> object:
    parts = dotted.split(".")
    obj: object = nn101
    for i, part in enumerate(parts[1:], start=1):
        if not hasattr(obj, part):
            obj = importlib.import_module(".".join(parts[: i + 1]))
        else:
            obj = getattr(obj, part)
    return obj


def test_the_book_prints_library_code():
    assert len(printed_objects()) >= 20


@pytest.mark.parametrize("dotted", printed_objects())
def test_printed_library_code_has_no_private_names(dotted):
    source = inspect.getsource(resolve(dotted))  # type: ignore[arg-type]
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    found = sorted(set(PRIVATE.findall(code)))
    assert not found, f"{dotted} prints private names {found}"
