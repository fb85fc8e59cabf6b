"""Point the book at your own copy of the repository (``python -m tools.publish URL``).

    python -m tools.publish https://github.com/you/your-course             # branch main
    python -m tools.publish https://github.com/you/your-course --branch dev

The repository's address and branch are one setting, ``repository:`` in
``_config.yml``. This command changes that setting and everything that
follows it: the set-up cell of every chapter (which installs the companion in
Colab with ``pip install git+<url>@<branch>``) and the address in the README
and the appendix "How to run the book". The Colab buttons of the HTML book are
made from ``_config.yml`` at build time. The chapters' stamps stay valid: the
install address does not change what a chapter computes (see
``tools.execute.code_hash``). ``tests/test_notebooks.py`` checks that the
set-up cells follow ``_config.yml``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"^https://[\w.-]+/[\w.-]+/[\w.-]+$")
TEXT_FILES = ["README.md", "book/appendix/running.md"]


def current(root: Path) -> tuple[str, str]:
    repo = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return repo["url"], repo["branch"]


def publish(url: str, branch: str = "main", root: Path = ROOT) -> list[str]:
    """Set the repository to ``url`` and ``branch``; return the files changed."""
    url = url.rstrip("/").removesuffix(".git")
    if not URL.match(url):
        raise SystemExit(f"publish: {url!r} is not a repository address like https://github.com/you/your-course")
    if not re.fullmatch(r"[\w./-]+", branch):
        raise SystemExit(f"publish: {branch!r} is not a branch name")
    old_url, old_branch = current(root)
    changed = []
    config = root / "_config.yml"
    text = config.read_text()
    new = re.sub(r"^(repository:\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*).*$", rf"\g<1>{url}", text, count=1, flags=re.M)
    new = re.sub(r"^(repository:\n(?:[ \t]+.*\n)*?[ \t]+branch:[ \t]*).*$", rf"\g<1>{branch}", new, count=1, flags=re.M)
    if new != text:
        config.write_text(new)
        changed.append("_config.yml")
    old_source, new_source = f"git+{old_url}@{old_branch}", f"git+{url}@{branch}"
    for path in sorted((root / "book").glob("ch[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        setup = next(c for c in nb.cells if c.cell_type == "code")
        if old_source in setup.source:
            setup.source = setup.source.replace(old_source, new_source)
            nbformat.write(nb, path)
            changed.append(str(path.relative_to(root)))
    for name in TEXT_FILES:
        path = root / name
        if path.is_file() and old_url in (text := path.read_text()):
            path.write_text(text.replace(old_url, url))
            changed.append(name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="https address of your repository, e.g. https://github.com/you/your-course")
    parser.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    changed = publish(args.url, args.branch)
    print("publish: changed " + (", ".join(changed) if changed else "nothing (already set)"))
    print("publish: commit, push, then open a chapter in Colab from the built book's rocket button")
    return 0


if __name__ == "__main__":
    sys.exit(main())
