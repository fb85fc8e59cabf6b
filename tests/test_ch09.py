"""Chapter 9 (callbacks): the early-stopping viewer and the bands of the chapter's recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.errors import CompanionTypeError, CompanionValueError
from companion.widgets import callbacks as cw

from recorded import fig

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---- the early-stopping viewer ------------------------------------------------------------------

def _runs():
    val = [0.60, 0.50, 0.45, 0.46, 0.43, 0.42, 0.425, 0.43, 0.44, 0.45]
    loss = list(np.linspace(0.7, 0.3, len(val)))
    # patience 0 stops at index 3, patience 2 at index 8 (best index 5); patience 8 runs all
    return {"0": {"loss": loss[:4], "val_loss": val[:4], "best_epoch": 2},
            "2": {"loss": loss[:9], "val_loss": val[:9], "best_epoch": 5},
            "8": {"loss": loss, "val_loss": val, "best_epoch": 5}}


def test_viewer_switches_frames_with_the_slider():
    viewer = cw.early_stopping_viewer(_runs(), reference=_runs()["8"]["val_loss"])
    assert viewer.control.description == "Patience:"
    assert list(viewer.control.options) == ["0", "2", "8"]
    assert viewer.index == 0
    first = viewer.frames[viewer.index].png
    viewer.control.value = "2"
    assert viewer.index == 1
    assert viewer.frames[viewer.index].png != first
    # the alt text says where the run stopped and which (1-based) epoch was restored
    assert "ran 9 epochs and restored epoch 6" in viewer.frames[1].value
    assert "ran 4 epochs and restored epoch 3" in viewer.frames[0].value
    assert all(len(f.png) < 25_000 for f in viewer.frames)


def test_viewer_start_and_description():
    viewer = cw.early_stopping_viewer(_runs(), description="p:", start=2)
    assert viewer.index == 2
    assert viewer.control.value == "8"
    assert "p 8" in viewer.frames[2].value


@pytest.mark.parametrize("runs, kwargs, exc, name", [
    ([1, 2], {}, CompanionTypeError, "runs"),
    ({}, {}, CompanionValueError, "runs"),
    ({str(i): _runs()["0"] for i in range(13)}, {}, CompanionValueError, "runs"),
    ({"a": {"loss": [1.0], "val_loss": [1.0]}}, {}, CompanionValueError, "runs"),
    ({"a": {"loss": [1.0, 0.5], "val_loss": [1.0], "best_epoch": 0}}, {}, CompanionValueError, "runs"),
    ({"a": {"loss": [1.0, 0.5], "val_loss": [1.0, 0.9], "best_epoch": 2}}, {},
     CompanionValueError, "best_epoch"),
    ({"a": {"loss": [1.0, 0.5], "val_loss": [1.0, 0.9], "best_epoch": 1.0}}, {},
     CompanionTypeError, "best_epoch"),
    ({"a": {"loss": [1.0, 0.5], "val_loss": [1.0, np.nan], "best_epoch": 0}}, {},
     CompanionValueError, "val_loss"),
    (_runs(), {"reference": "abc"}, CompanionTypeError, "reference"),
    (_runs(), {"description": 3}, CompanionTypeError, "description"),
    (_runs(), {"start": 3}, CompanionValueError, "start"),
])
def test_viewer_rejects_bad_arguments(runs, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        cw.early_stopping_viewer(runs, **kwargs)


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch09.json").is_file(), reason="chapter 9 not run yet")
PATIENCE = ["p0", "p1", "p2", "p4", "p8"]


@needs_results
def test_counters_fit_together():
    # "epochs run = stopped_epoch + 1, and with patience 2, best_epoch = stopped_epoch - 2"
    stopped = fig("ch09", "stopped_epoch")
    assert fig("ch09", "epochs_run") == stopped + 1
    assert fig("ch09", "best_epoch") == stopped - 2


@needs_results
def test_stop_is_near_the_source():
    # Source 001 (same data and model, patience 2): stopped_epoch 13, i.e. 14 epochs.
    # Our run "stopped a few epochs away"; it must have stopped early (before epoch 20).
    assert 6 <= fig("ch09", "stopped_epoch") <= 18
    assert 0.30 <= fig("ch09", "best_val_loss") <= 0.36
    assert 0.86 <= fig("ch09", "restored_val_accuracy") <= 0.90


@needs_results
def test_restored_model_and_checkpoint_reproduce_the_best_val_loss():
    # "All three agree to about six decimals": restored weights and the .keras file.
    assert fig("ch09", "restore_difference") < 1e-6
    assert fig("ch09", "file_difference") < 1e-6


@needs_results
def test_more_patience_runs_more_epochs_and_is_never_worse():
    # "More patience means more epochs, and a best validation loss that is as good or better."
    epochs = [fig("ch09", f"sweep_epochs_{p}") for p in PATIENCE]
    best = [fig("ch09", f"sweep_best_val_loss_{p}") for p in PATIENCE]
    assert all(b >= a for a, b in zip(epochs, epochs[1:]))
    assert epochs[-1] > epochs[0]
    assert all(b <= a for a, b in zip(best, best[1:]))
    assert best[-1] < best[0]
    assert all(1 <= e <= 30 for e in epochs)


@needs_results
def test_restored_weights_reproduce_each_best():
    # "In every case the restored model reproduces the best validation loss" (to 1e-6).
    for p in PATIENCE:
        assert fig("ch09", f"sweep_restore_diff_{p}") < 1e-6


@needs_results
def test_real_run_stops_where_the_shortcut_says():
    # "The real run stops at the same epoch" as the replay of the 30-epoch run with patience 2.
    assert fig("ch09", "check_epochs_p2") == fig("ch09", "sweep_epochs_p2")


@needs_results
def test_reduce_lr_on_plateau_lowered_the_rate():
    # "The learning rate starts at Adam's 0.001 and halves" at least once in 15 epochs.
    assert fig("ch09", "lr_reductions") >= 1
    assert fig("ch09", "lr_final") == pytest.approx(1e-3 / 2 ** fig("ch09", "lr_reductions"), rel=1e-5)
