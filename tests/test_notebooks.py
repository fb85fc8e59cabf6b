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

from companion.execute import WIDGET_STATE, WIDGET_VIEW, code_hash, stamp_of, toc_notebooks
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
    # Claim: SGDClassifier(log_loss, 5 epochs) scores about 0.82 in 5-fold CV (source 001).
    assert 0.80 <= fig("ch01", "logreg_cv_accuracy") <= 0.84


def test_ch01_one_layer_network_reaches_the_sources_accuracy():
    # Claim: Dense(10, softmax) with RMSprop, 5 epochs, scores 0.8430 on validation (source 001).
    assert 0.83 <= fig("ch01", "one_layer_val_accuracy") <= 0.86


def test_ch01_network_is_a_little_better_than_logistic_regression():
    # Claim: same model, better optimizer: a little better, not a different league.
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
    from companion.report import STAMP_PREFIX, render_report

    page = ROOT / "book" / "appendix" / "reproduction.md"
    assert page.is_file(), "book/appendix/reproduction.md is missing: run python -m companion.report"
    committed = page.read_text()
    fresh = render_report(ROOT / "book" / "results")
    assert committed.splitlines()[0] == fresh.splitlines()[0], (
        "the reproduction report was made from other results files "
        f"({committed.splitlines()[0]!r}); run make execute or python -m companion.report")
    assert committed == fresh, "the reproduction report was edited by hand; run python -m companion.report"
    assert committed.startswith(STAMP_PREFIX)


def test_reproduction_report_lists_every_chapter_and_every_sourced_figure():
    page = (ROOT / "book" / "appendix" / "reproduction.md").read_text()
    for path in NOTEBOOKS:
        data = results_of(chapter_of(path))
        for figure in data["figures"].values():
            if figure.get("source") is not None:
                assert figure["label"].replace("|", "\\|") in page, \
                    f"{chapter_of(path)}: {figure['label']!r} is missing from the report"


def test_reproduction_report_goes_stale_when_a_figure_changes(tmp_path):
    """The staleness check can fail: change one recorded figure, the page changes."""
    import shutil

    from companion.report import render_report

    results = tmp_path / "results"
    shutil.copytree(ROOT / "book" / "results", results)
    before = render_report(results)
    path = results / "ch01.json"
    data = json.loads(path.read_text())
    name = next(k for k, v in data["figures"].items() if v.get("source") is not None)
    data["figures"][name]["value"] += 0.01
    path.write_text(json.dumps(data))
    after = render_report(results)
    assert before.splitlines()[0] != after.splitlines()[0]
    assert before != after


def test_reproduction_report_refuses_fast_mode_figures(tmp_path):
    import shutil

    from companion.errors import CompanionValueError
    from companion.report import render_report

    results = tmp_path / "results"
    shutil.copytree(ROOT / "book" / "results", results)
    data = json.loads((results / "ch02.json").read_text())
    data["fast"] = True
    (results / "ch02.json").write_text(json.dumps(data))
    with pytest.raises(CompanionValueError, match="fast mode"):
        render_report(results)
