"""Layer cases: see layer_cases/__init__.py for the fields."""

from __future__ import annotations

from layer_cases import Case

CASES: list[Case] = []
