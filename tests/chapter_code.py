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


def _code_cells(chapter: str) -> list[str]:
    matches = sorted(BOOK.glob(f"{chapter}_*.ipynb"))
    assert len(matches) == 1, f"no single notebook for {chapter} in {BOOK}"
    nb = json.loads(matches[0].read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def chapter_functions(chapter: str, *names: str) -> dict[str, Any]:
    """The namespace after running the chapter's import cell and the cells defining ``names``.

    Example: ``chapter_functions("ch06", "rate_viewer")["rate_viewer"]``.
    The import cell is the first code cell after the set-up cell whose lines
    all import something (the one every chapter starts its lesson with).
    """
    cells = _code_cells(chapter)
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
