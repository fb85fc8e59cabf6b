"""Test-session settings shared by the unit tests and nbval.

Notebooks run in fast mode (small data), and their recorded figures go to a
temporary folder, so a test run never changes the committed results or any
other file of the working tree.

``make test`` runs the suite on several workers (pytest-xdist,
``--dist loadgroup``). Every test file is kept together on one worker, as
nbval needs for the cells of a notebook and the browser tests for their
shared build, unless a test names its own group (tests/test_repeatable.py
gives each notebook one, so the notebooks spread over the workers).
"""

import os
import tempfile

import pytest


def pytest_configure(config):
    os.environ["COMPANION_FAST"] = "1"
    os.environ["COMPANION_RESULTS_DIR"] = tempfile.mkdtemp(prefix="companion-results-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
