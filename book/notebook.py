"""Chapters as notebooks that run anywhere: a fresh Colab or Jupyter kernel, or the book build.

A chapter is a jupytext percent-format ``.py`` file. ``to_notebook`` reads it and puts one cell
before its first code cell (after the title), the *install cell*, which installs nn101 (from the
repository set once in ``mkdocs.yml``, ``extra.repo_url``) and the other packages the chapter
imports when nn101 is missing, and does nothing where nn101 is installed. ``write_notebooks``
(``make notebooks``) writes every chapter's notebook, unexecuted, into ``notebooks/``: the files
the chapter pages' "Open in Colab" links open.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
INSTALL_TAG = "nn101-install"
# Importable name -> what pip installs, for the packages a chapter may import besides nn101.
EXTRA_PACKAGES = {"matplotlib": "matplotlib", "torch": "torch"}


def settings() -> dict[str, str]:
    """``extra.repo_url`` and ``extra.repo_branch`` from ``mkdocs.yml``: where the repository
    lives, for the install cell and the Colab links."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    extra = config.get("extra") or {}
    missing = [key for key in ("repo_url", "repo_branch") if not extra.get(key)]
    if missing:
        raise ValueError(f"mkdocs.yml: extra.{' and extra.'.join(missing)} must be set")
    return {
        "repo_url": str(extra["repo_url"]).rstrip("/"),
        "repo_branch": str(extra["repo_branch"]),
    }


def imported_packages(source_text: str) -> list[str]:
    """The packages of ``EXTRA_PACKAGES`` that the chapter's code imports, in table order."""
    code = "\n".join(line for line in source_text.splitlines() if not line.lstrip().startswith("#"))
    return [
        package
        for module, package in EXTRA_PACKAGES.items()
        if re.search(rf"^\s*(?:import|from)\s+{module}\b", code, flags=re.MULTILINE)
    ]


def install_cell_source(packages: list[str], repo: dict[str, str] | None = None) -> str:
    """The first cell of every chapter notebook (IPython: ``%pip`` is a notebook command)."""
    repo = settings() if repo is None else repo
    requirement = f'"nn101 @ git+{repo["repo_url"]}@{repo["repo_branch"]}"'
    return "\n".join(
        [
            "# Run this notebook anywhere: in a fresh Colab or Jupyter kernel this installs nn101",
            "# and what the chapter imports; where nn101 is installed it does nothing.",
            "try:",
            "    import nn101",
            "except ImportError:",
            f"    %pip install --quiet {' '.join([requirement, *packages])}",
        ]
    )


def to_notebook(source: Path, repo: dict[str, str] | None = None) -> Any:
    """The chapter as an nbformat notebook, the install cell before its first code cell."""
    import jupytext
    import nbformat

    notebook = jupytext.read(source)
    packages = imported_packages(source.read_text(encoding="utf-8"))
    cell = nbformat.v4.new_code_cell(install_cell_source(packages, repo))
    cell.metadata["tags"] = [INSTALL_TAG]
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), 0)
    notebook.cells.insert(first_code, cell)  # after the title, before anything runs
    # The notebook should open anywhere, so it names the standard kernel.
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not paired with the .py file
    for index, each in enumerate(notebook.cells):  # stable ids: the same chapter, the same file
        each["id"] = f"{source.stem[:2]}-{index:03d}"
    return notebook


def write_notebooks(chapters: list[Path], directory: Path = NOTEBOOKS, log=print) -> list[Path]:
    """Write each chapter's notebook (not executed) to ``directory``; returns the paths."""
    import nbformat

    directory.mkdir(parents=True, exist_ok=True)
    repo = settings()
    written = []
    for source in chapters:
        path = directory / f"{source.stem}.ipynb"
        nbformat.write(to_notebook(source, repo), path)
        written.append(path)
    log(f"wrote {len(written)} notebooks to {directory}")
    for path in sorted(set(directory.glob("[0-9][0-9]_*.ipynb")) - set(written)):
        log(f"  {path.name} has no chapter any more: delete it (git rm)")
    return written
