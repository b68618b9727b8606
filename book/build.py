"""Build the nn101 book: execute every chapter, then render the site.

    python book/build.py                    # what `make book` runs
    python book/build.py --chapters 03 05   # only some chapters (still builds the site)
    python book/build.py --notebooks        # what `make notebooks` runs: notebooks/*.ipynb

Steps, each a function the tests call too:

1. ``check_data``: a chapter that loads MNIST (or another downloadable dataset) needs its
   files on disk (``$NN101_DATA_DIR`` or the nn101 cache); if they are missing the build stops
   before running anything, with one line saying what to set.
2. ``execute_chapters``: every ``book/chapters/NN_slug.py`` (jupytext percent format) becomes a
   notebook (``notebook.to_notebook``: an install cell, then the chapter), runs top to bottom in
   a fresh kernel of *this* Python (nbclient), and is written, outputs included, to
   ``build/book/docs/NN_slug.ipynb``. A cell that raises fails the build. Figures are rendered
   at twice their size (the kernel's ``retina`` inline format), crisp on high-resolution screens.
3. ``build_site`` (``website.py``): the parts and their overviews, the prose pages, MathJax
   installed locally (math renders with no internet), the generated navigation, ``mkdocs
   build --strict`` into ``build/site/``.

Nothing here is committed: ``build/`` is a build output.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook  # noqa: E402 (book/notebook.py, next to this file)
import website  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"
BUILD = ROOT / "build"
DOCS = BUILD / "book" / "docs"
SITE = BUILD / "site"
KERNEL_NAME = "nn101-book"
CELL_TIMEOUT_S = 300
# Datasets the chapters may load: nn101's name -> (the call that loads it, how to get it).
DATASETS = {
    "mnist": ("load_mnist(", "run `nn101 data download mnist`"),
    "fashion-mnist": ("load_fashion_mnist(", "run `nn101 data download fashion-mnist`"),
    "tinyshakespeare": ("load_shakespeare(", "run `nn101.data.load_shakespeare()` once online"),
}
chapter_title = website.chapter_title
BookBuildError = website.SiteError


@dataclass
class ChapterResult:
    """What happened to one chapter: where its notebook went, how long it ran, any error."""

    name: str
    title: str
    notebook: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_chapters(only: list[str] | None = None) -> list[Path]:
    """The chapter sources ``book/chapters/NN_*.py`` in order, optionally only those whose
    number or name is in ``only``."""
    chapters = sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))
    if only:
        chapters = [c for c in chapters if c.stem[:2] in only or c.stem in only]
    return chapters


def code_lines(source: Path) -> str:
    """The chapter's code: every line that is not a comment (markdown cells are comments)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def on_disk(name: str) -> bool:
    """Whether dataset ``name`` is in ``$NN101_DATA_DIR`` or nn101's cache (never downloads)."""
    from nn101.data import fetch

    try:
        if name == "tinyshakespeare":
            from nn101.data.text import find_shakespeare

            find_shakespeare(download=False)
        else:
            fetch.find_dataset(name, download=False)
    except (fetch.DatasetNotFoundError, FileNotFoundError):
        return False
    return True


def check_data(chapters: list[Path]) -> None:
    """Stop with one clear line when a chapter loads a dataset whose files are not on disk."""
    for source in chapters:
        code = code_lines(source)
        for name, (call, fetch_it) in DATASETS.items():
            if call in code and not on_disk(name):
                raise BookBuildError(
                    f"chapter {source.stem} needs {name}, which is not on disk: set "
                    f"NN101_DATA_DIR to the folder of the datasets (the one holding {name}/ "
                    f"or its files), or {fetch_it}"
                )


