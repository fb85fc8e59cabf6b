"""Chapter 6 (dropout): the chapter's dropout widgets and the bands of its recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import fig

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


# ---- the rate viewer ---------------------------------------------------------------------------

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
    # the numbers behind the frame: lowest val loss 0.6 at epoch 6, final gap 0.6 - 0.6 = +0.000
    assert "at rate 0.4 over 6 epochs" in viewer.frames[2].value
    assert "lowest validation loss 0.600 at epoch 6" in viewer.frames[2].value
    assert "minus training loss +0.000" in viewer.frames[2].value
    assert "minus training loss +0.200" in viewer.frames[0].value
    assert all(len(f.png) < 25_000 for f in viewer.frames)


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch06.json").is_file(), reason="chapter 6 not run yet")
RATES = ["00", "01", "02", "03", "04", "05"]


@needs_results
def test_dropout_narrows_the_train_validation_gap():
    # "Dropout narrows the gap between validation and training loss" - as fit() reports
    # them, and also with both losses measured with dropout off.
    assert fig("ch06", "gap_dropout") < fig("ch06", "gap_no_dropout") - 0.05
    assert fig("ch06", "clean_gap_dropout") < fig("ch06", "clean_gap_no_dropout")


@needs_results
def test_no_dropout_overfits_earlier_or_ends_worse():
    # "Without dropout the validation loss bottoms out earlier, and ends higher."
    # The chapter says both: the minimum comes later with dropout (epoch 16 against 10 in the
    # full run), and the run without dropout ends with the higher validation loss.
    assert fig("ch06", "best_epoch_no_dropout") < fig("ch06", "best_epoch_dropout")
    assert fig("ch06", "final_val_loss_no_dropout") > fig("ch06", "final_val_loss_dropout")


@needs_results
def test_best_epoch_is_in_the_sources_range():
    # Source 001: lowest validation loss "about epoch 13" with Dropout(0.3), 20 epochs;
    # without dropout the minimum comes in the first half of training.
    assert 8 <= fig("ch06", "best_epoch_dropout") <= 20
    assert 3 <= fig("ch06", "best_epoch_no_dropout") <= 12


@needs_results
def test_dropout_model_accuracy_band():
    # The ReLU model with Dropout(0.3) reaches about 0.88-0.89 validation accuracy after 20 epochs.
    assert 0.86 <= fig("ch06", "final_val_accuracy_dropout") <= 0.91


@needs_results
def test_sweep_gap_shrinks_as_the_rate_grows():
    # "The larger the rate, the smaller the final gap": monotone up to noise, and the
    # gap at rate 0.5 is far below the gap without dropout.
    gaps = [fig("ch06", f"sweep_gap_{r}") for r in RATES]
    assert gaps[-1] < gaps[0] - 0.05
    assert all(b < a + 0.02 for a, b in zip(gaps, gaps[1:]))


@needs_results
def test_sweep_moderate_rates_do_not_lose_to_no_dropout():
    # "A moderate rate (0.1-0.3) reaches a validation loss at least as low as no dropout."
    best_moderate = min(fig("ch06", f"sweep_min_val_loss_{r}") for r in ["01", "02", "03"])
    assert best_moderate <= fig("ch06", "sweep_min_val_loss_00") + 0.005
    for r in RATES:
        assert 0.28 <= fig("ch06", f"sweep_min_val_loss_{r}") <= 0.40


@needs_results
def test_sweep_every_rate_beats_no_dropout_and_large_rates_cost():
    # "Every rate from 0.1 to 0.5 reached a lower validation loss than no dropout; from 0.3 up
    # the lowest validation loss creeps up again" (0.5 is no better than the best of 0.1-0.2).
    none = fig("ch06", "sweep_min_val_loss_00")
    assert all(fig("ch06", f"sweep_min_val_loss_{r}") < none for r in RATES[1:])
    best_small = min(fig("ch06", "sweep_min_val_loss_01"), fig("ch06", "sweep_min_val_loss_02"))
    assert fig("ch06", "sweep_min_val_loss_05") >= best_small


@needs_results
def test_sweep_accuracies_are_fashion_mnist_not_mnist():
    # Source 002's 0.97 are MNIST figures; ours at rates 0.1 and 0.2 are about 0.88.
    for r in ["01", "02"]:
        assert 0.86 <= fig("ch06", f"sweep_val_accuracy_{r}") <= 0.90


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
