"""Test-session settings shared by the unit tests and nbval.

Notebooks run in fast mode (small data), and their recorded figures go to a
temporary folder, so a test run never changes the committed results or any
other file of the working tree.
"""

import os
import tempfile


def pytest_configure(config):
    os.environ["COMPANION_FAST"] = "1"
    os.environ["COMPANION_RESULTS_DIR"] = tempfile.mkdtemp(prefix="companion-results-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
