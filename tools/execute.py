"""Re-run chapter notebooks on the full data and stamp them (``make execute``).

Usage::

    python -m tools.execute                      # every chapter in _toc.yml
    python -m tools.execute book/ch01_*.ipynb    # some chapters
    python -m tools.execute --jobs 2             # two chapters at a time

For each notebook: run every cell in a fresh kernel (with the maintainers'
speed settings of ``tools/ipython``; see the startup file there), store the
widget state so widgets render in the HTML book, drop widget models nothing
displays, let the chapter's hidden last cell record its figures into
``book/results/``, and stamp the notebook's metadata with a hash of its code
cells. The tests fail when a notebook's code no longer matches its stamp, so
the outputs the book shows can never silently drift from the code.

One training run keeps about one core busy, so chapters run side by side
(``--jobs``, default: the number of cores, at most 4), longest first by the
duration in their last stamp.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
IPYTHONDIR = ROOT / "tools" / "ipython"
STAMP_KEY = "companion"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _notebook(nb: Any) -> Any:
    """A notebook node from a notebook or the path of an ``.ipynb`` file."""
    if isinstance(nb, nbformat.NotebookNode):
        return nb
    path = Path(nb)
    if path.suffix != ".ipynb" or not path.is_file():
        raise ValueError(f"expected an existing .ipynb file, got {str(nb)!r}")
    return nbformat.read(path, as_version=4)


def _meaning(source: str) -> str:
    """What a code cell does, without its layout: the syntax tree of the cell (IPython
    magics translated first), so re-formatting code, editing a comment or moving the
    repository (``tools.publish``) keeps the stamp.
    A cell Python cannot parse counts by its text (trailing spaces ignored)."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    # Where the set-up cell installs the companion from (tools.publish) changes no result.
    source = re.sub(r"git\+https?://[^\"'\s]+", "git+<repository>", source)
    try:
        return ast.dump(ast.parse(TransformerManager().transform_cell(source)))
    except SyntaxError:
        return "\n".join(line.rstrip() for line in source.strip().splitlines())


def code_hash(nb: Any) -> str:
    """SHA-256 of what a notebook's code cells do (see :func:`_meaning`), in order."""
    sources = [_meaning(cell.source) for cell in _notebook(nb).cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def stamp_of(nb: Any) -> dict[str, Any]:
    """The stamp the full-run command left in a notebook's metadata ({} if none)."""
    stamp = _notebook(nb).metadata.get(STAMP_KEY, {})
    return dict(stamp) if isinstance(stamp, dict) else {}


def prune_widget_state(nb: Any) -> int:
    """Keep only the widget models that displayed widgets need; return how many were dropped.

    nbclient stores every widget the kernel ever created, closed ones too.
    Models are kept when an output displays them or a kept model refers to
    them (``"IPY_MODEL_<id>"``), and links (``jslink``) between kept models.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return 0
    todo = [out["data"][WIDGET_VIEW]["model_id"] for cell in nb.cells for out in cell.get("outputs", [])
            if WIDGET_VIEW in out.get("data", {})]
    keep: set[str] = set()
    while todo:
        mid = todo.pop()
        if mid in state and mid not in keep:
            keep.add(mid)
            todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[mid]))
    for mid, model in state.items():  # links are displayed by nothing but make the page react
        refs = re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(model.get("state", {})))
        if model.get("model_name") in ("LinkModel", "DirectionalLinkModel") and refs and set(refs) <= keep:
            keep.add(mid)
    dropped = [m for m in state if m not in keep]
    for m in dropped:
        del state[m]
    return len(dropped)


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks listed in ``_toc.yml``, in book order."""
    import yaml

    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            files.extend([node["file"]] if "file" in node else [])
            node = list(node.values())
        if isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load((Path(root) / "_toc.yml").read_text()))
    return [Path(root) / f"{f}.ipynb" for f in files if (Path(root) / f"{f}.ipynb").is_file()]


