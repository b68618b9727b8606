"""The book's site: the parts, the navigation, the prose pages, offline MathJax, ``mkdocs build``.

``build.py`` executes the chapters; this module turns the executed notebooks and the Markdown
pages into ``build/site/``. Chapters are found by file name (``NN_slug``) and assigned to a part
by their number, so a new chapter needs no configuration as long as its number falls in a part.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = BOOK / "chapters"
OVERRIDES = BOOK / "overrides"
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


class SiteError(RuntimeError):
    """The site could not be built (missing MathJax, a chapter outside every part, mkdocs)."""


@dataclass(frozen=True)
class Part:
    """A group of chapters in the navigation, opened by an overview page (if any)."""

    title: str
    first: int  # chapter numbers first..last belong to this part
    last: int
    overview: str | None = None  # a page in book/parts/


PARTS = (
    Part("Introduction", 1, 1),
    Part("Part 1: Shallow networks", 2, 9, "shallow.md"),
    Part("Part 2: Deep networks", 10, 17, "deep.md"),
    Part("Part 3: Convolutional networks", 18, 21, "convolutional.md"),
    Part("Part 4: Recurrent networks", 22, 25, "recurrent.md"),
)
# Prose pages after the parts: (navigation title, file in book/).
APPENDIX = (
    ("Notation", "notation.md"),
    ("Glossary", "glossary.md"),
    ("Resources", "resources.md"),
    ("Contributing", "contributing.md"),
)
CHAPTER_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)?(\d\d_[a-z0-9_]+)\.ipynb(#[^)]*)?\)")


def chapter_title(source: Path) -> str:
    """The chapter's first markdown heading (``# # 3. Title`` in a percent-format file),
    without its number (the navigation adds the number from the file name)."""
    for line in source.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#\s+#\s+(?:\d+\.\s+)?(.+?)\s*$", line)
        if match:
            return match.group(1)
    return source.stem


def part_of(stem: str) -> Part:
    """The part that chapter ``NN_slug`` belongs to, by its number."""
    number = int(stem[:2])
    for part in PARTS:
        if part.first <= number <= part.last:
            return part
    raise SiteError(
        f"chapter {stem} is in no part: give it a number in a part of PARTS in {__file__}"
    )


def navigation(chapters: list[tuple[str, str]]) -> list[dict]:
    """The MkDocs ``nav``: the preface, each part that has chapters (its overview first), then
    the appendix pages. ``chapters`` are (stem, title) pairs in any order."""
    grouped: dict[str, list[dict[str, str]]] = {part.title: [] for part in PARTS}
    for stem, title in sorted(chapters):
        grouped[part_of(stem).title].append({f"{int(stem[:2])}. {title}": f"{stem}.ipynb"})
    nav: list[dict] = []
    for part in PARTS:
        pages = grouped[part.title]
        if part.overview is None:
            pages = [{"Preface": "index.md"}, *pages]
        elif pages:
            pages = [{"Overview": f"parts/{part.overview}"}, *pages]
        if pages:
            nav.append({part.title: pages})
    nav += [{title: page} for title, page in APPENDIX]
    return nav


def link_chapters(text: str, available: set[str]) -> str:
    """Keep ``[text](NN_slug.ipynb)`` links to chapters in this build; turn links to chapters
    that are not (yet) in it into plain text, so that ``mkdocs build --strict`` passes."""

    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group(2) in available else match.group(1)

    return CHAPTER_LINK.sub(replace, text)


def copy_pages(docs_dir: Path, chapters: set[str]) -> None:
    """The prose pages into ``docs_dir`` (the preface becomes the home page ``index.md``)."""
    pages = {"index.md": BOOK / "preface.md"}
    pages |= {page: BOOK / page for _, page in APPENDIX}
    # Every overview, also of parts with no chapter yet (not in the navigation, but linkable).
    pages |= {f"parts/{p.overview}": BOOK / "parts" / p.overview for p in PARTS if p.overview}
    for target, source in pages.items():
        (docs_dir / target).parent.mkdir(parents=True, exist_ok=True)
        text = link_chapters(source.read_text(encoding="utf-8"), chapters)
        (docs_dir / target).write_text(text, encoding="utf-8")
    (docs_dir / "assets").mkdir(exist_ok=True)
    shutil.copy2(BOOK / "extra.css", docs_dir / "assets" / "extra.css")


def find_mathjax(build_dir: Path) -> Path:
    """A MathJax 2 directory (one with MathJax.js and its fonts), first found of:
    $NN101_MATHJAX_DIR; Debian's ``libjs-mathjax`` + ``fonts-mathjax`` packages
    (/usr/share/javascript/mathjax); a cached ``build/npm`` install; or ``npm install
    mathjax@2.7.9`` into ``build/npm`` (network access to the npm registry, once)."""
    candidates = (
        [Path(os.environ["NN101_MATHJAX_DIR"])] if "NN101_MATHJAX_DIR" in os.environ else []
    )
    candidates += [Path("/usr/share/javascript/mathjax"), build_dir / "npm/node_modules/mathjax"]
    for candidate in candidates:
        if all((candidate / part).exists() for part in MATHJAX_PARTS):
            return candidate
    npm = shutil.which("npm")
    if npm is None:
        raise SiteError(
            "the site needs MathJax 2 to render math offline: apt-get install -y libjs-mathjax "
            "fonts-mathjax, or install npm, or set NN101_MATHJAX_DIR to a MathJax 2 directory"
        )
    prefix = build_dir / "npm"
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit", "--no-fund"]
    subprocess.run([*command, "--loglevel=error", f"mathjax@{MATHJAX_VERSION}"], check=True)
    return prefix / "node_modules/mathjax"


def install_mathjax(dest: Path, build_dir: Path) -> None:
    """Copy the parts of MathJax 2 that the pages load into ``dest`` (offline math)."""
    if (dest / "MathJax.js").is_file():
        return
    source = find_mathjax(build_dir)
    for part in MATHJAX_PARTS:
        target = dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():  # copies what symlinks point to (Debian links its fonts)
            shutil.copytree(source / part, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source / part, target)


def write_config(chapters: list[tuple[str, str]], docs_dir: Path, site_dir: Path) -> Path:
    """A generated MkDocs config that inherits ``mkdocs.yml`` and adds the navigation and
    the theme overrides (the notebook and Colab links of each chapter page)."""
    config = {
        "INHERIT": os.path.relpath(ROOT / "mkdocs.yml", docs_dir.parent),
        "docs_dir": os.path.relpath(docs_dir, docs_dir.parent),
        "site_dir": os.path.relpath(site_dir, docs_dir.parent),
        "theme": {"name": "material", "custom_dir": os.path.relpath(OVERRIDES, docs_dir.parent)},
        "nav": navigation(chapters),
    }
    path = docs_dir.parent / "mkdocs.yml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is valid YAML
    return path


def build_site(chapters: list[tuple[str, str]], docs_dir: Path, site_dir: Path, log=print) -> Path:
    """Render the executed notebooks already in ``docs_dir`` (``chapters``: (stem, title)
    pairs) and the prose pages into ``site_dir``; returns the site's ``index.html``."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    copy_pages(docs_dir, {stem for stem, _ in chapters})
    install_mathjax(docs_dir / "assets" / "mathjax", ROOT / "build")
    config = write_config(chapters, docs_dir, site_dir)
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--clean", "--strict", "-f", str(config)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SiteError(f"mkdocs build failed:\n{completed.stdout}\n{completed.stderr}")
    log(f"  {time.perf_counter() - start:6.1f} s  mkdocs build -> {site_dir}")
    return site_dir / "index.html"
