"""The whole book as one PDF (tools/build_pdf.py, ``make pdf``): built offline, one outline
entry and a page range per chapter and appendix, Korean glyphs present, widgets printed as
their first frame with a line saying what they do online."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    from tools import build_pdf
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    info = build_pdf.build(out)
    return pypdf.PdfReader(out), info


def _chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "book").glob("ch[0-9][0-9]_*.ipynb"))


def test_every_chapter_and_appendix_has_its_own_page_range(pdf):
    reader, _ = pdf
    top = [(x.title, reader.get_destination_page_number(x) + 1)
           for x in reader.outline[1] if not isinstance(x, list)] if isinstance(reader.outline[1], list) else []
    numbered = [(int(m.group(1)), page) for title, page in top if (m := re.match(r"(\d{1,2})\. \D", title))]
    assert [n for n, _ in numbered] == list(range(1, len(_chapters()) + 1)), \
        f"outline chapters: {[t for t, _ in top]}"
    pages = [p for _, p in numbered]
    assert pages == sorted(pages) and len(set(pages)) == len(pages), "chapters start on pages of their own, in order"
    titles = [t for t, _ in top]
    from tools.build_pdf import appendix_titles
    for appendix in appendix_titles():
        assert any(t.replace(" ", "") == appendix.replace(" ", "") for t in titles), f"no outline entry for {appendix!r}"
    assert len(reader.pages) > pages[-1] > pages[0] >= 1


def test_korean_glyphs_and_widget_fallbacks_are_printed(pdf):
    reader, info = pdf
    glossary = next(i for i, page in enumerate(reader.pages) if "Glossary" in (page.extract_text() or "")[:400])
    assert "정확도" in reader.pages[glossary + 1].extract_text() + reader.pages[glossary].extract_text()
    # Every text fallback the chapters' outputs carry (a widget's first frame and what it does,
    # a quiz's question and options) is printed in place of the widget.
    stored = sum((ROOT / "book" / f"{c}.ipynb").read_text().count("<noscript>") for c in _chapters())
    assert stored >= 1 and info["fallbacks"] >= stored, (info["fallbacks"], stored)
    text = "".join((reader.pages[i].extract_text() or "") for i in range(len(reader.pages)))
    assert "needs JavaScript" in text
