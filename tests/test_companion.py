"""Unit tests of the companion's plots, widgets, quiz, checks, results and full-run tools."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

import companion
from companion import checks, plots, quiz, results, widgets
from companion.errors import CompanionTypeError, CompanionValueError


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


def test_show_images_rejects_flat_rows_and_mismatched_labels():
    fig = plots.show_images(np.zeros((3, 28, 28)))
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

def test_frame_viewer_switches_frame_when_the_control_moves():
    v = widgets.frame_viewer([b"one", b"two", b"three"], ["1", "2", "3"], control="slider")
    assert v.index == 0
    v.control.value = "3"
    assert v.index == 2 and v.frames[2].png == b"three"
    assert 'alt="3"' in v.frames[2].value and "base64," in v.frames[2].value
    # the browser-side link is what makes the static page react
    assert v.link.source == (v.control, "index") and v.link.target == (v.stack, "selected_index")


@pytest.mark.parametrize("kind", ["dropdown", "toggle"])
def test_frame_viewer_other_controls(kind):
    v = widgets.frame_viewer([b"a", b"b"], ["x", "y"], control=kind, start=1)
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
def test_frame_viewer_rejects_bad_arguments(kwargs, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        widgets.frame_viewer(**kwargs)


def test_frame_viewer_renders_figures_and_closes_them():
    figs = [plt.figure(figsize=(2, 1)) for _ in range(2)]
    v = widgets.frame_viewer(figs, ["a", "b"], description="Rate:")
    assert all(f.png[:4] == b"\x89PNG" for f in v.frames) and 'alt="Rate: b"' in v.frames[1].value
    assert not any(plt.fignum_exists(f.number) for f in figs)


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
    assert q.is_correct is True and "&#10004;" in q.message and "yes b" in q.message
    right = quiz.quiz("Q?", ["a", "b"], 0, ["Right: a is it.", "no b"])
    right.options.index = 0
    assert right.message.count("Right") == 1  # not "Right. Right: ..."
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
    html_out = [o.data.get("text/html", "") for o in captured.outputs]
    assert any(h.endswith(page) for h in html_out), "then the folded answer"
    fallback = next(h for h in html_out if h.endswith(page)).removesuffix(page)
    assert fallback.startswith("<noscript>") and fallback.endswith("</noscript>"), \
        "with JavaScript off, the question and its options show as text"
    assert "<li>mse</li>" in fallback and "Answer" not in fallback


def test_frame_viewer_frames_are_sharp_name_their_setting_and_have_a_no_script_fallback():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    figs = []
    for k in range(2):
        fig = plt.figure(figsize=(4, 2))
        fig.gca().plot([0, k])
        figs.append(fig)
    v = widgets.frame_viewer(figs, ["0.1", "0.5"], description="Rate:")
    png = v.frames[1].png
    width = int.from_bytes(png[16:20], "big")
    assert width == 4 * 144, "frames are drawn at 144 dpi (2x the 72 at which they are shown)"
    value = v.frames[1].value
    assert f'width="{width // 2}"' in value, "shown at half its pixel width: sharp on dense screens"
    assert 'role="status"' in value and ">Rate: 0.5</p>" in value, "the setting is written (and announced)"
    assert v.control.layout.width == "100%", "the slider fits a phone's width"
    with capture_output() as captured:
        InteractiveShell.instance().display_formatter.ipython_display_formatter(v)
    html_out = [o.data.get("text/html", "") for o in captured.outputs]
    fallback = [h for h in html_out if h.startswith("<noscript>")]
    assert len(fallback) == 1 and "needs JavaScript" in fallback[0] and "<img" in fallback[0]
    assert "(Rate: 0.1, 0.5)" in fallback[0]


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

def test_compare_with_sources_shows_words_and_numbers_without_a_difference_column():
    table = results.compare_with_sources([("val accuracy", "001", 0.843, np.float32(0.8458), "same data"),
                                          ("dropout narrows the gap", "002", "yes", "yes", "MNIST: direction only"),
                                          ("parameters", "001", 78500, 78500, "")])
    html = table._repr_html_()
    assert "0.8430" in html and "0.8458" in html and "78,500" in html and ">yes<" in html
    assert "difference" not in html.lower() and "1.0000" not in html
    assert "| val accuracy | 001 | 0.8430 | 0.8458 | same data |" in table.to_markdown()


def test_record_writes_the_figures_and_the_comparison(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("COMPANION_FAST", "0")
    table = results.compare_with_sources([("acc", "001", 0.84, 0.85, "")])
    path = results.record("chX", {"acc": np.float64(0.85), "epochs": 3}, sources=table)
    data = json.loads(path.read_text())
    assert data["fast"] is False and data["figures"] == {"acc": 0.85, "epochs": 3.0}
    assert data["sources"][0]["source_figure"] == 0.84


def test_record_writes_nothing_without_a_folder(monkeypatch):
    monkeypatch.delenv("COMPANION_RESULTS_DIR", raising=False)
    assert results.record("chY", {"x": 1.0}) is None


@pytest.mark.parametrize("kwargs, match", [
    (dict(chapter="../evil", figures={"a": 1}), "chapter"),
    (dict(chapter="ch1", figures={}), "figures"),
    (dict(chapter="ch1", figures={"a": float("nan")}), "figures"),
    (dict(chapter="ch1", figures={"a": "0.8"}), "figures"),
    (dict(chapter="ch1", figures={"a": 1}, sources=[("x",)]), "sources"),
])
def test_record_rejects_bad_figures(kwargs, match, monkeypatch):
    monkeypatch.delenv("COMPANION_RESULTS_DIR", raising=False)
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        results.record(**kwargs)


@pytest.mark.parametrize("rows", [[], [("a", "001", 1.0, 2.0)], [("a", "001", float("inf"), 2.0, "")]])
def test_compare_with_sources_rejects_bad_rows(rows):
    with pytest.raises((CompanionTypeError, CompanionValueError), match="rows"):
        results.compare_with_sources(rows)


# ---- setup and validation ----------------------------------------------------------------

def test_setup_notebook_changes_no_setting_of_the_kernel():
    """A learner's kernel gets seeds and quiet logs, nothing else (no GC or Grappler tweaks)."""
    import gc

    import tensorflow as tf

    before = (gc.get_threshold(), tf.config.optimizer.get_experimental_options())
    companion.setup_notebook(seed=1, show=False)
    assert (gc.get_threshold(), tf.config.optimizer.get_experimental_options()) == before


