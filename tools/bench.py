#!/usr/bin/env python3
"""Benchmarks of the book's workflows: prints figures, asserts nothing.

    make bench                     # about 6 to 15 minutes on 2 cores, depending on the CPU (it runs the test suite)
    make bench FULL=1              # also re-runs every chapter on the full data (7 to 16 min more)
    python tools/bench.py --only fit    # one section: nbval, test, book, fit, seeds, full

Sections
--------
nbval  Wall time of the fast-mode notebook suite (pytest --nbval-lax over book/,
       with the same options ``make test`` uses).
test   Wall time of the whole suite as ``make test`` runs it (set-up excluded).
book   Wall time of ``tools/build_book.py --clean`` into a temporary folder:
       ``make book`` from committed outputs, the virtual environment and the
       npm packages already installed.
fit    For a representative chapter model (chapter 2's ReLU network on the full
       48,000 training images, 5 epochs, validation each epoch): a default
       ``model.fit`` (batch 32) against the companion's sweep settings, measured
       side by side in one process, repeated and interleaved so a noisy machine
       hits both alike. Prints seconds, the speed-up ratio and the final
       validation accuracy of each, so you can see nothing was lost.
seeds  The cost of 3 seeds against 1: the same model trained once (``fit_quickly``)
       and from 3 seeds side by side (``repeat``), for chapter 2's network on the
       full data (5 epochs) and for the overfitting testbed of chapters 6 to 8
       (5,000 images, two Dense(256) layers, batch 64, 10 epochs); interleaved
       repeats, median reported. Target: 3 seeds cost at most 2x one run.
full   Full-run time and kernel peak memory of every chapter, and the wall
       time of the whole book (chapters run --jobs at a time, as ``make
       execute`` does). Without --full these are the figures recorded by the
       last ``make execute`` (the notebooks' stamps and book/full_run.json);
       with --full every chapter is re-run on a copy of the book in a
       temporary folder (the working tree is not touched).

Targets on 2 cores: 3 seeds <= 2x one seed; nbval <= 150 s; make test <= 6 min; whole-book full run
<= 900 s; make book <= 60 s; sweep settings >= 2x faster than default fit with final
validation accuracy within 0.5 percentage points.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
TARGETS = {"nbval": 150.0, "test": 360.0, "full": 900.0, "book": 60.0}


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return f"target {'>=' if higher_is_better else '<='} {target:g}: {'MET' if ok else 'MISSED'}"


def header(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def machine() -> str:
    return (f"{os.cpu_count()} CPU cores, load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")


# --------------------------------------------------------------------------- #
def bench_pytest(section: str, paths: list[str], jobs: str) -> float:
    """Wall time of a pytest run with the options of ``make test`` (fast mode: conftest.py)."""
    header({"nbval": "fast-mode notebook suite (nbval)", "test": "make test (the whole suite)"}[section])
    cmd = [PY, "-m", "pytest", *paths, "-q", "-n", jobs, "--dist", "loadfile", "--no-loadscope-reorder"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"command: {' '.join(cmd[1:])}")
    print(f"result:  {last}")
    print(f"wall time: {wall:.1f} s   {verdict(wall, TARGETS[section])}")
    if proc.returncode != 0:
        print("  (the suite FAILED; the time is not meaningful)")
    return wall


def bench_book() -> float:
    header("make book from committed outputs (clean build)")
    with tempfile.TemporaryDirectory(prefix="bench_book_") as out:
        start = time.perf_counter()
        proc = subprocess.run([PY, "tools/build_book.py", "--clean", "--path-output", out],
                              cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
    print(f"command: tools/build_book.py --clean --path-output <tmp>   exit {proc.returncode}")
    print(f"wall time: {wall:.1f} s   {verdict(wall, TARGETS['book'])}")
    return wall


FIT_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    os.environ["COMPANION_FAST"] = "0"
    import companion
    companion.setup_notebook(seed=42, show=False)
    import keras
    from companion.data import load_fashion_mnist
    from companion.experiments import fit_quickly
    fm = load_fashion_mnist()
    EPOCHS, REPEATS = int(sys.argv[1]), int(sys.argv[2])

    def build():
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(100, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    ways = {
        "default fit (batch 32)": lambda m: m.fit(fm.x_train, fm.y_train, epochs=EPOCHS,
            validation_data=(fm.x_val, fm.y_val), verbose=0).history,
        "fit_quickly (batch 32, steps_per_execution 64)": lambda m: fit_quickly(
            m, fm.x_train, fm.y_train, epochs=EPOCHS, validation_data=(fm.x_val, fm.y_val)),
        "sweep settings (batch 256, steps_per_execution 64)": lambda m: fit_quickly(
            m, fm.x_train, fm.y_train, epochs=EPOCHS, batch_size=256,
            validation_data=(fm.x_val, fm.y_val)),
    }
    out = {name: {"s": [], "val_accuracy": None, "history": None} for name in ways}
    for _ in range(REPEATS):
        for name, run in ways.items():          # interleaved: noise hits every way alike
            model = build()
            t = time.perf_counter()
            hist = run(model)
            out[name]["s"].append(time.perf_counter() - t)
            out[name]["val_accuracy"] = hist["val_accuracy"][-1]
            out[name]["history"] = hist
    print("RESULT" + json.dumps(out))
""")


