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
    check_runs_twice(path)
