"""Build the nn101 book: execute every chapter, then render the site.

    python book/build.py            # what `make book` runs
    python book/build.py --chapters 03 05   # only some chapters (still builds the site)

Steps, each a function the tests call too:

1. ``execute_chapters``: every ``book/chapters/NN_slug.py`` (jupytext percent format) becomes a
   notebook, runs top to bottom in a fresh kernel of *this* Python (nbclient), and is written,
   outputs included, to ``build/book/docs/NN_slug.ipynb``. A cell that raises fails the build.
2. ``build_site``: copies the prose pages (preface, resources, contributing), installs MathJax
   locally (the site must render math with no internet), writes a generated MkDocs config whose
   navigation lists the chapters found, and runs ``mkdocs build`` into ``build/site/``.

Nothing here is committed: ``build/`` is a build output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"
BUILD = ROOT / "build"
DOCS = BUILD / "book" / "docs"
SITE = BUILD / "site"
KERNEL_NAME = "nn101-book"
MATHJAX_VERSION = "2.7.9"
# The parts of MathJax 2 that the "TeX-AMS_CHTML-full,Safe" configuration loads.
MATHJAX_PARTS = (
    "MathJax.js",
    "config",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
)
PAGES = ("preface.md", "resources.md", "contributing.md")
CELL_TIMEOUT_S = 300


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


class BookBuildError(RuntimeError):
    """A chapter raised, or the site could not be built."""


def find_chapters(only: list[str] | None = None) -> list[Path]:
    """The chapter sources ``book/chapters/NN_*.py`` in order, optionally only those whose
    number or name is in ``only``."""
    chapters = sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))
    if only:
        chapters = [c for c in chapters if c.stem[:2] in only or c.stem in only]
    return chapters


def chapter_title(source: Path) -> str:
    """The chapter's first markdown heading (``# # 3. Title`` in a percent-format file),
    without its number (the navigation adds the number from the file name)."""
    for line in source.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#\s+#\s+(?:\d+\.\s+)?(.+?)\s*$", line)
        if match:
            return match.group(1)
    return source.stem


def install_kernel_spec(directory: Path = BUILD / "book" / "kernels") -> Path:
    """Write a kernel spec that runs *this* interpreter (the venv's python), with matplotlib's
    inline backend so that ``plt.show()`` becomes a PNG output even if MPLBACKEND=Agg is set."""
    spec_dir = directory / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "nn101 book (Python 3)",
        "language": "python",
        "env": {
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            # tqdm.auto asks for ipywidgets inside Jupyter; plain-text progress bars are fine.
            "PYTHONWARNINGS": "ignore:IProgress not found:Warning",
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return directory


def execute_notebook(source: Path, output: Path, kernel_dirs: Path) -> ChapterResult:
    """Convert one percent-format chapter to a notebook, execute it, write it to ``output``."""
    import jupytext
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = jupytext.read(source)
    # The written notebook should open anywhere, so it names the standard kernel.
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dirs)])
    # IPC transport: socket files in a private temporary directory instead of TCP ports.
    sockets = Path(tempfile.mkdtemp(prefix="nn101-kernel-"))
    manager = KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc", ip=str(sockets / "k")
    )
    client = NotebookClient(
        notebook,
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
    nbformat.write(notebook, output)
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


def find_mathjax() -> Path:
    """A MathJax 2 directory (one with MathJax.js and its fonts), first found of:
    $NN101_MATHJAX_DIR; Debian's ``libjs-mathjax`` + ``fonts-mathjax`` packages
    (/usr/share/javascript/mathjax); a cached ``build/npm`` install; or ``npm install
    mathjax@2.7.9`` into ``build/npm`` (network access to the npm registry, once)."""
    candidates = (
        [Path(os.environ["NN101_MATHJAX_DIR"])] if "NN101_MATHJAX_DIR" in os.environ else []
    )
    candidates += [Path("/usr/share/javascript/mathjax"), BUILD / "npm/node_modules/mathjax"]
    for candidate in candidates:
        if all((candidate / part).exists() for part in MATHJAX_PARTS):
            return candidate
    npm = shutil.which("npm")
    if npm is None:
        raise BookBuildError(
            "the site needs MathJax 2 to render math offline: apt-get install -y libjs-mathjax "
            "fonts-mathjax, or install npm, or set NN101_MATHJAX_DIR to a MathJax 2 directory"
        )
    prefix = BUILD / "npm"
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit", "--no-fund"]
    subprocess.run([*command, "--loglevel=error", f"mathjax@{MATHJAX_VERSION}"], check=True)
    return prefix / "node_modules/mathjax"


def install_mathjax(dest: Path) -> None:
    """Copy the parts of MathJax 2 that the pages load into ``dest`` (offline math)."""
    if (dest / "MathJax.js").is_file():
        return
    source = find_mathjax()
    for part in MATHJAX_PARTS:
        target = dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():  # copies what symlinks point to (Debian links its fonts)
            shutil.copytree(source / part, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, target)


def write_config(chapters: list[ChapterResult | Path], docs_dir: Path, site_dir: Path) -> Path:
    """A generated MkDocs config that inherits ``mkdocs.yml`` and lists the pages found."""
    nav: list[dict[str, str]] = [{"Preface": "index.md"}]
    for chapter in chapters:
        stem = chapter.name if isinstance(chapter, ChapterResult) else chapter.stem
        title = (
            chapter.title
            if isinstance(chapter, ChapterResult)
            else chapter_title(CHAPTERS / f"{stem}.py")
        )
        nav.append({f"{int(stem[:2])}. {title}": f"{stem}.ipynb"})
    nav += [{"Further resources": "resources.md"}, {"Contributing": "contributing.md"}]
    config = {
        "INHERIT": os.path.relpath(ROOT / "mkdocs.yml", docs_dir.parent),
        "docs_dir": os.path.relpath(docs_dir, docs_dir.parent),
        "site_dir": os.path.relpath(site_dir, docs_dir.parent),
        "nav": nav,
    }
    path = docs_dir.parent / "mkdocs.yml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is valid YAML
    return path


def build_site(
    chapters: list[ChapterResult | Path] | None = None,
    *,
    docs_dir: Path = DOCS,
    site_dir: Path = SITE,
    log=print,
) -> Path:
    """Render the executed notebooks in ``docs_dir`` and the prose pages into ``site_dir``.

    ``chapters`` defaults to every executed notebook already in ``docs_dir``. Returns the
    site's ``index.html``."""
    if chapters is None:  # every executed notebook whose chapter still exists
        found = sorted(docs_dir.glob("[0-9][0-9]_*.ipynb"))
        chapters = [
            CHAPTERS / f"{p.stem}.py" for p in found if (CHAPTERS / f"{p.stem}.py").exists()
        ]
    docs_dir.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        target = "index.md" if page == "preface.md" else page
        shutil.copy2(BOOK / page, docs_dir / target)
    (docs_dir / "assets").mkdir(exist_ok=True)
    shutil.copy2(BOOK / "extra.css", docs_dir / "assets" / "extra.css")
    install_mathjax(docs_dir / "assets" / "mathjax")
    config = write_config(chapters, docs_dir, site_dir)
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--clean", "--strict", "-f", str(config)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise BookBuildError(f"mkdocs build failed:\n{completed.stdout}\n{completed.stderr}")
    log(f"  {time.perf_counter() - start:6.1f} s  mkdocs build -> {site_dir}")
    return site_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="*", help="chapter numbers or names to execute")
    args = parser.parse_args(argv)
    chapters = find_chapters(args.chapters)
    print(f"executing {len(chapters)} chapters with {sys.executable}")
    try:
        results = execute_chapters(chapters)
        if not all(r.ok for r in results):  # unreachable: execute_chapters raised
            return 1
        index = build_site()
    except BookBuildError as exc:
        print(f"\nbook build FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"site: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
