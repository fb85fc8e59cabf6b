"""Repeatability: the same seed gives the same training run, in separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os
    os.environ["COMPANION_FAST"] = "1"
    import companion
    companion.setup_notebook(seed=42, show=False)
    import keras
    from companion.data import load_fashion_mnist
    fm = load_fashion_mnist()
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.2),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(fm.x_train, fm.y_train, epochs=2, batch_size=64,
                  validation_data=(fm.x_val, fm.y_val), verbose=0)
    print("HISTORY" + json.dumps(h.history))
""")


def _run() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("HISTORY"))
    return json.loads(line[len("HISTORY"):])


def test_same_seed_same_history_in_two_processes():
    first, second = _run(), _run()
    assert set(first) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert first == second, "two runs with seed 42 differ: something is not seeded"
