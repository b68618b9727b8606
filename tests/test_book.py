"""The book: every chapter executes, has a figure and the agreed parts; the built site renders
its math and figures and its navigation works in a real (headless) browser.

The chapters are executed and the site is built once per test session (``book`` fixture), with
the same code ``make book`` runs (book/build.py).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BOOK_BUDGET_S = 600.0


def _load_build_module():
    spec = importlib.util.spec_from_file_location("nn101_book_build", ROOT / "book" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


build = _load_build_module()
CHAPTERS = build.find_chapters()


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """Execute every chapter and build the site, once; returns (results by name, site dir).

    Into a private temporary directory, so that a `make book` running at the same time (or
    another test session) cannot overwrite the pages under test."""
    for tool in ("jupytext", "nbclient", "ipykernel", "mkdocs", "mkdocs_jupyter", "matplotlib"):
        if importlib.util.find_spec(tool) is None:
            skip_or_fail(f"{tool} is not installed (pip install -e '.[book]')")
    try:
        build.find_mathjax()
    except build.BookBuildError as exc:
        skip_or_fail(str(exc))
    root = tmp_path_factory.mktemp("book")
    docs, site = root / "docs", root / "site"
    results = build.execute_chapters(CHAPTERS, docs_dir=docs, raise_on_error=False)
    build.build_site(results, docs_dir=docs, site_dir=site)
    return {r.name: r for r in results}, site


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def test_chapters_exist():
    numbers = [c.stem[:2] for c in CHAPTERS]
    assert numbers, "no chapters found in book/chapters/"
    assert len(numbers) == len(set(numbers)), f"two chapters share a number: {numbers}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_executes_with_a_figure(book, chapter):
    results, _ = book
    result = results[chapter.stem]
    assert result.ok, f"{chapter.name} raised while executing:\n{result.error}"
    images = [
        o
        for cell in _cells(result.notebook)
        if cell["cell_type"] == "code"
        for o in cell.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, f"{chapter.name} produced no figure (expected at least one plt.show())"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_has_the_agreed_parts(chapter):
    """The format every chapter follows (book/contributing.md): math, real library source,
    a PyTorch cross-check and exercises."""
    text = chapter.read_text(encoding="utf-8")
    assert text.lstrip().startswith("# %% [markdown]"), (
        f"{chapter.name}: start with a markdown cell"
    )
    assert build.chapter_title(chapter) != chapter.stem, f"{chapter.name}: no '# # Title' line"
    assert "$" in text, f"{chapter.name}: no math ($...$ or $$...$$)"
    lower = text.lower()
    assert "pytorch cross-check" in lower, f"{chapter.name}: no 'PyTorch cross-check' section"
    assert "exercise" in lower, f"{chapter.name}: no exercises"


def test_a_cell_that_raises_fails_the_build(tmp_path):
    if (
        importlib.util.find_spec("nbclient") is None
        or importlib.util.find_spec("ipykernel") is None
    ):
        skip_or_fail("nbclient / ipykernel are not installed (pip install -e '.[book]')")
    broken = tmp_path / "99_broken.py"
    broken.write_text(
        "# %% [markdown]\n# # 99. Broken\n\n# %%\nx = 1\n\n# %%\n"
        "raise ValueError(f'wrong answer {x + 41}')\n",
        encoding="utf-8",
    )
    with pytest.raises(build.BookBuildError, match="99_broken") as failure:
        build.execute_chapters([broken], docs_dir=tmp_path / "docs", log=lambda _: None)
    assert "ValueError: wrong answer 42" in str(failure.value)
    assert (tmp_path / "docs" / "99_broken.ipynb").is_file()


def test_book_runs_within_budget(book):
    results, _ = book
    total = sum(r.seconds for r in results.values())
    timings = ", ".join(f"{name} {r.seconds:.1f}s" for name, r in sorted(results.items()))
    assert total < BOOK_BUDGET_S, (
        f"the book took {total:.0f} s (> {BOOK_BUDGET_S:.0f} s): {timings}"
    )


@pytest.fixture(scope="module")
def site_url(book) -> Iterator[str]:
    """The built site served from 127.0.0.1 on a free port."""
    _, site = book

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_site_renders_math_figures_and_navigation(book, site_url):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[book]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found (apt-get install -y chromium)")
    results, _ = book
    shown = [name for name, r in sorted(results.items()) if r.ok]
    assert len(shown) >= 2, f"need two executed chapters to test navigation, got {shown}"
    chapter, following = shown[0], shown[1]

    failed: list[str] = []  # every request that is not answered 2xx/3xx by our server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def offline_only(route):  # CI has no internet: anything external is a bug
                if route.request.url.startswith(site_url):
                    route.continue_()
                else:
                    failed.append(f"external {route.request.url}")
                    route.abort()

            page.route("**/*", offline_only)
            page.on(
                "response",
                lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.on(
                "requestfailed",
                lambda r: failed.append(f"failed {r.url}") if r.url.startswith(site_url) else None,
            )

            page.goto(site_url + f"{chapter}/")
            # MathJax 2 (CommonHTML output) wraps every typeset formula in .MathJax_CHTML.
            page.wait_for_selector(".MathJax_CHTML", timeout=30_000)
            page.wait_for_function(
                "() => window.MathJax && MathJax.Hub.queue.pending === 0"
                " && !MathJax.Hub.queue.running",
                timeout=30_000,
            )
            assert page.locator(".MathJax_CHTML").count() > 0
            assert page.locator(".MathJax_Error, .mjx-error, merror").count() == 0, "TeX errors"
            widths = page.eval_on_selector_all(
                ".jp-OutputArea-output img",
                "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)",
            )
            assert widths and all(w > 0 for w in widths), f"figures did not load: {widths}"
            build.BUILD.mkdir(exist_ok=True)
            page.locator(".MJXc-display").first.scroll_into_view_if_needed()  # display math
            page.screenshot(path=str(build.BUILD / "book-screenshot.png"))
            page.locator(".jp-OutputArea-output img").first.scroll_into_view_if_needed()
            page.screenshot(path=str(build.BUILD / "book-screenshot-figure.png"))

            page.click("a.md-footer__link--next")  # the footer's "next" link
            page.wait_for_url(site_url + f"{following}/")
            assert page.locator(".jp-Notebook").count() == 1

            page.click("nav.md-nav--primary a:has-text('Further resources')")
            page.wait_for_url(site_url + "resources/")
            assert "resources" in page.locator("h1").first.inner_text().lower()

            page.click("nav.md-nav--primary a:has-text('Preface')")
            page.wait_for_url(site_url)
        finally:
            browser.close()
    assert not failed, f"requests that failed or left the site: {failed}"
