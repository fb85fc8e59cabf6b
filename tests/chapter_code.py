"""Run a chapter's own widget code in the tests, without running the chapter.

A chapter keeps its own widget in one code cell (``def some_viewer(...)``),
built from the companion's frame viewer and plotting primitives. The tests
take that cell from the notebook, run it with the chapter's import cell, and
then call the function on small inputs, set the control and check the effect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BOOK = Path(__file__).resolve().parent.parent / "book"


def _cells(chapter: str, kind: str) -> list[str]:
    matches = sorted(BOOK.glob(f"{chapter}_*.ipynb"))
    assert len(matches) == 1, f"no single notebook for {chapter} in {BOOK}"
    nb = json.loads(matches[0].read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == kind]


def check_exercises(chapter: str, at_least: int) -> None:
    """At least `at_least` exercises, two or more of them asking for a prediction first, and
    one closed dropdown with the answer in words per exercise (the code solutions are hidden cells)."""
    cells = _cells(chapter, "markdown")
    start = next(i for i, s in enumerate(cells) if s.startswith("## Exercises"))
    text = "\n".join(cells[start:])
    exercises = text.count("**Exercise ")
    assert exercises >= at_least
    assert text.count("**Predict first:**") >= 2
    assert text.count(":::{dropdown}") == exercises


def chapter_functions(chapter: str, *names: str) -> dict[str, Any]:
    """The namespace after running the chapter's import cell and the cells defining ``names``.

    Example: ``chapter_functions("ch06", "rate_viewer")["rate_viewer"]``.
    The import cell is the first code cell after the set-up cell whose lines
    all import something (the one every chapter starts its lesson with).
    """
    cells = _cells(chapter, "code")
    imports = next(src for src in cells[1:] if src.strip() and all(
        line.startswith(("import ", "from ", " ", ")")) or not line.strip() or line.startswith("#")
        for line in src.splitlines()))
    namespace: dict[str, Any] = {"__name__": f"{chapter}_widgets"}
    exec(compile(imports, f"{chapter}:imports", "exec"), namespace)
    for name in names:
        defining = [src for src in cells if f"def {name}(" in src]
        assert len(defining) == 1, f"{chapter}: expected one cell defining {name}(), found {len(defining)}"
        exec(compile(defining[0], f"{chapter}:{name}", "exec"), namespace)
    return namespace
