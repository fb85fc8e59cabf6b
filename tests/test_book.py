"""The HTML book builds cleanly from the committed outputs and works offline.

One strict build (``tools/build_book.py --strict``, i.e. ``jupyter-book
build -W -n --keep-going``) per test session, into a temporary folder: the
repository's working tree is left as it was. ``tests/test_browser.py`` opens
the same build in Chromium.

Set ``COMPANION_BOOK_OUTPUT=DIR`` to build into DIR instead (DIR/_build/html,
and the browser tests' screenshots in DIR/_build/screenshots) to look at them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "tools" / "build_book.py"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Script files the pages load for widgets and maths, relative to the HTML root,
# in the order they must come (require.js, our config, the widget manager).
WIDGET_SCRIPTS = [
    "_static/npm/requirejs/require.js",
    "_static/widgets-config.js",
    "_static/npm/html-manager/embed-amd.js",
]
MATHJAX_SCRIPT = "_static/npm/mathjax/tex-mml-chtml.js"
# Addresses that would mean a page fetches its widget or maths JavaScript from
# the network (the defaults of myst-nb, ipywidgets and Sphinx).
CDN_PATTERNS = [
    re.compile(p, re.I)
    for p in (
        r"https?://[^\"' ]*require(\.min)?\.js",
        r"https?://[^\"' ]*@jupyter-widgets/",
        r"https?://[^\"' ]*html-manager",
        r"https?://[^\"' ]*mathjax",
        r"cdn\.jsdelivr\.net",
        r"cdnjs\.cloudflare\.com",
    )
]


# --------------------------------------------------------------------------- #
# The table of contents
# --------------------------------------------------------------------------- #
def toc_files() -> list[str]:
    """Every ``file`` (and the root) of _toc.yml, in reading order, no suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    files.append(str(toc["root"]))
    walk(toc)
    return [re.sub(r"\.(md|ipynb)$", "", f) for f in files]


def source_of(page: str) -> Path | None:
    """The source file of a toc entry (``.ipynb`` or ``.md``), if it exists."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / (page + suffix)
        if path.is_file():
            return path
    return None


def notebook_pages() -> list[str]:
    """Toc entries whose source is a notebook: the pages with a Colab button."""
    return [p for p in toc_files() if (ROOT / (p + ".ipynb")).is_file()]


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- #
# One build per session, shared with test_browser.py
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class BookBuild:
    output: Path        # the --path-output folder
    html: Path          # output/_build/html
    returncode: int
    log: str            # stdout and stderr, ANSI colours removed
    seconds: float
    git_status_before: str | None
    git_status_after: str | None

    def page(self, toc_entry: str) -> Path:
        return self.html / (toc_entry + ".html")


_BUILD: BookBuild | None = None


def _git_status() -> str | None:
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def build_book_once(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    """Build the book strictly into a fresh folder, once per test session."""
    global _BUILD
    if _BUILD is None:
        chosen = os.environ.get("COMPANION_BOOK_OUTPUT", "").strip()
        output = (Path(chosen).expanduser().resolve() if chosen
                  else tmp_path_factory.mktemp("book"))
        output.mkdir(parents=True, exist_ok=True)
        before = _git_status()
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(BUILD_SCRIPT), "--strict", "--clean",
             "--path-output", str(output)],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )
        seconds = time.perf_counter() - start
        _BUILD = BookBuild(
            output=output,
            html=output / "_build" / "html",
            returncode=result.returncode,
            log=ANSI.sub("", result.stdout + "\n" + result.stderr),
            seconds=seconds,
            git_status_before=before,
            git_status_after=_git_status(),
        )
    return _BUILD


@pytest.fixture(scope="session")
def book_build(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    return build_book_once(tmp_path_factory)


def require_html(build: BookBuild) -> Path:
    """The built HTML folder; fails the calling test when the build failed."""
    if build.returncode != 0 or not (build.html / "index.html").is_file():
        pytest.fail("The book did not build:\n" + tail(build.log), pytrace=False)
    return build.html


@pytest.fixture(scope="session")
def built_html(book_build: BookBuild) -> Path:
    return require_html(book_build)


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- #
# Parsing the built pages
# --------------------------------------------------------------------------- #
class _Tags(HTMLParser):
    """Collects <script>, <link> and <a> tags with their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        target = {"script": self.scripts, "link": self.links, "a": self.anchors,
                  "img": self.images}.get(tag)
        if target is not None:
            target.append(dict(attrs))
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