def bench_fit(epochs: int, repeats: int) -> dict:
    header("sweep settings against a default model.fit")
    print(f"model: chapter 2's Flatten -> Dense(100, relu) -> Dense(10, softmax), RMSprop;")
    print(f"data: 48,000 training images, validation on 12,000 each epoch; {epochs} epochs;")
    print(f"{repeats} interleaved repeats per way, median reported; {machine()}")
    proc = subprocess.run([PY, "-c", FIT_SCRIPT, str(epochs), str(repeats)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise SystemExit("the fit benchmark failed")
    out = json.loads(line[len("RESULT"):])
    names = list(out)
    base = statistics.median(out[names[0]]["s"])
    base_acc = out[names[0]]["val_accuracy"]
    for name in names:
        med = statistics.median(out[name]["s"])
        acc = out[name]["val_accuracy"]
        same = out[name]["history"] == out[names[0]]["history"]
        line = (f"{name:<52} {med:6.1f} s  x{base / med:4.2f}  final val_accuracy {acc:.4f}"
                f" ({(acc - base_acc) * 100:+.2f} points)")
        if name != names[0]:
            line += "  history bit-identical" if same else ""
        print(line)
    # The target is about the companion's defaults (same batch, steps_per_execution):
    # the batch-256 line shows what a larger batch adds in speed and costs in
    # accuracy at equal epochs (fewer updates).
    best = names[1]
    ratio = base / statistics.median(out[best]["s"])
    gap = abs(out[best]["val_accuracy"] - base_acc) * 100
    print(f"companion sweep defaults: {ratio:.2f}x faster ({verdict(ratio, 2.0, higher_is_better=True)}), "
          f"accuracy gap {gap:.2f} points ({verdict(gap, 0.5)})")
    return out


SEEDS_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    os.environ["COMPANION_FAST"] = "0"
    import companion
    companion.setup_notebook(seed=42, show=False)
    import keras
    from companion.data import load_fashion_mnist
    from companion.experiments import fit_quickly, repeat
    fm = load_fashion_mnist()
    REPEATS = int(sys.argv[1])

    def model(width, layers, optimizer):
        m = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]
                             + [keras.layers.Dense(width, activation="relu") for _ in range(layers)]
                             + [keras.layers.Dense(10, activation="softmax")])
        m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m

    cases = {
        "chapter 2's network, 48,000 images, batch 32, 5 epochs": dict(
            build=lambda: model(100, 1, "rmsprop"), x=fm.x_train, y=fm.y_train, epochs=5, batch_size=32),
        "testbed of ch06-08, 5,000 images, batch 64, 10 epochs": dict(
            build=lambda: model(256, 2, keras.optimizers.Adam(1e-3)), x=fm.x_train[:5000],
            y=fm.y_train[:5000], epochs=10, batch_size=64),
    }
    out = {}
    for name, c in cases.items():
        one, three = [], []
        for _ in range(REPEATS):
            keras.backend.clear_session(); keras.utils.set_random_seed(42)
            m = c["build"]()
            t = time.perf_counter()
            fit_quickly(m, c["x"], c["y"], epochs=c["epochs"], batch_size=c["batch_size"],
                        validation_data=(fm.x_val, fm.y_val))
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            repeat(c["build"], x=c["x"], y=c["y"], epochs=c["epochs"], batch_size=c["batch_size"],
                   validation_data=(fm.x_val, fm.y_val), seeds=3)
            three.append(time.perf_counter() - t)
        out[name] = {"one": one, "three": three}
    print("RESULT" + json.dumps(out))
