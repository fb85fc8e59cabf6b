"""Chapter 4: the chapter's activation and histogram widgets, and the conclusions its text draws from the
recorded figures (3 seeds each: a difference is claimed only where the seed ranges do not overlap)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import apart, fig

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "book" / "results"


@pytest.fixture(scope="module")
def ns():
    return chapter_functions("ch04", "activation_viewer", "histogram_viewer")


# ---- the activation widget: real keras.activations, derivatives from tf.GradientTape -----

@pytest.fixture(scope="module")
def activations(ns):
    keras = ns["keras"]
    return ns["activation_viewer"]({"sigmoid": keras.activations.sigmoid, "tanh": keras.activations.tanh,
                                    "ReLU": keras.activations.relu,
                                    "LeakyReLU 0.1": keras.layers.LeakyReLU(negative_slope=0.1)})


def test_activation_viewer_toggle_switches_the_frame(activations):
    v = activations
    assert list(v.control.options) == ["sigmoid", "tanh", "ReLU", "LeakyReLU 0.1"]
    assert len(v.frames) == 4 and v.index == 0
    for k in (3, 1, 2):
        v.control.index = k
        assert v.index == k
    assert len({f.png for f in v.frames}) == 4  # four different pictures
    assert v.link.target == (v.stack, "selected_index")  # reacts on the static page too


def test_activation_viewer_frames_carry_the_keras_derivatives(activations):
    alts = [f.value for f in activations.frames]
    # sigmoid: peak slope 0.25 at x = 0, flat (< 0.05) beyond |x| ~ 2.9, i.e. on about half of [-6, 6]
    assert "sigmoid: the function goes from 0.00" in alts[0] and "largest, 0.25, at x = 0.00" in alts[0]
    share = int(alts[0].split("below 0.05 on ")[1].split("%")[0])
    assert 45 <= share <= 55
    assert "largest, 1.00, at x = 0.00" in alts[1]           # tanh
    assert "below 0.05 on 50% of the axis" in alts[2]        # ReLU: flat for every x <= 0
    assert "from -0.60 at x = -6" in alts[3]                 # LeakyReLU(0.1): 0.1 * -6
    assert "below 0.05 on 0% of the axis" in alts[3]         # slope 0.1 everywhere on the left


# ---- the histogram widget --------------------------------------------------------------------

def _fake_outputs(shrink: float, layers: int = 10) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.maximum(rng.normal(size=(64, 16)) * shrink ** i, 0) for i in range(layers)]


def test_histogram_viewer_toggle_switches_the_frame(ns):
    outputs = {"level": _fake_outputs(1.0), "shrinking": _fake_outputs(0.5)}
    v = ns["histogram_viewer"](outputs)
    assert list(v.control.options) == ["level", "shrinking"]
    assert len(v.frames) == 2 and v.index == 0
    v.control.index = 1
    assert v.index == 1
    assert v.frames[0].png != v.frames[1].png
    last = outputs["shrinking"][-1].std()
    assert (f"shrinking: histograms of the activations of 10 layers; their standard deviation goes from "
            f"{outputs['shrinking'][0].std():.2g} in layer 1 to {last:.2g} in layer 10") in v.frames[1].value


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch04.json").is_file(), reason="chapter 4 not run yet")


def spread(name: str) -> tuple[float, float, float]:
    """A recorded Spread: (mean, low, high)."""
    return fig("ch04", f"{name}_mean"), fig("ch04", f"{name}_low"), fig("ch04", f"{name}_high")


def beats(a: str, b: str) -> bool:
    """Every seed of a above every seed of b (Spread.beats on the recorded ranges)."""
    return apart("ch04", b, a)


@needs_results
def test_at_sgd_001_cross_entropy_far_ahead_of_mse():
    # "At source 003's fixed rate of 0.01 cross-entropy wins by 47 points (0.755 against 0.283)"
    assert 0.70 <= spread("ce_sgd001")[0] <= 0.80
    assert spread("mse_sgd001")[0] <= 0.40
    assert beats("ce_sgd001", "mse_sgd001") and fig("ch04", "loss_sgd001_a_beats_b") == 1.0
    assert spread("ce_sgd001")[0] - spread("mse_sgd001")[0] >= 0.30


@needs_results
def test_at_each_losss_best_sgd_rate_no_measurable_difference():
    # "with each loss at its own best SGD rate, 0.1 for cross-entropy and 1.0 for MSE ... no difference we can measure"
    assert fig("ch04", "ce_sgd_best_rate") == 0.1 and fig("ch04", "mse_sgd_best_rate") == 1.0
    assert not beats("ce_sgd_best", "mse_sgd_best") and not beats("mse_sgd_best", "ce_sgd_best")
    assert fig("ch04", "loss_sgd_best_a_beats_b") == 0.0 and fig("ch04", "loss_sgd_best_b_beats_a") == 0.0
    # "MSE's best SGD rate is the largest of our grid"; the step size, not the loss, made the gap
    assert spread("mse_sgd_best")[0] - spread("mse_sgd001")[0] >= 0.30


@needs_results
def test_with_adam_cross_entropy_ahead_by_about_a_point():
    # "cross-entropy is ahead by about a point (0.825 ± 0.005 against 0.812 ± 0.006), every seed above"
    assert beats("ce_adam_best", "mse_adam_best") and fig("ch04", "loss_adam_best_a_beats_b") == 1.0
    assert 0.005 <= spread("ce_adam_best")[0] - spread("mse_adam_best")[0] <= 0.03
    assert 0.78 <= spread("ce_adam_best")[0] <= 0.87


@needs_results
def test_source_003_configuration_bce_beats_mse():
    # "binary cross-entropy is the more accurate, with every seed above every seed of MSE: 0.484 against 0.261"
    assert beats("bce003_val_accuracy", "mse003_val_accuracy")
    assert 0.30 <= spread("bce003_val_accuracy")[0] <= 0.70
    assert fig("ch04", "updates_003") == 1500.0      # "1,500 updates per run"


@needs_results
def test_source_003_bce_stays_noisier_but_shows_no_large_late_spikes():
    # "in the first epoch MSE is the noisier of the two, in the last BCE is, by a factor of about 1.7"
    assert beats("mse003_spread_first", "bce003_spread_first")
    assert beats("bce003_spread_last", "mse003_spread_last")
    assert 1.4 <= spread("bce003_spread_last")[0] / spread("mse003_spread_last")[0] <= 2.0
    # "the spread of BCE's per-image loss falls from 0.21 to 0.13"
    assert beats("bce003_spread_first", "bce003_spread_last")
    # "no large late spikes: the largest loss of the last epoch is only 1.3 times the mean, down from 2.1"
    assert spread("bce003_spike_last")[2] <= 2.0
    assert beats("bce003_spike_first", "bce003_spike_last")


@needs_results
def test_sigmoid_first_layer_gradient_vanishes():
    # "the first layer's gradient is orders of magnitude below ReLU's" (ratio band, same seed and batch)
    assert fig("ch04", "grad_ratio_relu_over_sigmoid_layer1") >= 1e3
    # "each layer further from the output receives a gradient several times smaller"
    assert fig("ch04", "grad_decay_sigmoid") >= 1e4


@needs_results
def test_plain_sgd_cannot_train_the_sigmoid_stack_adam_can():
    # "With SGD the sigmoid network does not learn at any of the three rates" (chance: one class in ten)
    for key in ("sigmoid_sgd001", "sigmoid_sgd_best"):
        assert spread(key)[2] <= 0.15
    # "with Adam this one reaches 0.705 in three epochs"
    assert spread("sigmoid_adam_best")[1] >= 0.5


@needs_results
def test_leaky_relu_beats_sigmoid_in_every_setting():
    # "LeakyReLU is ahead in all three settings, every seed above every seed of the sigmoid"
    for key in ("sgd001", "sgd_best", "adam_best"):
        assert beats(f"leaky_{key}", f"sigmoid_{key}") and fig("ch04", f"act_{key}_a_beats_b") == 1.0
    # "by 11 points with Adam"
    assert 0.03 <= spread("leaky_adam_best")[0] - spread("sigmoid_adam_best")[0] <= 0.25


@needs_results
def test_adam_moves_every_layer_alike_sgd_does_not():
    # "SGD moves the output layer's weights 1,228 times further, relative to their size, than the first
    # layer's; Adam moves every layer by the same 1 %" (one step, same seed and batch)
    assert fig("ch04", "step_ratio_out_over_layer1_sgd") >= 100
    assert 0.5 <= fig("ch04", "step_ratio_out_over_layer1_adam") <= 2.0


@needs_results
def test_he_keeps_activation_spread_level_glorot_shrinks_it():
    # "He normal keeps the spread roughly level; Glorot shrinks it by about sqrt(2) per layer (theory 0.044)"
    assert 0.6 <= fig("ch04", "std_ratio_he") <= 1.7
    assert 0.02 <= fig("ch04", "std_ratio_glorot") <= 0.09
    assert fig("ch04", "std_ratio_random_normal") < 1e-6


@needs_results
def test_he_normal_trains_the_relu_stack_better():
    # "He normal is far ahead, with every seed above every seed of Glorot uniform: after one epoch and at
    # each seed's best epoch"
    assert beats("he_val_accuracy_epoch1", "glorot_val_accuracy_epoch1")
    assert beats("he_val_accuracy_best", "glorot_val_accuracy_best")
    # "21 % of all hidden units are dead, against 8 % with He normal, again with no overlap"
    assert beats("glorot_dead_share_trained", "he_dead_share_trained")
    assert 0.10 <= spread("glorot_dead_share_trained")[0] <= 0.35


@needs_results
def test_dead_relu_share():
    # "the dead share ... here it is 0" (one-hidden-layer classifier, SGD 0.01, seed 42)
    assert fig("ch04", "dead_share_small_model") <= 0.05


@needs_results
def test_a_learning_rate_of_1_kills_most_relus():
    # Exercise 4: "95 % of the units output 0 for all 500 images, against none at the rate 0.01"
    assert fig("ch04", "dead_share_learning_rate_1") >= 0.5
    assert fig("ch04", "dead_share_learning_rate_1") > fig("ch04", "dead_share_small_model") + 0.4


@needs_results
def test_reproduction_rows_give_verdicts_not_subtractions():
    from recorded import results_of
    rows = results_of("ch04")["sources"]
    assert len(rows) == 4
    for row in rows:
        assert isinstance(row["ours"], str)           # verdicts and measures, no difference of figures
        assert "compare the direction only" in row["note"] or "spread" in row["note"]
    assert rows[0]["ours"] == ("SGD 0.01: yes; best SGD rate: no measurable difference; best Adam rate: yes")
    assert rows[3]["ours"] == "SGD 0.01: yes; best SGD rate: yes; best Adam rate: yes"


# ---- the exercises: predict, then verify; every answer in words -----------------------------

def test_exercises_ask_for_a_prediction_and_answer_in_words():
    check_exercises("ch04", at_least=4)
