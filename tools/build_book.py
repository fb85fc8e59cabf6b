#!/usr/bin/env python3
"""Build the HTML book from the notebooks' committed outputs (nothing is executed).

    python tools/build_book.py                 # -> _build/html/index.html
    python tools/build_book.py --strict        # warnings are errors (-W -n)
    python tools/build_book.py --path-output /tmp/book   # -> /tmp/book/_build/html
    python tools/build_book.py --clean         # start from an empty _build

The pages serve the JavaScript they need themselves, so that widgets and
formulas render with no network: require.js and the ipywidgets html-manager
(widgets) and MathJax (maths). ``npm ci`` (run by ``make book``) installs them
into node_modules/; this script copies the few files the pages load into
book/_widgets_js/npm/ (git-ignored), a folder that _config.yml names in
``html_static_path`` (with ``nb_ipywidgets_js`` and ``mathjax_path``).

Sphinx keeps old copies of static files in an incremental build, so when the
served JavaScript differs from what the last build in the same output folder
used, the output folder is cleaned first (``jupyter-book clean``).

Exit status: 0 on success, 1 when the build fails, 2 when something it needs
is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
WIDGETS_DIR = ROOT / "book" / "_widgets_js"  # an html_static_path entry
CONFIG_JS = WIDGETS_DIR / "widgets-config.js"  # committed
COPY_DIR = WIDGETS_DIR / "npm"  # git-ignored; becomes _static/npm/ in the HTML
STAMP_NAME = ".widget-js.sha256"  # in <output>/_build/

# What the pages load, as (folder under COPY_DIR, folder under node_modules,
# glob). Widgets: require.js, then our config script, then embed-amd.js (which
# defines the html-manager, base and controls AMD modules itself); the widget
# CSS asks for FontAwesome fonts next to embed-amd.js, and browsers take the
# woff2 (or woff) entry of each @font-face, so the legacy eot/ttf/svg copies
# and the source maps are left out. Maths: MathJax's combined tex-mml-chtml.js
# finds its fonts and the TeX extensions it autoloads (\boldsymbol, \cancel,
# ...) relative to its own URL.
_MANAGER = Path("@jupyter-widgets/html-manager/dist")
_MATHJAX = Path("mathjax/es5")
SERVED_FILES: list[tuple[str, Path, str]] = [
    ("requirejs", Path("requirejs"), "require.js"),
    ("html-manager", _MANAGER, "embed-amd.js"),
    ("html-manager", _MANAGER, "*.woff2"),
    ("html-manager", _MANAGER, "*.woff"),
    ("mathjax", _MATHJAX, "tex-mml-chtml.js"),
    ("mathjax/output/chtml/fonts/woff-v2", _MATHJAX / "output/chtml/fonts/woff-v2", "*.woff"),
    ("mathjax/input/tex/extensions", _MATHJAX / "input/tex/extensions", "*.js"),
]
LEFT_OUT = {"all-packages.js"}  # MathJax's bundle of every extension; never autoloaded


class MissingDependency(RuntimeError):
    """Something the build needs is not installed."""


def widget_sources() -> dict[Path, Path]:
    """Map each file to copy (under node_modules) to its place under COPY_DIR."""
    missing = []
    files: dict[Path, Path] = {}
    for dest, folder, pattern in SERVED_FILES:
        found = [p for p in sorted((NODE_MODULES / folder).glob(pattern))
                 if p.name not in LEFT_OUT]
        if not found:
            missing.append(str(Path("node_modules") / folder / pattern))
        for src in found:
            files[src] = COPY_DIR / dest / src.name
    if missing or not CONFIG_JS.is_file():
        what = "\n  ".join(missing + ([] if CONFIG_JS.is_file() else [str(CONFIG_JS)]))
        raise MissingDependency(
            "JavaScript the book serves (widgets, maths) is missing:\n  "
            f"{what}\n"
            "Install it with `npm ci` in the repository root (or run `make book`, "
            "which does that for you)."
        )
    return files


def sync_widget_js() -> str:
    """Copy the widget JavaScript into COPY_DIR; return a hash of what is served."""
    files = widget_sources()
    COPY_DIR.mkdir(parents=True, exist_ok=True)
    wanted = set(files.values())
    for old in sorted(COPY_DIR.rglob("*"), reverse=True):  # files before folders
        if old.is_file() and old not in wanted:
            old.unlink()
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    digest = hashlib.sha256()
    for src, dst in sorted(files.items(), key=lambda item: item[1]):
        data = src.read_bytes()
        if not dst.is_file() or dst.read_bytes() != data:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        digest.update(dst.relative_to(COPY_DIR).as_posix().encode() + b"\0" + data)
    digest.update(b"widgets-config.js\0" + CONFIG_JS.read_bytes())
    return digest.hexdigest()


def jupyter_book() -> list[str]:
    """The jupyter-book command of the Python that runs this script."""
    script = Path(sys.executable).parent / "jupyter-book"
    if script.is_file():
        return [str(script)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    raise MissingDependency(
        "jupyter-book is not installed for this Python. Run `make book` (it "
        "creates .venv with everything), or `pip install -r requirements.txt`."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build the HTML book from committed outputs (no execution)."
    )
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings as errors (jupyter-book -W -n)")
    parser.add_argument("--path-output", metavar="DIR", type=Path, default=ROOT,
                        help="build into DIR/_build/html (default: the repository root)")
    parser.add_argument("--clean", action="store_true",
                        help="empty DIR/_build first (done anyway when the widget "
                             "JavaScript changed since the last build there)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="pass -q to jupyter-book (warnings still show)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.path_output.expanduser().resolve()
    try:
        command = jupyter_book()
        digest = sync_widget_js()
    except MissingDependency as exc:
        print(f"build_book: {exc}", file=sys.stderr)
        return 2

    build = out / "_build"
    stamp = build / STAMP_NAME
    old = stamp.read_text().strip() if stamp.is_file() else None
    why = None
    if args.clean:
        why = "--clean"
    elif old is not None and old != digest:
        why = "the widget JavaScript changed"
    elif old is None and (build / "html").is_dir():
        why = "no record of the widget JavaScript it was built with"
    if why and build.is_dir():
        # Sphinx would keep the old copies of changed static files.
        print(f"build_book: cleaning {build} ({why})", flush=True)
        subprocess.run([*command, "clean", str(out)], check=False,
                       stdout=subprocess.DEVNULL)

    cmd = [*command, "build", str(ROOT), "--keep-going"]
    if args.strict:
        cmd += ["-W", "-n"]
    if out != ROOT:
        cmd += ["--path-output", str(out)]
    if args.quiet:
        cmd.append("-q")
    print("build_book: " + " ".join(cmd), flush=True)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT)
    seconds = time.perf_counter() - start
    index = build / "html" / "index.html"
    if result.returncode != 0 or not index.is_file():
        print(f"build_book: the build FAILED after {seconds:.1f} s "
              f"(jupyter-book exit status {result.returncode}); see the messages above.",
              file=sys.stderr)
        return 1
    # Jupyter Book's root index.html is a bare redirect. Without an icon the browser asks
    # the server for /favicon.ico on the way to the first page; with the book's icon the
    # redirect can abort that request. An empty inline icon costs no request at all.
    redirect = index.read_text()
    if "rel=\"icon\"" not in redirect:
        index.write_text('<link rel="icon" href="data:," />\n' + redirect)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")
    print(f"build_book: built in {seconds:.1f} s. Open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
