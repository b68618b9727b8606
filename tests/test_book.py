"""The book: its structure (parts, navigation, the chapters' agreed parts, no private names) is
checked fast; every chapter executing with a figure, the time budget and the built site in a
real (headless) browser are checked on a full build (``slow``).

The chapters are executed and the site is built once per test session (``book`` fixture), with
the same code ``make book`` runs (book/build.py).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import struct
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
    "--allow-file-access-from-files",
]
BOOK_BUDGET_S = 600.0
PHONE = {"width": 390, "height": 844}
# Reading or printing a private name: `obj._name`, getattr(obj, "_name"), importing `_name`.
PRIVATE = re.compile(
    r"\b\w+\._(?!_)\w+|getattr\([^,]+,\s*[\"']_(?!_)|\bimport\s+(?:.*,\s*)?_(?!_)\w+"
)


def _load_build_module():
    spec = importlib.util.spec_from_file_location("nn101_book_build", ROOT / "book" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


build = _load_build_module()
website = build.website
# NN101_BOOK_CHAPTERS="03 05" runs the book tests on some chapters only (CI runs them all).
CHAPTERS = build.find_chapters(os.environ.get("NN101_BOOK_CHAPTERS", "").split() or None)


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """Execute every chapter and build the site, once; returns (results by name, site dir).

    Into a private temporary directory, so that a `make book` running at the same time (or
    another test session) cannot overwrite the pages under test."""
    for tool in ("jupytext", "nbclient", "ipykernel", "mkdocs", "mkdocs_jupyter", "matplotlib"):
        if importlib.util.find_spec(tool) is None:
            skip_or_fail(f"{tool} is not installed (pip install -e '.[book]')")
    try:
        website.find_mathjax(build.BUILD)
        build.check_data(CHAPTERS)
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
def test_chapter_has_the_agreed_parts(chapter):
    """The format every chapter follows (book/contributing.md): math, a PyTorch section, a
    summary, exercises with collapsed solutions, further reading; and a part to belong to."""
    text = chapter.read_text(encoding="utf-8")
    assert text.lstrip().startswith("# %% [markdown]"), (
        f"{chapter.name}: start with a markdown cell"
    )
    assert build.chapter_title(chapter) != chapter.stem, f"{chapter.name}: no '# # Title' line"
    assert "$" in text, f"{chapter.name}: no math ($...$ or $$...$$)"
    assert "pytorch" in text.lower(), f"{chapter.name}: no PyTorch section"
    headings = set(re.findall(r"^# ## (.+?)\s*$", text, flags=re.MULTILINE))
    for heading in ("Summary", "Exercises", "Further reading"):
        assert heading in headings, f"{chapter.name}: no '## {heading}' section"
    assert "<details><summary>Solution</summary>" in text, (
        f"{chapter.name}: no collapsed solution (<details><summary>Solution</summary>)"
    )
    website.part_of(chapter.stem)  # raises for a number outside every part


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_reads_no_private_name(chapter):
    """A learner copies what a chapter does: it uses (and prints) public names only."""
    found = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(chapter.read_text(encoding="utf-8").splitlines(), 1)
        if not line.lstrip().startswith("#") and PRIVATE.search(line)
    ]
    assert not found, f"{chapter.name} reads private names:\n" + "\n".join(found)


def test_private_name_pattern():
    for line in [
        "show(nn101.OneCycle._interpolate)",
        "layer._x",
        'getattr(opt, "_moments")',
        "from nn101.training import fit, _apply",
        "inspect.getsource(m._step)",
    ]:
        assert PRIVATE.search(line), line
    for line in ["type(x).__name__", "layer.forward(x)", "my_var = 1", "import numpy as np"]:
        assert not PRIVATE.search(line), line


# Papers that chapters and the resources page both cite: the years must agree.
CITED = [
    "Smith and Topin",
    "Kingma and Ba",
    "Ioffe and Szegedy",
    "Glorot and Bengio",
    "Rumelhart",
    "Rosenblatt",
    "Hochreiter and Schmidhuber",
    "Srivastava",
    "Pascanu",
]


def _cited_years(text: str, authors: str) -> set[str]:
    """The year that follows each mention of ``authors`` ("A and B" also matches "A & B")."""
    name = re.escape(authors).replace(r"\ and\ ", r"\s+(?:and|&)\s+")
    pattern = name + r"[^()\d]{0,60}?\(?((?:19|20)\d\d)\b"
    return set(re.findall(pattern, text.replace("\n#", " ")))


@pytest.mark.parametrize("authors", CITED)
def test_citation_years_agree_with_the_resources_page(authors):
    listed = _cited_years((ROOT / "book" / "resources.md").read_text(encoding="utf-8"), authors)
    assert listed, f"resources.md does not cite {authors} with a year"
    wrong = {
        chapter.stem: years
        for chapter in CHAPTERS
        if (years := _cited_years(chapter.read_text(encoding="utf-8"), authors) - listed)
    }
    assert not wrong, f"{authors}: resources.md says {sorted(listed)}, chapters say {wrong}"


def test_navigation_groups_chapters_into_parts():
    """Chapters join their part by number; a part is shown once it has a chapter, its
    overview first; the prose pages follow the parts."""
    chapters = [("09_shallow", "Shallow"), ("01_intro", "Intro"), ("18_convolution", "Conv")]
    nav = website.navigation(chapters)
    titles = [next(iter(item)) for item in nav]
    assert titles == [
        "Introduction",
        "Part 1: Shallow networks",
        "Part 3: Convolutional networks",
        "Notation",
        "Glossary",
        "Resources",
        "Contributing",
    ]
    assert nav[0]["Introduction"] == [{"Preface": "index.md"}, {"1. Intro": "01_intro.ipynb"}]
    assert nav[2]["Part 3: Convolutional networks"] == [
        {"Overview": "parts/convolutional.md"},
        {"18. Conv": "18_convolution.ipynb"},
    ]
    with pytest.raises(build.BookBuildError, match="99_later"):
        website.navigation([("99_later", "Later")])


def test_links_to_chapters_not_in_the_build_become_text():
    text = "See [chapter 8](08_backprop.ipynb) and [the LSTM](../24_lstm.ipynb#gates)."
    assert website.link_chapters(text, {"08_backprop"}) == (
        "See [chapter 8](08_backprop.ipynb) and the LSTM."
    )


def test_prose_links_name_the_chapters_as_they_are():
    """A link to chapter NN from a prose page uses that chapter's file name (links to chapters
    not written yet are shown as text until they land)."""
    stems = {c.stem[:2]: c.stem for c in build.find_chapters()}
    pages = [*(ROOT / "book").glob("*.md"), *(ROOT / "book" / "parts").glob("*.md")]
    wrong = [
        f"{page.name}: {target}.ipynb (the chapter is {stems[target[:2]]}.py)"
        for page in pages
        for _, target, _ in website.CHAPTER_LINK.findall(page.read_text(encoding="utf-8"))
        if target[:2] in stems and stems[target[:2]] != target
    ]
    assert not wrong, "links to renamed chapters:\n" + "\n".join(wrong)


def test_missing_dataset_fails_the_build_in_one_line(tmp_path, monkeypatch):
    chapter = tmp_path / "17_uses_mnist.py"
    chapter.write_text("# %%\ntrain, test = nn101.data.load_mnist()\n", encoding="utf-8")
    quiet = tmp_path / "17_mentions_mnist.py"
    quiet.write_text("# %% [markdown]\n# Try `load_fashion_mnist()`.\n", encoding="utf-8")
    monkeypatch.setenv("NN101_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    build.check_data([quiet])  # prose that names a dataset needs no data
    with pytest.raises(build.BookBuildError) as failure:
        build.check_data([chapter])
    message = str(failure.value)
    assert "\n" not in message and "NN101_DATA_DIR" in message and "17_uses_mnist" in message


@pytest.mark.slow
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


def _png_width(data: str) -> int:
    import base64

    return struct.unpack(">I", base64.b64decode(data)[16:20])[0]  # the IHDR chunk's width


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_executes_with_crisp_figures(book, chapter):
    results, _ = book
    result = results[chapter.stem]
    assert result.ok, f"{chapter.name} raised while executing:\n{result.error}"
    outputs = [o for cell in _cells(result.notebook) for o in cell.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{chapter.name} produced no figure (expected at least one plt.show())"
    for image in images:  # drawn at twice the size it is shown at (retina)
        shown = image.get("metadata", {}).get("image/png", {}).get("width")
        assert shown and _png_width(image["data"]["image/png"]) >= 2 * shown - 1, image["metadata"]
    printed = "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    private = sorted(set(re.findall(r"\bself\._(?!_)\w+", printed)))
    assert not private, f"{chapter.name} prints private names: {private}"


@pytest.mark.slow
def test_book_runs_within_budget(book):
    results, _ = book
    total = sum(r.seconds for r in results.values())
    timings = ", ".join(f"{name} {r.seconds:.1f}s" for name, r in sorted(results.items()))
    print(f"\nbook: {total:.0f} s: {timings}")
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


@pytest.fixture(scope="module")
def browser(book):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[book]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} not found (apt-get install -y chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _open(browser, site_url, failed: list[str], viewport=None):
    """A page that records every request not answered 2xx/3xx and refuses external ones."""
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})

    def offline_only(route):  # CI has no internet: anything external is a bug
        if route.request.url.startswith(site_url):
            route.continue_()
        else:
            failed.append(f"external {route.request.url}")
            route.abort()

    page.route("**/*", offline_only)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def on_failure(request):  # leaving a page cancels its pending requests: not a failure
        if request.url.startswith(site_url) and "ERR_ABORTED" not in (request.failure or ""):
            failed.append(f"failed {request.url}: {request.failure}")

    page.on("requestfailed", on_failure)
    return page


def _wait_for_math(page):
    # MathJax 2 (CommonHTML output) wraps every typeset formula in .MathJax_CHTML.
    page.wait_for_selector(".MathJax_CHTML", timeout=30_000)
    page.wait_for_function(
        "() => window.MathJax && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running",
        timeout=30_000,
    )
    assert page.locator(".MathJax_Error, .mjx-error, merror").count() == 0, "TeX errors"


def _shown_chapters(book) -> tuple[str, str]:
    results, _ = book
    shown = [name for name, r in sorted(results.items()) if r.ok]
    assert len(shown) >= 2, f"need two executed chapters to test navigation, got {shown}"
    return shown[0], shown[1]


@pytest.mark.slow
def test_site_renders_math_figures_and_navigation(book, browser, site_url):
    chapter, following = _shown_chapters(book)
    failed: list[str] = []
    page = _open(browser, site_url, failed)
    page.goto(site_url + f"{chapter}.html")
    _wait_for_math(page)
    widths = page.eval_on_selector_all(
        ".jp-OutputArea-output img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert widths and all(w > 0 for w in widths), f"figures did not load: {widths}"
    build.BUILD.mkdir(exist_ok=True)
    page.locator(".MJXc-display").first.scroll_into_view_if_needed()  # display math
    page.screenshot(path=str(build.BUILD / "book-screenshot.png"))

    page.click("a.md-footer__link--next")  # the footer's "next" link
    page.wait_for_url(re.compile(r".*/(parts/\w+|" + following + r")\.html"))
    for title, url in [("Notation", "notation.html"), ("Resources", "resources.html")]:
        page.click(f"nav.md-nav--primary a:has-text('{title}')")
        page.wait_for_url(site_url + url)
        assert title.lower() in page.locator("h1").first.inner_text().lower()
    page.goto(site_url + "notation.html")
    _wait_for_math(page)  # the prose pages typeset math too
    page.click("nav.md-nav--primary a:has-text('Preface')")
    page.wait_for_url(site_url + "index.html")
    page.close()
    assert not failed, f"requests that failed or left the site: {failed}"


@pytest.mark.slow
def test_chapter_pages_link_their_notebook_and_colab(book, browser, site_url):
    chapter, _ = _shown_chapters(book)
    failed: list[str] = []
    page = _open(browser, site_url, failed)
    page.goto(site_url + f"{chapter}.html")
    download = page.locator(".nn101-run a.nn101-download")
    assert download.get_attribute("href") == f"{chapter}.ipynb"
    response = page.request.get(site_url + f"{chapter}.ipynb")
    notebook = json.loads(response.body())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert response.ok and code[0]["metadata"]["tags"] == ["nn101-install"]
    settings = build.notebook.settings()
    repository = settings["repo_url"].removeprefix("https://github.com/")
    colab = page.locator(".nn101-run a.nn101-colab").get_attribute("href")
    assert colab == (
        f"https://colab.research.google.com/github/{repository}/blob/"
        f"{settings['repo_branch']}/notebooks/{chapter}.ipynb"
    )
    page.close()
    assert not failed, f"requests that failed or left the site: {failed}"


@pytest.mark.slow
def test_site_fits_a_phone_screen(book, browser, site_url):
    """At 390 px no page is wider than the screen: math, code and outputs scroll inside their
    own boxes. Every chapter page, the prose pages and the part overviews."""
    results, site = book
    chapters = [f"{name}.html" for name, r in sorted(results.items()) if r.ok]
    prose = ["index.html", "notation.html", "glossary.html", "resources.html"]
    overviews = [f"parts/{p.name}" for p in sorted((site / "parts").glob("*.html"))]
    failed: list[str] = []
    page = _open(browser, site_url, failed, viewport=PHONE)
    too_wide = {}
    for url in chapters + prose + overviews:
        page.goto(site_url + url)
        if url in chapters or url == "notation.html":
            _wait_for_math(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = width
    build.BUILD.mkdir(exist_ok=True)
    page.goto(site_url + chapters[0])
    _wait_for_math(page)
    page.screenshot(path=str(build.BUILD / "book-screenshot-phone.png"))
    page.close()
    assert not too_wide, f"pages wider than a {PHONE['width']} px phone: {too_wide}"
    assert not failed, f"requests that failed or left the site: {failed}"


@pytest.mark.slow
def test_site_opens_from_disk(book, browser):
    """file:// works: relative links to NN_slug.html pages, local MathJax."""
    chapter, _ = _shown_chapters(book)
    _, site = book
    page = browser.new_page()
    page.goto((site / f"{chapter}.html").as_uri())
    _wait_for_math(page)
    page.click("a.md-footer__link--next")
    page.wait_for_url(re.compile(r"file://.*\.html$"))
    assert page.locator("h1").count() >= 1
    page.click("nav.md-nav--primary a:has-text('Preface')")
    page.wait_for_url((site / "index.html").as_uri())
    page.close()
