"""Self-checks for exercises: inspect the learner's own objects and give hints.

A check never trains anything and never changes what it is given. It returns a
:class:`CheckResult`: ``ok`` is True when every requirement holds, and
``hints`` says, for each one that does not, what to change and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _validate

__all__ = ["CheckResult", "check_model", "check_history", "check_saved_model"]


@dataclass
class CheckResult:
    """Outcome of a check: ``ok``, the ``hints`` to act on, and what ``passed``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``name`` is not a non-empty string, or ``hints`` or ``passed`` not
        a list of non-empty strings.
    """

    name: str
    hints: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _validate.check_str("name", self.name)
        self.hints = _validate.check_sequence_of_str("hints", self.hints, allow_empty=True)
        self.passed = _validate.check_sequence_of_str("passed", self.passed, allow_empty=True)

    @property
    def ok(self) -> bool:
        return not self.hints

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"{self.name}: " + ("all checks passed." if self.ok else
                                      f"{len(self.hints)} thing(s) to look at.")]
        lines += [f"  ✔ {p}" for p in self.passed]
        lines += [f"  ✘ {h}" for h in self.hints]
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        import html

        color = "#1a7f37" if self.ok else "#b42318"
        head = "All checks passed." if self.ok else "Not yet: see the hints below."
        items = "".join(f"<li>&#10004; {html.escape(p)}</li>" for p in self.passed)
        items += "".join(f"<li>&#10008; <b>{html.escape(h)}</b></li>" for h in self.hints)
        return (f'<div style="border-left:4px solid {color};padding:2px 10px">'
                f"<b>{html.escape(self.name)}</b>: {head}<ul style='margin:2px 0'>{items}</ul></div>")


def _activation_name(layer: Any) -> str | None:
    act = getattr(layer, "activation", None)
    if act is not None:
        return getattr(act, "__name__", None) or _validate.snake_case(type(act).__name__)
    kind = type(layer).__name__
    return {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu"}.get(kind)


def check_model(model: Any, *, input_shape: Sequence[int] | None = None,
                n_outputs: int | None = None, output_activation: str | None = None,
                loss: str | None = None, metrics: Sequence[str] | None = None,
                min_hidden: int | None = None) -> CheckResult:
    """Check a Keras model against what an exercise asked for.

    Only the requirements you pass are checked.

    Parameters
    ----------
    model : keras.Model
        The learner's model.
    input_shape : sequence of int, optional
        Expected shape of one example, e.g. ``(28, 28)`` or ``(784,)``.
    n_outputs : int, optional
        Expected number of units in the output layer.
    output_activation : str, optional
        Expected activation of the output layer, e.g. ``"softmax"``.
    loss : str, optional
        Expected loss in ``compile``, e.g. ``"sparse_categorical_crossentropy"``.
    metrics : sequence of str, optional
        Metric names expected in ``compile``, e.g. ``["accuracy"]``.
    min_hidden : int, optional
        Minimum number of hidden ``Dense`` layers (Dense layers before the output).

    Returns
    -------
    CheckResult
        ``ok`` and a list of ``hints``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``model`` is not a Keras model, or a requirement is not of the
        kind described above (e.g. ``n_outputs=0``).

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> check_model(m, n_outputs=1, output_activation="sigmoid").ok
    True
    """
    import keras

    if not isinstance(model, keras.Model):
        raise _validate.fail_type("model", model, "a Keras model (keras.Sequential or keras.Model)")
    res = CheckResult("Model check")
    if input_shape is not None:
        want = tuple(_validate.check_int(f"input_shape[{i}]", d, minimum=1)
                     for i, d in enumerate(_seq("input_shape", input_shape)))
    n_outputs = _validate.optional(_validate.check_int, "n_outputs", n_outputs, minimum=1)
    output_activation = _validate.optional(_validate.check_str, "output_activation", output_activation)
    loss = _validate.optional(_validate.check_str, "loss", loss)
    metrics = _validate.optional(_validate.check_sequence_of_str, "metrics", metrics)
    min_hidden = _validate.optional(_validate.check_int, "min_hidden", min_hidden, minimum=0)

    if not model.built or not model.layers:
        res.hints.append("The model has no input shape yet, so Keras cannot build it. Start the "
                         "Sequential list with keras.Input(shape=...) for one example.")
        return res
    if input_shape is not None:
        got = tuple(model.input_shape[1:])
        if got != want:
            res.hints.append(f"One example should have shape {want}, but the model expects {got}. "
                             f"Check the shape you gave keras.Input.")
        else:
            res.passed.append(f"input shape {want}")
    last = model.layers[-1]
    if n_outputs is not None:
        got = model.output_shape[-1]
        if got != n_outputs:
            res.hints.append(f"The output layer has {got} unit(s); this task needs {n_outputs}: "
                             + ("one probability for 'yes'." if n_outputs == 1 else
                                "one per class."))
        else:
            res.passed.append(f"{n_outputs} output unit(s)")
    if output_activation is not None:
        got = _activation_name(last)
        if got != output_activation:
            why = {"sigmoid": "a yes/no question needs one probability between 0 and 1",
                   "softmax": "a choice among several classes needs probabilities that sum to 1"}
            res.hints.append(f"The output layer's activation is {got!r}; use {output_activation!r} "
                             f"({why.get(output_activation, 'as the exercise asks')}).")
        else:
            res.passed.append(f"output activation {output_activation!r}")
    if min_hidden is not None:
        dense = [lyr for lyr in model.layers if isinstance(lyr, keras.layers.Dense)]
        hidden = max(len(dense) - 1, 0)
        if hidden < min_hidden:
            res.hints.append(f"The model has {hidden} hidden Dense layer(s); add at least "
                             f"{min_hidden} between the input and the output layer.")
        else:
            res.passed.append(f"{hidden} hidden Dense layer(s)")
    if loss is not None or metrics is not None:
        if not getattr(model, "compiled", False):
            res.hints.append("The model is not compiled yet: call model.compile(optimizer=..., "
                             "loss=..., metrics=[...]) before fit.")
            return res
        cfg = model.get_compile_config() or {}
        if loss is not None:
            got = _validate.loss_name(cfg.get("loss"))
            if got != loss:
                advice = {
                    "sparse_categorical_crossentropy": "the labels are class numbers (0-9)",
                    "categorical_crossentropy": "the labels are one-hot rows (to_categorical)",
                    "binary_crossentropy": "the output is one sigmoid probability",
                }
                res.hints.append(f"compile() got loss={got!r}; this task needs {loss!r} because "
                                 f"{advice.get(loss, 'of how its labels are written')}.")
            else:
                res.passed.append(f"loss {loss!r}")
        if metrics is not None:
            raw = cfg.get("metrics") or []
            names = {m if isinstance(m, str) else _validate.loss_name(m) for m in _flatten(raw)}
            missing = [m for m in metrics if m not in names]
            if missing:
                res.hints.append(f"Add {missing} to metrics=[...] in compile() so fit() reports them.")
            else:
                res.passed.append("metrics " + ", ".join(metrics))
    return res


def _seq(name: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _validate.fail_type(name, value, "a tuple of positive integers, e.g. (28, 28)")
    if not value:
        raise _validate.fail_value(name, value, "a non-empty tuple of positive integers")
    return list(value)


def _flatten(items: Any) -> list:
    if isinstance(items, Mapping):
        return [m for v in items.values() for m in _flatten(v)]
    if isinstance(items, (list, tuple)):
        return [m for v in items for m in _flatten(v)]
    return [items]


def check_history(history: Any, *, epochs: int | None = None,
                  metrics: Sequence[str] | None = None,
                  validation: bool | None = None) -> CheckResult:
    """Check what ``fit`` returned against what an exercise asked for.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``fit`` returned (or its ``.history``).
    epochs : int, optional
        Expected number of epochs trained.
    metrics : sequence of str, optional
        Metric names expected in the history, e.g. ``["loss", "accuracy"]``.
    validation : bool, optional
        Whether validation curves (``val_...``) are expected.

    Returns
    -------
    CheckResult

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``history`` is not a History or a dict of per-epoch series of
        numbers, or a requirement is not of the kind described above.

    Examples
    --------
    >>> check_history({"loss": [0.7, 0.5]}, epochs=2).ok
    True
    """
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping):
        raise _validate.fail_type("history", history, "what fit() returned (a keras History) or its .history dict")
    epochs = _validate.optional(_validate.check_int, "epochs", epochs, minimum=1)
    metrics = _validate.optional(_validate.check_sequence_of_str, "metrics", metrics)
    validation = _validate.optional(_validate.check_bool, "validation", validation)
    series = {}
    for key, values in hist.items():
        if not isinstance(key, str):
            raise _validate.fail_value("history", history, "a dict whose keys are metric names (strings)")
        series[key] = _validate.check_array(f"history[{key!r}]", values, ndim=1, finite=False)
    res = CheckResult("Training check")
    if not hist or "loss" not in hist:
        res.hints.append("This history has no 'loss': pass the object that model.fit(...) returned.")
        return res
    n = len(series["loss"])
    if epochs is not None:
        if n != epochs:
            res.hints.append(f"Training ran {n} epoch(s); the exercise asks for {epochs}: set epochs={epochs} in fit().")
        else:
            res.passed.append(f"{epochs} epochs")
    if not all(math.isfinite(float(v)) for v in series["loss"]):
        res.hints.append("The loss became NaN or infinite: the learning rate is probably too high, "
                         "or the inputs are not scaled to [0, 1].")
    if metrics is not None:
        missing = [m for m in metrics if m not in hist]
        if missing:
            res.hints.append(f"The history lacks {missing}; history keys follow the names in compile(metrics=[...]).")
        else:
            res.passed.append("metrics " + ", ".join(metrics))
    if validation is not None:
        has_val = any(k.startswith("val_") for k in hist)
        if validation and not has_val:
            res.hints.append("No validation curves: pass validation_data=(x_val, y_val) to fit().")
        elif not validation and has_val:
            res.hints.append("This exercise trains without validation data.")
        else:
            res.passed.append("validation curves" if validation else "no validation data")
    return res


_FORMATS = {"keras": ".keras", "weights": ".weights.h5", "h5": ".h5", "export": "an export folder"}


def _format_of(path: Any) -> str | None:
    name = path.name.lower()
    if path.is_dir():
        return "export" if (path / "saved_model.pb").is_file() else None
    if name.endswith(".weights.h5"):
        return "weights"
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".h5"):
        return "h5"
    return None


def check_saved_model(path: Any, *, model: Any = None, x: Any = None,
                      expect_format: str | None = None) -> CheckResult:
    """Check a model file the learner saved: it exists, loads safely, and matches.

    The file is loaded with ``safe_mode`` on (the default of
    ``keras.models.load_model``); a weights file is loaded into a fresh copy
    of ``model``'s architecture (``keras.models.clone_model``), so the
    learner's model is never changed. Nothing is trained.

    Parameters
    ----------
    path : str or path-like
        The ``.keras``, ``.weights.h5`` or legacy ``.h5`` file, or the folder
        written by ``model.export``.
    model : keras.Model, optional
        The model that was saved. Needed for a weights file; with ``x``, the
        reloaded model's predictions are compared with this model's, exactly.
    x : array-like, optional
        A few inputs for that comparison (predicted in one batch).
    expect_format : {"keras", "weights", "h5", "export"}, optional
        The format the exercise asks for.

    Returns
    -------
    CheckResult
        ``ok`` and specific ``hints``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``path`` is not a path, ``model`` not a Keras model, ``x`` not an
        array of numbers, or ``expect_format`` not one of the four names.

    Examples
    --------
    >>> model.save(folder / "mine.keras")                                  # doctest: +SKIP
    >>> check_saved_model(folder / "mine.keras", model=model, x=x_val[:100])  # doctest: +SKIP
    """
    import os
    from pathlib import Path

    import keras
    import numpy as np

    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise _validate.fail_type("path", path, "the path of the saved file (a str or pathlib.Path)")
    if model is not None and not isinstance(model, keras.Model):
        raise _validate.fail_type("model", model, "the Keras model you saved, or None")
    x = _validate.optional(_validate.check_array, "x", x)
    if x is not None and (x.ndim < 1 or len(x) == 0):
        raise _validate.fail_value("x", x, "a non-empty array of inputs, e.g. x_val[:100]")
    expect_format = _validate.optional(_validate.check_choice, "expect_format", expect_format, choices=_FORMATS)
    p = Path(path)
    res = CheckResult("Saved-model check")
    if not p.exists():
        res.hints.append(f"There is no file at {p}. Did you save it, and is the temporary folder still open "
                         "(a `with tempfile.TemporaryDirectory()` block deletes it at its end)?")
        return res
    fmt = _format_of(p)
    if fmt is None:
        res.hints.append(f"{p.name} is not a model file Keras writes: use a name ending in .keras for "
                         "model.save, .weights.h5 for model.save_weights, or model.export(folder).")
        return res
    if expect_format is not None and fmt != expect_format:
        res.hints.append(f"The exercise asks for {_FORMATS[expect_format]}, but {p.name} is "
                         f"{_FORMATS[fmt]}.")
    else:
        res.passed.append(f"format {_FORMATS[fmt]}")
    try:
        if fmt == "weights":
            if model is None:
                res.hints.append("A weights file holds no architecture: pass model=... (the model you saved) "
                                 "so the check can build the same architecture and load the weights into it.")
                return res
            loaded = keras.models.clone_model(model)
            loaded.load_weights(p)
        elif fmt == "export":
            loaded = keras.layers.TFSMLayer(str(p), call_endpoint="serve")
        else:
            loaded = keras.models.load_model(p)   # safe_mode on
    except Exception as error:  # noqa: BLE001 - any failure to load is what the learner must hear about
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        res.hints.append(f"Keras could not load {p.name}: {first}. If the model holds a Lambda layer or "
                         "custom code, that is refused in safe mode; otherwise save it again.")
        return res
    res.passed.append("loads with safe_mode on" if fmt in ("keras", "h5") else "loads")
    if fmt == "keras":
        if getattr(loaded, "optimizer", None) is None:
            res.hints.append("The file has no optimizer: compile the model before saving if you want to "
                             "continue training from the file.")
        else:
            res.passed.append(f"optimizer {type(loaded.optimizer).__name__} kept")
    if model is not None and x is not None:
        try:
            want = np.asarray(model.predict(x, batch_size=len(x), verbose=0))
            if fmt == "export":
                got = np.asarray(loaded(x))
            else:
                got = np.asarray(loaded.predict(x, batch_size=len(x), verbose=0))
        except Exception as error:  # noqa: BLE001
            res.hints.append(f"Predicting on x failed ({type(error).__name__}): x must have the model's "
                             "input shape, e.g. x_val[:100].")
            return res
        if want.shape != got.shape or not np.array_equal(want, got):
            res.hints.append("The reloaded model predicts differently from your model: did you train (or "
                             "change) the model after saving it? Save again after the last fit().")
        else:
            res.passed.append(f"identical predictions on {len(x)} inputs")
    return res
