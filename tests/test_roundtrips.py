"""Every save/load path chapter 10 teaches, tested outside the notebooks.

Chapter 10 (book/ch10_saving_loading.ipynb) saves one small trained model in
every format it teaches and claims each round trip gives back the predictions
bit for bit: ``model.save("x.keras")`` + ``keras.models.load_model``,
``save_weights("x.weights.h5")`` + ``load_weights`` into a model built again,
the legacy ``model.save("x.h5")``, and ``model.export(folder)`` reloaded as
``keras.layers.TFSMLayer(folder, call_endpoint="serve")``. It also claims a run
resumed from a ``.keras`` file continues the uninterrupted run exactly, and that
``load_model`` in safe mode refuses a ``Lambda`` layer holding a Python lambda.

These tests check the same claims on a model of their own, in this process:
Flatten -> Dense(32, relu) [-> Dropout] -> Dense(10, softmax) trained briefly on
the fast-mode Fashion-MNIST subset (``COMPANION_FAST=1`` comes from the root
conftest.py). Every file goes to pytest's temporary folders.

What holds here (Keras 3.15, TensorFlow 2.21, CPU), and is asserted exactly:

- ``.keras``, ``.weights.h5``, legacy ``.h5`` and export (both through
  ``TFSMLayer`` and ``tf.saved_model.load(...).serve``) reproduce predictions
  bit for bit, comparing the same images in the same batch (``predict`` with a
  different batch size differs by ~1e-7).
- ``.keras`` restores every optimizer variable; legacy ``.h5`` restores Adam's
  step counter but not its moments, and strips the optimizer from the saved
  model's own compile config.
- Resuming from a ``ModelCheckpoint`` ``.keras`` file reproduces the
  uninterrupted losses exactly for a model without dropout (shuffled or not).
  A ``Dropout`` layer's random state is *not* in the file (its seed generator
  restarts), so a model with dropout resumes with its weights and optimizer
  state exact but not on the bit-identical curve.
- Safe mode (the default) refuses a ``Lambda`` layer holding a Python lambda,
  in ``.keras`` and legacy ``.h5`` alike, before any stored code runs;
  ``safe_mode=False`` runs the stored code during ``load_model`` itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from companion.data import load_fashion_mnist  # noqa: E402

# Keras converts its variables with np.array(x), which NumPy 2 flags; not our concern here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

N_TRAIN = 1000
BATCH = 32
STEPS_PER_EPOCH = math.ceil(N_TRAIN / BATCH)


# ---- shared model and data ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data():
    fm = load_fashion_mnist()
    return fm.x_train[:N_TRAIN], fm.y_train[:N_TRAIN], fm.x_val[:200]


def build_model(dropout: bool = True):
    layers = [keras.Input(shape=(28, 28)),
              keras.layers.Flatten(),
              keras.layers.Dense(32, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(0.2))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


def compile_model(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fresh(seed: int, dropout: bool = True):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    return compile_model(build_model(dropout))


def predict(model, x):
    """All images in one batch, so that two equal models give equal bits."""
    return model.predict(x, batch_size=len(x), verbose=0)


def optimizer_values(model):
    return [np.asarray(v) for v in model.optimizer.variables]


def same_arrays(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def trained(data):
    x, y, x_check = data
    model = fresh(seed=1)
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    before = predict(model, x_check)
    # guard: the model has really been trained and predicts something non-trivial
    assert int(model.optimizer.iterations) == STEPS_PER_EPOCH
    assert np.all(np.isfinite(before)) and before.std() > 0
    return model, before, x_check


# ---- the four formats ---------------------------------------------------------------------------

def test_keras_file_round_trip_is_bit_exact_and_keeps_the_optimizer(trained, tmp_path):
    model, before, x_check = trained
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.array_equal(predict(loaded, x_check), before)
    # the whole optimizer comes back: class, step counter, Adam's moments
    assert type(loaded.optimizer) is type(model.optimizer)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == STEPS_PER_EPOCH
    assert same_arrays(optimizer_values(loaded), optimizer_values(model))
    assert len(loaded.optimizer.variables) == 2 + 2 * len(model.trainable_weights)
    assert loaded.get_compile_config()["loss"] == "sparse_categorical_crossentropy"


def test_a_loaded_copy_called_directly_is_bit_exact_too(trained, tmp_path):
    # The book compares predictions "in one batch on purpose": calling both models on
    # the same array is the same comparison; other batch sizes may move the last bits.
    model, before, x_check = trained
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.array_equal(np.asarray(loaded(x_check)), np.asarray(model(x_check)))
    # and whatever the batch size, the copy is at worst a few float32 ulps off
    np.testing.assert_allclose(loaded.predict(x_check, batch_size=BATCH, verbose=0), before,
                               rtol=0, atol=1e-6)


def test_weights_file_round_trip_into_a_rebuilt_model_is_bit_exact(trained, tmp_path):
    model, before, x_check = trained
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    keras.utils.set_random_seed(99)
    rebuilt = build_model()
    assert not np.array_equal(predict(rebuilt, x_check), before)  # the load must matter
    rebuilt.load_weights(path)
    assert np.array_equal(predict(rebuilt, x_check), before)
    assert getattr(rebuilt, "optimizer", None) is None  # no compile settings in a weights file
    # Keras 3 insists on the .weights.h5 suffix
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "w.h5")
    # and on the same architecture
    other = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError):
        other.load_weights(path)


def test_legacy_h5_round_trip_is_bit_exact_but_loses_adams_moments(trained, tmp_path):
    model, before, x_check = trained
    # as in the book: the .h5 save changes the saved model, so do it on a copy
    keras_path = tmp_path / "m.keras"
    model.save(keras_path)
    legacy = keras.models.load_model(keras_path)
    h5_path = tmp_path / "m.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy.save(h5_path)
        from_h5 = keras.models.load_model(h5_path)
    assert np.array_equal(predict(from_h5, x_check), before)
    assert isinstance(from_h5.optimizer, keras.optimizers.Adam)
    assert int(from_h5.optimizer.iterations) == STEPS_PER_EPOCH  # the step counter survives
    assert len(from_h5.optimizer.variables) < len(model.optimizer.variables)  # moments do not


def test_a_keras_save_after_an_h5_save_reloads_without_adam(trained, tmp_path):
    # The trap chapter 10 (and STACK_NOTES) describe. If this starts failing, Keras fixed
    # it and the chapter's section "Now the trap" must change.
    model, _, _ = trained
    model.save(tmp_path / "m.keras")
    legacy = keras.models.load_model(tmp_path / "m.keras")
    assert "optimizer" in legacy.get_compile_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy.save(tmp_path / "m.h5")
        assert "optimizer" not in legacy.get_compile_config()
        legacy.save(tmp_path / "after_h5.keras")
        reloaded = keras.models.load_model(tmp_path / "after_h5.keras")
    assert not isinstance(reloaded.optimizer, keras.optimizers.Adam)
    assert isinstance(reloaded.optimizer, keras.optimizers.RMSprop)


def test_export_reloads_bit_exact_through_tfsmlayer_and_tensorflow(trained, tmp_path):
    model, before, x_check = trained
    export_dir = tmp_path / "exported"
    model.export(export_dir, verbose=False)
    assert (export_dir / "saved_model.pb").is_file()
    served = keras.layers.TFSMLayer(export_dir, call_endpoint="serve")
    assert np.array_equal(np.asarray(served(x_check)), before)
    raw = tf.saved_model.load(str(export_dir))
    assert np.array_equal(raw.serve(tf.constant(x_check)).numpy(), before)
    # an export is not a Keras model file
    with pytest.raises(ValueError, match="File format not supported"):
        keras.models.load_model(export_dir)


# ---- resuming from a checkpoint -----------------------------------------------------------------

def _straight_and_resumed(data, tmp_path, *, dropout, shuffle, seed=7):
    """3 epochs in one go vs 1 epoch + ModelCheckpoint(.keras) + load + 2 more epochs."""
    x, y, x_check = data
    straight = fresh(seed, dropout)
    h_straight = straight.fit(x, y, epochs=3, batch_size=BATCH, shuffle=shuffle, verbose=0)

    first = fresh(seed, dropout)
    ckpt = tmp_path / f"ckpt_dropout{int(dropout)}_shuffle{int(shuffle)}.keras"
    h_first = first.fit(x, y, epochs=1, batch_size=BATCH, shuffle=shuffle, verbose=0,
                        callbacks=[keras.callbacks.ModelCheckpoint(ckpt)])
    assert ckpt.is_file()
    at_checkpoint = {"weights": [np.asarray(w) for w in first.weights],
                     "optimizer": optimizer_values(first),
                     "first": first}
    resumed = keras.models.load_model(ckpt)
    loaded_state = {"weights": [np.asarray(w) for w in resumed.weights],
                    "optimizer": optimizer_values(resumed),
                    "iterations": int(resumed.optimizer.iterations)}
    h_resumed = resumed.fit(x, y, epochs=3, initial_epoch=1, batch_size=BATCH,
                            shuffle=shuffle, verbose=0)
    return dict(straight=straight, resumed=resumed, h_straight=h_straight, h_first=h_first,
                h_resumed=h_resumed, at_checkpoint=at_checkpoint, loaded=loaded_state,
                ckpt=ckpt, x_check=x_check)


@pytest.fixture(scope="module")
def resume_runs(data, tmp_path_factory):
    """Each (dropout, shuffle) pair of runs computed once for the whole module."""
    cache = {}

    def get(dropout, shuffle):
        if (dropout, shuffle) not in cache:
            cache[dropout, shuffle] = _straight_and_resumed(
                data, tmp_path_factory.mktemp("resume"), dropout=dropout, shuffle=shuffle)
        return cache[dropout, shuffle]
    return get


@pytest.mark.parametrize("shuffle", [False, True], ids=["no-shuffle", "shuffle"])
def test_resuming_from_a_modelcheckpoint_continues_the_run_exactly(resume_runs, shuffle):
    # The model of the book's resume section has no dropout; then the resumed run
    # (same seed, same process) is the uninterrupted run, to the last bit.
    r = resume_runs(dropout=False, shuffle=shuffle)
    assert r["loaded"]["iterations"] == STEPS_PER_EPOCH
    assert same_arrays(r["loaded"]["optimizer"], r["at_checkpoint"]["optimizer"])
    assert r["h_resumed"].epoch == [1, 2]  # numbered as epochs 2 and 3
    loss_straight = r["h_straight"].history["loss"]
    loss_resumed = r["h_first"].history["loss"] + r["h_resumed"].history["loss"]
    assert loss_resumed == loss_straight
    assert int(r["resumed"].optimizer.iterations) == 3 * STEPS_PER_EPOCH
    assert np.array_equal(predict(r["resumed"], r["x_check"]), predict(r["straight"], r["x_check"]))


def test_resuming_from_weights_only_does_not_continue_the_run(data, resume_runs):
    # The book's "wrong way": the same weights with a new Adam leave the curve.
    r = resume_runs(dropout=False, shuffle=False)
    x, y, _ = data
    keras.utils.set_random_seed(7)
    weights_only = build_model(dropout=False)
    weights_only.load_weights(r["ckpt"])  # a .keras file works with load_weights too
    assert same_arrays([np.asarray(w) for w in weights_only.weights], r["at_checkpoint"]["weights"])
    compile_model(weights_only)
    h = weights_only.fit(x, y, epochs=3, initial_epoch=1, batch_size=BATCH, shuffle=False,
                         verbose=0)
    assert int(weights_only.optimizer.iterations) == 2 * STEPS_PER_EPOCH  # a new step counter
    assert h.history["loss"] != r["h_straight"].history["loss"][1:]


def test_resuming_a_dropout_model_restores_weights_and_optimizer_but_not_dropouts_rng(
        resume_runs):
    r = resume_runs(dropout=True, shuffle=False)
    # exact: the weights and every optimizer variable at the checkpoint
    assert same_arrays(r["loaded"]["weights"], r["at_checkpoint"]["weights"])
    assert same_arrays(r["loaded"]["optimizer"], r["at_checkpoint"]["optimizer"])
    assert r["loaded"]["iterations"] == STEPS_PER_EPOCH
    assert int(r["resumed"].optimizer.iterations) == 3 * STEPS_PER_EPOCH
    # the run goes on: numbered epochs 2-3, loss keeps falling below epoch 1's
    assert r["h_resumed"].epoch == [1, 2]
    losses = r["h_first"].history["loss"] + r["h_resumed"].history["loss"]
    assert all(np.isfinite(losses))
    assert losses[0] > losses[1] > losses[2]
    # but the Dropout layer's random state is not part of the file: its seed generator
    # restarts at load, so dropout masks after the reload differ from the uninterrupted
    # run's, and so do the losses.
    drop_first = next(layer for layer in r["at_checkpoint"]["first"].layers
                      if isinstance(layer, keras.layers.Dropout))
    drop_loaded_state = np.asarray(
        keras.models.load_model(r["ckpt"]).get_layer(drop_first.name).seed_generator.state)
    assert not np.array_equal(np.asarray(drop_first.seed_generator.state), drop_loaded_state), (
        "Keras now restores Dropout's random state from a .keras file: a dropout model may "
        "resume bit-exactly too; check, and update this test and chapter 10's resume section")


# ---- safe mode --------------------------------------------------------------------------------

def _lambda_model(marker):
    """A Lambda layer whose Python lambda leaves a marker file each time it runs."""
    # The marker's path is a constant in the lambda's code (Keras cannot reload a
    # lambda with default arguments: it stores them as a list, FunctionType wants a tuple).
    fn = eval(f"lambda t: (open({str(marker)!r}, 'a').close(), 2.0 * t)[1]")  # noqa: S307
    keras.backend.clear_session()
    return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(fn, name="times_two")])


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_safe_mode_refuses_a_lambda_before_its_code_runs(tmp_path, suffix):
    marker = tmp_path / "stored_code_ran"
    model = _lambda_model(marker)
    path = tmp_path / f"lambda{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    if marker.exists():
        marker.unlink()  # building/saving may have traced the lambda; only loading counts
    for kwargs in ({}, {"safe_mode": True}):  # the default is safe mode
        with pytest.raises(ValueError, match="safe_mode=False") as excinfo:
            keras.models.load_model(path, **kwargs)
        assert "arbitrary code" in str(excinfo.value)
        assert not marker.exists(), f"stored code ran while loading {path.name} with {kwargs}"
    # turned off, the stored code runs during load_model itself: this is the danger
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trusted = keras.models.load_model(path, safe_mode=False)
    assert marker.exists()
    out = np.asarray(trusted(np.array([[1.0, 2.0, 3.0]], dtype="float32")))
    assert np.array_equal(out, [[2.0, 4.0, 6.0]])


@keras.saving.register_keras_serializable(package="test_roundtrips")
class Times(keras.layers.Layer):
    """The book's advice instead of a Lambda: a small registered layer class."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return self.factor * inputs

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(keras.layers.Layer):
    def call(self, inputs):
        return inputs + 1.0


def test_a_registered_custom_layer_loads_in_safe_mode(tmp_path):
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input(shape=(3,)), Times(3.0)])
    path = tmp_path / "times.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded.layers[-1], Times) and loaded.layers[-1].factor == 3.0
    x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    assert np.array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


def test_an_unregistered_custom_layer_needs_its_code_not_unsafe_mode(tmp_path):
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input(shape=(3,)), Unregistered()])
    path = tmp_path / "unregistered.keras"
    model.save(path)
    # the file names a class this process does not know: refused, whatever safe_mode says
    for kwargs in ({}, {"safe_mode": False}):
        with pytest.raises(TypeError):
            keras.models.load_model(path, **kwargs)
    loaded = keras.models.load_model(path, custom_objects={"Unregistered": Unregistered})
    x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    assert np.array_equal(np.asarray(loaded(x)), x + 1.0)
