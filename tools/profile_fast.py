"""Where the fast-mode test time goes: every chapter, cell by cell.

Usage::

    .venv/bin/python tools/profile_fast.py                  # every chapter, 2 at a time
    .venv/bin/python tools/profile_fast.py --jobs 1 book/ch11_tabular_functional.ipynb
    .venv/bin/python tools/profile_fast.py --top 3

Runs each notebook as the test suite's nbval run does: fast mode
(``COMPANION_FAST=1``), one TensorFlow thread per kernel, figures written to a
temporary folder, chapters side by side on ``--jobs`` processes. The notebooks
are run in memory: no file of the working tree changes. Prints, per chapter,
its time, the time to start its kernel and its slowest cells, then the sum
over all chapters and the wall-clock time. A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def profile(path: str) -> tuple[str, float, float, list[tuple[int, float, str]]]:
    """Run one notebook in fast mode; return (name, total s, kernel start s, [(cell, s, first line)])."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.update({"COMPANION_FAST": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
                       "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                       "COMPANION_RESULTS_DIR": tempfile.mkdtemp(prefix="companion-profile-")})
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    cells = []
    started = time.perf_counter()
    with client.setup_kernel():
        kernel_s = time.perf_counter() - started
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            client.execute_cell(cell, index)
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            cells.append((index, time.perf_counter() - t, first.strip()[:60]))
    return Path(path).stem, time.perf_counter() - started, kernel_s, cells


def main() -> int:
    from tools.execute import toc_notebooks

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to profile (default: every chapter in _toc.yml)")
    parser.add_argument("--jobs", type=int, default=2, help="chapters at a time (default 2, as make test on 2 cores)")
    parser.add_argument("--top", type=int, default=5, help="slowest cells to show per chapter (default 5)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {args.jobs}")
    if args.top < 0:
        parser.error(f"--top must be 0 or more, got {args.top}")
    paths = [Path(p) for p in args.notebooks] or toc_notebooks(ROOT)
    missing = [str(p) for p in paths if p.suffix != ".ipynb" or not p.is_file()]
    if missing:
        parser.error("not a notebook file: " + ", ".join(missing))
    print(f"Fast-mode profile of {len(paths)} chapter(s), {args.jobs} at a time, "
          f"one TensorFlow thread per kernel ({os.cpu_count()} cores)", flush=True)
    wall = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(paths))) as pool:
        for name, total, kernel_s, cells in pool.map(profile, map(str, paths)):
            rows.append((name, total))
            print(f"\n{name}: {total:.1f} s (kernel start {kernel_s:.1f} s)", flush=True)
            for index, seconds, first in sorted(cells, key=lambda c: -c[1])[:args.top]:
                print(f"  cell {index:>3} {seconds:6.1f} s  {first}")
    wall = time.perf_counter() - wall
    print(f"\nsum of chapter times {sum(t for _, t in rows):.0f} s; wall clock {wall:.0f} s "
          f"({args.jobs} at a time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
