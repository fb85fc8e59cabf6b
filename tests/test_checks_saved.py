"""check_saved_model: the self-check for exercises that save a model (chapter 10).

Tested with right solutions (it passes and says what it checked) and with the
usual wrong ones (it gives the specific hint a learner needs).
"""

from __future__ import annotations

import numpy as np
import pytest

from companion.checks import check_saved_model
from companion.errors import CompanionTypeError, CompanionValueError

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model.fit(x, y, epochs=1, verbose=0)
    return model, x, y


def test_a_right_keras_file_passes(trained, tmp_path):
    model, x, _ = trained
    model.save(tmp_path / "m.keras")
    res = check_saved_model(tmp_path / "m.keras", model=model, x=x, expect_format="keras")
    assert res.ok, res.hints
    assert any("identical predictions" in p for p in res.passed)
    assert any("optimizer Adam kept" in p for p in res.passed)


def test_a_right_weights_file_passes_and_the_model_is_not_touched(trained, tmp_path):
    model, x, _ = trained
    before = [w.copy() for w in model.get_weights()]
    model.save_weights(tmp_path / "m.weights.h5")
    res = check_saved_model(tmp_path / "m.weights.h5", model=model, x=x, expect_format="weights")
    assert res.ok, res.hints
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_an_export_folder_passes(trained, tmp_path):
    model, x, _ = trained
    model.export(tmp_path / "exported", verbose=False)
    assert check_saved_model(tmp_path / "exported", model=model, x=x).ok


def test_training_after_saving_is_caught(trained, tmp_path):
    model, x, y = trained
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    copy.save(tmp_path / "early.keras")
    copy.fit(x, y, epochs=1, verbose=0)          # the learner trains once more, then checks
    res = check_saved_model(tmp_path / "early.keras", model=copy, x=x)
    assert not res.ok
    assert any("train" in h and "after saving" in h for h in res.hints)


def test_a_missing_file_gets_the_temporary_folder_hint(tmp_path):
    res = check_saved_model(tmp_path / "gone.keras")
    assert not res.ok and "TemporaryDirectory" in res.hints[0]


def test_the_wrong_format_and_a_wrong_name_get_hints(trained, tmp_path):
    model, x, _ = trained
    model.save(tmp_path / "m.keras")
    res = check_saved_model(tmp_path / "m.keras", model=model, expect_format="weights")
    assert any("asks for .weights.h5" in h for h in res.hints)
    (tmp_path / "notes.txt").write_text("hello")
    res = check_saved_model(tmp_path / "notes.txt")
    assert not res.ok and ".keras" in res.hints[0]


def test_a_weights_file_without_the_model_asks_for_it(trained, tmp_path):
    model, _, _ = trained
    model.save_weights(tmp_path / "m.weights.h5")
    res = check_saved_model(tmp_path / "m.weights.h5")
    assert not res.ok and "model=" in res.hints[0]


def test_a_lambda_model_is_refused_in_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(lambda t: t * 2)])
    model.save(tmp_path / "lam.keras")
    res = check_saved_model(tmp_path / "lam.keras")
    assert not res.ok and "safe mode" in res.hints[0]


def test_an_uncompiled_keras_file_gets_the_optimizer_hint(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.save(tmp_path / "plain.keras")
    res = check_saved_model(tmp_path / "plain.keras")
    assert any("no optimizer" in h for h in res.hints)


@pytest.mark.parametrize("kwargs, match", [
    ({"path": 3}, "path"),
    ({"path": ""}, "path"),
    ({"path": "m.keras", "model": "model"}, "model"),
    ({"path": "m.keras", "x": "abc"}, "x"),
    ({"path": "m.keras", "x": [float("nan")]}, "x"),
    ({"path": "m.keras", "expect_format": "zip"}, "expect_format"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises((CompanionTypeError, CompanionValueError), match=match):
        check_saved_model(**kwargs)
