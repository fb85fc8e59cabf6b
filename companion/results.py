"""A chapter's comparison with its sources, and the figures its full run records.

Two steps, in two places of a chapter:

- The section "Reproducing the sources" builds its table in the lesson with
  :func:`compare_with_sources`: one row per experiment, the source's figure
  beside ours, both taken from variables the notebook computed.
- One hidden cell at the chapter's end calls :func:`record` with every figure
  the tests and the reproduction report need. When ``COMPANION_RESULTS_DIR``
  is set (the full-run tool sets it to ``book/results``) they are written to
  ``<dir>/<chapter>.json``; otherwise nothing is written.
"""

from __future__ import annotations

import html
import json
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _validate
from .settings import settings

__all__ = ["compare_with_sources", "record"]

_COLUMNS = ("experiment", "source", "source_figure", "ours", "note")


def _show(value: Any) -> str:
    """A figure as the table prints it: 4 decimals, integers with separators, words as words."""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) or float(value).is_integer() and abs(value) >= 10:
        return f"{int(value):,}"
    return f"{float(value):.4f}"


class SourceTable:
    """Rows of (experiment, source, source's figure, ours, note); shown as a table.

    Build it with :func:`compare_with_sources`. ``rows`` is a list of dicts
    with the keys ``experiment``, ``source``, ``source_figure``, ``ours``, ``note``.
    """

    def __init__(self, rows: list[dict[str, Any]], fast: bool):
        self.rows, self.fast = rows, fast

    def to_markdown(self) -> str:
        """The table in Markdown (the reproduction report gathers every chapter's)."""
        def cell(text: Any) -> str:
            return _show(text).replace("|", "\\|").replace("\n", " ")
        out = ["| Experiment | Source | Source's figure | Ours | Note |", "|---|---|---:|---:|---|"]
        out += [f"| {cell(r['experiment'])} | {cell(r['source'])} | {cell(r['source_figure'])} | "
                f"{cell(r['ours'])} | {cell(r['note'])} |" for r in self.rows]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r['experiment'])}</td><td>{html.escape(r['source'])}</td>"
            f"<td>{html.escape(_show(r['source_figure']))}</td><td><b>{html.escape(_show(r['ours']))}</b></td>"
            f"<td>{html.escape(r['note'])}</td></tr>" for r in self.rows)
        warn = ("<p><b>Fast mode:</b> these figures come from a small subset of the data "
                "and are not comparable with the sources.</p>") if self.fast else ""
        return (warn + "<table><thead><tr><th>experiment</th><th>source</th><th>source's figure</th>"
                "<th>ours</th><th>note</th></tr></thead><tbody>" + cells + "</tbody></table>")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.to_markdown())


def _figure(name: str, value: Any) -> float | str:
    if isinstance(value, str):
        return _validate.check_str(name, value)
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # NumPy scalars and 1-element arrays
        value = value.item()
    return _validate.check_float(name, value)


def compare_with_sources(rows: Sequence[Sequence[Any]]) -> SourceTable:
    """Show a chapter's figures beside the figures its sources reported.

    Parameters
    ----------
    rows : sequence of 5-tuples
        ``(experiment, source, source_figure, ours, note)``: what was
        measured, which source (e.g. ``"001"``), the source's figure, ours, and
        a note saying whether the two are comparable (same data and settings)
        or only the direction of an effect is (e.g. MNIST against
        Fashion-MNIST). Figures are finite numbers or words such as "yes".

    Returns
    -------
    SourceTable
        Displays as a table; pass it to :func:`record` for the reproduction report.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``rows`` is empty or a row is not five entries of the kinds above.

    Examples
    --------
    >>> t = compare_with_sources([("validation accuracy", "001", 0.8430, 0.8458, "same data")])
    >>> t.rows[0]["ours"]
    0.8458
    """
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise _validate.fail_type("rows", rows, "a non-empty list of (experiment, source, "
                                  "source_figure, ours, note) tuples")
    table = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != 5:
            raise _validate.fail_value(f"rows[{i}]", row, "a tuple (experiment, source, source_figure, ours, note)")
        experiment, source, theirs, ours, note = row
        table.append({"experiment": _validate.check_str(f"rows[{i}] experiment", experiment),
                      "source": _validate.check_str(f"rows[{i}] source", source),
                      "source_figure": _figure(f"rows[{i}] source_figure", theirs),
                      "ours": _figure(f"rows[{i}] ours", ours),
                      "note": _validate.check_str(f"rows[{i}] note", note, nonempty=False)})
    return SourceTable(table, settings.fast)


def record(chapter: str, figures: Mapping[str, Any], *, sources: SourceTable | None = None) -> Path | None:
    """Record a chapter's figures for the tests and the reproduction report.

    Parameters
    ----------
    chapter : str
        Short chapter id, e.g. ``"ch01"`` (letters, digits, ``_`` and ``-``).
    figures : mapping of str to float
        Every figure the chapter's claims rest on, by name (finite numbers).
    sources : SourceTable, optional
        The chapter's comparison with its sources (:func:`compare_with_sources`).

    Returns
    -------
    pathlib.Path or None
        The file written, or None when ``COMPANION_RESULTS_DIR`` is not set.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``chapter`` is not such an id, a figure is not a finite number, or
        ``sources`` is not a SourceTable.

    Examples
    --------
    >>> record("ch01", {"val_accuracy": 0.8458}) is None  # without COMPANION_RESULTS_DIR
    True
    """
    chapter = _validate.check_str("chapter", chapter)
    if not all(c.isalnum() or c in "_-" for c in chapter):
        raise _validate.fail_value("chapter", chapter, "letters, digits, '_' and '-' only (e.g. 'ch01')")
    if not isinstance(figures, Mapping) or not figures:
        raise _validate.fail_type("figures", figures, 'a non-empty dict of figures, e.g. {"val_accuracy": 0.85}')
    values = {}
    for name, value in figures.items():
        name = _validate.check_str("figures key", name)
        value = _figure(f"figures[{name!r}]", value)
        if isinstance(value, str):
            raise _validate.fail_type(f"figures[{name!r}]", value, "a finite number")
        values[name] = value
    if sources is not None and not isinstance(sources, SourceTable):
        raise _validate.fail_type("sources", sources, "the table compare_with_sources() returned, or None")
    if settings.results_dir is None:
        return None
    path = settings.results_dir / f"{chapter}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"chapter": chapter, "fast": settings.fast, "figures": values,
            "sources": sources.rows if sources is not None else []}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path
