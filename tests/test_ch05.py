"""Chapter 5 (loss curves and overfitting): the chapter's curve widgets and the recorded figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import fig


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


# ---- recorded figures and their bands ------------------------------------------------------


# Each band states a claim the chapter makes. Bounds come from source 001 and our full run
# (batch 32, seed 42): RMSprop best epoch 3, min val loss 0.374, 0.477 at epoch 20, gap 0.260;
# Adam 0.001 best epoch 10, min 0.344, 0.390 at epoch 20, gap 0.216; Adam 0.0005 min 0.340
# (epoch 9); Adam 0.0001: 0.342 at epoch 20, 0.322 at epoch 40 (its best epoch).
# The bands are no wider than the run-to-run spread of such runs justifies.

def test_ch05_rmsprop_reaches_its_minimum_well_before_epoch_20_and_ends_higher():
    # Claim: with RMSprop the validation loss is lowest early, then climbs back up while the
    # training loss keeps falling, leaving a large gap at epoch 20.
    assert fig("ch05", "rmsprop_best_epoch") <= 12
    assert 0.33 <= fig("ch05", "rmsprop_min_val_loss") <= 0.40
    assert fig("ch05", "rmsprop_final_val_loss") > fig("ch05", "rmsprop_min_val_loss") + 0.05
    assert fig("ch05", "rmsprop_final_gap") > 0.15
    assert fig("ch05", "rmsprop_overfits") == 1.0


def test_ch05_adam_overfits_too_but_reaches_a_lower_minimum():
    # Claim: Adam at 0.001 also has its minimum before epoch 20 and ends higher, with a large
    # gap; its lowest validation loss is below RMSprop's (source 001: Adam "somewhat better").
    assert fig("ch05", "adam_best_epoch") <= 16
    assert 0.32 <= fig("ch05", "adam_min_val_loss") <= 0.38
    assert fig("ch05", "adam_final_val_loss") > fig("ch05", "adam_min_val_loss") + 0.02
    assert fig("ch05", "adam_final_gap") > 0.12
    assert fig("ch05", "adam_min_val_loss") < fig("ch05", "rmsprop_min_val_loss")


def test_ch05_five_epoch_accuracies_match_the_source():
    # Claim: the first five epochs are the source's 5-epoch runs; validation accuracy about
    # 0.87 for both (source 001: RMSprop 0.8611, Adam 0.8803).
    assert 0.85 <= fig("ch05", "rmsprop_val_accuracy_epoch5") <= 0.88
    assert 0.86 <= fig("ch05", "adam_val_accuracy_epoch5") <= 0.89


def test_ch05_adam_1e4_is_still_improving_at_20_and_training_further_helps():
    # Claim (source 001): at 1e-4 the validation loss is still falling at epoch 20.
    assert fig("ch05", "lr_0.0001_improving_at_20") == 1.0
    # Claim: training on to epoch 40 lowers it clearly, and the minimum comes late.
    assert fig("ch05", "lr_0.0001_val_loss_at_end") < fig("ch05", "lr_0.0001_val_loss_at_20") - 0.01
    assert fig("ch05", "lr_0.0001_best_epoch") >= 30


def test_ch05_the_lowest_rate_ends_with_the_lowest_validation_loss():
    # Claim: 1e-4 (40 epochs) ends with the lowest validation loss, below the
    # minima of 1e-3 and 5e-4 (20 epochs), which reach theirs around epoch 10.
    slow = fig("ch05", "lr_0.0001_min_val_loss")
    assert slow < min(fig("ch05", "lr_0.001_min_val_loss"), fig("ch05", "lr_0.0005_min_val_loss")) - 0.005
    assert fig("ch05", "lr_0.0005_best_epoch") <= 16
    # The rate 0.001 of the sweep is the Adam run above, not a second run.
    assert fig("ch05", "lr_0.001_min_val_loss") == fig("ch05", "adam_min_val_loss")


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
