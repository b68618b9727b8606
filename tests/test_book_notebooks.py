"""Chapters as notebooks that run anywhere: the install cell, the committed ``notebooks/`` that
the Colab links open (``make notebooks``), and one notebook executed in a fresh virtual
environment that has nn101 only as an installed package (no source checkout on the path)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import notebook  # noqa: E402 (book/notebook.py)

CHAPTERS = sorted((ROOT / "book" / "chapters").glob("[0-9][0-9]_*.py"))
# The chapter run in a fresh environment: short, draws figures, needs no dataset.
FRESH_CHAPTER = "02_linear_functions"
REPO = {"repo_url": "https://github.com/someone/nn101", "repo_branch": "main"}


def _run_install_cell(source: str) -> list[tuple[str, str]]:
    """Run the install cell as IPython would; returns the magics it called."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls: list[tuple[str, str]] = []

    class Shell:
        def run_line_magic(self, name: str, line: str) -> None:
            calls.append((name, line))

    exec(TransformerManager().transform_cell(source), {"get_ipython": Shell})
    return calls


def test_install_cell_installs_only_where_nn101_is_missing(monkeypatch):
    if importlib.util.find_spec("IPython") is None:
        skip_or_fail("IPython is not installed (pip install -e '.[book]')")
    source = notebook.install_cell_source(["matplotlib", "torch"], REPO)
    assert _run_install_cell(source) == []  # nn101 is importable here
    monkeypatch.setitem(sys.modules, "nn101", None)  # now `import nn101` raises ImportError
    requirement = '"nn101 @ git+https://github.com/someone/nn101@main"'
    assert _run_install_cell(source) == [("pip", f"install --quiet {requirement} matplotlib torch")]


def test_chapter_imports_decide_what_is_installed():
    code = "# %%\nimport numpy as np\nimport matplotlib.pyplot as plt\n# import torch\n"
    assert notebook.imported_packages(code) == ["matplotlib"]
    assert notebook.imported_packages("from torch import nn\nimport torch\n") == ["torch"]


def test_repository_is_set_once_in_mkdocs_yml():
    settings = notebook.settings()
    assert settings["repo_url"].startswith("https://github.com/"), settings
    assert settings["repo_branch"], settings


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_notebook_installs_nn101_before_its_first_code_cell(chapter):
    nb = notebook.to_notebook(chapter, REPO)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    first = code[0]  # runs before any of the chapter's code
    assert first.metadata["tags"] == [notebook.INSTALL_TAG]
    assert "import nn101" in first.source and "%pip install" in first.source
    assert nb.cells[0].source.startswith("# "), f"{chapter.name}: the title comes first"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_committed_notebooks_match_the_chapters():
    """notebooks/ is what the Colab links open: it must say what the chapters say."""
    import nbformat

    stale = []
    for chapter in CHAPTERS:
        path = notebook.NOTEBOOKS / f"{chapter.stem}.ipynb"
        expected = json.loads(nbformat.writes(notebook.to_notebook(chapter)))
        if not path.is_file() or json.loads(path.read_text(encoding="utf-8")) != expected:
            stale.append(chapter.stem)
    orphans = {p.stem for p in notebook.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    orphans -= {c.stem for c in CHAPTERS}
    assert not stale and not orphans, (
        f"notebooks/ is out of date (run `make notebooks`): differ or missing {stale}, "
        f"without a chapter {sorted(orphans)}"
    )


RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import nn101\\nprint(nn101.__file__)"))
where = {"metadata": {"path": sys.argv[2]}}
NotebookClient(nb, timeout=600, kernel_name="python3", resources=where).execute()
print("NN101:", nb.cells[-1].outputs[0]["text"].strip())
"""


@pytest.mark.slow
def test_notebook_runs_in_a_fresh_environment(tmp_path):
    """`pip install <the project>` plus what a notebook needs, run from a temporary directory:
    the chapter uses the installed nn101, never the source checkout."""
    chapter = next((c for c in CHAPTERS if c.stem == FRESH_CHAPTER), CHAPTERS[0])
    path = notebook.write_notebooks([chapter], tmp_path / "notebooks", log=lambda _: None)[0]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    packages = notebook.imported_packages(chapter.read_text(encoding="utf-8"))
    pins = [f"{p}=={importlib.metadata.version(p)}" for p in packages]  # no other torch build
    install = [python, "-m", "pip", "install", "--quiet", str(ROOT), "ipykernel", "nbclient"]
    installed = subprocess.run([*install, *pins], capture_output=True, text=True, timeout=1200)
    if installed.returncode != 0:
        skip_or_fail(f"pip could not build the fresh environment:\n{installed.stderr[-2000:]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MPL", "JUPYTER"))}
    env |= {"PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"}
    env |= {"JUPYTER_PATH": str(venv / "share" / "jupyter"), "VIRTUAL_ENV": str(venv)}
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(
        [python, "-c", RUNNER, str(path), str(work)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"{path.name} failed in a fresh environment:\n{run.stderr[-4000:]}"
    used = run.stdout.split("NN101:")[-1].strip()
    assert used.startswith(str(venv)), f"the notebook imported nn101 from {used}, not the venv"