""")


def bench_seeds(repeats: int) -> dict:
    header("3 seeds side by side against 1 seed")
    print(f"{repeats} interleaved repeats, median reported; {machine()}")
    proc = subprocess.run([PY, "-c", SEEDS_SCRIPT, str(repeats)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise SystemExit("the seeds benchmark failed")
    out = json.loads(line[len("RESULT"):])
    for name, t in out.items():
        one, three = statistics.median(t["one"]), statistics.median(t["three"])
        print(f"{name:<56} 1 seed {one:6.1f} s   3 seeds {three:6.1f} s   "
              f"ratio {three / one:4.2f}   {verdict(three / one, 2.0)}")
    return out


def bench_full(rerun: bool, jobs: str) -> None:
    sys.path.insert(0, str(ROOT))
    from tools.execute import stamp_of, toc_notebooks

    notebooks = toc_notebooks(ROOT)
    if rerun:
        header(f"full run of every chapter (re-run now on a copy of the book, {jobs} at a time)")
        print(machine())
        with tempfile.TemporaryDirectory(prefix="bench_full_") as tmp:
            book = Path(tmp) / "book"
            shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", "npm"))
            copies = [str(book / nb.name) for nb in notebooks]
            start = time.perf_counter()
            proc = subprocess.run([PY, "-m", "tools.execute", "--jobs", jobs, *copies], cwd=ROOT,
                                  capture_output=True, text=True)
            total = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                raise SystemExit("the full run failed")
            stamps = {nb.stem: stamp_of(book / nb.name) for nb in notebooks}
            rows = [(stem, st.get("duration_s"), st.get("kernel_peak_mb")) for stem, st in stamps.items()]
        for stem, dur, peak in rows:
            print(f"  {stem:<42} {dur:7.1f} s  peak {peak} MB", flush=True)
        print(f"whole book: {total:.0f} s wall clock, {jobs} chapters at a time "
              f"(sum of chapter times {sum(r[1] for r in rows):.0f} s)   {verdict(total, TARGETS['full'])}")
    else:
        header("full run of every chapter (recorded by the last `make execute`)")
        rows = []
        for nb in notebooks:
            st = stamp_of(nb)
            rows.append((nb.stem, st.get("duration_s"), st.get("kernel_peak_mb")))
            print(f"  {nb.stem:<42} {st.get('duration_s', float('nan')):7.1f} s  "
                  f"peak {st.get('kernel_peak_mb', '?')} MB   (run {st.get('executed', '?')})")
        record = ROOT / "book" / "full_run.json"
        summed = sum(r[1] or 0 for r in rows)
        if record.is_file():
            run = json.loads(record.read_text())
            threads = run.get("tf_threads") or "TensorFlow's default number of"
            print(f"whole book: {run['wall_s']:.0f} s wall clock, {run['jobs']} chapters at a time on "
                  f"{run['cpu_count']} cores, {threads} thread(s) per kernel "
                  f"(make execute, finished {run['finished']}; sum of chapter "
                  f"times {summed:.0f} s)   {verdict(run['wall_s'], TARGETS['full'])}")
        else:
            print(f"whole book: {summed:.0f} s (sum of chapter times; no book/full_run.json yet)   "
                  f"{verdict(summed, TARGETS['full'])}")
    peaks = [r[2] for r in rows if r[2]]
    if peaks:
        print(f"largest kernel peak memory: {max(peaks)} MB")
    slow = [r for r in rows if r[1] and r[1] > 300]
    print("chapters over the 5-minute cap: " + (", ".join(r[0] for r in slow) if slow else "none"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="re-run every chapter on the full data")
    parser.add_argument("--only", choices=["nbval", "test", "book", "fit", "seeds", "full"], action="append",
                        help="run only these sections (repeatable)")
    parser.add_argument("--jobs", default=os.environ.get("JOBS", "2"), help="pytest-xdist workers for nbval; chapters at a time for the full run")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the fit benchmark")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats of the fit benchmark (the median is reported; 5 keeps the ratio steady on a noisy machine)")
    args = parser.parse_args()
    sections = args.only or ["fit", "seeds", "book", "nbval", "test", "full"]
    print(f"Benchmarks of the book's workflows ({machine()})")
    if "fit" in sections:
        bench_fit(args.epochs, args.repeats)
    if "seeds" in sections:
        bench_seeds(max(1, args.repeats // 2 + 1))
    if "book" in sections:
        bench_book()
    if "nbval" in sections:
        bench_pytest("nbval", ["book/"], args.jobs)
    if "test" in sections:
        bench_pytest("test", [], args.jobs)
    if "full" in sections:
        bench_full(args.full, args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
