"""The built book in a real browser (headless Chromium driven by Playwright).

The HTML that tests/test_book.py builds is served from 127.0.0.1 and opened
with the network otherwise cut off, as a reader with no connection would.
Every page in _toc.yml (and index.html) must load with no console error, no
failed or external request, and images that loaded and carry a text
alternative. On every notebook chapter the Colab link must be there, every
ipywidget must be drawn, and moving any slider, dropdown, radio button or
toggle must change what is displayed (the precomputed pictures switch in the
browser, with no Python kernel). A full-page screenshot of each chapter is
saved to <build output>/screenshots/ for a human to look at.

Chromium: $COMPANION_CHROMIUM, else /usr/bin/chromium (``make test`` installs
it). The tests are skipped, saying so, only when no Chromium exists.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

import test_book
from test_book import notebook_pages, toc_files

# Chromium's flags for a machine with no network: no background connections,
# no updates, no sync, a fresh profile (Playwright makes a new temporary
# --user-data-dir for every launch).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Requests that may fail, each with its reason. Nothing else is ignored. Empty: every page
# names an icon (the root redirect an empty inline one), so no browser asks for /favicon.ico.
ALLOWED_FAILURES: dict[str, str] = {}

# Text that would mean a widget did not render.
WIDGET_FAILURE_TEXT = re.compile(r"Loading widget|Error displaying widget|widget failed|"
                                 r"Failed to (load|render|display) (model|view|widget)", re.I)
IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.I)
CHAPTERS = notebook_pages()
NO_CHAPTER = [pytest.param(None, marks=pytest.mark.skip(reason="no notebook chapter in _toc.yml yet"))]
SETTLE_TIMEOUT_MS = 90_000


# --------------------------------------------------------------------------- #
# Fixtures: the browser, the site, a page that records every problem
# --------------------------------------------------------------------------- #
def chromium_executable() -> str | None:
    chosen = os.environ.get("COMPANION_CHROMIUM", "").strip()
    if chosen:
        return chosen
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Browser:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium binary: install Debian's chromium (make test does it, "
                    "through tools/system-deps.sh) or set COMPANION_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class Site:
    base: str            # http://127.0.0.1:PORT/
    html: Path           # the folder served
    output: Path         # the build's --path-output folder

    def url(self, page: str) -> str:
        return self.base + page + ".html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    build = test_book.build_book_once(tmp_path_factory)
    html = test_book.require_html(build)
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}/", html, build.output)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Recorder:
    """Everything that went wrong on a page, as readable lines."""

    origin: str
    problems: list[str] = field(default_factory=list)
    favicon_misses: list[str] = field(default_factory=list)

    def _allowed(self, url: str) -> bool:
        path = urlparse(url).path
        if url.startswith(self.origin) and path in ALLOWED_FAILURES:
            self.favicon_misses.append(url)
            return True
        return False

    def console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and self._allowed(where):
            return
        self.problems.append(f"console error: {message.text} (at {where})")

    def page_error(self, error) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.origin) or url.startswith(("blob:", "data:", "about:"))):
            self.problems.append(f"external request: {request.method} {url}")

    def request_failed(self, request) -> None:
        if not self._allowed(request.url):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def response(self, response) -> None:
        if response.status >= 400 and not self._allowed(response.url):
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def check(self, page: Page, what: str) -> None:
        if self.favicon_misses and page.locator("link[rel~='icon']").count():
            self.problems.append("/favicon.ico failed although the page names an icon")
        assert not self.problems, f"{what}:\n  " + "\n  ".join(self.problems)


@pytest.fixture
def page(browser: Browser, site: Site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # Generous waits: on a loaded 2-core CI machine a widget page can take
    # longer than Playwright's 30 s default to reach network idle.
    page.set_default_timeout(2 * SETTLE_TIMEOUT_MS)
    recorder = Recorder(origin=site.base.rstrip("/"))
    page.on("console", recorder.console)
    page.on("pageerror", recorder.page_error)
    page.on("request", recorder.request)
    page.on("requestfailed", recorder.request_failed)
    page.on("response", recorder.response)
    page.recorder = recorder  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def open_page(page: Page, url: str) -> None:
    """Go to url and wait until widgets are drawn, maths typeset, network idle."""
    page.goto(url, wait_until="load")
    settle(page)


def settle(page: Page) -> None:
    page.wait_for_load_state("load")
    # Every widget view in the page has been replaced by a drawn widget.
    page.wait_for_function(
        """() => {
            const views = document.querySelectorAll(
                'script[type="application/vnd.jupyter.widget-view+json"]').length;
            const drawn = Array.from(document.querySelectorAll('.widget-subarea'))
                .filter(e => e.querySelector('.jupyter-widgets, .lm-Widget')).length;
            return drawn >= views;
        }""",
        timeout=SETTLE_TIMEOUT_MS,
    )
    # MathJax 3 (if the page loads it) has typeset the page.
    page.evaluate(
        """async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
        }"""
    )
    # Network idle, when it comes: the widgets are drawn already (checked above),
    # and on a loaded machine idle can take long or, with many pictures, never
    # settle for 500 ms; failed or external requests are still recorded.
    try:
        page.wait_for_load_state("networkidle", timeout=15_000)
    except PlaywrightTimeoutError:
        pass
    page.wait_for_timeout(200)


def image_problems(page: Page) -> list[str]:
    """Images that did not load or have no text alternative."""
    images = page.evaluate(
        """() => Array.from(document.images).map(img => ({
            src: img.currentSrc || img.src, alt: img.getAttribute('alt'),
            title: img.getAttribute('title'), label: img.getAttribute('aria-label'),
            widget: img.classList.contains('widget-image'),
            complete: img.complete, width: img.naturalWidth,
        }))"""
    )
    problems = []
    for img in images:
        name = img["src"][:100]
        if not (img["complete"] and img["width"] > 0):
            problems.append(f"image did not load: {name}")
        alt = (img["alt"] or "").strip()
        if img["widget"]:
            # ipywidgets' Image has no alt, and its tooltip (title) makes the
            # Image view fail in @jupyter-widgets/controls 5 (it reads the
            # description that an Image does not have).
            if not (alt or (img["title"] or "").strip() or (img["label"] or "").strip()):
                problems.append(
                    "widgets.Image has no text alternative: show the picture as "
                    "widgets.HTML('<img alt=\"...\" src=\"data:image/png;base64,...\">') "
                    f"instead (it goes in a Stack the same way): {name}")
        elif not alt:
            problems.append(f"image has no alt text: {name}")
        elif IMAGE_SUFFIX.search(alt) or alt == img["src"]:
            problems.append(
                f"image's alt text is only its file name ({alt!r}); for a notebook "
                "figure set the cell metadata mystnb: {image: {alt: ...}}")
    return problems


def maths_problems(page: Page) -> list[str]:
    return page.evaluate(
        """() => {
            const out = [];
            for (const e of document.querySelectorAll('mjx-merror')) {
                out.push('MathJax error: ' + (e.getAttribute('data-mjx-error') || e.textContent));
            }
            for (const e of document.querySelectorAll('.math')) {
                if (!e.querySelector('mjx-container')) {
                    out.push('formula not typeset: ' + e.textContent.slice(0, 80));
                }
            }
            return out;
        }"""
    )


def screenshot_path(site: Site, page_name: str) -> Path:
    folder = site.output / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (page_name.replace("/", "__") + ".png")


# --------------------------------------------------------------------------- #
# Every page
# --------------------------------------------------------------------------- #
def test_index_redirects_to_the_first_page_and_loads_cleanly(page: Page, site: Site) -> None:
    root = toc_files()[0]
    page.goto(site.base + "index.html", wait_until="load")
    page.wait_for_url(re.compile(re.escape(site.url(root)) + r"$"), timeout=SETTLE_TIMEOUT_MS)
    settle(page)
    page.recorder.check(page, "index.html")
    assert not image_problems(page)


def check_loads_cleanly(page: Page, name: str) -> None:
    assert page.locator("h1").count() >= 1, f"{name}: no heading"
    assert page.locator("link[rel~='icon']").count() >= 1, f"{name}: no favicon"
    problems = image_problems(page) + maths_problems(page)
    page.recorder.check(page, name)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", [n for n in toc_files() if n not in CHAPTERS])
def test_page_loads_with_no_error(page: Page, site: Site, name: str) -> None:
    open_page(page, site.url(name))
    check_loads_cleanly(page, name)


# --------------------------------------------------------------------------- #
# Notebook chapters
# --------------------------------------------------------------------------- #
def check_colab_link_and_drawn_widgets(page: Page, site: Site, name: str) -> None:
    colab = page.locator("a[href*='colab.research.google.com/github/']")
    assert colab.count() >= 1, f"{name}: no 'Open in Colab' link"
    assert colab.first.get_attribute("href").endswith(f"/{name}.ipynb")

    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    drawn = page.locator(".widget-subarea").count()
    assert drawn == views, f"{name}: {views} widget outputs but {drawn} drawn"
    for i in range(drawn):
        area = page.locator(".widget-subarea").nth(i)
        assert area.locator(".jupyter-widgets").count() > 0, f"{name}: widget {i} is empty"
        box = area.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"{name}: widget {i} has no size"
    assert page.locator(".widget-error, .jupyter-widgets-error").count() == 0
    body = page.locator("body").inner_text()
    failure = WIDGET_FAILURE_TEXT.search(body)
    assert failure is None, f"{name}: the page says {failure.group(0)!r}"

    shot = screenshot_path(site, name)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    page.recorder.check(page, name)


# Each kind of control: the CSS selector of its root element.
CONTROLS = {
    "slider": ".widget-slider, .widget-hslider, .widget-vslider",
    "dropdown": ".widget-dropdown",
    "radio buttons": ".widget-radio",
    "toggle buttons": ".widget-toggle-buttons",
    "toggle button": "button.widget-toggle-button:not(.widget-toggle-buttons *)",
    "checkbox": ".widget-checkbox",
}


def change(page: Page, kind: str, control) -> str:
    """Change a control the way a reader would; return what was done."""
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        now = float(handle.get_attribute("aria-valuenow"))
        top = float(handle.get_attribute("aria-valuemax"))
        key = "ArrowLeft" if now >= top else "ArrowRight"
        handle.focus()
        handle.press(key)
        return f"pressed {key} on the slider at {now:g}"
    if kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").count()
        current = select.evaluate("s => s.selectedIndex")
        target = (current + 1) % options
        select.select_option(index=target)
        return f"chose option {target} of {options}"
    if kind == "radio buttons":
        choice = control.locator("input[type=radio]:not(:checked)").first
        value = unquote(choice.get_attribute("data-value") or "")
        choice.check()
        return f"chose {value!r}"
    if kind == "toggle buttons":
        button = control.locator("button:not(.mod-active)").first
        text = button.inner_text()
        button.click()
        return f"pressed {text!r}"
    if kind == "toggle button":
        control.click()
        return "pressed it"
    if kind == "checkbox":
        control.locator("input[type=checkbox]").click()
        return "ticked/unticked it"
    raise AssertionError(kind)


def check_every_control_changes_what_is_displayed(page: Page, name: str) -> None:
    found = []
    for kind, selector in CONTROLS.items():
        for i in range(page.locator(selector).count()):
            control = page.locator(selector).nth(i)
            if control.is_visible():
                found.append((kind, i, control))
    failures = []
    for kind, i, control in found:
        label = control.locator(".widget-label").first
        described = (label.inner_text().strip() if label.count() else "") or f"#{i}"
        area = control.locator("xpath=ancestor::div[contains(@class,'widget-subarea')][1]")
        control.scroll_into_view_if_needed()
        # What the widget output shows, the control itself masked out.
        before = area.screenshot(mask=[control], animations="disabled")
        action = change(page, kind, control)
        deadline = time.monotonic() + 20   # generous: a loaded CI machine redraws slowly
        after = before
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(150)
            after = area.screenshot(mask=[control], animations="disabled")
        if after == before:
            failures.append(f"{kind} {described!r}: {action}, and nothing else on display changed")
    assert not failures, f"{name}: controls that do nothing in the static page " \
                         "(link them with widgets.jslink, not observe/interact):\n  " + \
                         "\n  ".join(failures)
    page.recorder.check(page, f"{name} (after using its {len(found)} controls)")
    print(f"{name}: {len(found)} controls checked")


# --------------------------------------------------------------------------- #
# Search
# --------------------------------------------------------------------------- #
SEARCH_TERM = "Nesterov"      # taught in chapter 3 (optimizers)
SEARCH_CHAPTER = "ch03_optimizers"


def test_search_page_finds_a_term_from_chapter_3(page: Page, site: Site) -> None:
    """The book's search (Sphinx's client-side index, no server) lists chapter 3."""
    page.goto(site.base + f"search.html?q={SEARCH_TERM}", wait_until="load")
    results = page.locator("#search-results ul.search li a, ul.search li a")
    results.first.wait_for(state="attached", timeout=SETTLE_TIMEOUT_MS)
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(SEARCH_CHAPTER in h for h in hrefs), (
        f"searching for {SEARCH_TERM!r} did not list {SEARCH_CHAPTER}; results: {hrefs}")
    page.recorder.check(page, "search.html")


CONTRAST_JS = """() => {
    const lum = c => {
        const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(v => {
            v = Number(v) / 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = lum(getComputedStyle(document.body).backgroundColor);
    return Array.from(document.querySelectorAll('.output pre span[style*="color"]')).map(e => {
        const fg = lum(getComputedStyle(e).color);
        const ratio = (Math.max(fg, background) + 0.05) / (Math.min(fg, background) + 0.05);
        return [e.textContent.trim(), Math.round(ratio * 100) / 100];
    }).filter(([text, ratio]) => ratio < 4.5);
}"""


def check_links_to_other_pages_and_to_keras_docs(page: Page, name: str) -> None:
    """The chapter's prose links to other pages of the book and to keras.io (tools/sphinx_ext/book_links.py)."""
    article = page.locator("article.bd-article")
    internal = article.locator("a.reference.internal[href$='.html'], a.reference.internal[href*='.html#']")
    assert internal.count() >= 1, f"{name}: the text links to no other page of the book"
    assert article.locator("a[href^='https://keras.io/api/']").count() >= 1, f"{name}: no link to keras.io"


def check_coloured_output_is_readable(page: Page, name: str) -> None:
    """Coloured output text (model.summary()'s Rich colours) reaches 4.5:1 against the page (WCAG AA)."""
    faint = page.evaluate(CONTRAST_JS)
    assert not faint, f"{name}: coloured output below 4.5:1 contrast: {faint[:5]}"


def check_nothing_gives_an_answer_away(page: Page, name: str) -> None:
    """Before any click: no quiz answer and no exercise solution (code or output) is visible."""
    text = page.locator("article.bd-article").inner_text()
    assert "Answer:" not in text and "✔ right" not in text, f"{name}: a quiz answer is visible before a click"
    shown = [e for e in page.locator(".cell.tag_hide-cell .cell_input, .cell.tag_hide-cell .cell_output").all()
             if e.is_visible()]
    assert not shown, f"{name}: {len(shown)} part(s) of exercise solutions are visible before a click"
    assert page.locator(".cell.tag_hide-cell").count() >= 1, f"{name}: no folded exercise solution"


def check_quiz_answers_are_folded_and_open_on_click(page: Page, name: str) -> None:
    """Under each quiz, "Show the answer and why" starts closed and opens on a click."""
    answers = page.locator("details.quiz-answer")
    assert answers.count() >= 1, f"{name}: no folded quiz answer on the page"
    first = answers.first
    assert first.evaluate("d => d.open") is False, f"{name}: the answer is shown before the reader asks"
    assert not first.locator("ul").is_visible()
    first.locator("summary").click()
    assert first.evaluate("d => d.open") is True
    assert first.locator("ul").is_visible() and "Answer:" in first.inner_text()
    page.recorder.check(page, name)


@pytest.mark.parametrize("name", CHAPTERS or NO_CHAPTER)
def test_chapter_page(page: Page, site: Site, name: str) -> None:
    """One load of each chapter: clean load, Colab link, drawn widgets (and a screenshot),
    folded quiz answers, and every control changing what is displayed (last: it changes the page)."""
    open_page(page, site.url(name))
    check_loads_cleanly(page, name)
    wrapping = page.evaluate("""() => Array.from(document.querySelectorAll('div.cell_input pre'))
        .map(e => getComputedStyle(e).whiteSpace).filter(w => w !== 'pre')""")
    assert not wrapping, f"{name}: code blocks wrap ({set(wrapping)}), which breaks Python's indentation"
    check_colab_link_and_drawn_widgets(page, site, name)
    check_links_to_other_pages_and_to_keras_docs(page, name)
    check_coloured_output_is_readable(page, name)
    check_nothing_gives_an_answer_away(page, name)
    check_quiz_answers_are_folded_and_open_on_click(page, name)
    check_every_control_changes_what_is_displayed(page, name)


# --------------------------------------------------------------------------- #
# Phones and desktop: navigation, one search box, a feedback link, no overflow
# --------------------------------------------------------------------------- #
def _visible(page: Page, selector: str) -> list:
    return [e for e in page.locator(selector).all() if e.is_visible()]


@pytest.mark.parametrize("width", [390, 1280])
def test_navigation_search_and_feedback_work_at_phone_and_desktop_width(browser: Browser, site: Site,
                                                                         width: int) -> None:
    """At 390 px the chapter list and the page contents open as drawers from the visible
    buttons; at 1280 px the chapter list is on show and its button folds it away and back.
    One search control is visible, the repository's issues are one click away, and the page
    body never scrolls sideways. Full-page screenshots are saved for a human to look at."""
    name = CHAPTERS[1] if len(CHAPTERS) > 1 else CHAPTERS[0]
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 960 else 900})
    page = context.new_page()
    page.set_default_timeout(2 * SETTLE_TIMEOUT_MS)
    try:
        open_page(page, site.url(name))
        page.screenshot(path=str(screenshot_path(site, f"{name}@{width}px")), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} px: the page body scrolls sideways by {overflow} px"
        assert len(_visible(page, ".search-button, .search-button-field")) == 1, \
            f"{name} at {width} px: not exactly one visible search control"
        assert page.locator("a[href*='/issues/new']").count() >= 1, f"{name}: no link to report a problem"
        toggle = _visible(page, ".primary-toggle")
        assert len(toggle) == 1, f"{name} at {width} px: {len(toggle)} visible chapter-list buttons"
        sidebar = page.locator("#pst-primary-sidebar")
        if width < 960:
            for kind in ("primary", "secondary"):
                buttons = _visible(page, f".{kind}-toggle")
                assert buttons, f"{name} at {width} px: no visible {kind} drawer button"
                buttons[0].click()
                dialog = page.locator(f"#pst-{kind}-sidebar-modal")
                page.wait_for_function(f"() => document.getElementById('pst-{kind}-sidebar-modal').open",
                                       timeout=5_000)
                links = dialog.locator("a")
                assert links.count() >= (5 if kind == "primary" else 3), f"{name}: the {kind} drawer is empty"
                assert links.first.is_visible()
                page.keyboard.press("Escape")
                page.wait_for_function(f"() => !document.getElementById('pst-{kind}-sidebar-modal').open",
                                       timeout=5_000)
        else:
            assert sidebar.is_visible(), f"{name}: the chapter list is not on show at {width} px"
            toggle[0].click()
            page.wait_for_timeout(300)
            assert not sidebar.is_visible(), f"{name}: the chapter-list button does not fold the list away"
            toggle[0].click()
            page.wait_for_timeout(300)
            assert sidebar.is_visible(), f"{name}: the chapter-list button does not bring the list back"
    finally:
        context.close()
