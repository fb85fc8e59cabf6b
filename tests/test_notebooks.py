"""Checks of the committed chapter notebooks and their recorded figures.

The notebooks themselves are run by nbval in fast mode (``pytest --nbval-lax``
collects them from book/). These tests look at what was committed: outputs
that match the code (stamp), figures from a full run, and the bands that hold
each chapter's claims.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.execute import WIDGET_STATE, WIDGET_VIEW, code_hash, stamp_of, toc_notebooks
from recorded import fig, results_of

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = toc_notebooks(ROOT)
IDS = [p.stem for p in NOTEBOOKS]


def chapter_of(path: Path) -> str:
    return path.stem.split("_")[0]


def test_the_book_has_chapters():
    assert NOTEBOOKS, "no chapter notebooks found in _toc.yml"
    assert NOTEBOOKS[0].name == "ch01_logistic_to_neural_network.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_outputs_match_code(path):
    """Staleness: the committed outputs come from a full run of the current code."""
    nb = nbformat.read(path, as_version=4)
    stamp = stamp_of(nb)
    fix = f"re-run it on the full data: make execute NB={path.relative_to(ROOT)}"
    assert stamp, f"{path.name} was never stamped; {fix}"
    assert stamp["code_sha256"] == code_hash(nb), f"{path.name}: code changed since its outputs were made; {fix}"
    assert stamp["fast"] is False, f"{path.name} holds fast-mode outputs; {fix}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_code_cell_ran_cleanly(path):
    nb = nbformat.read(path, as_version=4)
    counts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {i} of {path.name} was not executed"
        counts.append(cell.execution_count)
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {i} of {path.name} has an error output"
            text = out.get("text", "")
            assert "\b" not in text, f"cell {i} of {path.name} has progress-bar junk (use verbose=2)"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in text and "WARNING" not in text, \
                    f"cell {i} of {path.name} printed to stderr: {text[:200]!r}"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not run top to bottom in one go"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_widget_state_is_stored_and_small(path):
    nb = nbformat.read(path, as_version=4)
    views = [out["data"][WIDGET_VIEW]["model_id"] for cell in nb.cells if cell.cell_type == "code"
             for out in cell.outputs if WIDGET_VIEW in out.get("data", {})]
    assert views, f"{path.name} shows no widget; every chapter has at least one"
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    missing = [v for v in views if v not in state]
    assert not missing, f"{path.name}: widgets without stored state (run make execute): {missing}"
    size = len(json.dumps(state))
    assert size < 1_000_000, f"{path.name}: widget state is {size:,} bytes; keep a page under ~1 MB"


def test_colab_install_source_matches_config():
    """The first code cell installs the companion from the repository the book names."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]
    expected = f"git+{repo['url']}@{repo['branch']}"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        urls = re.findall(r'"(git\+https://[^"]+)"', first.source)
        assert urls == [expected], f"{path.name}: installs from {urls}, _config.yml says {expected}"
        assert "find_spec(\"companion\") is None" in first.source, \
            f"{path.name}: the install must run only when companion is missing"


# ---- recorded figures and their bands ------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_figures_come_from_a_full_run_of_this_code(path):
    data = results_of(chapter_of(path))
    assert data["fast"] is False, f"{chapter_of(path)}.json holds fast-mode figures"
    assert data.get("code_sha256") == code_hash(path), \
        f"{chapter_of(path)}.json was recorded from other code; re-run make execute"
    assert data["figures"], "no figures recorded"


# Each band states a claim the chapter makes; the bounds come from the source's
# figures and our full runs, no wider than run-to-run spread justifies.

def test_ch01_logistic_regression_reaches_the_sources_accuracy():
    # Claim: SGDClassifier(log_loss, 5 epochs) scores about 0.81-0.82 in 5-fold CV (source 001: about 0.82).
    assert 0.80 <= fig("ch01", "logreg_cv_accuracy") <= 0.84


def test_ch01_one_layer_network_reaches_the_sources_accuracy():
    # Claim: Dense(10, softmax) with RMSprop, 5 epochs, scores 0.8430 on validation (source 001).
    assert 0.83 <= fig("ch01", "one_layer_val_accuracy") <= 0.86


def test_ch01_network_is_a_little_better_than_logistic_regression():
    # Claim: same architecture, another objective and training rule (softmax cross-entropy with
    # RMSprop against one-vs-rest with an L2 penalty and a decaying step): a little better, not a
    # different league.
    gain = fig("ch01", "one_layer_val_accuracy") - fig("ch01", "logreg_cv_accuracy")
    assert 0.0 < gain < 0.05


