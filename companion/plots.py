"""Plots that every chapter uses: training curves and image grids.

Each function returns the :class:`matplotlib.figure.Figure` it drew, so a
notebook can show it (``plt.show()``), save it, or turn it into a widget frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import _validate

__all__ = ["plot_history", "show_images", "plot_probabilities", "best_epoch"]

_COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _as_history_dict(name: str, value: Any) -> dict[str, list[float]]:
    """Accept a keras History or its ``.history`` dict; return the dict."""
    hist = getattr(value, "history", value)
    if not isinstance(hist, Mapping) or not hist:
        raise _validate.fail_type(
            name, value, "a keras History (what fit() returns) or a non-empty dict of lists")
    out: dict[str, list[float]] = {}
    lengths = set()
    for key, series in hist.items():
        if not isinstance(key, str):
            raise _validate.fail_value(name, value, "a dict whose keys are metric names (strings)")
        arr = _validate.check_array(f"{name}[{key!r}]", series, ndim=1, finite=False).astype(float)
        # beyond +-1e300 a value is off any scale matplotlib can draw: treat it as infinite
        arr[np.abs(arr) > _validate.LARGEST] *= np.inf
        out[key] = [float(v) for v in arr]
        lengths.add(len(arr))
    if len(lengths) != 1:
        raise _validate.fail_value(name, value, "a history whose series all have the same length")
    return out


def _normalise_runs(history: Any) -> dict[str, dict[str, list[float]]]:
    """One run (History or dict of lists) or several ({label: History}); a Repeats gives its mean curves."""
    from .experiments import Repeats

    if isinstance(history, Repeats):
        history = {"": history}
    if isinstance(history, Mapping) and any(isinstance(v, Repeats) for v in history.values()):
        return {str(label): ({k: list(run.band(k)[0]) for k in run.histories[0]} if isinstance(run, Repeats)
                             else _as_history_dict(f"history[{label!r}]", run)) for label, run in history.items()}
    hist = getattr(history, "history", history)
    if isinstance(hist, Mapping) and hist and all(
            hasattr(v, "history") or isinstance(v, Mapping) for v in hist.values()):
        return {str(label): _as_history_dict(f"history[{label!r}]", run)
                for label, run in hist.items()}
    return {"": _as_history_dict("history", history)}


def best_epoch(history: Any, monitor: str = "val_loss", mode: str = "min") -> int:
    """Return the 1-based epoch at which ``monitor`` was best.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``fit`` returned, or its ``.history`` dict.
    monitor : str, default "val_loss"
        The series to look at.
    mode : {"min", "max"}
        Whether lower or higher is better.

    Returns
    -------
    int
        Epoch number counted from 1, as Keras prints it during ``fit``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``history`` is not a History or a dict of equal-length series,
        ``monitor`` is not one of its keys or is all NaN, or ``mode`` is not
        "min" or "max".

    Examples
    --------
    >>> best_epoch({"val_loss": [0.5, 0.4, 0.45]})
    2
    """
    runs = _as_history_dict("history", history)
    monitor = _validate.check_str("monitor", monitor)
    mode = _validate.check_choice("mode", mode, ["min", "max"])
    if monitor not in runs:
        raise _validate.fail_value("monitor", monitor, "one of the history's keys: "
                                   + ", ".join(repr(k) for k in runs))
    series = np.asarray(runs[monitor], dtype=float)
    if np.all(np.isnan(series)):
        raise _validate.fail_value("history", history, f"a {monitor!r} series with at least one number "
                                   "(it is all NaN: the run diverged)")
    return int(np.nanargmin(series) if mode == "min" else np.nanargmax(series)) + 1


def plot_history(history: Any, metrics: Sequence[str] | None = None, *,
                 title: str | None = None, mark_best: bool = False,
                 ylim: Mapping[str, tuple[float, float]] | None = None) -> Figure:
    """Plot training and validation curves per epoch, for one run or several.

    Training curves are solid, validation curves dashed; each run keeps one
    colour across the panels, so several runs can be compared side by side.

    Parameters
    ----------
    history : keras.callbacks.History, dict, Repeats, or dict of those
        One run (what ``fit`` returned, or ``history.history``), or several
        runs as ``{"label": history, ...}``. A ``Repeats`` (several seeds,
        from ``repeat`` or ``sweep(..., seeds=3)``) is drawn as its mean
        curve in a shaded band from its lowest to its highest seed.
    metrics : sequence of str, optional
        Which metrics to draw, one panel each, e.g. ``["loss", "accuracy"]``.
        Default: every metric that has no ``val_`` prefix.
    title : str, optional
        A title above the panels.
    mark_best : bool, default False
        Mark the epoch of minimum validation loss (or maximum validation
        accuracy) with a dot.
    ylim : dict, optional
        Y-axis limits per metric, e.g. ``{"loss": (0.2, 0.8)}``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If a history is not a History/dict of equal-length series, a metric
        is not in every run, or ``ylim`` is not a dict of (low, high) pairs.

    Examples
    --------
    >>> fig = plot_history({"loss": [0.9, 0.6], "val_loss": [0.8, 0.7]})
    >>> len(fig.axes)
    1
    """
    from .experiments import Repeats

    runs = _normalise_runs(history)
    given = {"": history} if isinstance(history, Repeats) else history if isinstance(history, Mapping) else {}
    bands = {str(label): run for label, run in given.items() if isinstance(run, Repeats)}
    first = next(iter(runs.values()))
    if metrics is None:
        metrics = [k for k in first if not k.startswith("val_") and k != "learning_rate"]
    else:
        metrics = _validate.check_sequence_of_str("metrics", metrics)
    for label, run in runs.items():
        for m in metrics:
            if m not in run:
                where = f"run {label!r}" if label else "the history"
                raise _validate.fail_value(
                    "metrics", list(metrics),
                    f"names found in {where}: " + ", ".join(repr(k) for k in run))
    if title is not None:
        title = _validate.check_str("title", title)
    mark_best = _validate.check_bool("mark_best", mark_best)
    if ylim is None:
        ylim = {}
    elif not isinstance(ylim, Mapping):
        raise _validate.fail_type("ylim", ylim, 'a dict of y-axis limits per metric, e.g. {"loss": (0.2, 0.8)}')
    else:
        for m in ylim:
            if m not in metrics:
                raise _validate.fail_value("ylim", ylim, "a dict whose keys are metrics drawn: "
                                           + ", ".join(repr(k) for k in metrics))
        ylim = {m: _validate.check_limits(f"ylim[{m!r}]", v) for m, v in ylim.items()}

    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (label, run) in enumerate(runs.items()):
            color = _COLORS[i % len(_COLORS)]
            epochs = np.arange(1, len(run[metric]) + 1)
            prefix = f"{label}: " if label else ""
            ax.plot(epochs, run[metric], "-", color=color, label=f"{prefix}train")
            val = run.get("val_" + metric)
            for key in [metric] + (["val_" + metric] if val is not None and label in bands else []):
                if label in bands:
                    _, low, high = bands[label].band(key)
                    ax.fill_between(epochs, low, high, color=color, alpha=0.18, linewidth=0)
            if val is not None:
                ax.plot(epochs, val, "--", color=color, label=f"{prefix}validation")
                if mark_best and not np.all(np.isnan(val)):  # an all-NaN run has no best epoch
                    best = int(np.nanargmax(val) if "acc" in metric else np.nanargmin(val))
                    ax.plot(epochs[best], val[best], "o", color=color, markersize=6)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        if metric in ylim:
            ax.set_ylim(*ylim[metric])
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(images: Any, labels: Any = None, class_names: Sequence[str] | None = None,
                predictions: Any = None, *, n_cols: int = 10, title: str | None = None,
                size: float = 1.0) -> Figure:
    """Draw a grid of images with their labels (and predictions, if given).

    Parameters
    ----------
    images : array-like, shape (n, height, width)
        Grey-scale images.
    labels : array-like of int, optional
        True class of each image, written under it.
    class_names : sequence of str, optional
        Names for the class numbers.
    predictions : array-like of int, optional
        Predicted classes; a wrong prediction is written in red.
    n_cols : int, default 10
        Images per row.
    title : str, optional
        A title above the grid.
    size : float, default 1.0
        Size of one image in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``images`` is not a stack of images, ``labels`` or ``predictions``
        has not one class number per image (within ``class_names``), or an
        option is out of range.

    Examples
    --------
    >>> fig = show_images(np.zeros((3, 28, 28)), labels=[0, 1, 2])
    >>> len(fig.axes)
    3
    """
    imgs = _validate.check_array("images", images, ndim=3)
    n = len(imgs)
    n_cols = _validate.check_int("n_cols", n_cols, minimum=1)
    size = _validate.check_float("size", size, minimum=0.2, maximum=10)
    names = None if class_names is None else _validate.check_sequence_of_str("class_names", class_names)
    lab = None if labels is None else _validate.check_array("labels", labels, ndim=1)
    pred = None if predictions is None else _validate.check_array("predictions", predictions, ndim=1)
    title = None if title is None else _validate.check_str("title", title, nonempty=False)
    for arg, arr in (("labels", lab), ("predictions", pred)):
        if arr is not None and len(arr) != n:
            raise _validate.fail_value(arg, arr, f"one entry per image of `images` ({n})")
        if arr is not None and names is not None and (arr.min() < 0 or arr.max() >= len(names)):
            raise _validate.fail_value(arg, arr, f"class numbers from 0 to {len(names) - 1} "
                                                 "(one name each in `class_names`)")

    def name(k: int) -> str:
        return names[k] if names is not None else str(k)

    n_cols = min(n_cols, n)
    n_rows = int(np.ceil(n / n_cols))
    extra = 0.4 if (lab is not None or pred is not None) else 0.0
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, (size + extra) * n_rows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(imgs[i], cmap="gray_r")
        if pred is not None:
            wrong = lab is not None and int(pred[i]) != int(lab[i])
            text = name(int(pred[i])) + (f"\n(true: {name(int(lab[i]))})" if wrong else "")
            ax.set_title(text, fontsize=9, color="crimson" if wrong else "black")
        elif lab is not None:
            ax.set_title(name(int(lab[i])), fontsize=9)
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_probabilities(probabilities: Any, class_names: Sequence[str], *,
                       true_label: int | None = None, ax: Any = None) -> Figure:
    """Bar chart of one prediction's class probabilities.

    The predicted class is drawn in blue; if ``true_label`` is given and the
    prediction is wrong, the true class is drawn in green.

    Parameters
    ----------
    probabilities : array-like, shape (n_classes,)
        Output of a softmax layer for one image (non-negative, sums to 1).
    class_names : sequence of str
        One name per class.
    true_label : int, optional
        The correct class.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``probabilities`` is not one softmax row, ``class_names`` has not
        one name per class, ``true_label`` is not a class number or ``ax`` is
        not an Axes.

    Examples
    --------
    >>> fig = plot_probabilities([0.1, 0.9], ["cat", "dog"], true_label=1)
    """
    p = _validate.check_array("probabilities", probabilities, ndim=1)
    names = _validate.check_sequence_of_str("class_names", class_names, length=len(p),
                                            per="entry of `probabilities`")
    if p.min() < 0 or abs(float(p.sum()) - 1.0) > 1e-3:
        raise _validate.fail_value("probabilities", probabilities,
                                   "non-negative numbers that sum to 1 (a softmax output)")
    if true_label is not None:
        true_label = _validate.check_int("true_label", true_label, minimum=0, maximum=len(p) - 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 2.8))
    elif isinstance(ax, Axes):
        fig = ax.figure
    else:
        raise _validate.fail_type("ax", ax, "a matplotlib Axes (e.g. from plt.subplots()) or None")
    guess = int(np.argmax(p))
    colors = ["#bbbbbb"] * len(p)
    if true_label is not None and true_label != guess:
        colors[true_label] = "#2ca02c"
    colors[guess] = "#1f77b4"
    ax.barh(range(len(p)), p, color=colors)
    ax.set_yticks(range(len(p)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("predicted probability")
    for k, v in enumerate(p):
        if v >= 0.01:
            ax.text(min(v + 0.02, 0.85), k, f"{v:.2f}", va="center", fontsize=7)
    return fig
