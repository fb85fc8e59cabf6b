"""Unit tests of the companion's plots, widgets, quiz, checks, results and full-run tools."""

from __future__ import annotations

import json
import os

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

import companion
from companion import checks, execute, plots, quiz, results, widgets
from companion.errors import CompanionTypeError, CompanionValueError


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


HIST = {"loss": [0.9, 0.6, 0.5], "accuracy": [0.6, 0.7, 0.75],
        "val_loss": [0.8, 0.7, 0.72], "val_accuracy": [0.65, 0.7, 0.69]}


# ---- plots -------------------------------------------------------------------------------

def test_plot_history_draws_one_panel_per_metric_with_train_and_validation():
    fig = plots.plot_history(HIST)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2  # train + validation


def test_plot_history_compares_runs_in_one_colour_each():
    fig = plots.plot_history({"a": HIST, "b": HIST}, metrics=["loss"], mark_best=True)
    lines = fig.axes[0].lines
    assert len(lines) == 6  # 2 runs x (train, validation, best-epoch dot)
    assert lines[0].get_color() == lines[1].get_color() != lines[3].get_color()


def test_plot_history_rejects_unknown_metric_naming_the_keys():
    with pytest.raises(CompanionValueError, match="val_acc|accuracy"):
        plots.plot_history(HIST, metrics=["acc"])


@pytest.mark.parametrize("bad", [None, 3, [], {}, {"loss": "abc"}, {"loss": [1, 2], "val_loss": [1]}])
def test_plot_history_rejects_bad_histories(bad):
    with pytest.raises((CompanionTypeError, CompanionValueError), match="history"):
        plots.plot_history(bad)


def test_best_epoch_is_one_based():
    assert plots.best_epoch(HIST) == 2
    assert plots.best_epoch(HIST, "val_accuracy", "max") == 2
    with pytest.raises(CompanionValueError, match="monitor"):
        plots.best_epoch(HIST, "val_acc")


