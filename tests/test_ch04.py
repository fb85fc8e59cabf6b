"""Chapter 4: the activation widgets and the bands of the chapter's recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.errors import CompanionTypeError, CompanionValueError
from companion.widgets.activations import (ACTIVATIONS, activation, activation_explorer,
                                           activation_histograms, plot_activation,
                                           plot_layer_histograms)

from recorded import fig

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "book" / "results"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---- the maths of the explorer -------------------------------------------------------------

def test_known_derivative_values():
    assert activation("sigmoid", 0.0)[1] == pytest.approx(0.25)
    assert activation("tanh", 0.0)[1] == pytest.approx(1.0)
    y, dy = activation("leaky_relu", [-3.0, -0.5, 2.0], negative_slope=0.2)
    np.testing.assert_allclose(y, [-0.6, -0.1, 2.0])
    np.testing.assert_allclose(dy, [0.2, 0.2, 1.0])
    np.testing.assert_allclose(activation("relu", [-1.0, 3.0])[1], [0.0, 1.0])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_matches_finite_differences(name):
    x = np.array([-4.0, -1.3, -0.2, 0.3, 1.7, 5.0])  # away from the kink at 0
    h = 1e-6
    numeric = (activation(name, x + h, negative_slope=0.07)[0]
               - activation(name, x - h, negative_slope=0.07)[0]) / (2 * h)
    np.testing.assert_allclose(activation(name, x, negative_slope=0.07)[1], numeric, rtol=1e-5, atol=1e-8)


def test_sigmoid_saturates_in_its_tails():
    assert activation("sigmoid", 10.0)[1] < 1e-4
    assert activation("sigmoid", -10.0)[1] < 1e-4


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="softplus", x=[0.0]), "name"),
    (dict(name="relu", x="abc"), "x"),
    (dict(name="relu", x=float("nan")), "x"),
    (dict(name="leaky_relu", x=[0.0], negative_slope=1.5), "negative_slope"),
    (dict(name="leaky_relu", x=[0.0], negative_slope="0.1"), "negative_slope"),
])
def test_activation_rejects_bad_arguments(kwargs, match):
    name, x = kwargs.pop("name"), kwargs.pop("x")
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        activation(name, x, **kwargs)


def test_plot_activation_draws_function_and_derivative():
    fig = plot_activation("leaky_relu", negative_slope=0.1)
    assert len(fig.axes) == 2
    dy = fig.axes[1].lines[0].get_ydata()
    assert dy.min() == pytest.approx(0.1) and dy.max() == pytest.approx(1.0)
    with pytest.raises(CompanionValueError, match="x_range"):
        plot_activation("relu", x_range=0.0)


# ---- the explorer widget -------------------------------------------------------------------

def test_explorer_frame_follows_the_toggle_and_the_slope_slider():
    v = activation_explorer(slopes=[0.01, 0.3, 0.5])
    assert list(v.control.options) == ["sigmoid", "tanh", "ReLU", "LeakyReLU"]
    assert v.index == 0
    first = v.frames[0].value
    v.control.index = 2
    assert v.index == 2 and v.frames[2].value != first
    v.control.value = "LeakyReLU"
    assert v.index == 3 and v.frames[3] is v.leaky
    assert v.leaky.index == 1  # starts at Keras's default slope, 0.3
    v.leaky.control.value = "0.01"
    assert v.leaky.index == 0
    assert v.leaky.frames[0].value != v.leaky.frames[1].value
    # each picture says in words what it shows
    assert "0.25" in v.frames[0].value and "negative_slope 0.01" in v.leaky.frames[0].value
    # the browser-side links make the static page react
    assert v.link.target == (v.stack, "selected_index")
    assert v.leaky.link.target == (v.leaky.stack, "selected_index")


@pytest.mark.parametrize("kwargs, match", [
    (dict(slopes=0.3), "slopes"),
    (dict(slopes=[]), "slopes"),
    (dict(slopes=[0.1] * 13), "slopes"),
    (dict(slopes=[0.1, 0.1]), "slopes"),
    (dict(slopes=[0.1, 2.0]), r"slopes\[1\]"),
    (dict(x_range=-1.0), "x_range"),
])
def test_explorer_rejects_bad_arguments(kwargs, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        activation_explorer(**kwargs)


# ---- the histogram widget ------------------------------------------------------------------

def _fake_activations(shrink: float, layers: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.maximum(rng.normal(size=(64, 16)) * shrink ** i, 0) for i in range(layers)]


def test_histograms_frame_follows_the_toggle():
    v = activation_histograms({"level": _fake_activations(1.0), "shrinking": _fake_activations(0.5)})
    assert list(v.control.options) == ["level", "shrinking"]
    assert v.index == 0
    v.control.value = "shrinking"
    assert v.index == 1
    assert v.frames[0].value != v.frames[1].value
    assert "shrinking: histograms of the activations of 4 layers" in v.frames[1].value


def test_layer_histograms_report_std_and_zeros_per_layer():
    acts = _fake_activations(0.5, layers=3)
    fig = plot_layer_histograms(acts)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 3
    assert titles[0].startswith(f"layer 1: std {acts[0].std():.2g}") and "zeros" in titles[0]


@pytest.mark.parametrize("arg, match", [
    ([np.zeros((2, 2))], "activations_by_name"),
    ({}, "activations_by_name"),
    ({"a": [np.ones((2, 2))], "b": [np.ones((2, 2))] * 2}, "activations_by_name"),
    ({"a": ["x"]}, r"activations_by_name\['a'\]\[0\]"),
])
def test_histograms_reject_bad_arguments(arg, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        activation_histograms(arg)


def test_layer_histograms_reject_too_many_layers():
    with pytest.raises(CompanionValueError, match="activations"):
        plot_layer_histograms([np.ones(3)] * 13)


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
