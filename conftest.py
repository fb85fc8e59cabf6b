"""Test-session settings shared by the unit tests and nbval.

Notebooks run in fast mode (small data), and their recorded figures go to a
temporary folder, so a test run never changes the committed results or any
other file of the working tree.

``make test`` runs the suite on several workers (pytest-xdist,
``--dist loadfile``): every file stays on one worker, as nbval needs for the
cells of a notebook and the browser tests for their shared build.
"""

import os
import tempfile


def pytest_configure(config):
    os.environ["COMPANION_FAST"] = "1"
    os.environ["COMPANION_RESULTS_DIR"] = tempfile.mkdtemp(prefix="companion-results-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # One TensorFlow thread per process (this one, and every kernel it starts):
    # the suite runs one worker per core, and workers that each start a thread
    # per core fight over the cores (half the CPU time went to the system when
    # two kernels did so). Fast-mode figures are not recorded, so the thread
    # count changes nothing the book shows.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
