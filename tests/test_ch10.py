"""Chapter 10 (saving and loading models): the bands of the chapter's recorded figures.

The chapter builds no widget module of its own (its widgets are the quizzes), so
this file holds only the band tests. Most claims of the chapter are exact: a
round trip either reproduces every bit of the predictions or it does not.
"""

from __future__ import annotations
from recorded import fig


import pytest


@pytest.mark.parametrize("fmt", ["keras", "weights", "h5", "export"])
def test_every_round_trip_reproduces_the_predictions_exactly(fmt):
    # Claim: .keras, .weights.h5, legacy .h5 and export + TFSMLayer all give back
    # predictions identical to the last bit (same images, same batch).
    assert fig("ch10", f"max_diff_{fmt}") == 0.0


def test_only_the_keras_file_keeps_the_optimizer_state():
    # Claim: the .keras file restores every optimizer variable (Adam's moments and
    # step); weights only, legacy .h5 (with Keras 3.15: step but no moments) and
    # export do not.
    assert fig("ch10", "optimizer_kept_keras") == 1
    for fmt in ["weights", "export"]:
        assert fig("ch10", f"optimizer_kept_{fmt}") == 0, fmt
    if fig("ch10", "h5_optimizer_variables_loaded") < fig("ch10", "h5_optimizer_arrays_in_file"):
        assert fig("ch10", "optimizer_kept_h5") == 0


def test_the_h5_file_holds_adams_moments_but_keras_3_15_drops_them():
    # Claim: the .h5 file holds all 10 of Adam's variables (step, learning rate, a
    # momentum and a velocity per weight array); Keras 3.15's loader restores only 2.
    # A Keras that restores them must then keep the whole state.
    assert fig("ch10", "h5_optimizer_arrays_in_file") == 10
    loaded = fig("ch10", "h5_optimizer_variables_loaded")
    if fig("ch10", "keras_with_h5_config_bug"):   # the Keras 3.15 of the full run
        assert loaded == 2
    if loaded == 10:
        assert fig("ch10", "optimizer_kept_h5") == 1


def test_a_keras_save_after_an_h5_save_follows_the_compile_config():
    # Claim: with Keras <= 3.15.1 the .h5 save removes the optimizer from the model's
    # compile config, so a later .keras file reloads with RMSprop, not Adam (bug fixed
    # upstream, keras-team/keras PR 23475); with the fix it reloads with Adam.
    kept = fig("ch10", "h5_save_kept_optimizer_in_config")
    assert fig("ch10", "adam_after_h5_then_keras") == kept
    if fig("ch10", "keras_with_h5_config_bug"):
        assert kept == 0


def test_resumed_training_continues_the_uninterrupted_curve_exactly():
    # Claim: save after 3 epochs, reload, train 3 more (same seed, same session)
    # gives the same loss at every epoch as 6 epochs in one go.
    assert fig("ch10", "resume_max_loss_diff") == 0.0
    assert fig("ch10", "resume_final_loss_diff") == 0.0


def test_weights_only_resumption_does_not_continue_the_curve():
    # Claim: weights poured into a fresh model with a new Adam leave the curve and
    # end slightly above the uninterrupted run (full runs: +0.00088 at epoch 6);
    # "slightly": well under the 0.024 the loss falls in the last epoch.
    diff = fig("ch10", "weights_only_final_loss_diff")
    assert 0.0 < diff < 0.01


def test_safe_mode_refuses_the_lambda_model_but_loads_a_registered_layer():
    # Claim: load_model in safe mode refuses a Lambda layer holding a Python lambda, and
    # loads the registered Scale layer, which doubles its input as before saving.
    assert fig("ch10", "lambda_refused_in_safe_mode") == 1
    assert fig("ch10", "registered_layer_round_trip") == 1
