"""The maintainers' tools (tools/): stamps, widget-state pruning, the full-run runner, the
report, and the kernel speed settings of tools/ipython."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import execute, report

ROOT = Path(__file__).resolve().parent.parent


def _nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t")]
                                    + [nbformat.v4.new_code_cell(s) for s in sources])


def test_code_hash_changes_with_code_only():
    a = _nb("x = 1", "print(x)")
    b = _nb("x = 1  ", "print(x)")
    b.cells[0].source = "# another title"
    assert execute.code_hash(a) == execute.code_hash(b)
    assert execute.code_hash(a) != execute.code_hash(_nb("x = 2", "print(x)"))


def test_code_hash_ignores_layout_and_comments_but_not_meaning():
    """A formatter's work (line breaks, trailing commas, quotes) or a comment keeps the stamp."""
    plain = _nb("y = f(a, b=[1, 2])", "%timeit f(1)\n!ls")
    formatted = _nb("y = f(\n    a,\n    b=[\n        1,\n        2,\n    ],\n)  # a comment", "%timeit f(1)\n!ls")
    assert execute.code_hash(plain) == execute.code_hash(formatted)
    for changed in ["y = f(a, b=[1, 3])", "y = f(b=[1, 2], a=a)", "y = (f(a, b=[1, 2]),)"]:
        assert execute.code_hash(_nb(changed, "%timeit f(1)\n!ls")) != execute.code_hash(plain), changed
    assert execute.code_hash(_nb("y = (", "")) != execute.code_hash(_nb("y = [", ""))  # unparsable: by text


def test_prune_widget_state_keeps_what_outputs_and_links_need():
    nb = _nb("w")
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", data={execute.WIDGET_VIEW: {"model_id": "0a", "version_major": 2}})]
    state = {"0a": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_1b", "IPY_MODEL_2c"]}},
             "1b": {"model_name": "IntSliderModel", "state": {}},
             "2c": {"model_name": "StackModel", "state": {}},
             "3d": {"model_name": "LinkModel",
                    "state": {"source": ["IPY_MODEL_1b", "index"], "target": ["IPY_MODEL_2c", "selected_index"]}},
             "4e": {"model_name": "LinkModel",
                    "state": {"source": ["IPY_MODEL_1b", "value"], "target": ["IPY_MODEL_5f", "x"]}},
             "6a": {"model_name": "IntSliderModel", "state": {}}}
    nb.metadata["widgets"] = {execute.WIDGET_STATE: {"state": state}}
    assert execute.prune_widget_state(nb) == 2
    assert set(nb.metadata["widgets"][execute.WIDGET_STATE]["state"]) == {"0a", "1b", "2c", "3d"}


def _tiny_book(tmp_path, sources):
    """A book folder with notebooks and an appendix folder, like the real one."""
    book = tmp_path / "book"
    (book / "appendix").mkdir(parents=True)
    paths = []
    for stem, code in sources.items():
        nb = _nb(*code) if isinstance(code, tuple) else _nb(code)
        nb.cells[0].source = f"# Chapter {stem}"
        paths.append(book / f"{stem}.ipynb")
        nbformat.write(nb, paths[-1])
    return book, paths


RECORD = ("from companion.results import compare_with_sources, record\n"
          "t = compare_with_sources([('acc', '001', 0.5, {v}, 'same data')])\n"
          "record('{c}', {{'x': {v}}}, sources=t)")


def test_runner_stamps_records_reports_and_keeps_a_failing_chapter_unchanged(tmp_path, capsys):
    """One run of three chapters, two at a time, one TensorFlow thread per kernel: the good
    chapters are stamped, their figures recorded and reported; the failing one is left as it was."""
    settings = ("import os, gc\nprint(os.environ.get('TF_NUM_INTRAOP_THREADS'), gc.get_threshold()[0], "
                "os.environ['IPYTHONDIR'].endswith('tools/ipython'))")
    book, paths = _tiny_book(tmp_path, {
        "ch97_a": (RECORD.format(c="ch97", v=0.25), "import ipywidgets as w\nw.IntSlider()", settings),
        "ch98_b": RECORD.format(c="ch98", v=0.75),
        "ch99_bad": "raise ValueError('boom')"})
    before = paths[2].read_text()
    threads_before = os.environ.get("TF_NUM_INTRAOP_THREADS")
    assert execute.main(["--jobs", "2", "--threads", "1", *map(str, paths)]) == 1
    for path in paths[:2]:
        stamp = execute.stamp_of(path)
        assert stamp["fast"] is False and stamp["code_sha256"] == execute.code_hash(path)
        assert stamp["tf_threads"] == 1
    assert paths[2].read_text() == before
    done = nbformat.read(paths[0], as_version=4)
    assert done.cells[2].outputs[0]["data"][execute.WIDGET_VIEW]
    assert done.metadata["widgets"][execute.WIDGET_STATE]["state"]
    assert done.cells[3].outputs[0]["text"].split() == ["1", "50000", "True"]  # threads, tools/ipython
    saved = json.loads((book / "results" / "ch98.json").read_text())
    assert saved["figures"]["x"] == 0.75 and saved["code_sha256"] == execute.stamp_of(paths[1])["code_sha256"]
    page = (book / "appendix" / "reproduction.md").read_text()
    assert "Chapter ch97_a" in page and "| acc | 001 | 0.5000 | 0.7500 | same data |" in page
    out = capsys.readouterr()
    assert "2 at a time" in out.out and "ch99_bad" in out.err
    assert os.environ["COMPANION_FAST"] == "1" and os.environ.get("TF_NUM_INTRAOP_THREADS") == threads_before


