"""Re-run chapter notebooks on the full data and stamp them.

Usage::

    python -m companion.execute                 # every chapter in _toc.yml
    python -m companion.execute book/ch01_*.ipynb
    python -m companion.execute --jobs 2        # two chapters at a time

One training run keeps about one core busy (most of its time is spent
dispatching small steps, not in arithmetic), so on a 2-core machine two
chapters run side by side in about the time of one. ``--jobs`` defaults to
the number of cores (at most 4); chapters start longest first, by the
duration in their last stamp. A chapter's figures are the same whether it
runs alone or beside another (checked: a parallel re-run of the whole book
reproduced every recorded figure).

For each notebook: run every cell in a fresh kernel (progress is printed),
store the widget state so widgets render in the HTML book, drop widget models
nothing displays, record the chapter's figures into ``book/results/``, and
stamp the notebook's metadata with a hash of its code cells. The test suite
fails when a notebook's code no longer matches its stamp, so the outputs the
book shows can never silently drift from the code.
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

from . import _validate

__all__ = ["code_hash", "stamp_of", "prune_widget_state", "execute_notebook", "toc_notebooks", "main"]

ROOT = Path(__file__).resolve().parent.parent
STAMP_KEY = "companion"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def code_hash(nb: Any) -> str:
    """SHA-256 of a notebook's code cells (their source, trailing spaces ignored).

    Parameters
    ----------
    nb : nbformat.NotebookNode or str or path-like
        A notebook, or the path of one.

    Returns
    -------
    str
        64 hexadecimal characters. Changes whenever any code cell changes.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``nb`` is neither a notebook nor the path of an existing ``.ipynb`` file.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    >>> len(code_hash(nb))
    64
    """
    nb = _as_notebook(nb)
    sources = ["\n".join(line.rstrip() for line in cell.source.strip().splitlines())
               for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def stamp_of(nb: Any) -> dict[str, Any]:
    """The stamp the full-run command left in a notebook's metadata ({} if none).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``nb`` is neither a notebook nor the path of an existing ``.ipynb`` file.
    """
    nb = _as_notebook(nb)
    stamp = nb.metadata.get(STAMP_KEY, {})
    return dict(stamp) if isinstance(stamp, dict) else {}


def _read(path: Any, name: str = "path") -> Any:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise _validate.fail_type(name, path, "the path of an .ipynb file (str or pathlib.Path)")
    p = Path(path)
    if not p.is_file() or p.suffix != ".ipynb":
        raise _validate.fail_value(name, str(path), "an existing .ipynb file")
    try:
        return nbformat.read(p, as_version=4)
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook
        raise _validate.fail_value(name, str(path), f"a readable notebook file ({type(error).__name__})") from None


def _as_notebook(nb: Any, name: str = "nb") -> Any:
    """A notebook node from a notebook or its path; fails naming ``name``."""
    if isinstance(nb, (str, os.PathLike)):
        return _read(nb, name)
    if not isinstance(nb, nbformat.NotebookNode):
        raise _validate.fail_type(name, nb, "a notebook (nbformat.NotebookNode) or the path of an .ipynb file")
    cells, metadata = nb.get("cells"), nb.get("metadata")
    if not isinstance(cells, list) or not isinstance(metadata, dict) or not all(
            isinstance(c, dict) and isinstance(c.get("source", ""), str) and "cell_type" in c for c in cells):
        raise _validate.fail_value(name, nb, "a notebook with a list of cells and a metadata dict "
                                             "(read it with nbformat.read(path, as_version=4))")
    return nb


def prune_widget_state(nb: Any) -> int:
    """Keep only the widget models that displayed widgets need; return how many were dropped.

    nbclient stores every widget the kernel ever created, closed ones too.
    Models are kept when an output displays them or a kept model refers to
    them (``"IPY_MODEL_<id>"``), and links (``jslink``) between kept models.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``nb`` is not a notebook (an ``nbformat.NotebookNode``).
    """
    if not isinstance(nb, nbformat.NotebookNode):
        raise _validate.fail_type("nb", nb, "a notebook read with nbformat.read(path, as_version=4)")
    nb = _as_notebook(nb)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return 0
    roots = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view:
                roots.add(view["model_id"])
    keep, todo = set(), [r for r in roots if r in state]
    while todo:
        mid = todo.pop()
        if mid in keep:
            continue
        keep.add(mid)
        for ref in re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[mid])):
            if ref in state and ref not in keep:
                todo.append(ref)
    # Links (jslink) are displayed by nothing but make the static page react:
    # keep every link whose two ends are kept.
    for mid, model in state.items():
        if model.get("model_name") in ("LinkModel", "DirectionalLinkModel"):
            refs = re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(model.get("state", {})))
            if refs and all(r in keep for r in refs):
                keep.add(mid)
    dropped = [m for m in state if m not in keep]
    for m in dropped:
        del state[m]
    return len(dropped)


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks listed in ``_toc.yml``, in book order.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``root`` is not the path of a folder holding ``_toc.yml``.
    """
    import yaml

    if not isinstance(root, (str, os.PathLike)) or not str(root):
        raise _validate.fail_type("root", root, "the path of the book's folder (str or pathlib.Path)")
    root = Path(root)
    if not (root / "_toc.yml").is_file():
        raise _validate.fail_value("root", str(root), "a folder holding the book's _toc.yml")
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").is_file()]


