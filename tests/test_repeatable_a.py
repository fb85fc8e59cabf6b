"""Restart and run all, twice (odd-numbered chapters; see tests/repeatable.py).

The chapters are split over two files so that ``make test`` runs them on two
workers (pytest-xdist ``--dist loadfile`` keeps each file on one worker).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repeatable import NOTEBOOKS, check_runs_twice, sanitize


@pytest.mark.parametrize("path", NOTEBOOKS[0::2], ids=lambda p: p.stem)
def test_notebook_runs_twice_with_the_same_outputs(path: Path) -> None:
    first = check_runs_twice(path)
    print(f"{path.name}: first run by {first}")  # nbval (its run in this session) or own


def test_sanitizing_keeps_numbers_that_matter() -> None:
    """The comparison cannot pass by blanking everything: accuracies survive."""
    line = "1500/1500 - 3s - 2ms/step - accuracy: 0.8123 - loss: 0.5213"
    assert sanitize(line) == "1500/1500 - <time> - <time> - accuracy: 0.8123 - loss: 0.5213"
    assert sanitize("val 0.8123") != sanitize("val 0.8124")


def test_split_stream_messages_compare_equal() -> None:
    """Printed text cut into different stream messages is the same output."""
    import nbformat

    from repeatable import outputs_of

    def nb_with(*pieces):
        cell = nbformat.v4.new_code_cell("print(...)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in pieces]
        return nbformat.v4.new_notebook(cells=[cell])

    assert outputs_of(nb_with("a\nb\n")) == outputs_of(nb_with("a\n", "b\n"))
    assert outputs_of(nb_with("a\nb\n")) != outputs_of(nb_with("a\n", "c\n"))
