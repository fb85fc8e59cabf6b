"""Run families of training runs (sweeps) quickly and repeatably.

A chapter writes out the ``compile`` and ``fit`` calls it teaches. When it
then needs the *same* kind of run many times (six optimizers, five learning
rates, a grid of dropout rates), it hands a model-building function to
:func:`sweep`, which

- resets the seed and the layer names before every model, so every run starts
  from the same random state;
- runs many training steps per call into TensorFlow (``steps_per_execution``),
  which gives bit-identical results several times faster on a CPU;
- keeps only the histories (plain dicts) and prints one line per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _validate

__all__ = ["sweep", "fit_quickly"]


def fit_quickly(model: Any, x: Any, y: Any, *, epochs: int, batch_size: int = 32,
                validation_data: tuple | None = None, steps_per_execution: int = 64,
                callbacks: Sequence[Any] | None = None) -> dict[str, list[float]]:
    """Train a compiled model like ``model.fit(..., verbose=0)``, only faster.

    Sets ``model.steps_per_execution`` (several batches per call into the
    backend; the arithmetic, and so the result, is unchanged) and returns the
    history as a plain dict.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y : array-like
        Training inputs and targets.
    epochs : int
        Number of passes over the data (1 to 1000).
    batch_size : int, default 32
        Mini-batch size, as in ``fit``.
    validation_data : tuple, optional
        ``(x_val, y_val)``, as in ``fit``.
    steps_per_execution : int, default 64
        Batches per backend call (1 = Keras's default behaviour).
    callbacks : sequence of keras callbacks, optional
        Passed to ``fit``. Note that callbacks see batch-level events only once
        per ``steps_per_execution`` batches; epoch-level ones are unaffected.

    Returns
    -------
    dict
        ``history.history``: one list per metric, one value per epoch.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``model`` is not a compiled Keras model, an argument is out of
        range, or the data do not fit the model: examples of another shape
        than its input, targets that its loss cannot take (class numbers out
        of range, one-hot rows of the wrong width), or unequal lengths.

    Examples
    --------
    >>> hist = fit_quickly(model, x_train, y_train, epochs=5)  # doctest: +SKIP
    """
    import keras

    if not isinstance(model, keras.Model):
        raise _validate.fail_type("model", model, "a compiled Keras model")
    if not getattr(model, "compiled", False):
        raise _validate.fail_value("model", model, "a model on which compile() was called")
    epochs = _validate.check_int("epochs", epochs, minimum=1, maximum=1000)
    batch_size = _validate.check_int("batch_size", batch_size, minimum=1, maximum=1_000_000)
    steps_per_execution = _validate.check_int("steps_per_execution", steps_per_execution,
                                              minimum=1, maximum=100_000)
    x = _validate.check_array("x", x)
    _validate.check_model_input("x", x, model)
    y = _validate.check_array("y", y)
    if len(x) != len(y):
        raise _validate.fail_value("y", y, f"one target per example of `x` ({len(x)})")
    if validation_data is not None:
        if not isinstance(validation_data, tuple) or len(validation_data) != 2:
            raise _validate.fail_type("validation_data", validation_data, "a tuple (x_val, y_val)")
        x_val = _validate.check_array("validation_data[0]", validation_data[0])
        _validate.check_model_input("validation_data[0]", x_val, model)
        y_val = _validate.check_array("validation_data[1]", validation_data[1])
        if len(x_val) != len(y_val):
            raise _validate.fail_value("validation_data[1]", y_val, f"one target per example of x_val ({len(x_val)})")
        validation_data = (x_val, y_val)
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence) or not all(
            isinstance(c, keras.callbacks.Callback) for c in callbacks):
        raise _validate.fail_type("callbacks", callbacks, "a list of Keras callbacks, e.g. "
                                  "[keras.callbacks.EarlyStopping(patience=2)]")
    y = _check_targets("y", y, model)
    if validation_data is not None:
        validation_data = (validation_data[0], _check_targets("validation_data[1]", validation_data[1], model))
    model.steps_per_execution = steps_per_execution
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        callbacks=list(callbacks), verbose=0)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _check_targets(name: str, y: np.ndarray, model: Any) -> np.ndarray:
    """Check targets against the three classification losses the course uses (others: unchecked).

    Returns ``y``; class numbers for ``sparse_categorical_crossentropy`` come back
    as one column of shape (n,) whether they were given as (n,) or (n, 1). Keras
    treats both alike, but its traced training step can fail ("Cannot take the
    length of shape with unknown rank") when one process feeds it both shapes.
    """

    try:
        loss = _validate.loss_name(model.loss)
        n_out = model.output_shape[-1]
    except (AttributeError, ValueError, RuntimeError, TypeError, IndexError):
        return y
    if not isinstance(n_out, int):
        return y
    if loss == "sparse_categorical_crossentropy":
        flat = y.reshape(len(y), -1)
        if (flat.shape[1] != 1 or not np.all(flat == np.round(flat)) or flat.min() < 0
                or flat.max() >= n_out):
            raise _validate.fail_value(name, y, f"one class number from 0 to {n_out - 1} per example, "
                                                "as sparse_categorical_crossentropy expects")
        return flat.reshape(-1)
    elif loss == "categorical_crossentropy":
        if y.shape[1:] != (n_out,):
            raise _validate.fail_value(name, y, f"one-hot rows of {n_out} values (shape (n, {n_out})), "
                                                "as categorical_crossentropy expects")
    elif loss == "binary_crossentropy":
        if y.reshape(len(y), -1).shape[1] != n_out or y.min() < 0 or y.max() > 1:
            raise _validate.fail_value(name, y, f"{n_out} value(s) from 0 to 1 per example, "
                                                "as binary_crossentropy expects")
    return y


def sweep(build: Callable[[Any], Any], values: Sequence[Any], *, x: Any, y: Any, epochs: int,
          validation_data: tuple | None = None, batch_size: int = 32, labels: Sequence[str] | None = None,
          steps_per_execution: int = 64, seed: int = 42, verbose: bool = True
          ) -> dict[str, dict[str, list[float]]]:
    """Train one model per value and collect their histories.

    Parameters
    ----------
    build : callable
        ``build(value)`` returns a *compiled* model for one setting, e.g. a
        learning rate or an optimizer name.
    values : sequence
        The settings to try (1 to 50).
    x, y : array-like
        Training data.
    epochs : int
        Epochs per run.
    validation_data : tuple, optional
        ``(x_val, y_val)``.
    batch_size : int, default 32
        Mini-batch size; the chapter says so when a sweep uses another size
        than its plain lesson.
    labels : sequence of str, optional
        Names of the runs; default ``str(value)``.
    steps_per_execution : int, default 64
        See :func:`fit_quickly`.
    seed : int, default 42
        Seed set before building each model, so all runs start alike.
    verbose : bool, default True
        Print one line per finished run.

    Returns
    -------
    dict
        ``{label: history dict}`` in the order of ``values``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If an argument is out of range, two runs would get the same label, or
        the data do not fit a model (see :func:`fit_quickly`).

    Examples
    --------
    >>> def build(lr):  # doctest: +SKIP
    ...     model = keras.Sequential([...])
    ...     model.compile(optimizer=keras.optimizers.Adam(lr), loss=..., metrics=["accuracy"])
    ...     return model
    >>> runs = sweep(build, [1e-2, 1e-3], x=x_train, y=y_train, epochs=5)  # doctest: +SKIP
    """
    import keras

    if not callable(build):
        raise _validate.fail_type("build", build, "a function that takes one setting and returns a compiled model")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise _validate.fail_type("values", values, "a list of settings")
    if not 1 <= len(values) <= 50:
        raise _validate.fail_value("values", values, "1 to 50 settings")
    if labels is None:
        labels = [str(v) for v in values]
        if len(set(labels)) != len(labels):
            raise _validate.fail_value("values", values, "distinct settings (their text is the run's label)")
    else:
        labels = _validate.check_sequence_of_str("labels", labels, length=len(values),
                                                 per="setting in `values`")
    if len(set(labels)) != len(labels):
        raise _validate.fail_value("labels", labels, "distinct labels, one per setting")
    epochs = _validate.check_int("epochs", epochs, minimum=1, maximum=1000)
    seed = _validate.check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    verbose = _validate.check_bool("verbose", verbose)
    runs: dict[str, dict[str, list[float]]] = {}
    for value, label in zip(values, labels):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = build(value)
        if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
            raise _validate.fail_value("build", build, "a function that returns a compiled Keras model; "
                                       f"build({value!r:.40}) returned {type(model).__name__}"
                                       + ("" if not isinstance(model, keras.Model) else " (not compiled)"))
        start = time.perf_counter()
        hist = fit_quickly(model, x, y, epochs=epochs, batch_size=batch_size,
                           validation_data=validation_data, steps_per_execution=steps_per_execution)
        runs[label] = hist
        if verbose:
            last = {k: v[-1] for k, v in hist.items() if k in ("loss", "val_loss", "val_accuracy")}
            shown = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if np.isfinite(v))
            print(f"{label:>14}: {shown}  ({time.perf_counter() - start:.1f} s)", flush=True)
    return runs