def execute_notebook(path: str | os.PathLike, *, fast: bool = False, timeout: int = 1800,
                     results_dir: str | os.PathLike | None = None, quiet: bool = False,
                     update_report: bool = True, threads: int | None = None) -> dict:
    """Run a notebook top to bottom in a fresh kernel, store outputs, stamp it.

    Parameters
    ----------
    path : str or path-like
        The ``.ipynb`` file; it is rewritten in place.
    fast : bool, default False
        Run in fast mode (small data). The stamp then says ``fast: true`` and the
        tests refuse it for a committed notebook: use it only to try things out.
    timeout : int, default 1800
        Seconds one cell may run.
    results_dir : path-like, optional
        Where the chapter's figures go; default ``book/results`` next to the book.
    quiet : bool, default False
        Do not print progress.
    update_report : bool, default True
        Rewrite the reproduction report (``appendix/reproduction.md`` next to
        the results folder) afterwards. The parallel runner passes False and
        writes it once, when every chapter is done.
    threads : int or None, default None
        TensorFlow threads of the kernel (``TF_NUM_INTRAOP_THREADS`` and
        ``TF_NUM_INTEROP_THREADS``). None leaves the environment as it is:
        TensorFlow then uses one thread per core, which is how the book's
        figures were made. The number of threads changes the order of some
        sums, so a setting other than the one in the stamp gives slightly
        different figures (measured: chapter 5's best epoch at rate 0.0005
        moved from 9 to 15 with one thread). The stamp records the number of
        intra-op threads the kernel got (None: TensorFlow's default).

    Returns
    -------
    dict
        The stamp written into the notebook's metadata.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``path`` is not an existing ``.ipynb`` file, or another argument is
        out of range.
    nbclient.exceptions.CellExecutionError
        If a cell fails; the notebook file is then left as it was.
    """
    from nbclient import NotebookClient

    from .notebook import versions

    nb = _read(path)
    path = Path(path)
    fast = _validate.check_bool("fast", fast)
    timeout = _validate.check_int("timeout", timeout, minimum=10)
    quiet = _validate.check_bool("quiet", quiet)
    update_report = _validate.check_bool("update_report", update_report)
    if threads is not None:
        threads = _validate.check_int("threads", threads, minimum=1, maximum=256)
    results_dir = Path(results_dir) if results_dir else path.parent / "results"
    thread_vars = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    env_before = {k: os.environ.get(k) for k in ("COMPANION_FAST", "COMPANION_RESULTS_DIR", *thread_vars)}
    if threads is not None:  # the kernel inherits this process's environment
        for k in thread_vars:
            os.environ[k] = str(threads)
    kernel_threads = _env_threads()
    os.environ["COMPANION_FAST"] = "1" if fast else "0"
    os.environ["COMPANION_RESULTS_DIR"] = str(results_dir.resolve())
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    started = time.perf_counter()
    state: dict[str, Any] = {"done": 0, "t": started, "peak_kb": 0, "cells": []}

    def progress(cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type != "code":
            return
        state["done"] += 1
        now = time.perf_counter()
        state["cells"].append((cell_index, round(now - state["t"], 1)))
        state["peak_kb"] = max(state["peak_kb"], _kernel_peak_kb(client))
        if not quiet:
            print(f"  [{path.stem}] cell {state['done']:>3}/{n_code}  {now - state['t']:6.1f} s"
                  f"  (total {now - started:6.1f} s)", flush=True)
        state["t"] = now

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            store_widget_state=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_executed=progress)
    try:
        client.execute()
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
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
        data["code_sha256"] = stamp["code_sha256"]
        data["duration_s"] = stamp["duration_s"]
        tmp = chapter_results.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, chapter_results)  # atomic: a parallel run may be reading it
    if update_report:
        _update_report(results_dir)
    if not quiet:
        print(f"  [{path.stem}] done in {stamp['duration_s']} s; dropped {dropped} unused widget models",
              flush=True)
    return stamp