def parse(page: Path) -> _Tags:
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def resolve(page: Path, html_root: Path, url: str) -> str:
    """A page-relative URL as a path relative to the HTML root ('' if external)."""
    parts = urlparse(url)
    if parts.scheme or parts.netloc:
        return ""
    target = (page.parent / parts.path).resolve()
    return target.relative_to(html_root.resolve()).as_posix()


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #
def test_build_succeeds_with_zero_warnings(book_build: BookBuild) -> None:
    log = book_build.log
    problems = [line for line in log.splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line)]
    assert book_build.returncode == 0, (
        f"build failed (exit {book_build.returncode}):\n{tail(log)}")
    assert "build succeeded" in log and "build finished with problems" not in log, tail(log)
    assert not problems, "the strict build printed warnings:\n" + "\n".join(problems)
    assert "Open " in log and "index.html" in log, "build_book.py should print the page to open"


def test_build_leaves_the_working_tree_as_it_was(book_build: BookBuild) -> None:
    if book_build.git_status_before is None:
        pytest.skip("not a git checkout (or git is missing)")
    # Only entries that appeared count: the build must write nothing that git
    # sees (its copies of the widget JavaScript go to a git-ignored folder).
    before = set(book_build.git_status_before.splitlines())
    new = sorted(set((book_build.git_status_after or "").splitlines()) - before)
    assert not new, ("the working tree changed while the book was built (by the build, "
                     "or by another process editing the repository meanwhile):\n"
                     + "\n".join(new))
    if not os.environ.get("COMPANION_BOOK_OUTPUT"):
        assert ROOT not in book_build.output.parents, "the tests must not build into the repository"


@pytest.mark.parametrize("page", toc_files())
def test_every_toc_page_is_built(built_html: Path, page: str) -> None:
    assert source_of(page) is not None, f"_toc.yml lists {page} but neither {page}.md nor .ipynb exists"
    html = built_html / (page + ".html")
    assert html.is_file(), f"{page} is in _toc.yml but {html} was not built"
    text = html.read_text(encoding="utf-8")
    assert "<h1" in text, f"{html.name} has no title (h1)"


def test_index_leads_to_the_root_page(built_html: Path) -> None:
    root = toc_files()[0]
    index = (built_html / "index.html").read_text(encoding="utf-8")
    assert f"{root}.html" in index, f"index.html does not lead to {root}.html"


def test_no_page_loads_widget_or_maths_javascript_from_a_cdn(built_html: Path) -> None:
    pages = sorted(built_html.rglob("*.html"))
    assert pages
    offenders: list[str] = []
    for page in pages:
        name = page.relative_to(built_html).as_posix()
        tags = parse(page)
        for script in tags.scripts:
            src = script.get("src") or ""
            if urlparse(src).scheme or src.startswith("//"):
                offenders.append(f"{name}: <script src={src!r}>")
        for link in tags.links:
            href = link.get("href") or ""
            if "stylesheet" in (link.get("rel") or "") and (urlparse(href).scheme or href.startswith("//")):
                offenders.append(f"{name}: <link rel=stylesheet href={href!r}>")
        text = page.read_text(encoding="utf-8")
        for pattern in CDN_PATTERNS:
            for match in pattern.finditer(text):
                offenders.append(f"{name}: mentions {match.group(0)!r}")
    assert not offenders, "pages fetch JavaScript/CSS from the network:\n" + "\n".join(offenders)


def test_widget_pages_load_the_local_widget_javascript_in_order(built_html: Path) -> None:
    widget_pages = [p for p in sorted(built_html.rglob("*.html"))
                    if "application/vnd.jupyter.widget-state+json" in p.read_text(encoding="utf-8")]
    for page in widget_pages:
        sources = [resolve(page, built_html, s["src"] or "").split("?")[0]
                   for s in parse(page).scripts if s.get("src")]
        positions = [sources.index(s) if s in sources else -1 for s in WIDGET_SCRIPTS]
        assert -1 not in positions, f"{page.name} lacks {WIDGET_SCRIPTS[positions.index(-1)]}"
        assert positions == sorted(positions), f"{page.name} loads {WIDGET_SCRIPTS} out of order"
    for script in WIDGET_SCRIPTS + [MATHJAX_SCRIPT]:
        assert (built_html / script).is_file(), f"{script} is missing from the build"
    fonts = list((built_html / "_static/npm/html-manager").glob("*.woff2"))
    assert fonts, "the widget icon fonts were not copied next to embed-amd.js"