def test_report_refuses_fast_mode_results(tmp_path):
    (tmp_path / "ch01.json").write_text(json.dumps({"chapter": "ch01", "fast": True, "figures": {"x": 1}}))
    with pytest.raises(ValueError, match="fast mode"):
        report.render_report(tmp_path)


SPEED_CHECK = r"""
import json, sys
import numpy as np
import keras

def run(callbacks=()):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 20)).astype("float32"); y = (x[:, :3].sum(axis=1) > 0).astype("int64")
    keras.utils.set_random_seed(42)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x[:480], y[:480], epochs=3, batch_size=16, validation_data=(x[480:], y[480:]),
                  verbose=0, callbacks=list(callbacks)).history
    return h, model.steps_per_execution, model.predict(x[480:], verbose=0).tolist()

class Batches(keras.callbacks.Callback):
    def __init__(self): super().__init__(); self.n = 0
    def on_train_batch_end(self, batch, logs=None): self.n += 1

counter = Batches()
plain, with_cb = run(), run([counter])
print(json.dumps({"history": plain[0], "steps": plain[1], "pred": plain[2], "cb_history": with_cb[0],
                  "cb_steps": with_cb[1], "batches": counter.n}))
"""


def test_maintainer_speed_settings_change_no_result_and_spare_batch_callbacks():
    """The startup file of tools/ipython: the same histories and predictions as plain Keras;
    a fit whose callback watches single batches keeps steps_per_execution 1 (every batch seen)."""
    startup = ROOT / "tools" / "ipython" / "profile_default" / "startup" / "00_maintainer_speed.py"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    outs = []
    for prelude in ("", startup.read_text()):
        proc = subprocess.run([sys.executable, "-c", prelude + SPEED_CHECK], capture_output=True, text=True,
                              env=env, check=True)
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    plain, fast = outs
    assert plain["steps"] == 1 and fast["steps"] == 64
    assert fast["history"] == plain["history"] and fast["pred"] == plain["pred"]
    assert fast["cb_steps"] == 1 and fast["batches"] == plain["batches"] == 3 * 30
    assert fast["cb_history"] == plain["cb_history"]


def test_book_links_finds_keras_names_and_chapter_mentions_but_not_the_textbooks_chapters():
    from tools.sphinx_ext import book_links as bl
    assert bl._keras_page("keras.layers.Dropout(0.3)") == "layers/regularization_layers/dropout/"
    assert bl._keras_page("EarlyStopping") == "callbacks/early_stopping/"
    assert bl._keras_page("tf.keras.optimizers.Adam") == "optimizers/adam/"
    assert bl._keras_page("np.mean") is None and bl._keras_page("x = 1") is None
    found = [m.group(0) for m in bl.CHAPTER.finditer(
        "as chapter 5 showed; study notes on chapter 7 of the Korean textbook; Chapter 12 and chapters 6")]
    assert found == ["chapter 5", "Chapter 12", "chapters 6"]


def test_publish_moves_every_link_to_the_new_repository_and_keeps_the_stamps(tmp_path):
    """One setting: tools.publish changes _config.yml, every set-up cell, README and the appendix."""
    import shutil

    import yaml

    from tools import publish
    root = tmp_path / "copy"
    (root / "book" / "appendix").mkdir(parents=True)
    for name in ["_config.yml", "README.md", "book/appendix/running.md"]:
        shutil.copy(ROOT / name, root / name)
    chapters = sorted((ROOT / "book").glob("ch[0-9][0-9]_*.ipynb"))[:2]
    for nb in chapters:
        shutil.copy(nb, root / "book" / nb.name)
    before = {nb.name: execute.code_hash(root / "book" / nb.name) for nb in chapters}
    old_url, _ = publish.current(root)
    changed = publish.publish("https://github.com/teacher/my-course", "fall-2027", root=root)
    assert "_config.yml" in changed and "README.md" in changed and len(changed) == 5
    repo = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    assert repo["url"] == "https://github.com/teacher/my-course" and repo["branch"] == "fall-2027"
    for nb in chapters:
        text = (root / "book" / nb.name).read_text()
        assert "git+https://github.com/teacher/my-course@fall-2027" in text and old_url not in text
        assert execute.code_hash(root / "book" / nb.name) == before[nb.name], "stamps stay valid"
    assert old_url not in (root / "README.md").read_text()
    with pytest.raises(SystemExit, match="not a repository address"):
        publish.publish("my-course", root=root)
