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

One run is one draw: another seed gives another initialization and other
dropout masks, and so another result. :func:`repeat` trains the same model
from several seeds and reports each figure as mean, standard deviation and
range (:class:`Spread`); ``sweep(..., seeds=3)`` does so for every setting.
The seeds' copies train side by side in one ``fit`` (one joint model whose
loss is the sum of the copies' losses, so each copy gets exactly its own
gradients): what they share is the order of the mini-batches.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _validate

__all__ = ["sweep", "fit_quickly", "repeat"]   # repeat returns a Repeats; its figures are Spreads


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
    model, x, y, validation_data, callbacks = _check_fit(model, x, y, validation_data, callbacks)
    epochs = _validate.check_int("epochs", epochs, minimum=1, maximum=1000)
    batch_size = _validate.check_int("batch_size", batch_size, minimum=1, maximum=1_000_000)
    steps_per_execution = _validate.check_int("steps_per_execution", steps_per_execution,
                                              minimum=1, maximum=100_000)
    model.steps_per_execution = steps_per_execution
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        callbacks=list(callbacks), verbose=0)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _check_fit(model: Any, x: Any, y: Any, validation_data: Any, callbacks: Any) -> tuple:
    """The checks of :func:`fit_quickly` on a model and its data; returns the checked values."""
    import keras

    if not isinstance(model, keras.Model):
        raise _validate.fail_type("model", model, "a compiled Keras model")
    if not getattr(model, "compiled", False):
        raise _validate.fail_value("model", model, "a model on which compile() was called")
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
        validation_data = (x_val, _check_targets("validation_data[1]", y_val, model))
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence) or not all(
            isinstance(c, keras.callbacks.Callback) for c in callbacks):
        raise _validate.fail_type("callbacks", callbacks, "a list of Keras callbacks, e.g. "
                                  "[keras.callbacks.EarlyStopping(patience=2)]")
    return model, x, _check_targets("y", y, model), validation_data, list(callbacks)


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
          steps_per_execution: int = 64, seed: int = 42, verbose: bool = True,
          seeds: int | Sequence[int] = 1) -> dict[str, Any]:
    """Train one model per value (or, with ``seeds``, several) and collect their histories.

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
    seeds : int or sequence of int, default 1
        1: one run per setting, from ``seed``. More (a count from 2 to 10, or
        the seeds): every setting runs from these seeds with :func:`repeat`
        (a count means ``seed``, ``seed + 1``, ...).

    Returns
    -------
    dict
        ``{label: history dict}`` in the order of ``values``; with several
        seeds ``{label: Repeats}``.

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
    runs: dict[str, Any] = {}
    if isinstance(seeds, (bool, np.bool_)):
        raise _validate.fail_type("seeds", seeds, "a number of seeds (1 to 10) or a list of seeds")
    if not (isinstance(seeds, numbers.Integral) and seeds == 1):
        for value, label in zip(values, labels):
            start = time.perf_counter()
            reps = runs[label] = repeat(lambda: build(value), x=x, y=y, epochs=epochs, seeds=seeds,
                                        validation_data=validation_data, batch_size=batch_size,
                                        first_seed=seed, steps_per_execution=steps_per_execution)
            if verbose:
                shown = ", ".join(f"{k} {reps.spread(k).mean:.4f} ± {reps.spread(k).sd:.4f}"
                                  for k in ("val_loss", "val_accuracy") if k in reps.histories[0])
                print(f"{label:>14}: at each seed's best epoch {shown}  "
                      f"({len(reps.seeds)} seeds, {time.perf_counter() - start:.1f} s)", flush=True)
        return runs
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


class Spread(NamedTuple):
    """One figure over several seeds: ``mean``, ``sd`` (sample standard deviation), ``low``, ``high``.

    ``str(spread)`` reads ``0.8512 ± 0.0021 (0.8490 to 0.8534, 3 seeds)``.
    ``a.beats(b)`` is True when every seed of ``a`` is above every seed of
    ``b`` (the ranges do not overlap): only then does the course call two
    settings different.
    """

    mean: float
    sd: float
    low: float
    high: float
    values: tuple[float, ...]

    def __str__(self) -> str:
        return (f"{self.mean:.4f} ± {self.sd:.4f} ({self.low:.4f} to {self.high:.4f}, "
                f"{len(self.values)} seeds)")

    def beats(self, other: Spread) -> bool:
        """True when this figure's lowest seed is above ``other``'s highest."""
        if not isinstance(other, Spread):
            raise _validate.fail_type("other", other, "a Spread (what Repeats.spread returns)")
        return self.low > other.high

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        arr = np.asarray(values, dtype=float)
        sd = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
        return cls(float(arr.mean()), sd, float(arr.min()), float(arr.max()), tuple(float(v) for v in arr))


class Repeats:
    """The runs of one setting from several seeds (what :func:`repeat` returns).

    Attributes: ``seeds`` (list of int), ``histories`` (one history dict per
    seed, keys as in ``fit``'s history), ``models`` (the trained models, one
    per seed). ``loss`` in a history is the loss function's value alone:
    a weight penalty (``kernel_regularizer``) is not in it.
    """

    def __init__(self, seeds: Sequence[int], histories: Sequence[dict], models: Sequence[Any]):
        self.seeds, self.histories, self.models = list(seeds), list(histories), list(models)

    def __repr__(self) -> str:
        keys = ", ".join(self.histories[0])
        return f"Repeats({len(self.seeds)} seeds {self.seeds}, {len(self.histories[0]['loss'])} epochs: {keys})"

    def spread(self, metric: str, at: str = "best", monitor: str = "val_loss") -> Spread:
        """A figure over the seeds.

        ``at="best"``: each seed's value at its own best epoch (lowest
        ``monitor``, or highest if ``monitor`` holds "acc"); ``"last"``: at
        the last epoch; ``"min"``/``"max"``: the series' own minimum or maximum.
        """
        metric = _validate.check_choice("metric", metric, list(self.histories[0]))
        at = _validate.check_choice("at", at, ["best", "last", "min", "max"])
        monitor = _validate.check_choice("monitor", monitor, list(self.histories[0]))
        values = []
        for h in self.histories:
            series = np.asarray(h[metric], dtype=float)
            if at == "best":
                mon = np.asarray(h[monitor], dtype=float)
                values.append(series[int(np.nanargmax(mon) if "acc" in monitor else np.nanargmin(mon))])
            else:
                values.append({"last": series[-1], "min": np.nanmin(series), "max": np.nanmax(series)}[at])
        return Spread.of(values)

    def best_epochs(self, monitor: str = "val_loss") -> list[int]:
        """Each seed's best epoch (counted from 1)."""
        monitor = _validate.check_choice("monitor", monitor, list(self.histories[0]))
        pick = np.nanargmax if "acc" in monitor else np.nanargmin
        return [int(pick(np.asarray(h[monitor], dtype=float))) + 1 for h in self.histories]

    def band(self, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per epoch: the mean over the seeds, the lowest and the highest seed."""
        metric = _validate.check_choice("metric", metric, list(self.histories[0]))
        arr = np.array([h[metric] for h in self.histories], dtype=float)
        return arr.mean(axis=0), arr.min(axis=0), arr.max(axis=0)


def repeat(build: Callable[[], Any], *, x: Any, y: Any, epochs: int, seeds: int | Sequence[int] = 3,
           validation_data: tuple | None = None, batch_size: int = 32, first_seed: int = 42,
           steps_per_execution: int = 64) -> Repeats:
    """Train the model that ``build()`` returns from several seeds, side by side.

    Each seed builds its own copy (its own initial weights and dropout
    masks); the copies are joined into one model and trained by one ``fit``,
    with the optimizer, loss and metrics of the first copy. The joint loss is
    the sum of the copies' losses, and no weight is shared, so every copy
    receives the gradients it would get alone; with an optimizer that updates
    each weight on its own (SGD, momentum, RMSprop, Adam, AdamW, per-weight
    ``clipnorm``) each copy trains exactly as it would alone on the same
    batches. All copies see the same batches in the same order. Not
    supported: ``global_clipnorm`` (it would couple the copies).

    Parameters
    ----------
    build : callable
        ``build()`` returns a *compiled* model; called once per seed.
    x, y, validation_data, batch_size, steps_per_execution
        As in :func:`fit_quickly`.
    epochs : int
        Epochs (1 to 1000).
    seeds : int or sequence of int, default 3
        How many seeds (2 to 10; they are ``first_seed``, ``first_seed + 1``,
        ...), or the seeds themselves.
    first_seed : int, default 42
        The first seed when ``seeds`` is a count.

    Returns
    -------
    Repeats
        ``.histories`` one per seed; ``.spread("val_accuracy")`` etc.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If an argument is out of range, ``build`` does not return a compiled
        model, or the data do not fit it (see :func:`fit_quickly`).

    Examples
    --------
    >>> runs = repeat(build, x=x_train, y=y_train, epochs=5, validation_data=(x_val, y_val))  # doctest: +SKIP
    >>> print(runs.spread("val_accuracy"))  # doctest: +SKIP
    0.8512 ± 0.0021 (0.8490 to 0.8534, 3 seeds)
    """
    import keras

    if not callable(build):
        raise _validate.fail_type("build", build, "a function that takes no argument and returns a compiled model")
    if isinstance(seeds, Sequence) and not isinstance(seeds, (str, bytes)):
        seeds = [_validate.check_int("seeds[]", s, minimum=0, maximum=2**32 - 1) for s in seeds]
        if len(set(seeds)) != len(seeds) or not 2 <= len(seeds) <= 10:
            raise _validate.fail_value("seeds", seeds, "2 to 10 distinct seeds, or their number")
    else:
        count = _validate.check_int("seeds", seeds, minimum=2, maximum=10)
        first_seed = _validate.check_int("first_seed", first_seed, minimum=0, maximum=2**32 - 10)
        seeds = list(range(first_seed, first_seed + count))
    epochs = _validate.check_int("epochs", epochs, minimum=1, maximum=1000)
    batch_size = _validate.check_int("batch_size", batch_size, minimum=1, maximum=1_000_000)
    steps_per_execution = _validate.check_int("steps_per_execution", steps_per_execution,
                                              minimum=1, maximum=100_000)
    keras.backend.clear_session()
    models = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build()
        if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
            raise _validate.fail_value("build", build, "a function that returns a compiled Keras model; it returned "
                                       + type(model).__name__
                                       + ("" if not isinstance(model, keras.Model) else " (not compiled)"))
        models.append(model)
    first, x, y, validation_data, _ = _check_fit(models[0], x, y, validation_data, None)
    config = first.get_compile_config()
    if (config["optimizer"].get("config") or {}).get("global_clipnorm"):
        raise _validate.fail_value("build", build, "a model whose optimizer has no global_clipnorm "
                                   "(it would tie the seeds' copies together); use clipnorm")
    names = [f"seed_{s}" for s in seeds]
    inputs = keras.Input(first.input_shape[1:])
    joint = keras.Model(inputs, {n: keras.layers.Identity(name=n)(m(inputs)) for n, m in zip(names, models)})
    metrics = config["metrics"] or []
    joint.compile(optimizer=keras.optimizers.deserialize(config["optimizer"]),
                  loss={n: first.loss for n in names},
                  metrics={n: [keras.metrics.get(m) if not isinstance(m, str) else m for m in metrics]
                           for n in names} if metrics else None)
    joint.steps_per_execution = steps_per_execution
    keras.utils.set_random_seed(seeds[0])
    val = None if validation_data is None else (validation_data[0], {n: validation_data[1] for n in names})
    history = joint.fit(x, {n: y for n in names}, epochs=epochs, batch_size=batch_size,
                        validation_data=val, verbose=0).history
    histories = []
    for n in names:
        h = {}
        for key, values in history.items():
            for prefix in ("val_", ""):
                if key.startswith(prefix + n + "_"):
                    h[prefix + key[len(prefix + n) + 1:]] = [float(v) for v in values]
        histories.append(dict(sorted(h.items(), key=lambda kv: (kv[0].startswith("val_"), kv[0]))))
    return Repeats(seeds, histories, models)
