"""Shared by tests/test_repeatable_*.py: run a chapter twice and compare its outputs.

Restart and run all, twice: every chapter gives the same outputs again.

Each notebook is executed twice in fast mode, each time in a fresh kernel, as
a learner who clicks "Restart and run all" twice would. When nbval has already
run the chapter in this test session, its outputs are the first run (conftest.py
keeps them), so only one more run is needed. The two runs must
print the same text, show the same tables and draw the same pictures (times,
temporary folder names and object addresses aside), and leave the working
tree exactly as it was: whatever a chapter writes goes to temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat

from companion.execute import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = toc_notebooks(ROOT)

# What legitimately differs between two runs.
VOLATILE = [
    (re.compile(r"\d+(\.\d+)?\s?(ms|s|us|µs)(/step)?\b"), "<time>"),
    (re.compile(r"\d+(\.\d+)?\s?(seconds|sec)\b"), "<time>"),
    (re.compile(r"IPY_MODEL_[0-9a-f]+"), "IPY_MODEL_<id>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0x<addr>"),
    (re.compile(r"/tmp/[^\s'\")<]+"), "<tmp>"),
    (re.compile(r"\bat \d{4}-\d\d-\d\d[ T][\d:.]+"), "at <date>"),
]


def sanitize(text: str) -> str:
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    return text


def outputs_of(nb) -> list[list[str]]:
    """Per code cell: its outputs as comparable strings (pictures by hash)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        shown = []
        for out in cell.outputs:
            if out.output_type == "stream":
                # The kernel cuts printed text into stream messages at random
                # points in time; join consecutive pieces of the same stream.
                text = f"{out.name}: " + sanitize(out.text)
                if shown and shown[-1].startswith(f"{out.name}: "):
                    shown[-1] += sanitize(out.text)
                else:
                    shown.append(text)
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                for kind in ("text/plain", "text/html", "text/markdown"):
                    if kind in data:
                        shown.append(f"{kind}: " + sanitize(str(data[kind])))
                if "image/png" in data:
                    shown.append("png: " + hashlib.sha256(str(data["image/png"]).encode()).hexdigest())
            elif out.output_type == "error":
                shown.append(f"ERROR {out.ename}: {out.evalue}")
        cells.append(shown)
    return cells


def run_once(path: Path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()   # a fresh kernel each time; COMPANION_FAST=1 comes from conftest.py
    return nb


def nbval_run(path: Path, wait: float = 900.0):
    """The notebook with the outputs of nbval's run in this session, or None if there is none.

    conftest.py writes them only when every cell ran and passed; a record of
    another notebook or with another number of code cells is not used. While
    another worker is still running the chapter under nbval, wait for it (at
    most ``wait`` seconds): that is cheaper than a run of our own.
    """
    folder = os.environ.get("COMPANION_NBVAL_OUTPUTS")
    if not folder:
        return None
    record, running = Path(folder) / f"{path.stem}.json", Path(folder) / f"{path.stem}.running"
    waited = 0.0
    while running.exists() and not record.is_file() and waited < wait:  # nbval is running it on another worker
        time.sleep(1.0)
        waited += 1.0
    if not record.is_file():
        return None
    data = json.loads(record.read_text())
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if Path(data.get("notebook", "")).resolve() != path.resolve() or len(data["cells"]) != len(code):
        return None
    for cell, outputs in zip(code, data["cells"]):
        cell.outputs = [nbformat.from_dict(out) for out in outputs]
    return nb


def git_status() -> str | None:
    try:
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def _differences(first: list, second: list) -> list:
    return [(i, a, b) for i, (a, b) in enumerate(zip(first, second)) if a != b] + (
        [(len(first), "<%d code cells>" % len(first), "<%d code cells>" % len(second))]
        if len(first) != len(second) else [])


def check_runs_twice(path: Path) -> str:
    """Run ``path`` twice in fresh kernels; fail on any difference or file left behind.

    The first run is nbval's when this session has one (see :func:`nbval_run`).
    nbval does not apply display updates (``display(..., display_id=True)``
    followed by ``handle.update(...)``, as chapter 9's live plot does), so when
    its outputs differ from ours the chapter is run a second time here, and the
    two runs of our own must agree. Returns which runs were compared:
    ``"nbval"`` or ``"own"``.
    """
    before = git_status()
    kept = nbval_run(path)
    second = outputs_of(run_once(path))
    first = outputs_of(kept) if kept is not None else None
    used = "nbval"
    if first is None or _differences(first, second):
        used = "own"
        first = outputs_of(run_once(path))
    differing = _differences(first, second)
    report = "\n".join(f"code cell {i}:\n  first:  {a!r:.300}\n  second: {b!r:.300}" for i, a, b in differing[:5])
    assert not differing, f"{path.name}: {len(differing)} code cell(s) gave other outputs the second time:\n{report}"
    after = git_status()
    if used == "nbval":  # nbval's run came before `before`: compare with the session's start
        started = Path(os.environ["COMPANION_NBVAL_OUTPUTS"]) / "git_status.txt"
        before = started.read_text() if started.is_file() else before
    if before is not None:
        assert after == before, f"{path.name} changed the working tree:\n{after}"
    return used
