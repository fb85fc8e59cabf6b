"""Chapter 9 (callbacks): the early-stopping viewer and the bands of the chapter's recorded figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import numpy as np
import pytest

from chapter_code import chapter_functions
from recorded import fig

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


# ---- the early-stopping viewer ------------------------------------------------------------------

VAL = [0.60, 0.50, 0.45, 0.46, 0.43, 0.42, 0.425, 0.43, 0.44, 0.45]
RUN = {"loss": list(np.linspace(0.7, 0.3, len(VAL))), "val_loss": VAL}


@pytest.fixture(scope="module")
def viewer():
    ns = chapter_functions("ch09", "early_stopping_viewer")
    return ns["early_stopping_viewer"](RUN, [0, 2, 8])


def test_viewer_switches_frames_with_the_slider(viewer):
    assert viewer.control.description == "Patience:"
    assert list(viewer.control.options) == ["0", "2", "8"]
    assert viewer.index == 0
    first = viewer.frames[0].png
    viewer.control.index = 1
    assert viewer.index == 1
    assert viewer.frames[1].png != first
    viewer.control.index = 2
    assert viewer.index == 2


def test_viewer_shows_where_keras_early_stopping_stops(viewer):
    # Keras's rule on VAL: patience 0 stops at the first epoch without improvement (index 3),
    # restoring index 2; patience 2 stops at index 7, two epochs after the best (index 5);
    # patience 8 never stops within the 10 epochs and restores index 5. Epochs in the text are 1-based.
    alts = [frame.value for frame in viewer.frames]
    assert "stopped after 4 epochs and restored epoch 3, validation loss 0.4500" in alts[0]
    assert "stopped after 8 epochs and restored epoch 6, validation loss 0.4200" in alts[1]
    assert "stopped after 10 epochs and restored epoch 6" in alts[2]


def test_viewer_stops_on_a_plateau():
    # A flat series improves only at index 0 (on infinity); with patience 1 the next epoch
    # counts as no improvement and ends training: 2 epochs, the first one restored.
    ns = chapter_functions("ch09", "early_stopping_viewer")
    v = ns["early_stopping_viewer"]({"loss": [1.0] * 5, "val_loss": [0.5] * 5}, [1])
    assert "stopped after 2 epochs and restored epoch 1" in v.frames[0].value


def test_viewer_frames_are_small(viewer):
    assert all(len(f.png) < 30_000 for f in viewer.frames)


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch09.json").is_file(), reason="chapter 9 not run yet")
PATIENCE = ["p0", "p1", "p2", "p4", "p8"]


@needs_results
def test_counters_fit_together():
    # "epochs run = stopped_epoch + 1, and best_epoch = stopped_epoch - max(patience, 1)" (patience 2)
    stopped = fig("ch09", "stopped_epoch")
    assert fig("ch09", "epochs_run") == stopped + 1
    assert fig("ch09", "best_epoch") == stopped - 2


@needs_results
def test_stop_is_near_the_source():
    # Source 001 (same data and model, patience 2): stopped_epoch 13; the textbook's notebook 7-3: 16,
    # restored model 0.3228 / 0.8859. Ours is one run "a few epochs away" that stopped early (before
    # epoch 20), with a restored model in the same region.
    assert 6 <= fig("ch09", "stopped_epoch") <= 18
    assert 0.30 <= fig("ch09", "best_val_loss") <= 0.36
    assert 0.86 <= fig("ch09", "restored_val_accuracy") <= 0.90
    assert fig("ch09", "restored_val_loss") == pytest.approx(fig("ch09", "best_val_loss"), abs=1e-6)


@needs_results
def test_restored_model_and_checkpoint_reproduce_the_best_val_loss():
    # "All three agree to about six decimals": restored weights and the .keras file.
    assert fig("ch09", "restore_difference") < 1e-6
    assert fig("ch09", "file_difference") < 1e-6


SEEDS = range(3)


@needs_results
def test_more_patience_runs_more_epochs_and_is_never_worse_on_every_seed():
    # "Within one seed more patience can only find the same or a lower point ... it never returns a
    # worse model", and it runs at least as many epochs.
    for i in SEEDS:
        epochs = [fig("ch09", f"sweep_epochs_{p}_seed{i}") for p in PATIENCE]
        best = [fig("ch09", f"sweep_val_loss_{p}_seed{i}") for p in PATIENCE]
        assert all(b >= a for a, b in zip(epochs, epochs[1:]))
        assert all(b <= a for a, b in zip(best, best[1:]))
        assert all(1 <= e <= 30 for e in epochs)
        # patience 0 and 1 stop alike; patience 8 never stops within 30 epochs
        assert epochs[0] == epochs[1] and epochs[-1] == 30
        # the restored loss is the run's lowest over the epochs that ran
        assert best[-1] == pytest.approx(fig("ch09", f"seed{i}_min_val_loss"), abs=1e-7)


@needs_results
def test_where_patience_stops_depends_on_the_seed():
    # "Where that first bump comes depends on the seed": patience 0 stops after different epochs.
    stops = {fig("ch09", f"sweep_epochs_p0_seed{i}") for i in SEEDS}
    assert len(stops) >= 2


@needs_results
def test_patience_8_beats_patience_2_across_the_seeds_and_4_overlaps_both():
    # "every seed of patience 8 below every seed of patience 2. Patience 4 overlaps both."
    def rng(p):
        return fig("ch09", f"sweep_val_loss_{p}_low"), fig("ch09", f"sweep_val_loss_{p}_high")
    assert rng("p8")[1] < rng("p2")[0]
    assert rng("p4")[0] <= rng("p2")[1] and rng("p4")[1] >= rng("p8")[0]
    # and it costs more epochs on every seed
    for i in SEEDS:
        assert fig("ch09", f"sweep_epochs_p8_seed{i}") > fig("ch09", f"sweep_epochs_p2_seed{i}")
    acc8 = [fig("ch09", f"sweep_val_accuracy_p8_seed{i}") for i in SEEDS]
    acc2 = [fig("ch09", f"sweep_val_accuracy_p2_seed{i}") for i in SEEDS]
    assert min(acc8) > max(acc2)


@needs_results
def test_reduce_lr_on_plateau_lowered_the_rate():
    # "The learning rate starts at Adam's 0.001 and halves" at least once in 15 epochs.
    assert fig("ch09", "lr_reductions") >= 1
    assert fig("ch09", "lr_final") == pytest.approx(1e-3 / 2 ** fig("ch09", "lr_reductions"), rel=1e-5)



# ---- claims about Keras 3's callbacks -------------------------------------------------------

def _replay(callback, values):
    import keras
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    return callback


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_best_epoch_is_stopped_epoch_minus_max_patience_1(patience):
    # "best_epoch = stopped_epoch - max(patience, 1)": patience 0 stops like patience 1.
    import keras
    values = [0.6, 0.5, 0.4] + [0.45] * 6
    for restore in (True, False):
        stopper = _replay(keras.callbacks.EarlyStopping(
            patience=patience, restore_best_weights=restore), values)
        assert stopper.best_epoch == 2
        assert stopper.stopped_epoch == 2 + max(patience, 1)


def test_min_delta_needs_an_improvement_of_more_than_min_delta():
    # "improve by more than min_delta": an improvement of exactly min_delta does not count.
    import keras
    stopper = _replay(keras.callbacks.EarlyStopping(patience=1, min_delta=0.25),
                      [0.5, 0.25, 0.2])
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 1


def test_on_test_hooks_fire_during_fit_validation():
    # "the on_test_... hooks also fire inside fit, during the validation pass of each epoch"
    import keras
    calls = []

    class Log(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_epoch_end(self, epoch, logs=None):
            calls.append("epoch_end")

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x[:, :1], epochs=2, validation_data=(x, x[:, :1]), callbacks=[Log()], verbose=0)
    assert calls == ["test_begin", "epoch_end"] * 2


def test_checkpoint_names_and_backup_and_restore(tmp_path):
    # ".keras or .weights.h5 (save_weights_only)"; "{epoch} counts from 1"; BackupAndRestore
    # resumes after the last completed epoch and deletes its backup after a normal end.
    import keras
    keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))
    keras.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)
    for path, weights_only in [("w.h5", True), ("m.ckpt", False)]:
        with pytest.raises(ValueError):
            keras.callbacks.ModelCheckpoint(str(tmp_path / path), save_weights_only=weights_only)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")

    def model():
        m = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        return m

    template = keras.callbacks.ModelCheckpoint(str(tmp_path / "c-{epoch:02d}.keras"))
    model().fit(x, x[:, :1], epochs=2, callbacks=[template], verbose=0)
    assert sorted(p.name for p in tmp_path.glob("c-*.keras")) == ["c-01.keras", "c-02.keras"]

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("crash")

    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError):
        model().fit(x, x[:, :1], epochs=4, verbose=0,
                    callbacks=[keras.callbacks.BackupAndRestore(backup), Crash()])
    resumed = model().fit(x, x[:, :1], epochs=4, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert resumed.epoch == [2, 3]
    assert not (tmp_path / "backup").exists()