def install_kernel_spec(directory: Path = BUILD / "book" / "kernels") -> Path:
    """Write a kernel spec that runs *this* interpreter (the venv's python), with matplotlib's
    inline backend (so that ``plt.show()`` becomes an image output even if MPLBACKEND=Agg is
    set) drawing PNGs at twice their size."""
    spec_dir = directory / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {
        "argv": [*argv, "--InlineBackend.figure_formats=retina"],
        "display_name": "nn101 book (Python 3)",
        "language": "python",
        "env": {
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            # tqdm.auto asks for ipywidgets inside Jupyter; plain-text progress bars are fine.
            "PYTHONWARNINGS": "ignore:IProgress not found:Warning",
            # The chapters' matrices are small: one BLAS / torch thread is faster for them and
            # keeps the build's time steady on a machine that is busy with other work.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return directory


def execute_notebook(source: Path, output: Path, kernel_dirs: Path) -> ChapterResult:
    """Convert one percent-format chapter to a notebook, execute it, write it to ``output``."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = notebook.to_notebook(source)
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dirs)])
    # IPC transport: socket files in a private temporary directory instead of TCP ports.
    sockets = Path(tempfile.mkdtemp(prefix="nn101-kernel-"))
    manager = KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc", ip=str(sockets / "k")
    )
    client = NotebookClient(
        nb,
        km=manager,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.owns_km = True  # so that nbclient shuts the kernel down and closes its sockets
    error = None
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # drop the traceback's colours
    except Exception as exc:  # a dead kernel or a timeout is a failed chapter too
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    shutil.rmtree(sockets, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return ChapterResult(source.stem, chapter_title(source), output, seconds, error)


def execute_chapters(
    chapters: list[Path] | None = None,
    *,
    docs_dir: Path = DOCS,
    raise_on_error: bool = True,
    log=print,
) -> list[ChapterResult]:
    """Execute every chapter (or the given ones) and write the executed notebooks to
    ``docs_dir``. Prints each chapter's time; raises BookBuildError naming every chapter that
    failed (after running them all) unless ``raise_on_error`` is False."""
    chapters = find_chapters() if chapters is None else chapters
    kernel_dirs = install_kernel_spec()
    docs_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for source in chapters:
        result = execute_notebook(source, docs_dir / f"{source.stem}.ipynb", kernel_dirs)
        status = "ok" if result.ok else "FAILED"
        log(f"  {result.seconds:6.1f} s  {source.stem}  {status}")
        results.append(result)
    total = sum(r.seconds for r in results)
    log(f"  {total:6.1f} s  total for {len(results)} chapters")
    timings = {r.name: {"seconds": round(r.seconds, 2), "ok": r.ok} for r in results}
    (docs_dir.parent / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    failed = [r for r in results if not r.ok]
    if failed and raise_on_error:
        details = "\n\n".join(f"=== {r.name} ===\n{r.error}" for r in failed)
        raise BookBuildError(
            f"{len(failed)} chapter(s) failed: {', '.join(r.name for r in failed)}\n\n{details}"
        )
    return results


def build_site(
    chapters: list[ChapterResult | Path] | None = None,
    *,
    docs_dir: Path = DOCS,
    site_dir: Path = SITE,
    log=print,
) -> Path:
    """Render the executed notebooks in ``docs_dir`` and the prose pages into ``site_dir``.

    ``chapters`` defaults to every executed notebook already in ``docs_dir`` whose chapter
    still exists. Returns the site's ``index.html``."""
    if chapters is None:
        found = [CHAPTERS / f"{p.stem}.py" for p in docs_dir.glob("[0-9][0-9]_*.ipynb")]
        chapters = [source for source in found if source.exists()]
    pairs = [
        (c.name, c.title) if isinstance(c, ChapterResult) else (c.stem, chapter_title(c))
        for c in chapters
    ]
    return website.build_site(pairs, docs_dir, site_dir, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="*", help="chapter numbers or names to execute")
    parser.add_argument(
        "--notebooks", action="store_true", help="only write notebooks/*.ipynb (no execution)"
    )
    args = parser.parse_args(argv)
    chapters = find_chapters(args.chapters)
    if args.notebooks:
        notebook.write_notebooks(chapters)
        return 0
    try:
        check_data(chapters)
        print(f"executing {len(chapters)} chapters with {sys.executable}")
        execute_chapters(chapters)
        index = build_site()
    except BookBuildError as exc:
        print(f"\nbook build FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"site: {index}  (open it in a browser, or `make book-serve` for search)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
