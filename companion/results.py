"""Record a chapter's headline figures and show them beside the sources'.

A notebook makes one :class:`Results` object, records each figure it computes
(``results.record(...)``) and ends with ``results.table()``, the
"Reproducing the sources" table. When ``COMPANION_RESULTS_DIR`` is set (the
full-run command sets it to ``book/results``), every record is also written to
``<dir>/<chapter>.json``; the tests read those files and check each figure
against the band the chapter's claims allow.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import _validate
from .settings import settings

__all__ = ["Figure", "Results", "load_results"]


@dataclass
class Figure:
    """One recorded figure: our value, the source's (if any) and a note.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``name`` or ``label`` is not a non-empty string, ``value`` (or
        ``source``, unless None) not a finite number, or ``source_label`` or
        ``note`` not a string.
    """

    name: str
    value: float
    label: str
    source: float | None = None
    source_label: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        self.name = _validate.check_str("name", self.name)
        self.value = _validate.check_float("value", self.value)
        self.label = _validate.check_str("label", self.label)
        if self.source is not None:
            self.source = _validate.check_float("source", self.source)
        self.source_label = _validate.check_str("source_label", self.source_label, nonempty=False)
        self.note = _validate.check_str("note", self.note, nonempty=False)


class Results:
    """The headline figures of one chapter.

    Parameters
    ----------
    chapter : str
        Short chapter id, e.g. ``"ch01"`` (letters, digits, ``_`` and ``-``).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``chapter`` is not such an id.

    Examples
    --------
    >>> r = Results("ch01")
    >>> r.record("val_accuracy", 0.8458, label="one-layer network, validation accuracy",
    ...          source=0.8430, source_label="001")
    0.8458
    """

    def __init__(self, chapter: str):
        chapter = _validate.check_str("chapter", chapter)
        if not all(c.isalnum() or c in "_-" for c in chapter):
            raise _validate.fail_value("chapter", chapter, "letters, digits, '_' and '-' only (e.g. 'ch01')")
        self.chapter = chapter
        self.figures: dict[str, Figure] = {}
        self.fast = settings.fast
        self.path = None if settings.results_dir is None else settings.results_dir / f"{chapter}.json"
        self._save()  # start the file afresh: figures come from one run

    def record(self, name: str, value: Any, *, label: str, source: float | None = None,
               source_label: str = "", note: str = "") -> float:
        """Record one figure and return it.

        Parameters
        ----------
        name : str
            Key used by the tests, e.g. ``"logreg_cv_accuracy"``.
        value : float
            The figure this run measured (finite).
        label : str
            What it is, in words, for the table.
        source : float, optional
            The figure the source reported for the same experiment.
        source_label : str, optional
            Which source, e.g. ``"001"``.
        note : str, optional
            An honest word on any difference.

        Returns
        -------
        float
            ``value``, so a notebook can record and use a figure in one line.
        """
        name = _validate.check_str("name", name)
        value = _validate.check_float("value", _scalar(value))
        label = _validate.check_str("label", label)
        if source is not None:
            source = _validate.check_float("source", _scalar(source))
        for arg, text in (("source_label", source_label), ("note", note)):
            if not isinstance(text, str):
                raise _validate.fail_type(arg, text, "a string")
        self.figures[name] = Figure(name, value, label, source, source_label, note)
        self._save()
        return value

    def __getitem__(self, name: str) -> float:
        return self.figures[name].value

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"chapter": self.chapter, "fast": self.fast,
                "figures": {k: asdict(v) for k, v in self.figures.items()}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, self.path)

    def table(self) -> "_Table":
        """The "Reproducing the sources" table of every figure with a source value."""
        rows = [f for f in self.figures.values() if f.source is not None]
        if not rows:
            raise _validate.fail_value("results", "no figures with a source value",
                                       "at least one record(..., source=...) before table()")
        return _Table(rows, self.fast)


def _scalar(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.size == 1:
            return value.item()
        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    return value


class _Table:
    def __init__(self, rows: list[Figure], fast: bool):
        self.rows, self.fast = rows, fast

    @staticmethod
    def _fmt(v: float) -> str:
        return f"{v:.4f}" if abs(v) < 10 else f"{v:,.0f}"

    def __str__(self) -> str:
        out = ["experiment | source | ours | difference | note"]
        for f in self.rows:
            out.append(f"{f.label} | {self._fmt(f.source)} ({f.source_label}) | {self._fmt(f.value)} | "
                       f"{f.value - f.source:+.4f} | {f.note}")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        cells = []
        for f in self.rows:
            diff = f.value - f.source
            cells.append(
                f"<tr><td>{html.escape(f.label)}</td>"
                f"<td>{self._fmt(f.source)} <small>({html.escape(f.source_label)})</small></td>"
                f"<td><b>{self._fmt(f.value)}</b></td><td>{diff:+.4f}</td>"
                f"<td>{html.escape(f.note)}</td></tr>")
        warn = ("<p><b>Fast mode:</b> these figures come from a small subset of the data "
                "and are not comparable with the sources.</p>") if self.fast else ""
        return (warn + "<table><thead><tr><th>experiment</th><th>source</th><th>ours</th>"
                "<th>difference</th><th>note</th></tr></thead><tbody>" + "".join(cells)
                + "</tbody></table>")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results file written during a run.

    Parameters
    ----------
    path : str or path-like
        A ``<chapter>.json`` file.

    Returns
    -------
    dict
        ``{"chapter", "fast", "figures": {name: {...}}, ...}``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``path`` is not a path, names no file, or the file is not a results
        file with finite values.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise _validate.fail_type("path", path, "the path of a results file (a str or pathlib.Path)")
    p = Path(path)
    if not p.is_file():
        raise _validate.fail_value("path", str(path), "an existing results file (run the chapter first)")
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):  # unreadable, not UTF-8, not JSON
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
        raise _validate.fail_value("path", str(path), "a results file written by companion.results")
    for fig in data["figures"].values():
        value = fig.get("value") if isinstance(fig, dict) else None
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not math.isfinite(value))):
            raise _validate.fail_value("path", str(path), "a results file with finite values")
    return data
