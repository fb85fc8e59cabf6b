"""Chapter 5 (loss curves and overfitting): the curve widgets and the recorded figures."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.errors import CompanionTypeError, CompanionValueError
from companion.widgets import curves

from recorded import fig

BAD = (CompanionTypeError, CompanionValueError)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _run(n: int, turn: int, scale: float = 1.0) -> dict[str, list[float]]:
    """A made-up run: training loss falls, validation loss is lowest at epoch ``turn``."""
    e = np.arange(1, n + 1)
    loss = scale * 0.6 * e ** -0.4
    val = scale * (0.45 + 0.002 * (e - turn) ** 2)
    return {"loss": list(loss), "val_loss": list(val)}


# ---- plot_loss_curves ----------------------------------------------------------------------

def test_plot_loss_curves_marks_the_epoch_of_minimum_validation_loss():
    fig = curves.plot_loss_curves(_run(12, turn=5))
    ax = fig.axes[0]
    assert ax.get_title().startswith("best epoch 5:")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "minimum validation loss"]


def test_plot_loss_curves_upto_marks_the_best_epoch_seen_so_far():
    run = _run(12, turn=8)
    assert curves.plot_loss_curves(run, upto=4).axes[0].get_title().startswith("best epoch 4:")
    assert curves.plot_loss_curves(run, upto=12).axes[0].get_title().startswith("best epoch 8:")


def test_plot_loss_curves_shares_the_x_axis_when_asked():
    ax = curves.plot_loss_curves(_run(10, turn=3), max_epochs=40, ylim=(0, 1)).axes[0]
    assert ax.get_xlim() == (0.5, 40.5)
    assert ax.get_ylim() == (0.0, 1.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(history={"loss": [0.5, 0.4]}), "history"),
    (dict(history="loss"), "history"),
    (dict(history=_run(5, 2), upto=6), "upto"),
    (dict(history=_run(5, 2), upto=0), "upto"),
    (dict(history=_run(5, 2), max_epochs=3), "max_epochs"),
    (dict(history=_run(5, 2), ylim=(1.0, 0.5)), "ylim"),
    (dict(history=_run(5, 2), ylim=(0.1, 0.2, 0.3)), "ylim"),
])
def test_plot_loss_curves_rejects_bad_arguments(kwargs, match):
    with pytest.raises(BAD, match=match):
        curves.plot_loss_curves(**kwargs)


# ---- curve_viewer --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def viewer():
    runs = {"0.001": _run(20, turn=4), "0.0005": _run(20, turn=9, scale=1.1),
            "0.0001": _run(40, turn=35, scale=1.2)}
    return curves.curve_viewer(runs, description="Adam learning rate")


def test_curve_viewer_slider_switches_the_frame(viewer):
    assert viewer.control.options == ("0.001", "0.0005", "0.0001")
    assert viewer.link.source == (viewer.control, "index")
    first = viewer.frames[viewer.index].png
    viewer.control.value = "0.0001"
    assert viewer.index == 2
    assert viewer.frames[viewer.index].png != first
    viewer.control.value = "0.001"
    assert viewer.index == 0


def test_curve_viewer_alt_text_names_the_best_epoch(viewer):
    assert "lowest (0.540) at epoch 35" in viewer.frames[2].value
    assert "over 40 epochs" in viewer.frames[2].value


def test_curve_viewer_fits_the_page_budget(viewer):
    sizes = [len(frame.png) for frame in viewer.frames]
    assert max(sizes) <= 25_000 and 1.33 * sum(sizes) < 300_000


@pytest.mark.parametrize("runs, kwargs, match", [
    ([_run(5, 2)], {}, "runs"),
    ({}, {}, "runs"),
    ({str(k): _run(5, 2) for k in range(13)}, {}, "runs"),
    ({"a": {"loss": [0.5, 0.4]}}, {}, r"runs\['a'\]"),
    ({"a": _run(5, 2)}, {"start": 1}, "start"),
    ({"a": _run(5, 2)}, {"ylim": (0.5, 0.5)}, "ylim"),
])
def test_curve_viewer_rejects_bad_arguments(runs, kwargs, match):
    with pytest.raises(BAD, match=match):
        curves.curve_viewer(runs, **kwargs)


# ---- epoch_player --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def player():
    return curves.epoch_player(_run(20, turn=7), [2, 6, 10, 20])


def test_epoch_player_play_and_slider_switch_frames(player):
    assert player.viewer.control.options == ("2", "6", "10", "20")
    assert player.play_link.source == (player.play, "value")
    assert player.play.max == 3
    shown = player.viewer.frames[player.index].png
    player.play.value = 2
    assert player.viewer.control.index == 2 and player.index == 2
    assert player.viewer.frames[player.index].png != shown
    player.viewer.control.index = 1
    assert player.index == 1


def test_epoch_player_marks_the_best_epoch_so_far(player):
    alts = [frame.value for frame in player.viewer.frames]
    assert "was at epoch 2" in alts[0]
    assert "was at epoch 6" in alts[1]
    assert "was at epoch 7" in alts[2] and "was at epoch 7" in alts[3]


@pytest.mark.parametrize("epochs, kwargs, match", [
    ([2, 2], {}, "epochs"),
    ([3, 2], {}, "epochs"),
    ([0, 2], {}, "epochs"),
    ([2, 21], {}, "epochs"),
    (list(range(1, 14)), {}, "epochs"),
    ("2,4", {}, "epochs"),
    ([2, 4], {"interval": 10}, "interval"),
])
def test_epoch_player_rejects_bad_arguments(epochs, kwargs, match):
    with pytest.raises(BAD, match=match):
        curves.epoch_player(_run(20, turn=7), epochs, **kwargs)


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