def test_maths_pages_load_the_local_mathjax(built_html: Path) -> None:
    for page in sorted(built_html.rglob("*.html")):
        for script in parse(page).scripts:
            src = script.get("src") or ""
            if "mathjax" in src.lower():
                assert resolve(page, built_html, src).split("?")[0] == MATHJAX_SCRIPT, (
                    f"{page.name} loads MathJax from {src}")


@pytest.mark.parametrize("page", notebook_pages() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no notebook chapter in _toc.yml yet"))])
def test_colab_link_opens_this_notebook_from_the_repository(built_html: Path, page: str) -> None:
    config = book_config()
    repo = config["repository"]
    owner_name = urlparse(repo["url"]).path.strip("/").removesuffix(".git")
    branch = repo.get("branch", "main")
    book_path = (repo.get("path_to_book") or "").strip("/")
    file = "/".join(p for p in (book_path, page + ".ipynb") if p)
    expected = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{file}"
    hrefs = [a.get("href") or "" for a in parse(built_html / (page + ".html")).anchors]
    colab = [h for h in hrefs if "colab.research.google.com" in h]
    assert colab, f"{page}.html has no Colab link"
    assert set(colab) == {expected}, f"{page}.html Colab link(s) {colab} != {expected}"
    assert (ROOT / file).is_file(), f"the Colab link points to {file}, which is not in the repository"


def test_missing_widget_javascript_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(BUILD_SCRIPT.parent))
    try:
        import build_book
    finally:
        sys.path.remove(str(BUILD_SCRIPT.parent))
    monkeypatch.setattr(build_book, "NODE_MODULES", tmp_path / "node_modules")
    with pytest.raises(build_book.MissingDependency, match=r"npm ci.*make book"):
        build_book.widget_sources()
    assert build_book.main(["--path-output", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_no_broken_internal_links_or_images(built_html: Path) -> None:
    """Every link and picture that points inside the book leads somewhere real.

    Checked on every page of the table of contents: the target file exists and,
    for links with a #fragment, the target page has an element with that id.
    """
    parsed: dict[Path, _Tags] = {}

    def tags(path: Path) -> _Tags:
        if path not in parsed:
            parsed[path] = parse(path)
        return parsed[path]

    broken: list[str] = []
    checked = 0
    for page_name in toc_files():
        page = built_html / (page_name + ".html")
        found = tags(page)
        targets = [("a", a.get("href")) for a in found.anchors] + \
                  [("img", i.get("src")) for i in found.images] + \
                  [("link", l.get("href")) for l in found.links if "stylesheet" in (l.get("rel") or "")]
        for kind, url in targets:
            if not url or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            parts = urlparse(url)
            if parts.scheme or parts.netloc:
                continue
            checked += 1
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page_name}: <{kind}> {url} -> no file {target}")
                continue
            fragment = unquote(parts.fragment)
            if kind == "a" and fragment and target.suffix == ".html" and fragment not in tags(target).ids:
                broken.append(f"{page_name}: <a href={url!r}> -> no element with id {fragment!r}")
    assert checked > 50, f"only {checked} internal links found: is the parser still seeing the pages?"
    assert not broken, f"{len(broken)} broken internal link(s) or image(s):\n  " + "\n  ".join(broken[:40])


@pytest.mark.parametrize("page", notebook_pages())
def test_every_quiz_has_its_answer_readable_on_the_page(built_html: Path, page: str) -> None:
    """Each quiz() of a chapter appears on the page with a folded, plain-HTML answer."""
    import nbformat

    source = source_of(page)
    nb = nbformat.read(source, as_version=4)
    quizzes = sum(len(re.findall(r"^\s*quiz\(", c.source, flags=re.M)) for c in nb.cells if c.cell_type == "code")
    assert quizzes >= 1, f"{page}: every chapter has a quiz"
    text = (built_html / (page + ".html")).read_text(encoding="utf-8")
    answers = text.count('<details class="quiz-answer">')
    assert answers == quizzes, f"{page}: {quizzes} quizzes but {answers} folded answers on the page"
