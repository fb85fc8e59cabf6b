"""Test-session settings shared by the unit tests and nbval.

- Notebooks run in fast mode (small data), and the figures they record go to
  a temporary folder, so a test run never changes the committed results.
- Kernels get the maintainers' speed settings (``tools/ipython``, see the
  startup file there), exactly as the full-run tool gives them; a learner's
  kernel never does.
- One TensorFlow thread per process: ``make test`` runs one worker per core
  (pytest-xdist, ``--dist loadfile``: every file stays on one worker, as nbval
  needs for the cells of a notebook), and workers that each start a thread per
  core fight over the cores.
- A chapter writes only to temporary folders: the session fails if a run
  leaves a new file in ``book/``.
- The longest files are scheduled first (the notebooks, then the browser,
  tools and bootstrap tests), so the many short files even out the workers
  at the end.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def _git_status() -> str | None:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "book"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
        return "".join(line + "\n" for line in out.splitlines() if line.startswith("??"))  # new files
    except (OSError, subprocess.CalledProcessError):
        return None


def pytest_configure(config):
    os.environ["COMPANION_FAST"] = "1"
    os.environ["COMPANION_RESULTS_DIR"] = tempfile.mkdtemp(prefix="companion-results-")
    os.environ["IPYTHONDIR"] = str(ROOT / "tools" / "ipython")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers)
        config._companion_git_status = _git_status()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_companion_git_status", None)
    after = _git_status() if before is not None else None
    if before is not None and after != before:
        changed = sorted(set(after.splitlines()) ^ set(before.splitlines()))
        print("\nThe test run changed the working tree (a chapter must write only to temporary "
              "folders):\n  " + "\n  ".join(changed))
        session.exitstatus = 1


# Test files that take longest (measured with --durations), started right after the notebooks.
LONG_FILES = ("test_browser.py", "test_tools.py", "test_reliability.py", "test_bootstrap.py", "test_book.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        name = Path(str(item.fspath)).name
        return 0 if name.endswith(".ipynb") else 1 if name in LONG_FILES else 2

    items[:] = sorted(items, key=rank)  # stable: the order within each group stays


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test starts with no open matplotlib figure (widget tests draw many)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
