#!/usr/bin/env python3
"""Build the whole book as one PDF, offline (``make pdf``).

    python tools/build_pdf.py                  # -> _build/pdf/book.pdf
    python tools/build_pdf.py --output x.pdf   # elsewhere

How: Jupyter Book's ``singlehtml`` builder writes every page of ``_toc.yml``
into one HTML page (from the committed outputs; nothing is executed). Headless
Chromium opens it from a local server with the network cut off, waits for the
formulas to be typeset, puts each widget's first frame and the line saying what
it does online in place of the widget (the same fallback a reader with
JavaScript off sees), and prints the page to A4 with a document outline (one
entry per chapter and section) and page numbers. Code keeps its lines whole:
the chapters' code is formatted to 75 characters, which fit the printed column.

Needs what ``make book`` needs, plus Chromium (``tools/system-deps.sh chromium``)
and, for the Korean glossary, a CJK font (``fonts-noto-cjk``, installed by
``tools/system-deps.sh fonts``).
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.build_book import MissingDependency, jupyter_book, sync_widget_js  # noqa: E402

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html, body { background: white !important; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-content, .prev-next-area, .header-article-items, #pst-back-to-top, .headerlink,
.toggle-details__summary, .copybtn, .bd-search, dialog, .skip-link, .pst-js-only,
.widget-subarea, .jupyter-widgets, .cell_output .widget-view { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width, .bd-container,
.bd-container__inner { max-width: none !important; width: auto !important; padding: 0 !important;
  margin: 0 !important; display: block !important; }
body { font-size: 10.5pt; }
pre, pre code { white-space: pre-wrap !important; word-break: normal; overflow-wrap: anywhere;
  font-size: 8.6pt !important; }
img { max-width: 100% !important; height: auto !important; break-inside: avoid; }
figure, .cell_output img, table { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
.print-chapter-start { break-before: page; }
details.quiz-answer { border: 1px solid #ccc; }
/* Folded cells (set-up, widget definitions, exercise solutions) stay folded in print:
   a closed <details> prints nothing of its content, and its toggle text goes too. */
details.hide > summary, .toggle-details__summary { display: none !important; }
"""

# Each <noscript> fallback (a widget's first frame and what it does; a quiz's question
# and options) becomes part of the page; the widgets themselves are hidden by PRINT_CSS.
UNFOLD_FALLBACKS_JS = """(appendices) => {
  // Every chapter ("6. Dropout", not "6.1. Set-up") and appendix starts a new page.
  for (const h of Array.from(document.querySelectorAll('article h1, article h2, article h3, article h4'))) {
    const title = h.textContent.replace(/#$/, '').trim();
    if (/^\\d{1,2}\\. \\D/.test(title) || appendices.includes(title)) h.classList.add('print-chapter-start');
  }
  let n = 0;
  for (const ns of Array.from(document.querySelectorAll('noscript'))) {
    const div = document.createElement('div');
    div.className = 'print-fallback';
    div.innerHTML = ns.textContent;
    ns.replaceWith(div);
    n += 1;
  }
  return n;
}"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def build_singlehtml(out: Path) -> Path:
    command = jupyter_book()
    sync_widget_js()
    cmd = [*command, "build", str(ROOT), "--builder", "singlehtml", "--path-output", str(out),
           "--keep-going", "-q"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    page = out / "_build" / "singlehtml" / "book" / "intro.html"
    if result.returncode != 0 or not page.is_file():
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
        raise SystemExit("build_pdf: the single-page HTML build failed")
    return page


def chromium() -> str:
    import os
    import shutil

    path = os.environ.get("COMPANION_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SystemExit("build_pdf: Chromium not found; run tools/system-deps.sh chromium "
                         "or set COMPANION_CHROMIUM")
    return path


def appendix_titles() -> list[str]:
    """The first heading of each appendix page (book/appendix/*.md)."""
    titles = []
    for md in sorted((ROOT / "book" / "appendix").glob("*.md")):
        first = next((line for line in md.read_text().splitlines() if line.startswith("# ")), None)
        if first:
            titles.append(first[2:].strip())
    return titles


def render(html_root: Path, page: str, output: Path) -> dict:
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html_root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context(viewport={"width": 1000, "height": 1400})
            view = context.new_page()
            view.set_default_timeout(300_000)
            # The network is cut off but for this server.
            view.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                       or route.request.url.startswith("data:") else route.abort())
            view.goto(base + page, wait_until="load")
            view.wait_for_function("() => !window.MathJax || !MathJax.startup || "
                                   "MathJax.startup.promise !== undefined", timeout=60_000)
            view.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
            fallbacks = view.evaluate(UNFOLD_FALLBACKS_JS, appendix_titles())
            view.add_style_tag(content=PRINT_CSS)
            view.emulate_media(media="print")
            output.parent.mkdir(parents=True, exist_ok=True)
            view.pdf(path=str(output), format="A4", print_background=True, outline=True, tagged=True,
                     display_header_footer=True,
                     header_template="<span></span>",
                     footer_template='<div style="font-size:8px;width:100%;text-align:center;color:#666">'
                                     '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                     margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"fallbacks": fallbacks}


def build(output: Path) -> dict:
    """Build the PDF at ``output``; return its size, page count and how many fallbacks it printed."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="book_pdf_") as tmp:
        page = build_singlehtml(Path(tmp))
        # Sphinx writes the page's links relative to the output root (_static/,
        # _images/), whatever folder the root document sits in: print it from there.
        html_root = page.parent.parent
        (html_root / "book.html").write_text(page.read_text())
        info = render(html_root, "book.html", output)
    return {**info, "bytes": output.stat().st_size, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "pdf" / "book.pdf")
    args = parser.parse_args(argv)
    try:
        info = build(args.output)
    except MissingDependency as exc:
        print(f"build_pdf: {exc}", file=sys.stderr)
        return 2
    print(f"build_pdf: {args.output} ({info['bytes'] / 1e6:.1f} MB; {info['fallbacks']} widgets and "
          f"quizzes printed as their text fallback) in {info['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