def test_setup_notebook_seeds_and_reports(capsys):
    info = companion.setup_notebook(seed=7)
    assert info["seed"] == 7 and info["fast"] is True and info["keras"].startswith("3.")
    assert "seed 7" in capsys.readouterr().out
    a = np.random.rand(3)
    companion.setup_notebook(seed=7, show=False)
    assert np.array_equal(a, np.random.rand(3))


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
def test_frame_viewer_start_is_validated(start):
    try:
        v = widgets.frame_viewer([b"a", b"b"], ["x", "y"], start=start)
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


def _build_adam_dropout():
    import keras
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dropout(0.2), keras.layers.Dense(2, activation="softmax")])
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def test_repeat_trains_each_seed_exactly_as_it_would_train_alone():
    """Side by side in one fit, each copy gets its own gradients: with the whole data as one
    batch (so the shared batch order plays no part) and no dropout, every seed's curve equals
    a plain fit from that seed."""
    import keras
    from companion.experiments import fit_quickly, repeat
    x, y = _tiny_data()
    runs = repeat(lambda: _build(0.5), x=x, y=y, epochs=4, batch_size=64, seeds=[3, 7],
                  validation_data=(x[:16], y[:16]))
    assert runs.seeds == [3, 7] and list(runs.histories[0]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for seed, hist in zip(runs.seeds, runs.histories):
        keras.backend.clear_session(); keras.utils.set_random_seed(seed)
        alone = fit_quickly(_build(0.5), x, y, epochs=4, batch_size=64, validation_data=(x[:16], y[:16]))
        for key in alone:
            assert np.allclose(alone[key], hist[key], atol=1e-6), key
    assert runs.histories[0]["loss"] != runs.histories[1]["loss"]  # other seed, other start


def test_repeat_is_repeatable_and_seeds_differ():
    from companion.experiments import repeat
    x, y = _tiny_data()
    a = repeat(_build_adam_dropout, x=x, y=y, epochs=3, batch_size=8)
    b = repeat(_build_adam_dropout, x=x, y=y, epochs=3, batch_size=8)
    assert a.seeds == [42, 43, 44] and a.histories == b.histories
    assert len({tuple(h["loss"]) for h in a.histories}) == 3


def test_spread_reports_mean_sd_and_range_and_beats_only_without_overlap():
    from companion.experiments import Repeats, Spread
    s = Spread.of([0.80, 0.82, 0.84])
    assert np.isclose(s.mean, 0.82) and np.isclose(s.sd, 0.02) and (s.low, s.high) == (0.80, 0.84)
    assert str(s) == "0.8200 ± 0.0200 (0.8000 to 0.8400, 3 seeds)"
    assert Spread.of([0.85, 0.86]).beats(s) and not Spread.of([0.83, 0.90]).beats(s)
    with pytest.raises(CompanionTypeError, match="other"):
        s.beats(0.8)
    hists = [{"loss": [1.0, 0.5, 0.4], "val_loss": [0.9, 0.6, 0.7]},
             {"loss": [1.0, 0.6, 0.3], "val_loss": [0.8, 0.7, 0.5]}]
    r = Repeats([1, 2], hists, [None, None])
    assert r.best_epochs() == [2, 3]
    assert r.spread("loss").values == (0.5, 0.3)           # each seed at its own best epoch
    assert r.spread("val_loss", "last").values == (0.7, 0.5)
    mean, low, high = r.band("val_loss")
    assert np.allclose(mean, [0.85, 0.65, 0.6]) and np.allclose(low, [0.8, 0.6, 0.5])
    with pytest.raises(CompanionValueError, match="at"):
        r.spread("loss", at="first")


def test_sweep_with_seeds_returns_repeats_and_plot_history_draws_their_bands():
    from companion.experiments import Repeats, sweep
    x, y = _tiny_data()
    runs = sweep(_build, [0.1, 0.5], x=x, y=y, epochs=3, batch_size=8, seeds=2, verbose=False,
                 validation_data=(x[:16], y[:16]))
    assert list(runs) == ["0.1", "0.5"] and all(isinstance(r, Repeats) for r in runs.values())
    assert runs["0.1"].seeds == [42, 43]
    fig = plots.plot_history(runs, metrics=["loss"])
    ax = fig.axes[0]
    assert len(ax.collections) == 4   # a band per run, for training and validation
    assert np.allclose(ax.lines[0].get_ydata(), runs["0.1"].band("loss")[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(build=3), "build"),
    (dict(build=lambda: 3), "build"),
    (dict(seeds=1), "seeds"),
    (dict(seeds=[1, 1]), "seeds"),
    (dict(seeds="ab"), "seeds"),
    (dict(epochs=0), "epochs"),
])
def test_repeat_rejects_bad_arguments(kwargs, match):
    from companion.experiments import repeat
    x, y = _tiny_data()
    kwargs = {"build": lambda: _build(0.1), "epochs": 1, **kwargs}
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        repeat(x=x, y=y, **kwargs)


def test_repeat_refuses_a_global_clipnorm_that_would_tie_the_seeds():
    import keras
    from companion.experiments import repeat
    x, y = _tiny_data()

    def build():
        m = _build(0.1)
        m.compile(optimizer=keras.optimizers.SGD(0.1, global_clipnorm=1.0), loss="sparse_categorical_crossentropy")
        return m
    with pytest.raises(CompanionValueError, match="global_clipnorm"):
        repeat(build, x=x, y=y, epochs=1)


@pytest.mark.parametrize("fast", [True, False])
def test_in_file_order_gives_the_training_file_back_in_its_own_order(fast):
    """The sources cross-validate on the 60,000 training images in the file's order."""
    from companion.data import _locate_and_read, load_fashion_mnist
    fm = load_fashion_mnist(fast=fast, scale=False)
    x, y = fm.in_file_order()
    rows = np.sort(np.concatenate([fm.train_rows, fm.val_rows]))
    _, arrays = _locate_and_read()
    assert np.array_equal(x, arrays["train-images-idx3-ubyte"][rows])
    assert np.array_equal(y, arrays["train-labels-idx1-ubyte"][rows])
    assert len(x) == (2500 if fast else 60000)
