"""Read the figures a chapter's full run recorded in book/results/<chapter>.json.

Shared by tests/test_notebooks.py (stamps and provenance of every chapter) and
the band tests of each chapter (tests/test_chNN.py).
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "book" / "results"


def results_of(chapter: str) -> dict:
    """The whole results file of a chapter, e.g. ``results_of("ch01")``."""
    path = RESULTS / f"{chapter}.json"
    assert path.is_file(), f"no recorded figures for {chapter}: run make execute"
    return json.loads(path.read_text())


def fig(chapter: str, name: str) -> float:
    """One recorded figure's value, e.g. ``fig("ch01", "logreg_cv_accuracy")``."""
    figures = results_of(chapter)["figures"]
    assert name in figures, f"{chapter} did not record {name!r}"
    return figures[name]


def apart(chapter: str, a: str, b: str) -> bool:
    """Every seed of figure ``a`` below every seed of figure ``b``: the recorded ``<a>_high``
    is under ``<b>_low``. The book's rule for "lower" (``Spread.beats`` the other way round)."""
    return fig(chapter, f"{a}_high") < fig(chapter, f"{b}_low")


def overlap(chapter: str, a: str, b: str) -> bool:
    """The seeds' ranges of ``a`` and ``b`` overlap: "no difference we can measure"."""
    return not apart(chapter, a, b) and not apart(chapter, b, a)
