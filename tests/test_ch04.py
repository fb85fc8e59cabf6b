"""Chapter 4: the chapter's activation and histogram widgets, and the bands of its recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions, check_exercises
from recorded import fig

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


@needs_results
def test_cross_entropy_beats_mse():
    # "cross-entropy ends the five epochs well above the mean squared error" (SGD 0.01)
    ce, mse = fig("ch04", "ce_val_accuracy"), fig("ch04", "mse_val_accuracy")
    assert 0.80 <= ce <= 0.87
    assert ce - mse >= 0.05
    assert fig("ch04", "ce_beats_mse") == 1.0


@needs_results
def test_sigmoid_first_layer_gradient_vanishes():
    # "the first layer's gradient is orders of magnitude below ReLU's" (ratio band, same seed and batch)
    assert fig("ch04", "grad_ratio_relu_over_sigmoid_layer1") >= 1e3
    # "each layer further from the output receives a gradient several times smaller"
    assert fig("ch04", "grad_decay_sigmoid") >= 1e4


@needs_results
def test_leaky_relu_beats_sigmoid():
    # "the sigmoid network hardly moves from a uniform guess; LeakyReLU learns from the first epoch"
    assert fig("ch04", "sigmoid_val_accuracy") <= 0.35
    assert fig("ch04", "leaky_val_accuracy") >= 0.70
    assert fig("ch04", "leaky_beats_sigmoid") == 1.0


@needs_results
def test_he_keeps_activation_spread_level_glorot_shrinks_it():
    # "He normal keeps the spread roughly level; Glorot shrinks it by about sqrt(2) per layer (theory 0.044)"
    assert 0.6 <= fig("ch04", "std_ratio_he") <= 1.7
    assert 0.02 <= fig("ch04", "std_ratio_glorot") <= 0.09
    assert fig("ch04", "std_ratio_random_normal") < 1e-6


@needs_results
def test_he_normal_starts_ahead():
    # "after the first epoch He normal's validation accuracy is clearly higher than Glorot uniform's"
    assert fig("ch04", "he_val_accuracy_epoch1") - fig("ch04", "glorot_val_accuracy_epoch1") >= 0.05
    assert fig("ch04", "he_val_accuracy_epoch5") >= fig("ch04", "glorot_val_accuracy_epoch5")


@needs_results
def test_dead_relu_share():
    # "the trained one-hidden-layer model has few dead units"
    assert fig("ch04", "dead_share_small_model") <= 0.05


@needs_results
def test_dead_units_after_training():
    # "In the upper layers of the Glorot stack up to about one in six units have died, fewer with
    # He normal; averaged over the ten layers about 8 % against 4 %" (one run each).
    glorot, he = fig("ch04", "glorot_dead_share_trained"), fig("ch04", "he_dead_share_trained")
    assert 0.02 <= glorot <= 0.15
    assert he < glorot


@needs_results
def test_a_learning_rate_of_1_kills_most_relus():
    # Exercise 4: "almost the whole hidden layer dies" at SGD(1.0), against 2 % at 0.01.
    from recorded import results_of
    if "dead_share_learning_rate_1" not in results_of("ch04")["figures"]:
        pytest.skip("recorded from the next full run of chapter 4 (exercise 4 is new)")
    assert fig("ch04", "dead_share_learning_rate_1") >= 0.5
    assert fig("ch04", "dead_share_learning_rate_1") > 10 * fig("ch04", "dead_share_small_model")


# ---- the exercises: predict, then verify; every answer in words -----------------------------

def test_exercises_ask_for_a_prediction_and_answer_in_words():
    check_exercises("ch04", at_least=4)