def execute_notebook(path: str | os.PathLike, *, fast: bool = False, timeout: int = 1800,
                     quiet: bool = False, update_report: bool = True, threads: int | None = None) -> dict:
    """Run a notebook top to bottom in a fresh kernel, store its outputs, stamp it.

    ``fast`` runs on small data (the stamp says so and the tests refuse it for
    a committed notebook). ``threads`` sets TensorFlow's threads per kernel
    (None: one per core, as the book's figures were made; another number
    changes the order of some sums and so the last digits of figures). Raises
    ``nbclient.exceptions.CellExecutionError`` when a cell fails; the notebook
    file is then left as it was.
    """
    from nbclient import NotebookClient

    from companion import versions

    path = Path(path)
    nb = _notebook(path)
    results_dir = path.parent / "results"
    env = {"COMPANION_FAST": "1" if fast else "0", "COMPANION_RESULTS_DIR": str(results_dir.resolve()),
           "IPYTHONDIR": str(IPYTHONDIR)}
    if threads is not None:
        env |= {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(threads)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    kernel_threads = _env_threads()
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    started = time.perf_counter()
    state: dict[str, Any] = {"done": 0, "t": started, "peak_kb": 0, "cells": []}

    def progress(cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type == "code":
            now = time.perf_counter()
            state["done"] += 1
            state["cells"].append((cell_index, round(now - state["t"], 1)))
            state["peak_kb"] = max(state["peak_kb"], _kernel_peak_kb(client))
            if not quiet:
                print(f"  [{path.stem}] cell {state['done']:>3}/{n_code}  {now - state['t']:6.1f} s"
                      f"  (total {now - started:6.1f} s)", flush=True)
            state["t"] = now

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            store_widget_state=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_executed=progress)
    try:
        client.execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    dropped = prune_widget_state(nb)
    stamp = {
        "code_sha256": code_hash(nb),
        "fast": fast,
        "executed": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round(time.perf_counter() - started, 1),
        "kernel_peak_mb": round(state["peak_kb"] / 1024) if state["peak_kb"] else None,
        "tf_threads": kernel_threads,
        "slowest_cells": sorted(state["cells"], key=lambda c: -c[1])[:5],
        "versions": versions(),
    }
    nb.metadata[STAMP_KEY] = stamp
    nbformat.write(nb, path)
    chapter_results = results_dir / f"{path.stem.split('_')[0]}.json"
    if chapter_results.is_file():  # tie the figures to the code that produced them
        data = json.loads(chapter_results.read_text())
        data.update(code_sha256=stamp["code_sha256"], duration_s=stamp["duration_s"])
        chapter_results.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    if update_report:
        _update_report(results_dir)
    if not quiet:
        print(f"  [{path.stem}] done in {stamp['duration_s']} s; dropped {dropped} unused widget models",
              flush=True)
    return stamp


def _update_report(results_dir: Path) -> None:
    """Rewrite the book's reproduction report when ``results_dir`` is the book's."""
    from tools.report import write_report

    report = results_dir.parent / "appendix" / "reproduction.md"
    if report.parent.is_dir() and any(results_dir.glob("*.json")):
        write_report(results_dir, report)


def _env_threads() -> int | None:
    """The intra-op threads a kernel started now gets (None: TensorFlow's default)."""
    intra = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    return int(intra) if intra.isdigit() else None


def _kernel_peak_kb(client: Any) -> int:
    """The kernel process's peak resident memory (VmHWM) in KiB; 0 if unknown."""
    try:
        status = Path(f"/proc/{client.km.provisioner.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    except (AttributeError, OSError, ValueError, StopIteration):
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.execute", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: all in _toc.yml)")
    parser.add_argument("--fast", action="store_true", help="small data; for trying things out only")
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4),
                        help="chapters run at the same time (default: the number of cores, at most 4)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads per kernel (default 0: one per core, as the book's "
                             "figures were made; another value changes the last digits of figures)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.notebooks] or toc_notebooks()
    if args.jobs < 1 or args.threads < 0:
        parser.error("--jobs must be 1 or more and --threads 0 or more")
    last_s = {p: stamp_of(p).get("duration_s") or 0.0 for p in paths}  # a wrong path fails here
    order = sorted(paths, key=last_s.get, reverse=True)  # longest first: best packing
    jobs, threads = min(args.jobs, len(paths)), args.threads or None
    print(f"Running {len(paths)} notebook(s) ({'fast' if args.fast else 'full'} data), {jobs} at a time, "
          "longest first ...", flush=True)
    total, failed = time.perf_counter(), []
    import concurrent.futures as cf
    import multiprocessing as mp

    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(execute_notebook, str(p), fast=args.fast, update_report=False,
                               threads=threads): p for p in order}
        for future in cf.as_completed(futures):
            try:
                future.result()
            except Exception as error:  # noqa: BLE001 - report every failure, then fail
                failed.append(futures[future])
                print(f"FAILED: {futures[future]}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
    for folder in sorted({p.parent for p in order}):
        _update_report(folder / "results")
    if failed:
        print(f"{len(failed)} notebook(s) failed and were left as they were: "
              + ", ".join(str(p) for p in failed), file=sys.stderr)
        return 1
    wall = time.perf_counter() - total
    print(f"All done in {wall:.1f} s (wall clock, {jobs} at a time).")
    if not args.notebooks and not args.fast:  # the whole book: keep the figure for `make bench`
        record = {"wall_s": round(wall, 1), "jobs": jobs, "tf_threads": threads or _env_threads(),
                  "cpu_count": os.cpu_count(),
                  "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  "chapters": {p.stem: stamp_of(p).get("duration_s") for p in paths}}
        (paths[0].parent / "full_run.json").write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
