"""Test-session settings shared by the unit tests and nbval.

Notebooks run in fast mode (small data), and their recorded figures go to a
temporary folder, so a test run never changes the committed results or any
other file of the working tree.

``make test`` runs the suite on several workers (pytest-xdist,
``--dist loadfile``): every file stays on one worker, as nbval needs for the
cells of a notebook and the browser tests for their shared build.

nbval's run of a chapter is also the first of the two runs that
``tests/test_repeatable_*.py`` compare ("Restart and run all, twice"): the
outputs of every cell are kept in a folder shared by the workers, and the
repeatability test runs the chapter once more instead of twice. Notebooks are
scheduled first (``pytest_collection_modifyitems`` below) so that their nbval
runs are done or under way by then (the test waits for one under way); when
one failed, or nbval was not part of the run, the test runs the chapter twice
itself.
"""

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

NBVAL_OUTPUTS = "COMPANION_NBVAL_OUTPUTS"
_runs: dict[str, dict] = {}


def _shared_folder(run_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"companion-nbval-{run_id}"


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
    # One folder for nbval's outputs, shared by all workers of this test run.
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker: the run's id comes from the controller
        folder = _shared_folder(workerinput["testrunuid"])
        folder.mkdir(exist_ok=True)
    else:  # the controller, or a run without workers
        run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run_id  # xdist hands this id to its workers
        folder = config._companion_nbval_folder = _shared_folder(run_id)
        folder.mkdir(exist_ok=True)
        # The working tree as the session found it: a chapter run by nbval must
        # leave it so, which the repeatability test checks after its own run.
        try:
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                                    cwd=Path(__file__).parent, capture_output=True, text=True, check=True).stdout
            (folder / "git_status.txt").write_text(status)
        except (OSError, subprocess.CalledProcessError):
            pass
    os.environ[NBVAL_OUTPUTS] = str(folder)


def pytest_unconfigure(config):
    folder = getattr(config, "_companion_nbval_folder", None)
    if folder is not None:  # the process that made the run's id removes the folder
        shutil.rmtree(folder, ignore_errors=True)


def _is_nbval_cell(item) -> bool:
    return hasattr(item, "test_outputs") and hasattr(item, "cell") and str(item.fspath).endswith(".ipynb")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _is_nbval_cell(item):
        return
    report = outcome.get_result()
    if str(item.fspath) not in _runs:  # the notebook's first cell: say that its run is under way
        _marker(item, ".running").write_text("")
    run = _runs.setdefault(str(item.fspath), {"cells": [], "ok": True})
    if call.when == "call":
        run["cells"].append(item.test_outputs or [])
    if report.failed or report.skipped:
        run["ok"] = False


def pytest_runtest_teardown(item, nextitem):
    """After a notebook's last cell: keep its outputs if every cell ran and passed."""
    if not _is_nbval_cell(item) or (nextitem is not None and nextitem.fspath == item.fspath):
        return
    run = _runs.pop(str(item.fspath), None)
    if run and run["ok"]:
        target = _marker(item, ".json")
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"notebook": str(item.fspath), "cells": run["cells"]}))
        os.replace(tmp, target)  # whole, or not at all: another worker may be reading
    _marker(item, ".running").unlink(missing_ok=True)


def _marker(item, suffix: str) -> Path:
    return Path(os.environ[NBVAL_OUTPUTS]) / f"{Path(str(item.fspath)).stem}{suffix}"


def pytest_collection_modifyitems(config, items):
    """Longest first: the notebooks, then the repeatability tests, then everything else.

    Workers take files in this order (``--dist loadfile``). The notebooks and
    the repeatability tests are the longest files; started first, they leave the
    many short test files to even out the workers at the end. The repeatability
    tests also find most of nbval's runs done by then.
    """
    def rank(item):
        path = str(item.fspath)
        if path.endswith(".ipynb"):
            return 0
        return 1 if Path(path).name.startswith("test_repeatable_") else 2

    items[:] = sorted(items, key=rank)  # sorted() is stable: the order within each group stays
