"""Restart and run all, twice (even-numbered chapters; see tests/repeatable.py).

The chapters are split over two files so that ``make test`` runs them on two
workers (pytest-xdist ``--dist loadfile`` keeps each file on one worker).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repeatable import NOTEBOOKS, check_runs_twice, sanitize


@pytest.mark.parametrize("path", NOTEBOOKS[1::2], ids=lambda p: p.stem)
def test_notebook_runs_twice_with_the_same_outputs(path: Path) -> None:
    first = check_runs_twice(path)
    print(f"{path.name}: first run by {first}")  # nbval (its run in this session) or own


def _tiny(tmp_path, code):
    import nbformat

    path = tmp_path / "ch99_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    return path


def _record(folder, path, *texts):
    import json

    outs = [[{"output_type": "stream", "name": "stdout", "text": t}] for t in texts]
    (folder / f"{path.stem}.json").write_text(json.dumps({"notebook": str(path), "cells": outs}))


def test_nbvals_run_is_the_first_run_and_a_difference_fails(tmp_path, monkeypatch) -> None:
    """nbval's run stands in for the first run when it agrees; otherwise two runs of our own must agree."""
    folder = tmp_path / "nbval"
    folder.mkdir()
    monkeypatch.setenv("COMPANION_NBVAL_OUTPUTS", str(folder))
    path = _tiny(tmp_path, "print(6 * 7)")
    _record(folder, path, "42\n")
    assert check_runs_twice(path) == "nbval"
    _record(folder, path, "41\n")                      # nbval saw something else: run it twice ourselves
    assert check_runs_twice(path) == "own"
    noisy = _tiny(tmp_path, "import random\nprint(random.random())")
    with pytest.raises(AssertionError, match="other outputs the second time"):
        check_runs_twice(noisy)


def test_a_record_of_another_notebook_or_shape_is_not_used(tmp_path, monkeypatch) -> None:
    from repeatable import nbval_run

    folder = tmp_path / "nbval"
    folder.mkdir()
    monkeypatch.setenv("COMPANION_NBVAL_OUTPUTS", str(folder))
    path = _tiny(tmp_path, "print(1)")
    assert nbval_run(path) is None                      # no record: the test runs the chapter twice
    _record(folder, path, "1\n", "2\n")                 # two cells recorded, the notebook has one
    assert nbval_run(path) is None
    _record(folder, tmp_path / "elsewhere" / path.name, "1\n")
    assert nbval_run(path) is None
    _record(folder, path, "1\n")
    assert nbval_run(path).cells[0].outputs[0]["text"] == "1\n"


def test_a_chapter_nbval_is_still_running_is_waited_for(tmp_path, monkeypatch) -> None:
    import threading

    from repeatable import nbval_run

    folder = tmp_path / "nbval"
    folder.mkdir()
    monkeypatch.setenv("COMPANION_NBVAL_OUTPUTS", str(folder))
    path = _tiny(tmp_path, "print(1)")
    (folder / f"{path.stem}.running").write_text("")
    assert nbval_run(path, wait=2) is None              # never finished: give up, run it ourselves
    timer = threading.Timer(1.5, _record, (folder, path, "1\n"))
    timer.start()
    assert nbval_run(path, wait=30).cells[0].outputs[0]["text"] == "1\n"
    timer.join()
