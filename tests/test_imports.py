"""The dependency direction of DESIGN.md, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import nn101

SRC = Path(nn101.__file__).parent

# module (or package prefix) -> the nn101 modules it may import. Anything else is a violation.
ALLOWED: dict[str, set[str]] = {
    "registry": set(),
    "errors": set(),
    "core": set(),
    "functional": {"core", "functional"},
    "init": {"core", "registry"},
    "layers": {"core", "functional", "init", "layers", "registry"},
    "losses": {"core", "functional", "registry"},
    "gradcheck": {"core", "functional"},
    "optimizers": {"core", "optimizers", "registry"},
    "regularizers": {"core"},
    "schedules": {"schedules"},
    "metrics": set(),
    "data": {"core", "data", "errors", "registry"},
    "training": {
        "core",
        "data",
        "errors",
        "serialization",
        "losses",
        "metrics",
        "optimizers",
        "regularizers",
        "training",
    },
    "serialization": {"core", "errors", "registry"},
    "model": {"core", "training", "serialization", "losses", "optimizers", "registry"},
    "recipes": {
        "core",
        "data",
        "layers",
        "losses",
        "model",
        "optimizers",
        "registry",
        "schedules",
        "training",
        "init",
        "functional",
        "recipes",
    },
}
ANYTHING = {"__init__", "__main__", "cli"}


def nn101_imports(path: Path) -> set[str]:
    """First component after 'nn101.' of every import in the file (function bodies included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "nn101":
                names = [f"nn101.{alias.name}" for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("nn101.")}
    return found


def owner(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def test_every_module_is_classified():
    unknown = {owner(p) for p in SRC.rglob("*.py")} - set(ALLOWED) - ANYTHING
    assert not unknown, f"add these modules to ALLOWED in tests/test_imports.py: {unknown}"


def test_imports_follow_the_dependency_direction():
    violations = []
    for path in sorted(SRC.rglob("*.py")):
        module = owner(path)
        if module in ANYTHING:
            continue
        for imported in nn101_imports(path) - ALLOWED[module] - {module}:
            violations.append(f"{path.relative_to(SRC)} imports nn101.{imported}")
    assert not violations, "\n".join(violations)


def test_the_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from nn101.model import Sequential\n")
    assert nn101_imports(bad) == {"model"}