def test_ch01_sparse_and_onehot_labels_give_the_same_result():
    # Claim: the two cross-entropies compute the same loss, so accuracy agrees.
    diff = fig("ch01", "one_layer_val_accuracy") - fig("ch01", "onehot_val_accuracy")
    assert abs(diff) <= 0.003


def test_ch01_footwear_classifier_beats_the_lazy_baseline():
    # Claim: above 99 %, far above the 0.70 of always answering "no".
    assert 0.97 <= fig("ch01", "footwear_val_accuracy") <= 1.0


# ---- the reproduction report (appendix) ------------------------------------------------

def test_reproduction_report_is_current():
    """The appendix page is exactly what the recorded figures give now (stamped inputs)."""
    from tools.report import STAMP_PREFIX, render_report

    page = ROOT / "book" / "appendix" / "reproduction.md"
    assert page.is_file(), "book/appendix/reproduction.md is missing: run python -m tools.report"
    committed = page.read_text()
    assert committed.startswith(STAMP_PREFIX)
    assert committed == render_report(ROOT / "book" / "results"), (
        "the reproduction report is stale or was edited by hand; run make execute or python -m tools.report")


def test_reproduction_report_lists_every_comparison_with_a_source():
    page = (ROOT / "book" / "appendix" / "reproduction.md").read_text()
    for path in NOTEBOOKS:
        for row in results_of(chapter_of(path))["sources"]:
            assert f"| {row['experiment'].replace('|', chr(92) + '|')} |" in page, \
                f"{chapter_of(path)}: {row['experiment']!r} is missing from the report"


def test_reproduction_report_goes_stale_when_a_figure_changes(tmp_path):
    """The staleness check can fail: change one recorded comparison, the page changes."""
    import shutil

    from tools.report import render_report

    results = tmp_path / "results"
    shutil.copytree(ROOT / "book" / "results", results)
    before = render_report(results)
    path = results / "ch01.json"
    data = json.loads(path.read_text())
    data["sources"][0]["ours"] = 0.5
    path.write_text(json.dumps(data))
    assert before != render_report(results)


# ---- the layout: lessons in the chapters, bookkeeping in one hidden cell ------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_figures_are_recorded_in_one_hidden_cell_at_the_end(path):
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    recording = [i for i, c in enumerate(code) if re.search(r"\brecord\(", c.source)]
    assert recording == [len(code) - 1], (
        f"{path.name}: record(...) must be called once, in the last code cell (found in code cells {recording})")
    assert "remove-cell" in code[-1].metadata.get("tags", []), f"{path.name}: tag the recording cell remove-cell"
    lesson = "\n".join(c.source for c in code[:-1])
    assert "results.record" not in lesson and 'print("recorded")' not in lesson


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_speed_settings_are_not_in_the_lessons(path):
    """steps_per_execution is taught once (chapter 3); elsewhere the tools set it, not the page."""
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    if not path.name.startswith("ch03_"):
        assert "steps_per_execution" not in code, f"{path.name} sets steps_per_execution"


def test_the_package_is_small_and_imports_no_tooling():
    package = ROOT / "companion"
    lines = sum(len(p.read_text().splitlines()) for p in package.rglob("*.py"))
    # 2,500 after the redesign (issue 17); the seeds helper of issue 18 (repeat, Repeats, Spread, bands) added ~230
    assert lines <= 2800, f"companion/ has {lines} lines; the package a learner installs stays under 2,800"
    for p in package.rglob("*.py"):
        text = p.read_text()
        assert not re.search(r"^\s*(from|import) tools\b", text, re.M), f"{p} imports the tooling"
        for m in re.finditer(r"^\s*from [.\w]+ import \(?([^)\n]*)", text, re.M):
            names = [n.strip() for n in m.group(1).split(",")]
            private = [n for n in names if n.startswith("_") and not n.startswith("__")
                       and not (package / f"{n}.py").is_file()]  # a private module is fine, its private names not
            assert not private, \
                f"{p.name} imports a private name across modules: {m.group(0)}"


def test_only_the_package_is_installed():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["companion"]
    assert not any(dep.startswith(("nbformat", "nbclient", "pyyaml")) for dep in project["project"]["dependencies"])



@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_page_gives_no_answer_away(path):
    """Quiz cells show the question, not their source (which names the right option); every
    exercise solution, code and output, sits behind one toggle (hide-cell)."""
    cells = nbformat.read(path, as_version=4).cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and re.match(r"\s*quiz\(", cell.source):
            assert "remove-input" in cell.metadata.get("tags", []), f"{path.name}: quiz cell {i} shows its answer"
    start = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    for i, cell in enumerate(cells[start:-1], start):
        if cell.cell_type == "code":
            assert "hide-cell" in cell.metadata.get("tags", []), \
                f"{path.name}: exercise solution in cell {i} is not folded with its output (tag hide-cell)"