def test_show_images_labels_and_marks_wrong_predictions_in_red():
    imgs = np.random.default_rng(0).random((4, 28, 28))
    fig = plots.show_images(imgs, [0, 1, 2, 3], ["a", "b", "c", "d"], predictions=[0, 1, 3, 3], n_cols=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "a" and "true: c" in titles[2]
    assert fig.axes[2].title.get_color() == "crimson"


def test_show_images_accepts_flat_rows_and_rejects_mismatched_labels():
    fig = plots.show_images(np.zeros((3, 784)))
    assert len(fig.axes) == 3
    with pytest.raises(CompanionValueError, match="labels"):
        plots.show_images(np.zeros((3, 28, 28)), labels=[0, 1])
    with pytest.raises(CompanionValueError, match="images"):
        plots.show_images(np.zeros((3, 783)))


def test_plot_probabilities_validates_a_softmax_row():
    plots.plot_probabilities([0.2, 0.8], ["x", "y"], true_label=0)
    with pytest.raises(CompanionValueError, match="sum to 1"):
        plots.plot_probabilities([0.2, 0.2], ["x", "y"])
    with pytest.raises(CompanionValueError, match="class_names"):
        plots.plot_probabilities([0.5, 0.5], ["x"])


# ---- widgets -----------------------------------------------------------------------------

def test_stack_viewer_switches_frame_when_the_control_moves():
    v = widgets.stack_viewer([b"one", b"two", b"three"], ["1", "2", "3"], control="slider")
    assert v.index == 0
    v.control.value = "3"
    assert v.index == 2 and v.frames[2].png == b"three"
    assert 'alt="3"' in v.frames[2].value and "base64," in v.frames[2].value
    # the browser-side link is what makes the static page react
    assert v.link.source == (v.control, "index") and v.link.target == (v.stack, "selected_index")


@pytest.mark.parametrize("kind", ["dropdown", "toggle"])
def test_stack_viewer_other_controls(kind):
    v = widgets.stack_viewer([b"a", b"b"], ["x", "y"], control=kind, start=1)
    assert v.index == 1
    v.control.index = 0
    assert v.index == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(frames=[], labels=[]), "frames"),
    (dict(frames=[b"a"] * 13, labels=[str(i) for i in range(13)]), "frames"),
    (dict(frames=[b"a", b"b"], labels=["x"]), "labels"),
    (dict(frames=[b"a", b"b"], labels=["x", "x"]), "labels"),
    (dict(frames=[b"a"], labels=["x"], control="knob"), "control"),
    (dict(frames=[b"a"], labels=["x"], start=3), "start"),
    (dict(frames=[1], labels=["x"]), r"frames\[0\]"),
])
def test_stack_viewer_rejects_bad_arguments(kwargs, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        widgets.stack_viewer(**kwargs)


def test_class_browser_shows_a_different_picture_per_class():
    rng = np.random.default_rng(1)
    imgs, labs = rng.random((30, 28, 28)), np.arange(30) % 3
    v = widgets.class_browser(imgs, labs, ["a", "b", "c"], per_class=4)
    assert v.control.options == ("a", "b", "c")
    pictures = {f.png for f in v.frames}
    assert len(pictures) == 3 and all(p[:4] == b"\x89PNG" for p in pictures)
    assert "class 2, c" in v.frames[2].value  # alt text says what the picture shows
    v.control.index = 2
    assert v.stack.selected_index == 2


def test_class_browser_needs_every_class():
    with pytest.raises(CompanionValueError, match="class 2"):
        widgets.class_browser(np.zeros((4, 28, 28)), [0, 1, 0, 1], ["a", "b", "c"])


def test_probability_viewer_frames_follow_the_slider():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    v = widgets.probability_viewer(np.random.default_rng(2).random((3, 28, 28)), probs, [0, 0, 1], ["a", "b"])
    assert len(v.frames) == 3
    v.control.value = "image 2"
    assert v.index == 1
    with pytest.raises(CompanionValueError, match="probabilities"):
        widgets.probability_viewer(np.zeros((3, 28, 28)), probs[:, :1], [0, 0, 1], ["a", "b"])


def test_figure_to_png_is_compact_and_closes_the_figure():
    fig = plt.figure(figsize=(5, 3))
    plt.plot([0, 1], [0, 1])
    png = widgets.figure_to_png(fig)
    assert png[:4] == b"\x89PNG" and len(png) < 25_000
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(CompanionTypeError, match="fig"):
        widgets.figure_to_png("not a figure")


# ---- quiz --------------------------------------------------------------------------------

def test_quiz_gives_feedback_for_the_chosen_option():
    q = quiz.quiz("Q?", ["a", "b", "c"], 1, ["no a", "yes b", "no c"])
    assert q.is_correct is None and q.message == ""
    q.options.index = 0
    assert q.is_correct is False and "Not quite" in q.message and "no a" in q.message
    q.options.index = 1
    assert q.is_correct is True and "Right" in q.message and "yes b" in q.message
    assert q.link.target == (q.feedback, "selected_index")


def test_quiz_shows_the_answer_as_plain_html_folded_away():
    """On the web page the answer is readable without JavaScript, in a closed <details>."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    q = quiz.quiz("Which <b>loss</b>?", ["mse", "cross-entropy"], 1, ["Squared & slow.", "Right one."])
    page = q.answer_html()
    assert page.startswith('<details class="quiz-answer">') and "<summary>" in page
    assert "open" not in page.split(">")[0], "the answer must start folded"
    assert "Answer: <b>cross-entropy</b>" in page
    assert "Squared &amp; slow." in page and "Right one." in page, "every explanation is listed"
    assert "&lt;b&gt;loss&lt;/b&gt;" in page, "text is escaped, not injected as HTML"
    shell = InteractiveShell.instance()
    with capture_output() as captured:
        shell.display_formatter.ipython_display_formatter(q)
    kinds = [set(o.data) for o in captured.outputs]
    assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), "the widget is displayed"
    assert any(o.data.get("text/html") == page for o in captured.outputs), "then the folded answer"


@pytest.mark.parametrize("args, match", [
    (("", ["a", "b"], 0, ["x", "y"]), "question"),
    (("Q", ["a"], 0, ["x"]), "options"),
    (("Q", ["a", "a"], 0, ["x", "y"]), "options"),
    (("Q", ["a", "b"], 2, ["x", "y"]), "answer"),
    (("Q", ["a", "b"], 0, ["x"]), "explanations"),
])
def test_quiz_rejects_bad_arguments(args, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        quiz.quiz(*args)


# ---- checks ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    import keras
    return keras


def test_check_model_passes_a_right_solution(keras):
    m = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(loss="binary_crossentropy", metrics=["accuracy"])
    r = checks.check_model(m, input_shape=(784,), n_outputs=1, output_activation="sigmoid",
                           loss="binary_crossentropy", metrics=["accuracy"])
    assert r.ok and len(r.passed) == 5 and "all checks passed" in str(r)


def test_check_model_gives_specific_hints_for_a_wrong_solution(keras):
    m = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                          keras.layers.Dense(10, activation="softmax")])
    m.compile(loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["mae"])
    r = checks.check_model(m, input_shape=(784,), n_outputs=1, output_activation="sigmoid",
                           loss="binary_crossentropy", metrics=["accuracy"], min_hidden=1)
    assert not r.ok
    text = " ".join(r.hints)
    for needle in ["(784,)", "10 unit", "'sigmoid'", "binary_crossentropy", "accuracy", "hidden"]:
        assert needle in text
    assert "Not yet" in r._repr_html_()


def test_check_model_reminds_to_compile(keras):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    r = checks.check_model(m, loss="sparse_categorical_crossentropy")
    assert not r.ok and "compile" in r.hints[0]


def test_check_model_rejects_non_models():
    with pytest.raises(CompanionTypeError, match="model"):
        checks.check_model("my model")


def test_check_history_hints(keras):
    r = checks.check_history({"loss": [0.5, float("nan")]}, epochs=3, metrics=["accuracy"], validation=True)
    text = " ".join(r.hints)
    assert "epochs=3" in text and "NaN" in text and "accuracy" in text and "validation_data" in text
    assert checks.check_history(dict(HIST), epochs=3, metrics=["accuracy"], validation=True).ok
    with pytest.raises(CompanionTypeError, match="history"):
        checks.check_history([1, 2])


# ---- results -----------------------------------------------------------------------------

def test_results_are_written_and_tabled(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("COMPANION_FAST", "0")
    r = results.Results("chX")
    assert r.record("acc", np.float32(0.85), label="accuracy", source=0.84, source_label="001") \
        == pytest.approx(0.85)
    r.record("other", 3, label="no source")
    data = results.load_results(tmp_path / "chX.json")
    assert data["fast"] is False and set(data["figures"]) == {"acc", "other"}
    html = r.table()._repr_html_()
    assert "0.8400" in html and "+0.0100" in html and "no source" not in html
    assert "Fast mode" not in html


def test_results_in_memory_only_without_a_folder(monkeypatch):
    monkeypatch.delenv("COMPANION_RESULTS_DIR", raising=False)
    r = results.Results("chY")
    r.record("x", 1.0, label="x", source=1.0)
    assert r.path is None and r["x"] == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="", value=1, label="x"), "name"),
    (dict(name="a", value=float("nan"), label="x"), "value"),
    (dict(name="a", value="0.8", label="x"), "value"),
    (dict(name="a", value=1, label=""), "label"),
    (dict(name="a", value=1, label="x", source=float("inf")), "source"),
])
def test_record_rejects_bad_figures(kwargs, match, monkeypatch):
    monkeypatch.delenv("COMPANION_RESULTS_DIR", raising=False)
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        results.Results("chZ").record(**kwargs)


def test_results_chapter_name_is_checked():
    with pytest.raises(CompanionValueError, match="chapter"):
        results.Results("../evil")


# ---- full-run tools ----------------------------------------------------------------------

def _nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t")]
                                    + [nbformat.v4.new_code_cell(s) for s in sources])


def test_code_hash_changes_with_code_only():
    a = _nb("x = 1", "print(x)")
    b = _nb("x = 1  ", "print(x)")
    b.cells[0].source = "# another title"
    assert execute.code_hash(a) == execute.code_hash(b)
    assert execute.code_hash(a) != execute.code_hash(_nb("x = 2", "print(x)"))


def test_prune_widget_state_keeps_what_outputs_need():
    nb = _nb("w")
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", data={execute.WIDGET_VIEW: {"model_id": "aa", "version_major": 2}})]
    nb.metadata["widgets"] = {execute.WIDGET_STATE: {"state": {
        "aa": {"state": {"children": ["IPY_MODEL_bb"]}},
        "bb": {"state": {}}, "cc": {"state": {}}}}}
    assert execute.prune_widget_state(nb) == 1
    assert set(nb.metadata["widgets"][execute.WIDGET_STATE]["state"]) == {"aa", "bb"}


def test_execute_notebook_runs_stamps_and_records(tmp_path):
    nb = _nb("from companion.results import Results\nr = Results('ch99')\nr.record('x', 0.5, label='x')",
             "import ipywidgets as w\nw.IntSlider()")
    path = tmp_path / "ch99_demo.ipynb"
    nbformat.write(nb, path)
    stamp = execute.execute_notebook(path, fast=True, results_dir=tmp_path / "res", quiet=True)
    done = nbformat.read(path, as_version=4)
    assert execute.stamp_of(done)["code_sha256"] == execute.code_hash(done) == stamp["code_sha256"]
    assert done.cells[2].outputs[0]["data"][execute.WIDGET_VIEW]
    assert done.metadata["widgets"][execute.WIDGET_STATE]["state"]
    saved = json.loads((tmp_path / "res" / "ch99.json").read_text())
    assert saved["fast"] is True and saved["code_sha256"] == stamp["code_sha256"]
    assert os.environ["COMPANION_FAST"] == "1"  # restored for the rest of the session


def _tiny_book(tmp_path, sources):
    """A book folder with notebooks, a results folder and an appendix, like the real one."""
    book = tmp_path / "book"
    (book / "appendix").mkdir(parents=True)
    paths = []
    for stem, code in sources.items():
        nb = _nb(code)
        nb.cells[0].source = f"# Chapter {stem}"
        paths.append(book / f"{stem}.ipynb")
        nbformat.write(nb, paths[-1])
    return book, paths


def test_parallel_runner_stamps_every_chapter_and_writes_the_report_once(tmp_path, capsys):
    record = "from companion.results import Results\nResults('{c}').record('x', {v}, label='x')"
    book, paths = _tiny_book(tmp_path, {"ch97_a": record.format(c="ch97", v=0.25),
                                        "ch98_b": record.format(c="ch98", v=0.75)})
    assert execute.main(["--jobs", "2", *map(str, paths)]) == 0
    for path in paths:
        stamp = execute.stamp_of(path)
        assert stamp["fast"] is False and stamp["code_sha256"] == execute.code_hash(path)
        # the environment's setting, passed on untouched (None: TensorFlow's default, as in the book)
        expected = os.environ.get("TF_NUM_INTRAOP_THREADS")
        assert stamp["tf_threads"] == (int(expected) if expected else None)
    assert json.loads((book / "results" / "ch98.json").read_text())["figures"]["x"]["value"] == 0.75
    report = (book / "appendix" / "reproduction.md").read_text()
    assert "Chapter ch97_a" in report and "Chapter ch98_b" in report
    assert "2 at a time" in capsys.readouterr().out
    assert os.environ["COMPANION_FAST"] == "1"


def test_parallel_runner_reports_a_failing_chapter_and_keeps_it_unchanged(tmp_path, capsys):
    book, paths = _tiny_book(tmp_path, {"ch97_ok": "x = 1", "ch98_bad": "raise ValueError('boom')"})
    before = paths[1].read_text()
    assert execute.main(["--jobs", "2", *map(str, paths)]) == 1
    assert execute.stamp_of(paths[0])["code_sha256"] == execute.code_hash(paths[0])
    assert paths[1].read_text() == before
    err = capsys.readouterr().err
    assert "ch98_bad" in err and "failed" in err


def test_runner_sets_tensorflow_threads_for_the_kernel_and_restores_the_environment(tmp_path):
    code = "import os\nprint(os.environ.get('TF_NUM_INTRAOP_THREADS'), os.environ.get('TF_NUM_INTEROP_THREADS'))"
    _, (path,) = _tiny_book(tmp_path, {"ch99_threads": code})
    before = os.environ.get("TF_NUM_INTRAOP_THREADS")
    stamp = execute.execute_notebook(path, fast=True, results_dir=tmp_path / "res", quiet=True, threads=1)
    assert stamp["tf_threads"] == 1
    assert nbformat.read(path, as_version=4).cells[1].outputs[0]["text"].split() == ["1", "1"]
    assert os.environ.get("TF_NUM_INTRAOP_THREADS") == before
    with pytest.raises(CompanionValueError, match="threads"):
        execute.execute_notebook(path, threads=0)


def test_runner_refuses_bad_arguments_before_starting_a_kernel(tmp_path, capsys):
    _, (path,) = _tiny_book(tmp_path, {"ch99_x": "x = 1"})
    with pytest.raises(SystemExit):
        execute.main(["--jobs", "0", str(path)])
    with pytest.raises(CompanionValueError, match="notebook"):
        execute.main([str(tmp_path / "missing.ipynb")])
    assert execute.stamp_of(path) == {}


# ---- setup and validation ----------------------------------------------------------------

def test_setup_notebook_seeds_and_reports(capsys):
    info = companion.setup_notebook(seed=7)
    assert info["seed"] == 7 and info["fast"] is True and info["keras"].startswith("3.")
    assert "seed 7" in capsys.readouterr().out
    a = np.random.rand(3)
    companion.setup_notebook(seed=7, show=False)
    assert np.array_equal(a, np.random.rand(3))


def test_setup_notebook_skips_optimizing_only_small_graphs():
    import tensorflow as tf
    from companion.notebook import MIN_OPTIMIZED_GRAPH_NODES, skip_optimizing_small_graphs

    try:
        skip_optimizing_small_graphs(0)
        assert tf.config.optimizer.get_experimental_options().get("min_graph_nodes", 0) == 0
        companion.setup_notebook(seed=42, show=False)
        assert tf.config.optimizer.get_experimental_options()["min_graph_nodes"] == MIN_OPTIMIZED_GRAPH_NODES
    finally:
        skip_optimizing_small_graphs()


def _train_small_network(min_nodes: int) -> tuple[list[float], np.ndarray]:
    """Two epochs of a small Dense/BatchNormalization/Dropout network under one setting."""
    import keras
    from companion.notebook import skip_optimizing_small_graphs

    skip_optimizing_small_graphs(min_nodes)
    try:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(512, 20)).astype("float32")
        y = (x[:, :3].sum(axis=1) > 0).astype("int64")
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        model = keras.Sequential([
            keras.Input(shape=(20,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(2, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=8)
        history = model.fit(x[:384], y[:384], epochs=2, batch_size=32,
                            validation_data=(x[384:], y[384:]), verbose=0)
        return history.history["val_loss"] + history.history["loss"], model.predict(x[384:], verbose=0)
    finally:
        skip_optimizing_small_graphs()


def test_skipping_small_graphs_changes_no_result():
    """TensorFlow's default (4 nodes) and the companion's 32 give bit-identical training."""
    default = _train_small_network(0)
    skipped = _train_small_network(32)
    assert default[0] == skipped[0]
    assert np.array_equal(default[1], skipped[1])


@pytest.mark.parametrize("min_nodes", [-1, 10_001, 1.5, "32", True, None])
def test_skip_optimizing_small_graphs_rejects_bad_values(min_nodes):
    from companion.notebook import skip_optimizing_small_graphs

    with pytest.raises((CompanionTypeError, CompanionValueError), match="min_nodes"):
        skip_optimizing_small_graphs(min_nodes)


@pytest.mark.parametrize("seed", [-1, 2**33, 1.5, "42", True])
def test_setup_notebook_rejects_bad_seeds(seed):
    with pytest.raises((CompanionTypeError, CompanionValueError), match="seed"):
        companion.setup_notebook(seed=seed, show=False)


@hsettings(max_examples=60, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=5), st.floats(allow_nan=True), st.integers(),
                 st.lists(st.floats(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_plot_history_fails_cleanly_on_arbitrary_input(value):
    try:
        plots.plot_history(value)
    except (CompanionTypeError, CompanionValueError) as err:
        assert "history" in str(err)
    finally:
        plt.close("all")


@hsettings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none(), st.booleans()))
def test_stack_viewer_start_is_validated(start):
    try:
        v = widgets.stack_viewer([b"a", b"b"], ["x", "y"], start=start)
    except (CompanionTypeError, CompanionValueError) as err:
        assert "start" in str(err)
    else:
        assert v.index == start


# ---- experiments -------------------------------------------------------------------------

def _tiny_data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    return x, (x.sum(axis=1) > 2).astype("int64")


def _build(lr):
    import keras
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    m.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def test_sweep_is_repeatable_and_matches_plain_fit():
    from companion import experiments
    import keras
    x, y = _tiny_data()
    a = experiments.sweep(_build, [0.1, 0.5], x=x, y=y, epochs=3, batch_size=8, verbose=False)
    b = experiments.sweep(_build, [0.1, 0.5], x=x, y=y, epochs=3, batch_size=8, verbose=False,
                          steps_per_execution=1)
    assert list(a) == ["0.1", "0.5"] and a == b  # steps_per_execution leaves results unchanged
    keras.backend.clear_session(); keras.utils.set_random_seed(42)
    plain = _build(0.1).fit(x, y, epochs=3, batch_size=8, verbose=0).history
    assert np.allclose(plain["loss"], a["0.1"]["loss"])
    assert a["0.1"]["loss"] != a["0.5"]["loss"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(build=3, values=[1]), "build"),
    (dict(build=_build, values="ab"), "values"),
    (dict(build=_build, values=[]), "values"),
    (dict(build=_build, values=[1, 2], labels=["a"]), "labels"),
    (dict(build=_build, values=[1], epochs=0), "epochs"),
])
def test_sweep_rejects_bad_arguments(kwargs, match):
    from companion import experiments
    x, y = _tiny_data()
    kwargs = {"epochs": 1, **kwargs}
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        experiments.sweep(x=x, y=y, verbose=False, **kwargs)


def test_prune_widget_state_keeps_links_between_kept_models():
    nb = _nb("w")
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", data={execute.WIDGET_VIEW: {"model_id": "0a", "version_major": 2}})]
    state = {"0a": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_1b", "IPY_MODEL_2c"]}},
             "1b": {"model_name": "IntSliderModel", "state": {}},
             "2c": {"model_name": "StackModel", "state": {}},
             "3d": {"model_name": "LinkModel",
                      "state": {"source": ["IPY_MODEL_1b", "value"], "target": ["IPY_MODEL_2c", "selected_index"]}},
             "4e": {"model_name": "LinkModel",
                       "state": {"source": ["IPY_MODEL_1b", "value"], "target": ["IPY_MODEL_5f", "x"]}}}
    nb.metadata["widgets"] = {execute.WIDGET_STATE: {"state": state}}
    execute.prune_widget_state(nb)
    assert set(nb.metadata["widgets"][execute.WIDGET_STATE]["state"]) == {"0a", "1b", "2c", "3d"}


def test_fit_quickly_takes_class_numbers_as_a_column_or_a_row():
    """Sparse targets of shape (n, 1) train exactly like (n,), also after the other shape ran.

    Keras accepts both; feeding both shapes in one process once made a traced
    training step fail with "Cannot take the length of shape with unknown rank"
    (found by tests/test_api_fuzz.py), so fit_quickly hands Keras shape (n,).
    """
    import keras
    from companion.experiments import fit_quickly

    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int64")
    runs = []
    for targets, val in [(y, y[:16]), (y[:, None], y[:16, None]), (y, y[:16, None])]:
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        runs.append(fit_quickly(model, x, targets, epochs=2, batch_size=8,
                                validation_data=(x[:16], val), steps_per_execution=4))
    assert runs[0] == runs[1] == runs[2]


def test_setup_notebook_collects_garbage_less_often():
    import gc

    from companion.notebook import GC_THRESHOLDS, collect_garbage_less_often

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        frozen = gc.get_freeze_count()
        companion.setup_notebook(seed=42, show=False)
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() >= frozen
        gc.set_threshold(700, 10, 10)
        assert collect_garbage_less_often(1000, freeze=False) == (700, 10, 10)
        assert gc.get_threshold() == (1000, *GC_THRESHOLDS[1:])
    finally:
        gc.set_threshold(*before)


def test_collecting_garbage_less_often_still_frees_cycles():
    """Unreachable cycles are still freed: by the next collection, or at once by clear_session."""
    import gc
    import weakref

    import keras
    from companion.notebook import collect_garbage_less_often

    class Node:
        pass

    before = collect_garbage_less_often(freeze=False)
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        keras.backend.clear_session()
        assert ref() is None
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("kwargs", [dict(first=699), dict(first=1_000_001), dict(first=1.5),
                                    dict(first="700"), dict(first=True), dict(freeze=1)])
def test_collect_garbage_less_often_rejects_bad_values(kwargs):
    import gc

    from companion.notebook import collect_garbage_less_often

    before = gc.get_threshold()
    with pytest.raises((CompanionTypeError, CompanionValueError), match="first|freeze"):
        collect_garbage_less_often(**kwargs)
    assert gc.get_threshold() == before
