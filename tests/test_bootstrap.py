"""The Colab bootstrap: every chapter's first code cell installs `companion` only when missing.

The cell (taken from the notebook file itself, never from a copy in this test)::

    import importlib.util, os, subprocess, sys
    if importlib.util.find_spec("companion") is None:
        source = os.environ.get("COMPANION_INSTALL_SOURCE", "git+https://github.com/...")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    import companion
    info = companion.setup_notebook(seed=42)

``test_the_first_cell_installs_companion_into_a_fresh_environment`` builds a fresh
virtual environment without `companion` that still sees the heavy dependencies
(TensorFlow, Keras, ...) of the environment running the tests, through a folder of
symbolic links named in a ``.pth`` file. Only path entries of a ``.pth`` are used
there, so the editable-install hook of the development environment stays inactive,
and the links leave out everything of `companion` (package, metadata, editable
finder), so neither Python nor pip sees it. The cell then runs in that environment
with ``COMPANION_INSTALL_SOURCE`` pointing at a copy of the local checkout (the
files git tracks plus untracked, not ignored ones), with pip's index switched off
(no network) and build isolation off (the build backend comes from the visible
dependencies). Building in a copy keeps ``build/`` and ``*.egg-info`` out of the
checkout.

``test_the_first_cell_installs_nothing_when_companion_is_present`` runs the same cell
with the interpreter running the tests, which has `companion`, an install source
that does not exist, and a trip-wire `pip` package first on the path: any
``python -m pip`` would exit with an error (and the cell's ``check=True`` would
raise). An audit hook records every process the cell starts.

Both tests run the cell as a script in a folder outside the checkout, so the
checkout's own ``companion/`` folder is not importable by accident.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

REPO = Path(__file__).resolve().parents[1]
CHAPTER = REPO / "book" / "ch01_logistic_to_neural_network.ipynb"
TIMEOUT = 900  # a guard against a hung install, not an assertion
BIN = "Scripts" if os.name == "nt" else "bin"

# Installed in the child interpreters through PYTHONPATH: records every process
# start and every import of pip. The log's path is taken out of os.environ at once,
# so processes started by the cell (pip, the build backend) do not write to it.
SITECUSTOMIZE = r'''
import json, os, sys
_log = os.environ.pop("BOOTSTRAP_AUDIT_LOG", None)
if _log:
    _EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"}
    def _audit(event, args, _log=_log):
        if event in _EVENTS:
            argv = args[1] if event == "subprocess.Popen" else args[:2]
            if isinstance(argv, (str, bytes, os.PathLike)):
                argv = [argv]
            entry = {"event": event, "argv": [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike))
                                             else str(a) for a in argv]}
        elif event == "import" and (args[0] == "pip" or args[0].startswith("pip.")):
            entry = {"event": "import", "argv": [args[0]]}
        else:
            return
        with open(_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    sys.addaudithook(_audit)
    with open(_log, "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "audit-start", "argv": [sys.executable]}) + "\n")
'''

TRIPWIRE_EXIT = 97


def first_code_cell(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            return "".join(source) if isinstance(source, list) else source
    raise AssertionError(f"{notebook.name} has no code cell")


def test_every_chapter_starts_with_the_same_bootstrap_cell():
    # One run of ch01's cell below stands for every chapter only if they are the same.
    reference = first_code_cell(CHAPTER)
    assert 'find_spec("companion") is None' in reference
    assert "COMPANION_INSTALL_SOURCE" in reference
    chapters = sorted((REPO / "book").glob("ch*.ipynb"))
    assert len(chapters) >= 2
    differing = [p.name for p in chapters if first_code_cell(p) != reference]
    assert differing == [], f"first code cell differs from {CHAPTER.name}'s in {differing}"


# ---- helpers ----------------------------------------------------------------------------------

def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The current environment without pip settings or Python path overrides, plus `extra`."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "COMPANION_INSTALL_SOURCE",
            "BOOTSTRAP_AUDIT_LOG"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k not in drop}
    scratch = tmp_path / "scratch"
    for sub in ("tmp", "pip-cache", "mpl", "keras"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    env.update({
        "PIP_NO_INDEX": "1",                    # no network: nothing from PyPI
        "PIP_CONFIG_FILE": os.devnull,          # no user or site pip configuration
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CACHE_DIR": str(scratch / "pip-cache"),
        "TMPDIR": str(scratch / "tmp"),
        "MPLCONFIGDIR": str(scratch / "mpl"),
        "KERAS_HOME": str(scratch / "keras"),
    })
    env.update(extra)
    return env


def run(argv, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def explain(proc: subprocess.CompletedProcess) -> str:
    return (f"exit status {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr ---\n{proc.stderr[-4000:]}")


def audit_dir(tmp_path: Path, *, tripwire_marker: Path | None = None) -> Path:
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    if tripwire_marker is not None:
        pip = folder / "pip"
        pip.mkdir()
        (pip / "__init__.py").write_text(
            f"open({str(tripwire_marker)!r}, 'a').close()\n", encoding="utf-8")
        (pip / "__main__.py").write_text(
            "import sys\nsys.stderr.write('TRIPWIRE: pip was run\\n')\n"
            f"sys.exit({TRIPWIRE_EXIT})\n", encoding="utf-8")
    return folder


def read_audit(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def mentions_pip(entry: dict) -> bool:
    if entry["event"] == "audit-start":
        return False
    return entry["event"] == "import" or any(
        a == "pip" or Path(a).name.startswith("pip") for a in entry["argv"])


def is_companion_entry(name: str) -> bool:
    lowered = name.lower()
    return (lowered == "companion" or lowered.startswith(("companion-", "companion.", "__editable__"))
            or lowered.endswith(".pth"))


def copy_checkout(dest: Path) -> Path:
    """The local checkout as git sees it (tracked + untracked, not ignored), working-tree state."""
    try:
        out = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True,
                             timeout=120).stdout
        files = [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]
    except (OSError, subprocess.SubprocessError):
        files = None
    if files is None:
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
            ".git", ".venv", "_build", "node_modules", "build", "dist", "*.egg-info",
            "__pycache__", ".hypothesis", ".pytest_cache"))
        return dest
    for name in files:
        src = REPO / name
        if src.is_file():  # skip files deleted in the working tree, and submodules
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def build_artifacts_of_checkout() -> dict[str, object]:
    """What a build inside the checkout itself would create or touch."""
    state: dict[str, object] = {}
    for path in [REPO / "build", REPO / "dist", *sorted(REPO.glob("*.egg-info"))]:
        state[path.name] = sorted((str(p.relative_to(REPO)), p.stat().st_mtime_ns)
                                  for p in [path, *path.rglob("*")]) if path.exists() else None
    return state


def project_version() -> str | None:
    if tomllib is None:
        return None
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


@pytest.fixture
def bare_venv(tmp_path):
    """A new virtual environment (no pip, no companion) of the interpreter running the tests."""
    venv_dir = tmp_path / "venv"
    try:
        proc = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)],
                              capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot create a virtual environment here: {error}")
    python = venv_dir / BIN / ("python.exe" if os.name == "nt" else "python")
    if proc.returncode != 0 or not python.exists():
        pytest.skip(f"`python -m venv` cannot create a virtual environment here: "
                    f"{proc.stderr.strip()[-500:]}")
    return venv_dir, python


# ---- the tests --------------------------------------------------------------------------------

def test_the_first_cell_installs_companion_into_a_fresh_environment(tmp_path, bare_venv):
    venv_dir, python = bare_venv
    cell = first_code_cell(CHAPTER)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "first_cell.py").write_text(cell, encoding="utf-8")

    # the heavy dependencies, visible through a .pth file; nothing of companion
    proc = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
               cwd=run_dir, env=base_env(tmp_path))
    assert proc.returncode == 0, explain(proc)
    purelib = Path(proc.stdout.strip())
    assert purelib.is_dir() and purelib.resolve().is_relative_to(venv_dir.resolve())
    deps = tmp_path / "deps"
    deps.mkdir()
    ours = {Path(sysconfig.get_path("purelib")), Path(sysconfig.get_path("platlib"))}
    for site_dir in sorted(ours):
        for entry in site_dir.iterdir():
            if not is_companion_entry(entry.name) and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (purelib / "_test_bootstrap_deps.pth").write_text(f"{deps}\n", encoding="utf-8")

    checkout = copy_checkout(tmp_path / "checkout")
    assert (checkout / "pyproject.toml").is_file() and (checkout / "companion" / "__init__.py").is_file()
    log = tmp_path / "audit.log"
    env = base_env(
        tmp_path,
        PYTHONPATH=str(audit_dir(tmp_path)),
        BOOTSTRAP_AUDIT_LOG=str(log),
        COMPANION_INSTALL_SOURCE=str(checkout),
        # pip reads PIP_NO_BUILD_ISOLATION as the *value* of build_isolation: "0" turns
        # isolation off, so the build uses the setuptools that is visible (offline).
        PIP_NO_BUILD_ISOLATION="0",
    )

    # before: companion cannot be imported, the dependencies can
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None "
             "for m in ['companion', 'tensorflow', 'keras', 'numpy', 'pip', 'setuptools']}))")
    proc = run([python, "-c", probe], cwd=run_dir, env=base_env(tmp_path))
    assert proc.returncode == 0, explain(proc)
    found = json.loads(proc.stdout)
    assert found == {"companion": False, "tensorflow": True, "keras": True, "numpy": True,
                     "pip": True, "setuptools": True}
    proc = run([python, "-c", "import companion"], cwd=run_dir, env=base_env(tmp_path))
    assert proc.returncode != 0 and "No module named 'companion'" in proc.stderr

    checkout_before = build_artifacts_of_checkout()
    proc = run([python, "first_cell.py"], cwd=run_dir, env=env)
    assert proc.returncode == 0, explain(proc)
    assert "seed 42" in proc.stdout  # companion.setup_notebook(seed=42) ran

    # the cell called pip exactly once, with the local source
    pip_calls = [e for e in read_audit(log) if mentions_pip(e)]
    assert len(pip_calls) == 1, pip_calls
    argv = pip_calls[0]["argv"]
    assert argv[1:] == ["-m", "pip", "install", "-q", str(checkout)]
    assert Path(argv[0]).parent.resolve() == (venv_dir / BIN).resolve()

    # after: companion imports from the new environment's site-packages
    proc = run([python, "-c", "import companion, json; print(json.dumps("
                "{'file': companion.__file__, 'version': companion.__version__}))"],
               cwd=run_dir, env=base_env(tmp_path))
    assert proc.returncode == 0, explain(proc)
    info = json.loads(proc.stdout)
    installed = Path(info["file"]).parent
    assert installed.resolve() == (purelib / "companion").resolve()
    assert not installed.resolve().is_relative_to(REPO.resolve())
    assert not installed.resolve().is_relative_to(checkout.resolve())
    if project_version() is not None:
        assert info["version"] == project_version()
    # ... and it is the checkout's code, every module of it
    source_files = {p.relative_to(checkout / "companion"): p.read_bytes()
                    for p in (checkout / "companion").rglob("*.py")}
    installed_files = {p.relative_to(installed): p.read_bytes() for p in installed.rglob("*.py")}
    assert installed_files.keys() == source_files.keys()
    assert all(installed_files[k] == source_files[k] for k in source_files)

    # the build happened in the copy, not in the checkout
    assert build_artifacts_of_checkout() == checkout_before


def test_the_first_cell_installs_nothing_when_companion_is_present(tmp_path):
    python = sys.executable  # the environment running the tests has companion installed
    cell = first_code_cell(CHAPTER)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "first_cell.py").write_text(cell, encoding="utf-8")
    marker = tmp_path / "pip_was_imported"
    log = tmp_path / "audit.log"
    nowhere = tmp_path / "no-such-checkout"
    env = base_env(tmp_path, PYTHONPATH=str(audit_dir(tmp_path, tripwire_marker=marker)),
                   COMPANION_INSTALL_SOURCE=str(nowhere))

    proc = run([python, "-c", "import importlib.util, sys; "
                "sys.exit(importlib.util.find_spec('companion') is None)"], cwd=run_dir, env=env)
    assert proc.returncode == 0, "the interpreter running the tests should have companion"
    # the trip wire works: any `python -m pip` in this environment fails loudly
    proc = run([python, "-m", "pip", "--version"], cwd=run_dir, env=env)
    assert proc.returncode == TRIPWIRE_EXIT and "TRIPWIRE" in proc.stderr, explain(proc)
    assert marker.exists()
    marker.unlink()

    proc = run([python, "first_cell.py"], cwd=run_dir, env={**env, "BOOTSTRAP_AUDIT_LOG": str(log)})
    assert proc.returncode == 0, explain(proc)
    assert "seed 42" in proc.stdout
    recorded = read_audit(log)
    assert recorded and recorded[0]["event"] == "audit-start"  # the hook was watching
    assert [e for e in recorded if mentions_pip(e)] == []
    assert not marker.exists(), "the cell imported pip"
    assert "TRIPWIRE" not in proc.stderr and str(nowhere) not in proc.stdout + proc.stderr
