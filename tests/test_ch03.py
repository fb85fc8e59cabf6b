"""Chapter 3 (optimizers and the learning rate): the optimizer-path widget and the recorded figures."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import json

import numpy as np
import pytest

from chapter_code import BOOK, chapter_functions
from recorded import fig


@pytest.fixture(scope="module")
def ch03():
    # One cell defines bowl_loss, optimizer_path, plot_paths and optimizer_viewer.
    return chapter_functions("ch03", "optimizer_viewer")


# ---- the paths of real Keras optimizers ----------------------------------------------------

def test_one_sgd_step_is_the_learning_rate_times_the_gradient(ch03):
    keras = ch03["keras"]
    path = ch03["optimizer_path"](keras.optimizers.SGD(learning_rate=0.05), steps=1)
    # Gradient of (w1^2 + 10 w2^2) / 2 at (-4, 1.5) is (-4, 15).
    np.testing.assert_allclose(path, [[-4.0, 1.5], [-4.0 + 0.05 * 4, 1.5 - 0.05 * 15]], rtol=1e-6)


@pytest.mark.parametrize("lr, converges", [(0.19, True), (0.21, False)])
def test_plain_sgd_converges_below_2_over_the_curvature_and_diverges_above(ch03, lr, converges):
    keras = ch03["keras"]
    final = ch03["optimizer_path"](keras.optimizers.SGD(learning_rate=lr), steps=100)[-1]
    if converges:
        assert np.max(np.abs(final)) < 1e-3
    else:
        assert np.max(np.abs(final)) > 1e3


def test_momentum_overshoots_the_minimum_and_plain_sgd_does_not(ch03):
    keras, path = ch03["keras"], ch03["optimizer_path"]
    sgd = path(keras.optimizers.SGD(learning_rate=0.05))
    momentum = path(keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    assert np.all(sgd[:, 1] >= 0) and np.all(sgd[:, 0] <= 0)
    assert momentum[:, 1].min() < -0.1 and momentum[:, 0].max() > 0.5


@pytest.mark.parametrize("start", [(-4.0, 1.5), (2.0, -0.5)])
def test_adams_first_step_is_the_learning_rate_in_every_coordinate(ch03, start):
    keras = ch03["keras"]
    path = ch03["optimizer_path"](keras.optimizers.Adam(learning_rate=0.1), steps=1, start=start)
    step = path[1] - path[0]
    np.testing.assert_allclose(np.abs(step), [0.1, 0.1], rtol=1e-3)
    assert np.all(np.sign(step) == -np.sign(start))   # downhill in each coordinate


def test_plot_paths_draws_contours_and_losses(ch03):
    paths = {"a": np.array([[-4.0, 1.5], [-3.0, 0.5]]), "b": np.array([[-4.0, 1.5], [-2.0, 0.0]])}
    figure = ch03["plot_paths"](paths, "two paths")
    assert len(figure.axes) == 2
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["a", "b"]
    assert len(figure.axes[1].get_lines()) == 2


# ---- the widget ----------------------------------------------------------------------------

def test_optimizer_viewer_names_optimizer_rate_and_result_in_each_frame(ch03):
    keras = ch03["keras"]
    v = ch03["optimizer_viewer"]([("SGD", keras.optimizers.SGD(learning_rate=0.05)),
                                  ("SGD", keras.optimizers.SGD(learning_rate=0.21)),
                                  ("Adam", keras.optimizers.Adam(learning_rate=0.1))], steps=8)
    assert v.control.options == ("SGD, learning rate 0.05", "SGD, learning rate 0.21", "Adam, learning rate 0.1")
    assert len(v.frames) == 3 and v.index == 0
    v.control.index = 1
    assert v.index == 1
    # The alt text (like the title) states the loss the real optimizer reached.
    final = ch03["optimizer_path"](keras.optimizers.SGD(learning_rate=0.21), steps=8)[-1]
    loss = 0.5 * (final[0] ** 2 + 10 * final[1] ** 2)
    assert f"SGD, learning rate 0.21 on the bowl, from (-4, 1.5): loss {loss:.2g} after 8 steps" in v.frames[1].value
    assert len({f.png for f in v.frames}) == 3


def test_the_chapters_optimizer_viewer_fits_the_page():
    # Run the chapter's own call: at most 10 frames, each named by optimizer and learning rate.
    nb = json.loads(next(BOOK.glob("ch03_*.ipynb")).read_text())
    call = ["".join(c["source"]) for c in nb["cells"]
            if c["cell_type"] == "code" and "".join(c["source"]).startswith("optimizer_viewer(")]
    assert len(call) == 1
    ns = chapter_functions("ch03", "optimizer_viewer")
    v = eval(call[0], ns)
    assert 2 <= len(v.frames) <= 10
    assert all(", learning rate " in label for label in v.control.options)
    sizes = [len(frame.value) for frame in v.frames]
    assert max(sizes) <= 40_000 and sum(sizes) < 400_000


# ---- recorded figures and their bands ------------------------------------------------------


# Each band states a claim the chapter makes; the bounds come from source 001's figures
# and our full run (RMSprop: train 0.8875, val 0.8663; Adam: train 0.8900, val 0.8715),
# no wider than run-to-run spread of single 5-epoch runs justifies.

def test_ch03_rmsprop_reaches_the_sources_accuracy():
    # Claim: the ReLU model with the default RMSprop, 5 epochs, batch 32, scores about 0.89
    # on training and about 0.87 on validation (source 001: 0.8847 and 0.8611).
    assert 0.875 <= fig("ch03", "rmsprop_train_accuracy") <= 0.90
    assert 0.85 <= fig("ch03", "rmsprop_val_accuracy") <= 0.88


def test_ch03_adam_reaches_the_sources_accuracy():
    # Claim: the same model with Adam scores about 0.89 on training and about 0.87-0.88 on
    # validation (source 001: 0.8875 and 0.8803).
    assert 0.875 <= fig("ch03", "adam_train_accuracy") <= 0.90
    assert 0.86 <= fig("ch03", "adam_val_accuracy") <= 0.89


def test_ch03_adam_is_at_least_as_good_as_rmsprop():
    # Claim: Adam does as well as the default RMSprop or a little better (source 001: +2 points;
    # ours: about +0.5), not worse beyond noise.
    assert fig("ch03", "adam_val_accuracy") >= fig("ch03", "rmsprop_val_accuracy") - 0.005


FOUR = ("momentum", "nesterov", "rmsprop", "adam")


def test_ch03_plain_sgd_and_adagrad_are_the_slow_ones_at_default_rates():
    # Claim: after 10 epochs (batch 128) plain SGD (0.01) and Adagrad (0.001) are clearly behind
    # momentum, Nesterov, RMSprop and Adam, in accuracy and in loss.
    best_slow_acc = max(fig("ch03", "sweep_sgd_val_accuracy"), fig("ch03", "sweep_adagrad_val_accuracy"))
    worst_fast_acc = min(fig("ch03", f"sweep_{k}_val_accuracy") for k in FOUR)
    assert best_slow_acc < worst_fast_acc - 0.02
    best_slow_loss = min(fig("ch03", "sweep_sgd_val_loss"), fig("ch03", "sweep_adagrad_val_loss"))
    worst_fast_loss = max(fig("ch03", f"sweep_{k}_val_loss") for k in FOUR)
    assert best_slow_loss > worst_fast_loss + 0.05


def test_ch03_adagrad_is_the_slowest():
    # Claim: Adagrad at its default rate is the slowest of the six, below plain SGD.
    assert fig("ch03", "sweep_adagrad_val_accuracy") < fig("ch03", "sweep_sgd_val_accuracy") - 0.02
    assert fig("ch03", "sweep_adagrad_val_accuracy") < 0.82


def test_ch03_the_four_fast_optimizers_end_close_together_with_adam_first():
    # Claim: momentum, Nesterov, RMSprop and Adam reach about 0.87-0.88 (loss about 0.33-0.36),
    # within about 1.5 points of each other; Adam has the lowest validation loss.
    accs = [fig("ch03", f"sweep_{k}_val_accuracy") for k in FOUR]
    assert 0.855 <= min(accs) and max(accs) <= 0.895
    assert max(accs) - min(accs) <= 0.025
    losses = {k: fig("ch03", f"sweep_{k}_val_loss") for k in FOUR}
    assert min(losses, key=losses.get) == "adam"


LRS = ("0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03")


def test_ch03_learning_rate_extremes_are_worse_than_the_middle():
    # Claim: too small (1e-4) is slow and too large (3e-2) is worse; both lose to 1e-3/3e-3
    # clearly in validation loss and in accuracy after 5 epochs.
    middle_loss = min(fig("ch03", "lr_0.001_val_loss"), fig("ch03", "lr_0.003_val_loss"))
    middle_acc = max(fig("ch03", "lr_0.001_val_accuracy"), fig("ch03", "lr_0.003_val_accuracy"))
    for extreme in ("0.0001", "0.03"):
        assert fig("ch03", f"lr_{extreme}_val_loss") > middle_loss + 0.04
        assert fig("ch03", f"lr_{extreme}_val_accuracy") < middle_acc - 0.01


def test_ch03_best_learning_rate_is_near_adams_default():
    # Claim: the lowest validation loss lies at 0.001 or 0.003, and the sweep is U-shaped
    # (loss falls from 1e-4 to the best rate, then rises to 3e-2).
    losses = [fig("ch03", f"lr_{lr}_val_loss") for lr in LRS]
    best = int(np.argmin(losses))
    assert LRS[best] in ("0.001", "0.003")
    assert all(a > b for a, b in zip(losses[:best], losses[1:best + 1]))
    assert all(a < b for a, b in zip(losses[best:], losses[best + 1:]))
    # Claim: a rate ten times smaller than the default costs more than 2 points of accuracy.
    assert fig("ch03", "lr_0.0001_val_accuracy") < fig("ch03", "lr_0.001_val_accuracy") - 0.02


def test_ch03_steps_per_execution_changes_the_returns_to_python_not_the_results():
    # Claim: with steps_per_execution=64 the two epochs give exactly the same history, and Keras
    # comes back to Python 24 times per epoch (1,500 batches / 64, rounded up) instead of 1,500.
    assert fig("ch03", "steps_per_execution_same_history") == 1.0
    assert fig("ch03", "steps_per_execution_returns_default") == 2 * 1500
    assert fig("ch03", "steps_per_execution_returns_64") == 2 * 24


# ---- the update rules as the text describes them -------------------------------------------

def _steps(optimizer, gradients):
    """Feed a fixed sequence of gradients to a Keras optimizer on one weight; return each step."""
    import keras
    w = keras.Variable(0.0)
    before, steps = 0.0, []
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float32"), w)])
        steps.append(float(w) - before)
        before = float(w)
    return np.array(steps)


def test_momentum_velocity_is_a_decaying_sum_of_past_gradients():
    # Claim: with momentum beta the velocity is -learning_rate times an exponentially weighted sum
    # of past gradients, the gradient of k steps ago counted with weight beta**k.
    import keras
    gradients = [1.0, -2.0, 0.5, 3.0, 0.0, 1.0]
    steps = _steps(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), gradients)
    expected = [-0.1 * sum(0.9 ** k * gradients[t - k] for k in range(t + 1)) for t in range(len(gradients))]
    np.testing.assert_allclose(steps, expected, rtol=1e-5, atol=1e-7)


def test_adagrads_effective_learning_rate_only_shrinks_and_rmsprops_recovers():
    # Claim: Adagrad's effective learning rate (step / gradient) only ever shrinks, even when the
    # gradients become small; RMSprop's moving average lets it grow again.
    import keras
    gradients = [1.0] * 5 + [0.01] * 30
    adagrad = np.abs(_steps(keras.optimizers.Adagrad(learning_rate=0.1), gradients)) / gradients
    rmsprop = np.abs(_steps(keras.optimizers.RMSprop(learning_rate=0.1), gradients)) / gradients
    assert np.all(np.diff(adagrad) <= 1e-9)
    assert rmsprop[-1] > 3 * rmsprop[4]


def test_the_chapter_refers_back_to_chapter_2s_section_on_how_a_network_learns():
    nb = json.loads(next(BOOK.glob("ch03_*.ipynb")).read_text())
    text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert 'Chapter 2 (section "How a network learns")' in text and "backpropagation" in text
    ch02 = json.loads(next(BOOK.glob("ch02_*.ipynb")).read_text())
    assert any("".join(c["source"]).startswith("## How a network learns") for c in ch02["cells"])
    assert "running sum of past steps" not in text and "steps only ever shrink" not in text
