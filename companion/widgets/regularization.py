"""Weight penalties (L1, L2): weight statistics and a penalty-strength explorer.

Chapter 7 trains the same network with an L1 or an L2 penalty of several
strengths λ. This module summarises the weights such runs end with
(:func:`weight_stats`), draws one run as a small picture, the histogram of a
layer's weights beside the accuracy curves (:func:`plot_penalty_run`), and
puts all the pictures behind toggle buttons (L1 / L2) and a λ slider
(:func:`penalty_explorer`). Every picture is drawn in advance, so the widget
reacts in the static HTML page too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, _hist_range, stack_viewer

__all__ = ["weight_stats", "plot_penalty_run", "penalty_explorer"]

_KIND_COLORS = {"L1": "tab:red", "L2": "tab:blue"}


def _weights(name: str, value: Any) -> np.ndarray:
    arr = _validate.check_array(name, value)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise _validate.fail_value(name, value, "a non-empty array of finite weights")
    return arr.astype(float).ravel()


def weight_stats(weights: Any, *, threshold: float = 1e-3) -> dict[str, float]:
    """Summarise a layer's weights: how many are near zero, and their spread.

    Parameters
    ----------
    weights : array-like
        The weights (any shape, e.g. a ``Dense`` layer's kernel).
    threshold : float, default 1e-3
        A weight with ``|w| < threshold`` counts as near zero (> 0, < 1).

    Returns
    -------
    dict
        ``near_zero``: the share of weights with ``|w| < threshold`` (0 to 1);
        ``exact_zero``: the share that is exactly 0; ``std``: the standard
        deviation; ``mean_abs``: the mean of ``|w|``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``weights`` is empty or not finite, or ``threshold`` is out of range.

    Examples
    --------
    >>> stats = weight_stats([0.0, 0.0005, -0.2, 0.3])
    >>> stats["near_zero"], stats["exact_zero"]
    (0.5, 0.25)
    """
    w = _weights("weights", weights)
    threshold = _validate.check_float("threshold", threshold, minimum=0.0, maximum=1.0)
    if threshold == 0.0:
        raise _validate.fail_value("threshold", threshold, "a number > 0 and <= 1")
    return {"near_zero": float(np.mean(np.abs(w) < threshold)),
            "exact_zero": float(np.mean(w == 0.0)),
            "std": float(np.std(w)),
            "mean_abs": float(np.mean(np.abs(w)))}


def _history(name: str, value: Any) -> dict[str, list[float]]:
    if not isinstance(value, Mapping):
        raise _validate.fail_type(name, value, 'a history dict with "accuracy" and "val_accuracy" lists')
    for key in ("accuracy", "val_accuracy"):
        if key not in value:
            raise _validate.fail_value(name, list(value),
                                       'a history dict with "accuracy" and "val_accuracy" lists')
        arr = _validate.check_array(f"{name}[{key!r}]", value[key], ndim=1)
        if len(arr) == 0:
            raise _validate.fail_value(f"{name}[{key!r}]", value[key], "at least one epoch")
    if len(value["accuracy"]) != len(value["val_accuracy"]):
        raise _validate.fail_value(name, value, "accuracy and val_accuracy of the same length")
    return {k: [float(v) for v in value[k]] for k in ("accuracy", "val_accuracy")}


def plot_penalty_run(history: Mapping[str, Sequence[float]], weights: Any, *, title: str = "",
                     threshold: float = 1e-3, weight_range: float | None = None,
                     accuracy_range: tuple[float, float] | None = None,
                     color: str = "tab:blue") -> Figure:
    """Draw one run: the histogram of a layer's weights and the accuracy curves.

    Parameters
    ----------
    history : dict
        ``history.history`` of the run, with ``"accuracy"`` and
        ``"val_accuracy"`` (one value per epoch).
    weights : array-like
        The layer's weights at the end of the run.
    title : str
        Text put before the statistics in the left panel's title.
    threshold : float, default 1e-3
        See :func:`weight_stats`.
    weight_range : float, optional
        The histogram covers ``[-weight_range, weight_range]`` (default: the
        largest ``|w|``). Keep it fixed to compare pictures.
    accuracy_range : (float, float), optional
        y-limits of the accuracy panel; keep them fixed to compare pictures.
    color : str, default "tab:blue"
        Colour of the histogram.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the histogram (log-scaled counts) with the share of near-zero
        weights and the standard deviation in the title. Right: training and
        validation accuracy per epoch.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``history`` lacks equal-length ``accuracy`` and ``val_accuracy``
        series, ``weights`` is empty or not finite, a range is not a finite
        (low, high) pair or ``color`` is not a matplotlib colour.

    Examples
    --------
    >>> h = {"accuracy": [0.8, 0.9], "val_accuracy": [0.78, 0.85]}
    >>> fig = plot_penalty_run(h, np.random.default_rng(0).normal(0, 0.05, 500))
    >>> len(fig.axes)
    2
    """
    hist = _history("history", history)
    w = _weights("weights", weights)
    stats = weight_stats(w, threshold=threshold)
    if weight_range is None:
        weight_range = float(np.max(np.abs(w))) or 1.0
    weight_range = _validate.check_float("weight_range", weight_range, minimum=0.0)
    if weight_range == 0.0:
        raise _validate.fail_value("weight_range", weight_range, "a number > 0")
    if accuracy_range is not None:
        accuracy_range = _validate.check_limits("accuracy_range", accuracy_range)
    title = _validate.check_str("title", title, nonempty=False)
    if not isinstance(color, str) or not matplotlib.colors.is_color_like(color):
        raise _validate.fail_value("color", color, "a matplotlib colour such as 'tab:blue' or '#1f77b4'")

    fig, (ax_w, ax_acc) = plt.subplots(1, 2, figsize=(7.2, 2.7), gridspec_kw={"width_ratios": [1.2, 1]})
    low, high = _hist_range(-weight_range, weight_range)
    bins = np.linspace(low, high, 81)
    ax_w.hist(np.clip(w, low, high), bins=bins, color=color, alpha=0.85)
    ax_w.set_yscale("log")
    ax_w.set_ylim(0.8, w.size)
    ax_w.set_xlabel("weight value")
    ax_w.set_ylabel("count (log)")
    head = f"{title}: " if title else ""
    ax_w.set_title(f"{head}{100 * stats['near_zero']:.0f}% of |w| < {threshold:g}, "
                   f"std {stats['std']:.3f}", fontsize=9)
    epochs = np.arange(1, len(hist["accuracy"]) + 1)
    ax_acc.plot(epochs, hist["accuracy"], "-o", markersize=2.5, label="training")
    ax_acc.plot(epochs, hist["val_accuracy"], "-o", markersize=2.5, label="validation")
    if accuracy_range is not None:
        ax_acc.set_ylim(*accuracy_range)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title(f"validation accuracy {hist['val_accuracy'][-1]:.3f}", fontsize=9)
    ax_acc.legend(fontsize=7, loc="lower right")
    ax_acc.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def penalty_explorer(runs: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
                     weights: Mapping[str, Mapping[str, Any]], *, threshold: float = 1e-3,
                     start: int = 0) -> StackViewer:
    """A widget: choose L1 or L2, slide the strength λ, see weights and curves.

    Parameters
    ----------
    runs : dict
        ``{kind: {λ label: history dict}}``, e.g.
        ``{"L1": {"0": h0, "1e-05": h1, ...}, "L2": {...}}``: 1 to 12 kinds,
        each with 1 to 12 runs in slider order. Each history needs
        ``"accuracy"`` and ``"val_accuracy"``.
    weights : dict
        The same keys: ``{kind: {λ label: weights of the run's layer}}``.
    threshold : float, default 1e-3
        See :func:`weight_stats`.
    start : int, default 0
        The λ shown first on every slider.

    Returns
    -------
    StackViewer
        ``control`` is the toggle of kinds; each frame of its ``stack`` is a
        :class:`StackViewer` with a λ slider over pictures made by
        :func:`plot_penalty_run`, all drawn on the same axes ranges.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``runs`` and ``weights`` do not have the shape described above, or
        ``threshold`` or ``start`` is out of range.

    Examples
    --------
    >>> h = {"accuracy": [0.8, 0.9], "val_accuracy": [0.78, 0.85]}
    >>> w = np.random.default_rng(0).normal(0, 0.05, 500)
    >>> viewer = penalty_explorer({"L1": {"0": h, "0.01": h}, "L2": {"0": h}},
    ...                           {"L1": {"0": w, "0.01": w / 10}, "L2": {"0": w}})
    >>> viewer.control.index = 1
    >>> viewer.index
    1
    """
    if not isinstance(runs, Mapping) or not runs:
        raise _validate.fail_type("runs", runs, "a non-empty dict {kind: {λ label: history}}")
    if not isinstance(weights, Mapping) or set(weights) != set(runs):
        raise _validate.fail_value("weights", weights if not isinstance(weights, Mapping) else list(weights),
                                   f"a dict with the same kinds as runs: {list(runs)}")
    if len(runs) > MAX_FRAMES:
        raise _validate.fail_value("runs", list(runs), f"at most {MAX_FRAMES} kinds")
    threshold = _validate.check_float("threshold", threshold, minimum=0.0, maximum=1.0)
    if threshold == 0.0:
        raise _validate.fail_value("threshold", threshold, "a number > 0 and <= 1")

    checked: dict[str, list[tuple[str, dict, np.ndarray]]] = {}
    for kind, by_lambda in runs.items():
        kind = _validate.check_str("runs", kind)
        if not isinstance(by_lambda, Mapping) or not 1 <= len(by_lambda) <= MAX_FRAMES:
            raise _validate.fail_value(f"runs[{kind!r}]", by_lambda, f"a dict of 1 to {MAX_FRAMES} runs")
        w_by_lambda = weights[kind]
        if not isinstance(w_by_lambda, Mapping) or set(w_by_lambda) != set(by_lambda):
            raise _validate.fail_value(f"weights[{kind!r}]", w_by_lambda,
                                       f"a dict with the same λ labels as runs[{kind!r}]: {list(by_lambda)}")
        checked[kind] = [(_validate.check_str(f"runs[{kind!r}]", str(label)),
                          _history(f"runs[{kind!r}][{label!r}]", hist),
                          _weights(f"weights[{kind!r}][{label!r}]", w_by_lambda[label]))
                         for label, hist in by_lambda.items()]
    longest = max(len(v) for v in checked.values())
    start = _validate.check_int("start", start, minimum=0, maximum=longest - 1)

    every_w = np.concatenate([w for runs_ in checked.values() for _, _, w in runs_])
    weight_range = float(np.quantile(np.abs(every_w), 0.999)) or 1.0
    accs = [a for runs_ in checked.values() for _, h, _ in runs_ for a in h["accuracy"] + h["val_accuracy"]]
    low = max(0.0, np.floor(min(accs) * 20) / 20)
    high = min(1.0, np.ceil(max(accs) * 20) / 20 + 0.01)

    viewers = []
    for kind, entries in checked.items():
        frames, alts = [], []
        for label, hist, w in entries:
            stats = weight_stats(w, threshold=threshold)
            fig = plot_penalty_run(hist, w, title=f"{kind}, λ={label}", threshold=threshold,
                                   weight_range=weight_range, accuracy_range=(low, high),
                                   color=_KIND_COLORS.get(kind, "tab:green"))
            frames.append(figure_to_png(fig, colors=32))
            alts.append(f"{kind} penalty with strength {label}: "
                        f"{100 * stats['near_zero']:.0f}% of the weights have |w| < {threshold:g} "
                        f"and their standard deviation is {stats['std']:.3f}; "
                        f"validation accuracy after the last epoch {hist['val_accuracy'][-1]:.3f}")
        viewers.append(stack_viewer(frames, [label for label, _, _ in entries],
                                    description="Strength λ:", control="slider",
                                    start=min(start, len(frames) - 1), alt=alts))
    return stack_viewer(viewers, list(checked), description="Penalty:", control="toggle")
