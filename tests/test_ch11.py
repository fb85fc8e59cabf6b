"""Chapter 11 (tabular data and the Functional API): the chapter's widgets and its recorded figures.

The widgets and the replay of ``EarlyStopping`` live in the chapter; ``chapter_functions``
runs the cells that define them, then the tests set the controls and read the frames.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions
from recorded import fig

# A validation curve with a dip, a small bump, the minimum at epoch 7 and a rise.
CURVE = [0.60, 0.40, 0.30, 0.25, 0.26, 0.24, 0.2395, 0.25, 0.27, 0.30, 0.33, 0.36]
TRAIN = list(np.linspace(0.6, 0.01, len(CURVE)))


@pytest.fixture(scope="module")
def ch11():
    return chapter_functions("ch11", "replay_early_stopping", "stopping_viewer", "run_viewer")


# ---- replaying EarlyStopping -----------------------------------------------------------------

def test_replay_stops_after_patience_epochs_without_improvement(ch11):
    replay = ch11["replay_early_stopping"]
    # best at epoch 6 (0.24); with min_delta 0.001 epoch 7 (0.2395) is no improvement
    assert replay(CURVE, 2, min_delta=0.001) == (8, 6)
    # with min_delta 0 epoch 7 counts, so the wait restarts there
    assert replay(CURVE, 2) == (9, 7)
    # patience 0 stops at the first epoch that does not improve
    assert replay(CURVE, 0) == (5, 4)
    # a long patience never stops: all epochs, best restored
    assert replay(CURVE, 100) == (len(CURVE), 7)


def test_replay_matches_early_stopping_inside_fit(ch11):
    # The replay calls the callback's hooks by hand; fit calls them itself. Same answers.
    import keras

    class Feed(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = CURVE[epoch]

    for patience, min_delta in [(0, 0.0), (2, 0.001), (3, 0.02)]:
        model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True)  # no tracing: faster here
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                             min_delta=min_delta, restore_best_weights=True)
        hist = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=len(CURVE), verbose=0,
                         callbacks=[Feed(), stop])
        real = (len(hist.history["loss"]), stop.best_epoch + 1)
        assert ch11["replay_early_stopping"](CURVE, patience, min_delta=min_delta) == real


# ---- the stopping viewer ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sviewer(ch11):
    return ch11["stopping_viewer"](CURVE, TRAIN, [0.0, 0.001, 0.05], [0, 2, 20], ymax=0.4,
                                   start=(1, 1))


def test_stopping_viewer_starts_where_asked(sviewer):
    assert sviewer.control.options == ("0", "0.001", "0.05")
    assert sviewer.index == 1
    inner = sviewer.frames[1]
    assert inner.control.options == ("0", "2", "20")
    assert inner.index == 1
    # min_delta 0.001, patience 2: epoch 7 (0.2395) is no improvement on epoch 6 (0.24)
    assert "stops after epoch 8 of 12" in inner.frames[1].value
    assert "weights of epoch 6" in inner.frames[1].value


def test_stopping_viewer_switches_min_delta_and_patience(sviewer):
    sviewer.control.index = 2
    assert sviewer.index == 2
    inner = sviewer.frames[2]
    shown = inner.frames[inner.index].png
    inner.control.index = 0
    assert inner.index == 0 and inner.frames[0].png != shown
    assert "min_delta 0.05 and patience 0" in inner.frames[0].value
    # min_delta 0.05: epoch 4 (0.25) is no improvement on 0.30, so patience 2 stops at epoch 5
    assert "stops after epoch 5 of 12" in inner.frames[1].value
    assert "weights of epoch 3" in inner.frames[1].value
    assert "never stops early, runs all 12 epochs" in inner.frames[2].value
    sviewer.control.index = 1
    assert sviewer.index == 1


def test_stopping_frames_are_small(sviewer):
    sizes = [len(f.png) for inner in sviewer.frames for f in inner.frames]
    assert len(sizes) == 9 and max(sizes) <= 25_000


# ---- the run viewer --------------------------------------------------------------------------

def _run(scale: float) -> dict:
    return {"bce": list(np.linspace(0.6, 0.05, 6) * scale),
            "val_bce": list(np.linspace(0.6, 0.1, 6) * scale)}


@pytest.fixture(scope="module")
def rviewer(ch11):
    rng = np.random.default_rng(0)
    runs = {"plain": _run(1.0), "L1": _run(1.5), "L2": _run(1.2)}
    weights = {"plain": rng.normal(0, 0.1, 500), "L1": rng.normal(0, 0.001, 500),
               "L2": rng.normal(0, 0.02, 500)}
    return ch11["run_viewer"](runs, weights)


def test_run_toggle_switches_frames(rviewer):
    assert rviewer.control.options == ("plain", "L1", "L2")
    first = rviewer.frames[0].png
    rviewer.control.index = 2
    assert rviewer.index == 2
    assert rviewer.frames[2].png != first
    assert "Run L2" in rviewer.frames[2].value
    rviewer.control.index = 0
    assert rviewer.index == 0


def test_run_frames_report_the_runs_figures(rviewer):
    # L1 run: val_bce falls linearly from 0.9 to 0.15, lowest at the last of 6 epochs
    assert "lowest validation value 0.150 at epoch 6 of 6" in rviewer.frames[1].value
    assert "mean absolute value 0.001" in rviewer.frames[1].value
    assert "mean absolute value 0.08" in rviewer.frames[0].value  # N(0, 0.1): 0.1 * sqrt(2 / pi)
    sizes = [len(f.png) for f in rviewer.frames]
    assert max(sizes) <= 25_000


# ---- recorded figures and their bands --------------------------------------------------------

# Each band states a claim the chapter makes. Our full run (seed 42; the data set is not
# shrunk in fast mode, so fast and full runs agree): plain best epoch 10, lowest val loss
# 0.0664, epoch 40 val loss 0.0999, train loss 0.0006; early stopping 13 epochs, epoch 8
# restored, val loss 0.0673; initial penalties L1 13.52, L2 8.84; mean |w| plain 0.1015,
# L1 0.0018, L2 0.0078; val accuracy 0.965-0.982; three seeds: one and two inputs both
# 0.977 mean val accuracy, AUC 0.996; test 0.982 / 0.956. Source 004 reports no figures,
# only its settings. Bands are no wider than the noise of single runs on 114 rows
# (one row = 0.9 points) justifies.

def test_ch11_uses_the_settings_of_source_004():
    # Claim: EarlyStopping(min_delta=0.001, patience=5), l1(0.01), l2(0.05), as 004.
    assert fig("ch11", "es_patience") == 5
    assert fig("ch11", "es_min_delta") == pytest.approx(0.001)
    assert fig("ch11", "l1_factor") == pytest.approx(0.01)
    assert fig("ch11", "l2_factor") == pytest.approx(0.05)


def test_ch11_plain_model_overfits_after_about_ten_epochs():
    # Claim: the validation loss is lowest around epoch 10 (about 0.066), then climbs to
    # about 0.10 by epoch 40 while the training loss falls below 0.001.
    assert 5 <= fig("ch11", "plain_best_epoch") <= 20
    assert 0.04 <= fig("ch11", "plain_min_val_loss") <= 0.09
    assert fig("ch11", "plain_final_val_loss") > fig("ch11", "plain_min_val_loss") + 0.015
    assert fig("ch11", "plain_final_train_loss") < 0.01


def test_ch11_early_stopping_stops_early_near_the_minimum():
    # Claim: it stops after about a dozen of 40 epochs, patience epochs after the restored
    # one, with a val loss within a small margin of the plain run's minimum; the callback
    # replayed on the plain run's curve gives the same epochs as the real run.
    trained, restored = fig("ch11", "es_epochs_trained"), fig("ch11", "es_restored_epoch")
    assert trained < 40 and trained == restored + 5
    assert fig("ch11", "es_val_loss") - fig("ch11", "plain_min_val_loss") <= 0.005
    assert fig("ch11", "es_val_bce") < fig("ch11", "plain_val_bce")
    assert fig("ch11", "es_replay_matches") == 1


def test_ch11_penalties_dominate_the_loss_at_first_and_shrink_the_weights():
    # Claim: at initialization L1(0.01) adds about 13.5 and L2(0.05) about 8.8 (against a
    # cross-entropy of 0.68); at the end the mean |w| is more than ten (L2) and fifty (L1)
    # times smaller than without a penalty.
    assert 11 <= fig("ch11", "initial_penalty_l1") <= 16
    assert 7.5 <= fig("ch11", "initial_penalty_l2") <= 10
    plain = fig("ch11", "plain_mean_abs_weight")
    assert fig("ch11", "l2_mean_abs_weight") < plain / 10
    assert fig("ch11", "l1_mean_abs_weight") < plain / 50
    assert fig("ch11", "l1_mean_abs_weight") < fig("ch11", "l2_mean_abs_weight")


def test_ch11_penalised_models_do_not_overfit_but_end_less_confident():
    # Claim: the L1 and L2 validation cross-entropy is still lowest at (or near) the last
    # epoch, and at about 0.11 well above the plain model's minimum of about 0.066.
    for kind in ("l1", "l2"):
        assert fig("ch11", f"{kind}_min_val_bce_epoch") >= 35
        assert fig("ch11", f"{kind}_min_val_bce") > fig("ch11", "plain_min_val_bce") + 0.02


def test_ch11_every_model_classifies_the_validation_rows_well():
    # Claim: all four models reach validation accuracies of about 0.96-0.98 (> 0.9).
    for key in ("plain", "es", "l1", "l2"):
        assert 0.93 <= fig("ch11", f"{key}_val_accuracy") <= 1.0


def test_ch11_two_inputs_do_as_well_as_one_within_noise():
    # Claim: over three seeds both models average about 0.977 validation accuracy and
    # 0.996 AUC; their difference is within one or two rows of 114.
    one, two = fig("ch11", "one_input_val_accuracy"), fig("ch11", "two_input_val_accuracy")
    assert one > 0.95 and two > 0.95
    assert abs(one - two) <= 0.02
    assert fig("ch11", "one_input_val_auc") > 0.98 and fig("ch11", "two_input_val_auc") > 0.98


def test_ch11_test_set_figures_are_in_line_with_validation():
    # Claim: on the test rows, evaluated once, about 0.98 and 0.96 accuracy, AUC about 0.99.
    for key in ("one", "two"):
        assert 0.93 <= fig("ch11", f"test_accuracy_{key}") <= 1.0
        assert fig("ch11", f"test_auc_{key}") > 0.98


def test_ch11_no_metric_object_is_shared_between_models():
    # Claim: every model gets fresh metric objects (make_metrics()); a shared list would
    # leak one model's totals into the next model's first epoch (bce 0.4159 next to
    # loss 0.5215 in an earlier version of this chapter).
    import json
    from chapter_code import BOOK

    (path,) = BOOK.glob("ch11_*.ipynb")
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "code")
    assert "def make_metrics(" in code
    assert "metrics=METRICS" not in code and "METRICS =" not in code
    assert code.count("metrics=make_metrics()") >= 4


def test_ch11_a_lower_threshold_trades_false_alarms_for_recall():
    # Claim: on the validation rows, recall for the malignant class at 0.5 is about 0.98
    # (42 of 43); at 0.2 it is no lower and no fewer benign rows are flagged.
    r05, r02 = fig("ch11", "threshold_recall_05"), fig("ch11", "threshold_recall_02")
    assert 0.9 <= r05 <= r02 <= 1.0
    assert fig("ch11", "threshold_benign_flagged_02") >= fig("ch11", "threshold_benign_flagged_05")


def test_ch11_diabetes_regression_learns_and_carries_its_scaling():
    # Claim: the two-input regression's validation MAE (about 39) is far below always
    # guessing the training mean (about 66) and about as good as a linear regression
    # (about 42); the saved .keras model predicts identically from raw rows.
    net, guess = fig("ch11", "diabetes_val_mae"), fig("ch11", "diabetes_mean_guess_mae")
    assert net < 0.75 * guess
    assert abs(net - fig("ch11", "diabetes_linear_mae")) < 8
    assert fig("ch11", "diabetes_saved_scaling_identical") == 1
