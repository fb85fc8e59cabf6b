"""Chapter 8: the chapter's layer statistics, statistics refresh and normalization widget, and the bands of its figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import keras
import numpy as np
import pytest

from chapter_code import chapter_functions
from recorded import apart, fig, overlap as ranges_overlap

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "book" / "results"


@pytest.fixture(scope="module")
def ns():
    namespace = chapter_functions("ch08", "layer_statistics", "normalization_viewer",
                                  "refresh_statistics")
    # relu_inputs and dead_share share a cell with the chapter's measurements: run only their defs
    import ast
    import json
    nb = json.loads(next((ROOT / "book").glob("ch08_*.ipynb")).read_text())
    (cell,) = ["".join(c["source"]) for c in nb["cells"]
               if c["cell_type"] == "code" and "def relu_inputs(" in "".join(c["source"])]
    defs = [node for node in ast.parse(cell).body if isinstance(node, ast.FunctionDef)]
    assert {d.name for d in defs} >= {"relu_inputs", "dead_share"}
    exec(compile(ast.Module(body=defs, type_ignores=[]), "ch08:relu_inputs", "exec"), namespace)
    return namespace


def _fake_stats(scale: float, normalized: bool = False, layers: int = 2) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    for j in range(layers):
        pre = rng.normal(size=(64, 16)) * scale ** (j + 1)
        norm = (pre - pre.mean(0)) / pre.std(0) if normalized else None
        out.append({"name": f"dense_{j}", "pre": pre, "normalized": norm})
    return out


# ---- layer_statistics on real Keras models ---------------------------------------------------

def _bn_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input(shape=(5,)),
        keras.layers.Dense(6, use_bias=False), keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dense(4, activation="relu"),
        keras.layers.Dense(3, activation="softmax")])


def test_statistics_pre_activations_and_batch_norm(ns):
    model = _bn_model()
    x = np.random.default_rng(1).normal(size=(32, 5)).astype("float32")
    stats = ns["layer_statistics"](model, x)
    assert [s["name"] for s in stats] == [model.layers[0].name, model.layers[3].name]
    np.testing.assert_allclose(stats[0]["pre"], x @ np.asarray(model.layers[0].kernel), rtol=1e-5,
                               atol=1e-5)
    # BN in training mode: each unit has mean 0 and std ~1 over the batch, as the layer computes it
    norm = stats[0]["normalized"]
    np.testing.assert_allclose(norm.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(norm.std(0), 1.0, atol=0.01)
    bn = keras.layers.BatchNormalization()
    np.testing.assert_allclose(norm, np.asarray(bn(stats[0]["pre"], training=True)), atol=1e-5)
    # the second layer has a ReLU activation inside Dense: "pre" is before it, bias included
    assert stats[1]["normalized"] is None and (stats[1]["pre"] < 0).any()
    hidden = np.maximum(norm, 0.0)
    np.testing.assert_allclose(stats[1]["pre"], hidden @ np.asarray(model.layers[3].kernel)
                               + np.asarray(model.layers[3].bias), rtol=1e-4, atol=1e-5)


def test_statistics_leave_moving_statistics_untouched(ns):
    model = _bn_model()
    before = [np.array(v.numpy()) for v in model.non_trainable_variables]
    ns["layer_statistics"](model, np.ones((8, 5)) * 3.0)
    for old, var in zip(before, model.non_trainable_variables):
        np.testing.assert_array_equal(old, var.numpy())


def test_layer_norm_statistics_are_per_example(ns):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(6),
                              keras.layers.LayerNormalization(), keras.layers.Dense(2)])
    x = np.random.default_rng(2).normal(size=(10, 5)).astype("float32")
    norm = ns["layer_statistics"](model, x)[0]["normalized"]
    np.testing.assert_allclose(norm.mean(1), 0.0, atol=1e-5)
    alone = ns["layer_statistics"](model, x[:2])[0]["normalized"]
    np.testing.assert_allclose(alone, norm[:2], atol=1e-6)   # the rest of the batch does not matter


# ---- refreshing BN's moving statistics -----------------------------------------------------

def test_refresh_sets_moving_statistics_to_those_of_the_images(ns):
    model = _bn_model()
    x = np.random.default_rng(3).normal(loc=2.0, size=(50, 5)).astype("float32")
    ns["refresh_statistics"](model, x)
    bn = model.layers[1]
    z = x @ np.asarray(model.layers[0].kernel)
    np.testing.assert_allclose(bn.moving_mean.numpy(), z.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), z.var(0), rtol=1e-4, atol=1e-5)
    # afterwards inference mode on these images is what training mode computes on them
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(model(x, training=True)),
                               atol=1e-4)


def test_dead_share_counts_units_silent_for_every_example(ns):
    pre = np.array([[1.0, -1.0, -2.0, 0.5], [2.0, -3.0, 1.0, -0.5]])
    stats = [{"name": "a", "pre": pre, "normalized": None},
             {"name": "b", "pre": pre, "normalized": -np.abs(pre)}]        # layer b: all dead
    assert [v is s for v, s in zip(ns["relu_inputs"](stats), (pre, stats[1]["normalized"]))] == [True, True]
    assert ns["dead_share"](stats) == pytest.approx((1 / 4 + 1) / 2)


# ---- the viewer ------------------------------------------------------------------------------

def _viewer(ns):
    return ns["normalization_viewer"]({
        "plain": {"at init": _fake_stats(0.5), "trained": _fake_stats(2.0)},
        "BN": {"at init": _fake_stats(0.5, True), "trained": _fake_stats(2.0, True)},
    })


def test_viewer_frames_follow_both_toggles(ns):
    v = _viewer(ns)
    assert list(v.control.options) == ["plain", "BN"]
    assert v.index == 0
    v.control.index = 1
    assert v.index == 1
    inner = v.frames[1]
    assert list(inner.control.options) == ["at init", "trained"]
    first = inner.frames[0].png
    inner.control.index = 1
    assert inner.index == 1 and inner.frames[1].png != first
    # the alt text names the frame and reports what each ReLU receives: normalized values for BN
    trained = _fake_stats(2.0, True)
    alt = inner.frames[1].value
    assert "BN, trained" in alt and "(normalized)" in alt
    assert f"L2 {trained[1]['normalized'].std(axis=0).mean():.2f}" in alt
    plain = _fake_stats(0.5)
    alt = v.frames[0].frames[0].value
    assert "(not normalized)" in alt and f"L2 {plain[1]['pre'].std(axis=0).mean():.2f}" in alt
    dead = ns["dead_share"](plain)
    assert f"{dead:.0%} of the units dead" in alt
    # browser-side links make the static page react
    assert v.link.target == (v.stack, "selected_index")
    assert inner.link.target == (inner.stack, "selected_index")


def test_viewer_frames_are_small(ns):
    v = _viewer(ns)
    sizes = [len(frame.png) for inner in v.frames for frame in inner.frames]
    assert len(sizes) == 4 and max(sizes) <= 30_000


# ---- bands on the full run's figures -------------------------------------------------------


needs_results = pytest.mark.skipif(not (RESULTS / "ch08.json").is_file(), reason="chapter 8 not run yet")


def _spread(name: str) -> tuple[float, float, float]:
    return fig("ch08", f"{name}_low"), fig("ch08", f"{name}_mean"), fig("ch08", f"{name}_high")


def _below(a: str, b: str) -> bool:
    """Every seed of figure a below every seed of figure b (the book's rule)."""
    return apart("ch08", a, b)


def _overlap(a: str, b: str) -> bool:
    return ranges_overlap("ch08", a, b)


@needs_results
def test_bn_parameter_count_and_layer_norm_exactness():
    # "4 parameters per feature"; "LayerNorm's output at inference is bit for bit the one at training"
    assert fig("ch08", "bn_params_per_feature") == 4
    assert fig("ch08", "ln_train_infer_max_diff") == 0.0


@needs_results
def test_at_initialization_bn_holds_std_at_one_while_the_plain_stack_shrinks():
    # "without normalization the spread over the batch shrinks from about 0.39 to 0.02 over 8 layers
    #  (factor ~0.05, faster than the root mean square); He holds it roughly level; BN 1.00 by
    #  construction; LN stays in the same order"
    assert 0.02 <= fig("ch08", "deep_plain_std_ratio") <= 0.15
    assert 0.6 <= fig("ch08", "deep_he_std_ratio") <= 1.5
    assert 0.95 <= fig("ch08", "deep_bn_std_layer8") <= 1.01
    assert 0.2 <= fig("ch08", "deep_ln_std_layer8") <= 1.1
    rms = fig("ch08", "deep_plain_rms_ratio")
    assert 0.05 <= rms <= 0.13                      # near (1/sqrt 2)^7 = 0.088
    assert fig("ch08", "deep_plain_std_ratio") < rms


@needs_results
def test_at_the_default_rate_every_fix_beats_the_plain_stack():
    # "each normalization and He initialization beat the plain stack at both epochs, LayerNorm ended
    #  lowest, below BN and He; He and BN do not differ measurably after epoch 3"
    for kind in ("he", "batchnorm", "layernorm"):
        for epoch in (1, 3):
            assert _below(f"deep_{kind}_default_loss_e{epoch}", f"deep_plain_default_loss_e{epoch}")
    assert _below("deep_layernorm_default_loss_e3", "deep_batchnorm_default_loss_e3")
    assert _below("deep_layernorm_default_loss_e3", "deep_he_default_loss_e3")
    assert _overlap("deep_he_default_loss_e3", "deep_batchnorm_default_loss_e3")
    # "He initialization is ahead of BN after epoch 1"
    assert _below("deep_he_default_loss_e1", "deep_batchnorm_default_loss_e1")
    for kind in ("plain", "he", "batchnorm", "layernorm"):
        assert fig("ch08", f"deep_{kind}_default_broken_seeds") == 0


@needs_results
def test_at_the_high_rate_only_batch_normalization_trains_steadily():
    # "BN beats all three others after epoch 1 and after epoch 3; plain and He do not differ
    #  measurably after epoch 3 and both beat the LayerNorm stack, two of whose seeds get stuck"
    for other in ("plain", "he", "layernorm"):
        for epoch in (1, 3):
            assert _below(f"deep_batchnorm_high_loss_e{epoch}", f"deep_{other}_high_loss_e{epoch}")
    assert _overlap("deep_plain_high_loss_e3", "deep_he_high_loss_e3")
    assert _below("deep_plain_high_loss_e3", "deep_layernorm_high_loss_e3")
    assert _below("deep_he_high_loss_e3", "deep_layernorm_high_loss_e3")
    assert fig("ch08", "deep_layernorm_high_broken_seeds") >= 2
    assert fig("ch08", "deep_batchnorm_high_broken_seeds") == 0
    # "BN trained at 0.03 about as well as at 0.001 (ranges overlap after epoch 3)"
    assert _overlap("deep_batchnorm_high_loss_e3", "deep_batchnorm_default_loss_e3")
    # "plain starts near the 2.30 of guessing, He above it"
    assert fig("ch08", "deep_he_high_loss_e1_mean") > np.log(10)


@needs_results
def test_dead_units():
    # "a fifth of the plain stack's units dead at the default rate, fewer with He and LayerNorm, none
    #  with BN; at the high rate about two thirds (plain, He), half (LayerNorm), BN almost none"
    assert 0.1 <= fig("ch08", "deep_plain_default_dead_mean") <= 0.35
    assert fig("ch08", "deep_he_default_dead_mean") < fig("ch08", "deep_plain_default_dead_mean")
    assert fig("ch08", "deep_layernorm_default_dead_mean") < fig("ch08", "deep_plain_default_dead_mean")
    assert fig("ch08", "deep_batchnorm_default_dead_mean") == 0.0
    for kind in ("plain", "he"):
        assert 0.55 <= fig("ch08", f"deep_{kind}_high_dead_mean") <= 0.85
    assert 0.35 <= fig("ch08", "deep_layernorm_high_dead_mean") <= 0.65
    assert fig("ch08", "deep_batchnorm_high_dead_mean") < 0.005


@needs_results
def test_widget_statistics_of_the_deep_stacks():
    # "BN's ReLU inputs stay at std about 1 at all three moments; the LayerNorm stack at the high
    #  rate loses its spread over the batch in the last layers; plain's grow with training"
    for layer in (1, 8):
        for tag in ("init", "default", "high"):
            assert 0.8 <= fig("ch08", f"deep_batchnorm_relu_std_layer{layer}_{tag}") <= 1.2
    assert fig("ch08", "deep_layernorm_relu_std_layer8_high") < 0.05
    assert fig("ch08", "deep_plain_relu_std_layer8_default") > 10 * fig("ch08", "deep_plain_relu_std_layer8_init")
    assert fig("ch08", "deep_plain_relu_std_layer1_high") > 5


@needs_results
def test_the_epoch_one_explanation_holds_with_layer_norm_as_control():
    # "40 steps: the moving averages still hold 67 % of their starting values"
    assert fig("ch08", "moving_average_start_share_epoch1") == pytest.approx(0.99 ** 40)
    # "BN's training loss after epoch 1 below plain's, its validation loss about twice plain's"
    assert _below("deep_batchnorm_default_loss_e1", "deep_plain_default_loss_e1")
    assert fig("ch08", "deep_batchnorm_default_val_loss_e1_low") > 1.5 * fig(
        "ch08", "deep_plain_default_val_loss_e1_high")
    # the 1-epoch re-run is the first epoch of the 3-epoch runs
    assert fig("ch08", "bn_epoch1_val_loss_moving_mean") == pytest.approx(
        fig("ch08", "deep_batchnorm_default_val_loss_e1_mean"), abs=1e-3)
    # "LayerNorm, the control, shows no such effect: below plain on every seed"
    assert _below("deep_layernorm_default_val_loss_e1", "deep_plain_default_val_loss_e1")
    # "refreshed, the BN copies score below plain on every seed, level with LayerNorm"
    assert _below("bn_epoch1_val_loss_refreshed", "deep_plain_default_val_loss_e1")
    assert _overlap("bn_epoch1_val_loss_refreshed", "deep_layernorm_default_val_loss_e1")


@needs_results
def test_testbed_batch_normalization_does_not_regularize():
    # "BN alone loses to the plain network; dropout alone beats everything; adding dropout to BN, in
    #  either order, beats BN alone; the two orders do not differ measurably"
    assert _below("tb_plain_best_val_loss", "tb_batchnorm_best_val_loss")
    for other in ("plain", "batchnorm", "bn_then_dropout", "dropout_then_bn"):
        assert _below("tb_dropout_best_val_loss", f"tb_{other}_best_val_loss")
    for combined in ("bn_then_dropout", "dropout_then_bn"):
        assert _below(f"tb_{combined}_best_val_loss", "tb_batchnorm_best_val_loss")
    assert _overlap("tb_bn_then_dropout_best_val_loss", "tb_dropout_then_bn_best_val_loss")
    # "the plain network is best at epochs 4-5 (~0.45) and overfits; 15 epochs hold every minimum"
    assert 0.40 <= fig("ch08", "tb_plain_best_val_loss_mean") <= 0.50
    for kind in ("plain", "batchnorm", "dropout", "bn_then_dropout", "dropout_then_bn"):
        assert fig("ch08", f"tb_{kind}_latest_best_epoch") <= fig("ch08", f"tb_{kind}_epochs") - 3
    # accuracies: dropout first, BN alone last
    accs = {k: fig("ch08", f"tb_{k}_best_val_accuracy_mean")
            for k in ("plain", "batchnorm", "dropout", "bn_then_dropout", "dropout_then_bn")}
    assert max(accs, key=accs.get) == "dropout" and min(accs, key=accs.get) == "batchnorm"


@needs_results
def test_testbed_sources_rows():
    # source 000: "BN's training loss after epoch 1 below plain's (yes); its validation loss after
    #  epoch 2 not below (no); best validation loss ~0.06 higher, ranges apart"
    assert _below("tb_batchnorm_loss_e1", "tb_plain_loss_e1")
    rows = {r["experiment"]: r for r in __import__("recorded").results_of("ch08")["sources"]}
    assert rows["BN network's training loss after epoch 1 below the plain network's (every seed)"]["ours"] == "yes"
    assert rows["BN network's validation loss below the plain network's after epoch 2 (every seed)"]["ours"] == "no"
    assert 0.03 <= fig("ch08", "tb_batchnorm_best_val_loss_mean") - fig("ch08", "tb_plain_best_val_loss_mean") <= 0.1
    # "BN starts far above the plain network after epoch 1"
    assert fig("ch08", "tb_batchnorm_val_loss_e1_low") > fig("ch08", "tb_plain_val_loss_e1_high")
    # source 002: "a small gap after 5 epochs, 0.015 (0.011 to 0.019)"
    low, mean, high = _spread("tb_bn_then_dropout_gap_e5")
    assert 0.0 <= low and high <= 0.04


def test_frozen_batch_normalization_runs_in_inference_mode():
    # Claim: in Keras 3, BatchNormalization with trainable=False uses its moving statistics even
    # when called with training=True, and does not update them.
    x = np.array([[1.0, 2.0], [3.0, 0.0], [8.0, 4.0]], dtype="float32")
    bn = keras.layers.BatchNormalization()
    bn(x, training=True)
    moving = np.array(bn.moving_mean.numpy())
    inference = np.asarray(bn(x, training=False))
    bn.trainable = False
    frozen = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(frozen, inference, atol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving)
    bn.trainable = True
    assert not np.allclose(np.asarray(bn(x, training=True)), inference, atol=1e-2)
