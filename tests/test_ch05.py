"""Chapter 5 (loss curves and overfitting): the chapter's curve widgets and the recorded figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import apart, fig, overlap as ranges_overlap


@pytest.fixture(scope="module")
def ns():
    return chapter_functions("ch05", "epoch_viewer", "curve_viewer")


def _run(n: int, turn: int, scale: float = 1.0) -> dict[str, list[float]]:
    """A made-up run: training loss falls, validation loss is lowest at epoch ``turn``."""
    e = np.arange(1, n + 1)
    loss = scale * 0.6 * e ** -0.4
    val = scale * (0.45 + 0.002 * (e - turn) ** 2)
    return {"loss": list(loss), "val_loss": list(val)}


# ---- epoch_viewer: one run replayed epoch by epoch ------------------------------------------

@pytest.fixture(scope="module")
def player(ns):
    return ns["epoch_viewer"](_run(20, turn=7), [2, 6, 10, 20], title="test")


def test_epoch_viewer_slider_and_play_switch_frames(player):
    assert player.control.options == ("2", "6", "10", "20")
    assert len(player.frames) == 4 and player.index == 0
    player.control.index = 2
    assert player.index == 2
    player.play.value = 3            # the play button drives the slider, the slider the frames
    assert player.control.index == 3 and player.index == 3
    assert player.play.max == 3 and player.play in player.children
    assert len({f.png for f in player.frames}) == 4


def test_epoch_viewer_marks_the_best_epoch_so_far(player):
    alts = [frame.value for frame in player.frames]
    assert "after 2 of 20 epochs" in alts[0] and "was at epoch 2" in alts[0]
    assert "was at epoch 6" in alts[1]
    assert "0.450, was at epoch 7" in alts[2] and "was at epoch 7" in alts[3]


# ---- curve_viewer: whole runs side by side --------------------------------------------------

@pytest.fixture(scope="module")
def viewer(ns):
    runs = {"0.001": _run(20, turn=4), "0.0005": _run(20, turn=9, scale=1.1),
            "0.0001": _run(40, turn=35, scale=1.2)}
    return ns["curve_viewer"](runs, description="Adam learning rate")


def test_curve_viewer_slider_switches_the_frame(viewer):
    assert viewer.control.options == ("0.001", "0.0005", "0.0001")
    assert viewer.link.source == (viewer.control, "index")
    first = viewer.frames[viewer.index].png
    viewer.control.index = 2
    assert viewer.index == 2
    assert viewer.frames[viewer.index].png != first
    viewer.control.index = 0
    assert viewer.index == 0


def test_curve_viewer_alt_text_names_the_best_epoch(viewer):
    assert "lowest (0.540) at epoch 35" in viewer.frames[2].value
    assert "Adam learning rate 0.0001 over 40 epochs" in viewer.frames[2].value
    assert "lowest (0.450) at epoch 4" in viewer.frames[0].value


def test_curve_viewer_fits_the_page_budget(viewer):
    sizes = [len(frame.png) for frame in viewer.frames]
    assert max(sizes) <= 25_000 and 1.33 * sum(sizes) < 300_000


def test_curve_viewer_draws_several_seeds_as_a_band_and_names_each_seeds_best_epoch(ns):
    # The chapter's widget shows runs from three seeds (a Repeats) as a mean curve in a band.
    from companion.experiments import Repeats
    seeds = Repeats([42, 43, 44], [_run(20, turn=t, scale=s) for t, s in [(6, 1.0), (8, 1.02), (7, 0.98)]],
                    [None] * 3)
    viewer = ns["curve_viewer"]({"one seed": _run(20, turn=9), "three seeds": seeds}, description="Setting:")
    alt = viewer.frames[1].value
    assert "mean of 3 seeds" in alt and "lowest at epochs 6, 8, 7" in alt
    assert "lowest (0.450) at epoch 9" in viewer.frames[0].value
    viewer.control.index = 1
    assert viewer.index == 1 and viewer.frames[1].png != viewer.frames[0].png


# ---- recorded figures and their bands ------------------------------------------------------


# Each test states a claim the chapter makes. The single run (all 48,000 training images, batch 32,
# seed 42): RMSprop best epoch 3, min val loss 0.3735, 0.4769 after epoch 20, gap 0.2295 (training
# loss by evaluate). The levers (first 12,000 training images, batch 32, seeds 42-44, 20 epochs;
# Adam 1e-4: 40): RMSprop lowest val loss 0.4031-0.4463, Adam 0.3901-0.4066, Adam 1e-4 0.3960-0.4026
# (at epoch 40 on every seed), 25 units 0.4256-0.4317, 400 units 0.3943-0.4017. "Differs" means the
# seeds' ranges do not overlap (Spread.beats); the tests check both kinds of statement.

def above(a: str, b: str) -> bool:
    """Every seed of a above every seed of b (what Spread.beats checks)."""
    return apart("ch05", b, a)


def overlap(a: str, b: str) -> bool:
    return ranges_overlap("ch05", a, b)


def test_ch05_rmsprop_reaches_its_minimum_well_before_epoch_20_and_ends_higher():
    # Claim: with RMSprop the validation loss is lowest early, then climbs back up while the
    # training loss keeps falling, leaving a large gap (evaluated on the final weights) at epoch 20.
    assert fig("ch05", "rmsprop_best_epoch") <= 12
    assert 0.33 <= fig("ch05", "rmsprop_min_val_loss") <= 0.40
    assert fig("ch05", "rmsprop_final_val_loss") > fig("ch05", "rmsprop_min_val_loss") + 0.05
    assert fig("ch05", "rmsprop_final_gap") > 0.15
    assert fig("ch05", "rmsprop_overfits") == 1.0


def test_ch05_five_epoch_accuracy_matches_the_source():
    # Claim: between the source's 0.8611 and the textbook notebook's 0.8665 (about 0.87).
    assert 0.85 <= fig("ch05", "rmsprop_val_accuracy_epoch5") <= 0.88


def test_ch05_both_optimizers_overfit_on_every_seed():
    # Claim: every seed of RMSprop and of Adam has its minimum before epoch 20 and is higher at the end,
    # with its best epoch near the middle of the run (8 to 11).
    for name in ("opt_rmsprop", "opt_adam"):
        assert fig("ch05", f"{name}_overfits_seeds") == 3
        assert 6 <= fig("ch05", f"{name}_best_low") and fig("ch05", f"{name}_best_high") <= 14


def test_ch05_adam_and_rmsprop_differ_in_the_gap_not_in_the_lowest_validation_loss():
    # Claim: "no difference we can measure at this size" in the lowest validation loss (the means
    # differ, the ranges overlap), while Adam's gap after epoch 20 is below RMSprop's on every seed.
    assert overlap("opt_adam_lowest", "opt_rmsprop_lowest")
    assert fig("ch05", "opt_adam_lowest_mean") < fig("ch05", "opt_rmsprop_lowest_mean")
    assert overlap("opt_adam_best", "opt_rmsprop_best")
    assert above("opt_rmsprop_gap", "opt_adam_gap")
    assert 0.33 <= fig("ch05", "opt_adam_lowest_mean") <= 0.45


def test_ch05_adam_1e4_still_improves_at_20_and_at_40_and_reaches_the_same_minimum():
    # Claims: (source 001) at 1e-4 the validation loss at epoch 20 is below all of epochs 1-17, on
    # every seed; training on lowers it further, the best epoch is the last of 40 on every seed; its
    # minimum is within the seed spread of 0.001's; its gap after 40 epochs is below 0.001's after 20.
    assert fig("ch05", "lr_0.0001_improving_at_20") == 1.0
    assert above("lr_0.0001_val_loss_at_20", "lr_0.0001_val_loss_at_40")
    assert fig("ch05", "lr_0.0001_best_low") == 40
    assert above("lr_0.0001_best", "opt_adam_best")
    assert overlap("lr_0.0001_lowest", "opt_adam_lowest")
    assert above("opt_adam_gap", "lr_0.0001_gap")
    assert fig("ch05", "lr_0.0001_gap_mean") < 0.5 * fig("ch05", "opt_adam_gap_mean")


def test_ch05_capacity_moves_the_best_epoch_the_minimum_and_the_gap():
    # Claims: 25 units reach their minimum later than 100 and stay higher; 400 units reach it earlier,
    # no lower than 100 (ranges overlap); the gap after epoch 20 grows with the width at each step.
    assert above("width_25_best", "opt_adam_best")
    assert above("opt_adam_best", "width_400_best")
    assert above("width_25_lowest", "opt_adam_lowest")
    assert overlap("width_400_lowest", "opt_adam_lowest")
    assert above("opt_adam_gap", "width_25_gap")
    assert above("width_400_gap", "opt_adam_gap")
    assert fig("ch05", "width_400_overfits_seeds") == 3


# ---- what the chapter says about Keras, checked against the installed Keras ----------------

@pytest.mark.parametrize("n", [6000, 48_000, 1001, 7, 99])
def test_validation_split_cuts_where_the_chapter_says(n):
    # The chapter (and its exercise 1) computes Keras's cut as floor(n * (1 - 0.2)) and says the
    # validation part is the LAST part of the arrays.
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split
    x = np.arange(n)
    train, val = train_validation_split(x, validation_split=0.2)
    split_at = int(np.floor(n * (1 - 0.2)))
    assert len(train) == split_at and len(val) == n - split_at
    assert list(val) == list(x[split_at:])


def test_early_stopping_on_a_missing_metric_behaves_as_the_chapter_says():
    # "EarlyStopping(monitor='val_acc') fails after the first epoch with a ValueError; with
    # mode='max' it warns at every epoch and never stops" (compiled with metrics=['accuracy']).
    import warnings

    import keras

    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int32")

    def model():
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m

    with pytest.raises(ValueError, match="val_acc"):
        model().fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="val_acc", patience=0)])
    stopper = keras.callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model().fit(x, y, epochs=4, validation_split=0.25, verbose=0, callbacks=[stopper])
    assert len(history.history["loss"]) == 4 and stopper.stopped_epoch == 0
    assert sum("val_acc" in str(w.message) for w in caught) == 4


# ---- the exercises: predict, then verify; every answer in words -----------------------------

def test_exercises_ask_for_a_prediction_and_answer_in_words():
    check_exercises("ch05", at_least=3)
