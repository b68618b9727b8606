"""Shared test helpers.

Under ``NN101_REQUIRE_ALL=1`` (set by .ci/run) a test that would be skipped for a missing
optional dependency or missing data fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("NN101_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the current test, or fail it when NN101_REQUIRE_ALL=1."""
    if REQUIRE_ALL:
        pytest.fail(f"NN101_REQUIRE_ALL=1 forbids skipping: {reason}")
    pytest.skip(reason)


@pytest.fixture
def torch():
    """The torch module (float64 default untouched), or skip/fail when it is not installed."""
    try:
        import torch as torch_module
    except ImportError:
        skip_or_fail("torch is not installed (pip install -e '.[test]')")
    return torch_module


@pytest.fixture
def data_dir() -> Path:
    """The directory of real datasets from $NN101_DATA_DIR, or skip/fail when unset."""
    value = os.environ.get("NN101_DATA_DIR")
    if not value or not Path(value).is_dir():
        skip_or_fail(
            "set NN101_DATA_DIR to a directory holding mnist/, fashion-mnist/ and text/ "
            "(the real datasets) to run this test"
        )
    return Path(value)