def _update_report(results_dir: Path) -> None:
    """Rewrite the book's reproduction report when ``results_dir`` is the book's."""
    from .report import write_report

    report = results_dir.parent / "appendix" / "reproduction.md"
    if report.parent.is_dir() and any(results_dir.glob("*.json")):  # the book's: keep its report in step
        write_report(results_dir, report)


def _env_threads() -> int | None:
    """The intra-op threads a kernel started now gets (None: TensorFlow's default)."""
    intra = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    return int(intra) if intra.isdigit() else None


def _kernel_peak_kb(client: Any) -> int:
    """The kernel process's peak resident memory (VmHWM) in KiB; 0 if unknown."""
    try:
        pid = client.km.provisioner.process.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (AttributeError, OSError, ValueError, IndexError):
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.execute", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: all in _toc.yml)")
    parser.add_argument("--fast", action="store_true", help="small data; for trying things out only")
    parser.add_argument("--jobs", type=int, default=None,
                        help="chapters run at the same time (default: the number of cores, at most 4)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads per kernel (default 0: TensorFlow's own choice, one per "
                             "core, as the book's figures were made; another value changes the figures)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.notebooks] or toc_notebooks()
    if not paths:
        print("No notebooks to run.", file=sys.stderr)
        return 2
    # Read every notebook once: a wrong path fails before any kernel starts,
    # and the last stamp's duration orders the parallel run.
    last_s = {p: stamp_of(_read(p, "notebook")).get("duration_s") or 0.0 for p in paths}
    jobs = args.jobs if args.jobs is not None else min(os.cpu_count() or 1, 4)
    if jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {jobs}")
    jobs = min(jobs, len(paths))
    if args.threads < 0:
        parser.error(f"--threads must be 0 (TensorFlow's default) or more, got {args.threads}")
    threads = args.threads or None
    mode = "fast" if args.fast else "full"
    total = time.perf_counter()
    if jobs == 1:
        for p in paths:
            print(f"Running {p} ({mode} data) ...", flush=True)
            execute_notebook(p, fast=args.fast, threads=threads)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        order = sorted(paths, key=last_s.get, reverse=True)  # longest first: best packing
        print(f"Running {len(paths)} notebooks ({mode} data), {jobs} at a time, longest first ...",
              flush=True)
        failed = []
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(execute_notebook, str(p), fast=args.fast, update_report=False,
                                   threads=threads): p for p in order}
            for future in cf.as_completed(futures):
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 - report every failure, then fail
                    failed.append(futures[future])
                    print(f"FAILED: {futures[future]}: {type(error).__name__}: {error}", file=sys.stderr,
                          flush=True)
        for folder in sorted({p.parent for p in order}):
            _update_report(folder / "results")
        if failed:
            print(f"{len(failed)} notebook(s) failed and were left as they were: "
                  + ", ".join(str(p) for p in failed), file=sys.stderr)
            return 1
    wall = time.perf_counter() - total
    print(f"All done in {wall:.1f} s (wall clock, {jobs} at a time).")
    if not args.notebooks and not args.fast:  # the whole book: keep the figure for `make bench`
        _record_full_run(paths, wall, jobs, threads or _env_threads())
    return 0


def _record_full_run(paths: list[Path], wall: float, jobs: int, threads: int | None) -> None:
    """Write ``full_run.json`` next to the notebooks: the whole book's wall time."""
    record = {
        "wall_s": round(wall, 1),
        "jobs": jobs,
        "tf_threads": threads,  # what the kernels got, as in each chapter's stamp
        "cpu_count": os.cpu_count(),
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "chapters": {p.stem: stamp_of(p).get("duration_s") for p in paths},
    }
    (paths[0].parent / "full_run.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
