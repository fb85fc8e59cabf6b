"""Chapter 6 (dropout): the chapter's dropout widgets and the bands of its recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import apart, fig, overlap as ranges_overlap

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


@pytest.fixture(scope="module")
def ns():
    return chapter_functions("ch06", "mask_viewer", "rate_viewer")


# ---- the mask viewer: masks from the real keras.layers.Dropout -----------------------------

def _dropped_counts(alt: str) -> list[int]:
    return [int(n) for n in alt.split("dropped units (")[1].split(" per example")[0].split(", ")]


def test_mask_viewer_switches_frames_with_the_slider(ns):
    viewer = ns["mask_viewer"]([0.1, 0.3, 0.5], n_examples=2, n_units=36)
    assert list(viewer.control.options) == ["0.1", "0.3", "0.5"]
    assert len(viewer.frames) == 3 and viewer.index == 0
    first = viewer.frames[viewer.index].png
    viewer.control.index = 2
    assert viewer.index == 2
    assert viewer.frames[viewer.index].png != first
    assert "rate 0.5" in viewer.frames[2].value and "scaled to 2.00" in viewer.frames[2].value
    assert "scaled to 1.11" in viewer.frames[0].value           # 1 / (1 - 0.1), from the layer itself
    assert all(len(f.png) < 25_000 for f in viewer.frames)


def test_mask_viewer_counts_follow_the_rate_and_the_seed(ns):
    rates = [0.1, 0.5]
    viewer = ns["mask_viewer"](rates, n_examples=4, n_units=400, seed=3)
    for rate, frame in zip(rates, viewer.frames):
        counts = _dropped_counts(frame.value)
        assert len(counts) == 4
        assert abs(np.mean(counts) / 400 - rate) < 0.05        # about rate * n_units dropped
        assert len(set(counts)) > 1                             # each example gets its own mask
    # the same seed gives the same masks; another seed other masks
    again = ns["mask_viewer"](rates, n_examples=4, n_units=400, seed=3)
    other = ns["mask_viewer"](rates, n_examples=4, n_units=400, seed=4)
    assert _dropped_counts(again.frames[1].value) == _dropped_counts(viewer.frames[1].value)
    assert _dropped_counts(other.frames[1].value) != _dropped_counts(viewer.frames[1].value)


# ---- the rate viewer: mean curves of each rate's seeds, no gap from fit's dropout-on loss -------

def _runs(rates=(0.0, 0.2, 0.4), epochs=6):
    return {str(r): {"loss": list(np.linspace(0.6, 0.2, epochs) + r),
                     "val_loss": list(np.linspace(0.5, 0.4, epochs) + r / 2)} for r in rates}


def test_rate_viewer_switches_frames_with_the_slider(ns):
    runs = _runs()
    viewer = ns["rate_viewer"](runs, reference="0.0")
    assert viewer.control.description == "Dropout rate:"
    assert list(viewer.control.options) == ["0.0", "0.2", "0.4"]
    before = viewer.frames[viewer.index].png
    viewer.control.index = 2
    assert viewer.index == 2
    assert viewer.frames[viewer.index].png != before
    # the numbers behind the frame: one history, lowest val loss 0.4 + 0.2 = 0.600 at epoch 6
    assert "at rate 0.4 over 6 epochs, mean of 1 seed;" in viewer.frames[2].value
    assert "lowest validation loss 0.600 (mean over the seeds), reached at epoch 6" in viewer.frames[2].value
    assert "gap" not in viewer.frames[2].value      # fit's training loss has dropout on: no gap from it
    assert all(len(f.png) < 25_000 for f in viewer.frames)


def test_rate_viewer_shows_the_mean_of_several_seeds(ns):
    from companion.experiments import Repeats

    def seed(low_at, low):
        val = [0.8] * 8
        val[low_at - 1] = low
        return {"loss": list(np.linspace(0.7, 0.1, 8)), "val_loss": val}

    runs = {"0.0": Repeats([42, 43], [seed(2, 0.5), seed(3, 0.6)], [None, None]),
            "0.5": Repeats([42, 43, 44], [seed(5, 0.40), seed(7, 0.44), seed(6, 0.42)], [None] * 3)}
    viewer = ns["rate_viewer"](runs, reference="0.0")
    assert list(viewer.control.options) == ["0.0", "0.5"]
    # each seed's own minimum, averaged: (0.5 + 0.6) / 2 and (0.40 + 0.44 + 0.42) / 3
    assert "mean of 2 seeds; lowest validation loss 0.550 (mean over the seeds), reached at epochs 2 to 3" \
        in viewer.frames[0].value
    assert "mean of 3 seeds; lowest validation loss 0.420 (mean over the seeds), reached at epochs 5 to 7" \
        in viewer.frames[1].value
    viewer.control.index = 1
    assert viewer.frames[viewer.index].png != viewer.frames[0].png


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch06.json").is_file(), reason="chapter 6 not run yet")
RATES = ["00", "01", "02", "03", "05"]


def spread(name: str) -> tuple[float, float, float]:
    """(low, mean, high) of a figure recorded over the seeds."""
    return fig("ch06", f"{name}_low"), fig("ch06", f"{name}_mean"), fig("ch06", f"{name}_high")


def below(a: str, b: str) -> bool:
    """Every seed of a below every seed of b (Spread.beats, for a lower-is-better figure)."""
    return apart("ch06", a, b)


def overlap(a: str, b: str) -> bool:
    return ranges_overlap("ch06", a, b)


@needs_results
def test_the_testbed_overfits_early_and_strongly():
    # "Without regularization its validation loss bottoms out at about 0.451 after 4 to 5 epochs
    # and climbs to about 0.69 by epoch 40."
    low, mean, high = spread("best_epoch_00")
    assert 2 <= low and high <= 8
    assert 0.42 <= spread("min_val_loss_00")[1] <= 0.48
    assert spread("last_val_loss_00")[0] > spread("min_val_loss_00")[2] + 0.15
    assert spread("fit_train_loss_00")[2] < 0.15


@needs_results
def test_dropout_beats_no_dropout_beyond_the_seed_spread():
    # "Dropout(0.3) lowered the best validation loss and raised the validation accuracy at the best
    # epoch, both by more than the seed spread; it moved the best epoch from 4-5 to 14-20."
    assert below("min_val_loss_03", "min_val_loss_00")
    assert below("val_accuracy_00", "val_accuracy_03")
    assert spread("best_epoch_03")[0] > spread("best_epoch_00")[2] + 5
    assert below("last_val_loss_03", "last_val_loss_00")


@needs_results
def test_fit_overstates_the_training_loss_of_a_dropout_model():
    # "With dropout off, the dropout model's training loss is well below the figure fit reported."
    assert spread("train_loss_03")[2] < spread("fit_train_loss_03")[0]


@needs_results
def test_like_for_like_gap_shrinks_with_every_step_of_the_rate_and_stays_positive():
    # Right panel: ranges apart between neighbouring rates, no negative gap (the old panel's
    # negative gaps at 0.4-0.5 came from fit's dropout-on training loss); also the quiz's claim
    # that the training loss with dropout off is below the validation loss at every rate.
    for smaller, larger in zip(RATES[1:], RATES):
        assert below(f"gap_{smaller}", f"gap_{larger}")
    assert all(spread(f"gap_{r}")[0] > 0.1 for r in RATES)
    assert below("gap_03", "gap_00")           # source 001's row: Dropout(0.3) narrows the gap
    assert below("gap_02", "gap_01")           # source 002's row: 0.2 overfits less than 0.1


@needs_results
def test_rate_sweep_conclusions_hold_in_the_recorded_spreads():
    # "Every rate from 0.1 to 0.5 beat no dropout in validation loss; the lowest means came at 0.3
    # and 0.5, 0.1 was measurably worse than both, and 0.2, 0.3 and 0.5 could not be told apart."
    for r in RATES[1:]:
        assert below(f"min_val_loss_{r}", "min_val_loss_00")
    means = {r: spread(f"min_val_loss_{r}")[1] for r in RATES}
    assert sorted(means, key=means.get)[:2] in (["03", "05"], ["05", "03"])
    assert below("min_val_loss_03", "min_val_loss_01") and below("min_val_loss_05", "min_val_loss_01")
    for a, b in [("02", "03"), ("02", "05"), ("03", "05")]:
        assert overlap(f"min_val_loss_{a}", f"min_val_loss_{b}")
        assert overlap(f"val_accuracy_{a}", f"val_accuracy_{b}")
    # accuracy: 0.1 no better than no dropout; 0.2, 0.3 and 0.5 are
    assert overlap("val_accuracy_01", "val_accuracy_00")
    for r in ["02", "03", "05"]:
        assert below("val_accuracy_00", f"val_accuracy_{r}")
    # source 002's pair, 0.1 and 0.2: no measurable difference in validation loss or accuracy
    assert overlap("min_val_loss_01", "min_val_loss_02") and overlap("val_accuracy_01", "val_accuracy_02")


@needs_results
def test_best_epoch_moves_later_as_the_rate_grows():
    means = [spread(f"best_epoch_{r}")[1] for r in RATES]
    assert means == sorted(means)


@needs_results
def test_sweep_figures_are_in_their_bands():
    for r in RATES:
        assert 0.40 <= spread(f"min_val_loss_{r}")[1] <= 0.47
        assert 0.83 <= spread(f"val_accuracy_{r}")[1] <= 0.87


@needs_results
def test_thinned_network_average_matches_accuracy_but_not_loss():
    # "With 100 thinned networks the accuracy difference ranges around zero (no difference we can
    # measure), while the loss is lower on every seed; one thinned network is worse in both."
    low, mean, high = spread("thinned_100_minus_predict_accuracy")
    assert low < 0 < high and abs(mean) < 0.003
    assert spread("thinned_100_minus_predict_loss")[2] < -0.03
    assert spread("thinned_10_minus_predict_loss")[2] < 0
    assert spread("thinned_1_minus_predict_accuracy")[2] < 0
    assert spread("thinned_1_minus_predict_loss")[0] > 0
    assert 0.84 <= spread("predict_accuracy")[1] <= 0.88


# ---- what the quiz says about Keras's Dropout ---------------------------------------------

def test_dropout_never_passes_its_input_unchanged_in_training():
    # Quiz 1: in training, Dropout(0.25) on [4, 4, 4, 4] gives 0 or 16/3 for each value, never 4,
    # even when nothing is dropped (probability 0.75**4, about 0.32).
    import keras

    x = np.full((2000, 4), 4.0, dtype="float32")
    out = keras.ops.convert_to_numpy(keras.layers.Dropout(0.25, seed=3)(x, training=True))
    np.testing.assert_allclose(np.unique(out), [0.0, 16 / 3], rtol=1e-6)
    nothing_dropped = np.mean(np.all(out > 0, axis=1))
    assert 0.27 <= nothing_dropped <= 0.37
    assert np.array_equal(keras.ops.convert_to_numpy(keras.layers.Dropout(0.25)(x, training=False)), x)


# ---- the exercises: predict, then verify; every answer in words -----------------------------

def test_exercises_ask_for_a_prediction_and_answer_in_words():
    check_exercises("ch06", at_least=3)
