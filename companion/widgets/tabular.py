"""Tabular-data chapter: where early stopping stops, and a viewer of several runs.

Chapter 11 trains the same 128-64-32-1 network four ways (plain, early-stopped,
L1, L2) on a small table of numbers. This module

- replays the rule of ``keras.callbacks.EarlyStopping`` on a recorded
  validation-loss curve (:func:`early_stopping_epochs`), so that one plain run
  shows where every patience would have stopped;
- draws those stops as pictures behind a patience slider
  (:func:`patience_viewer`), one slider per ``min_delta`` behind toggle
  buttons (:func:`stopping_explorer`);
- puts the runs' curves and first-layer weights behind toggle buttons
  (:func:`run_viewer`).

Every picture is drawn in advance, so the widgets react in the static HTML page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, _hist_range, stack_viewer

__all__ = ["early_stopping_epochs", "patience_viewer", "stopping_explorer", "run_viewer"]


def _curve(name: str, value: Any) -> np.ndarray:
    arr = _validate.check_array(name, value, ndim=1)
    return arr.astype(float)


def early_stopping_epochs(val_loss: Sequence[float], patience: int, *,
                          min_delta: float = 0.0) -> tuple[int, int]:
    """Replay ``EarlyStopping(monitor="val_loss")`` on a recorded curve.

    The rule is the one Keras 3 follows: an epoch *improves* when its value is
    lower than the best so far by more than ``min_delta``; training stops at
    the end of the epoch that makes ``patience`` epochs in a row without
    improvement (never after the first epoch); ``restore_best_weights=True``
    brings back the weights of the last improving epoch.

    Parameters
    ----------
    val_loss : sequence of float
        The validation loss per epoch of a run trained without the callback.
    patience : int
        Epochs without improvement to wait (0 to 1000).
    min_delta : float, default 0.0
        Smallest decrease that counts as an improvement (>= 0).

    Returns
    -------
    (int, int)
        ``(epochs_trained, best_epoch)``, both counted from 1 as ``fit``
        prints them. ``epochs_trained == len(val_loss)`` when the callback
        would not have stopped the run.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``val_loss`` is not a list of finite numbers, or ``patience`` or
        ``min_delta`` is out of range.

    Examples
    --------
    >>> early_stopping_epochs([0.5, 0.4, 0.41, 0.42, 0.39], patience=2)
    (4, 2)
    >>> early_stopping_epochs([0.5, 0.4, 0.41, 0.42, 0.39], patience=3)
    (5, 5)
    >>> early_stopping_epochs([0.5, 0.4, 0.395, 0.41], patience=2,
    ...                       min_delta=0.01)
    (4, 2)
    """
    losses = _curve("val_loss", val_loss)
    patience = _validate.check_int("patience", patience, minimum=0, maximum=1000)
    min_delta = _validate.check_float("min_delta", min_delta, minimum=0.0)
    best, best_epoch, wait = None, 0, 0
    for epoch, value in enumerate(losses):
        wait += 1
        if best is None or value + min_delta < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1, best_epoch + 1
    return len(losses), best_epoch + 1


def _patience_frame(train: np.ndarray | None, val: np.ndarray, patience: int, min_delta: float,
                    ylim: tuple[float, float]) -> tuple[bytes, str]:
    stopped, best = early_stopping_epochs(val, patience, min_delta=min_delta)
    epochs = np.arange(1, len(val) + 1)
    fig, ax = plt.subplots(figsize=(5.6, 2.8))
    if train is not None:
        ax.plot(epochs, train, "-", color="0.75", linewidth=1, label="training loss")
    ax.plot(epochs[:stopped], val[:stopped], "--", color="tab:blue", label="validation loss (trained)")
    if stopped < len(val):
        ax.plot(epochs[stopped - 1:], val[stopped - 1:], ":", color="0.6",
                label="validation loss (never trained)")
    ax.axvline(stopped, color="tab:red", linewidth=1)
    ax.plot(best, val[best - 1], "o", color="tab:green", markersize=7, label="restored epoch")
    ax.set_ylim(*ylim)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if stopped < len(val):
        what = f"stops after epoch {stopped}"
        alt_what = f"training stops after epoch {stopped} of {len(val)}"
    else:
        what = f"never stops early ({len(val)} epochs)"
        alt_what = f"training never stops early and runs all {len(val)} epochs"
    ax.set_title(f"patience {patience}: {what}, restores epoch {best} "
                 f"(val loss {val[best - 1]:.3f})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    alt = (f"Validation loss per epoch with EarlyStopping at patience {patience}: {alt_what} "
           f"and the weights of epoch {best} are restored, "
           f"with validation loss {val[best - 1]:.3f}")
    return figure_to_png(fig, colors=32), alt


def patience_viewer(val_loss: Sequence[float], patiences: Sequence[int], *,
                    min_delta: float = 0.0, train_loss: Sequence[float] | None = None,
                    start: int = 0, ymax: float | None = None) -> StackViewer:
    """A widget: slide the patience, see where early stopping would stop a run.

    Parameters
    ----------
    val_loss : sequence of float
        Validation loss per epoch of a run trained *without* early stopping.
    patiences : sequence of int
        The patience values offered on the slider (1 to ``MAX_FRAMES``
        distinct values, each 0 to 1000).
    min_delta : float, default 0.0
        As in ``EarlyStopping``.
    train_loss : sequence of float, optional
        The run's training loss, drawn in grey for reference (same length).
    start : int, default 0
        Index of the patience shown first.
    ymax : float, optional
        Top of the y-axis (default: the largest value drawn); a lower value
        zooms in on the minimum. At most 1e300.

    Returns
    -------
    StackViewer
        A slider of patience values over one picture each: the validation
        curve up to the stop, the stopping epoch (red line) and the restored
        epoch (green dot), computed with :func:`early_stopping_epochs`.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If a curve is not a list of finite numbers (of one length), ``patiences`` not
        1 to ``MAX_FRAMES`` distinct values, or an option is out of range.

    Examples
    --------
    >>> viewer = patience_viewer([0.5, 0.4, 0.41, 0.42, 0.39], [1, 3])
    >>> viewer.control.index = 1
    >>> viewer.index
    1
    """
    val = _curve("val_loss", val_loss)
    if isinstance(patiences, (str, bytes)) or not isinstance(patiences, Sequence):
        raise _validate.fail_type("patiences", patiences, "a list of integers")
    if not 1 <= len(patiences) <= MAX_FRAMES:
        raise _validate.fail_value("patiences", patiences, f"1 to {MAX_FRAMES} values")
    checked = [_validate.check_int("patiences", p, minimum=0, maximum=1000) for p in patiences]
    if len(set(checked)) != len(checked):
        raise _validate.fail_value("patiences", patiences, "distinct values")
    min_delta = _validate.check_float("min_delta", min_delta, minimum=0.0)
    train = None
    if train_loss is not None:
        train = _curve("train_loss", train_loss)
        if len(train) != len(val):
            raise _validate.fail_value("train_loss", train_loss,
                                       f"one value per epoch of val_loss ({len(val)})")
    start = _validate.check_int("start", start, minimum=0, maximum=len(checked) - 1)
    every = np.concatenate([val] + ([train] if train is not None else []))
    top = float(every.max())
    if ymax is not None:
        top = _validate.check_float("ymax", ymax, maximum=_validate.LARGEST)
        if top <= every.min():
            raise _validate.fail_value("ymax", ymax, f"a number above the lowest loss ({every.min():.4g})")
    pad = 0.05 * (top - every.min() or 1.0)
    ylim = (float(every.min() - pad), top + pad)
    frames, alts = [], []
    for p in checked:
        png, alt = _patience_frame(train, val, p, min_delta, ylim)
        frames.append(png)
        alts.append(alt)
    return stack_viewer(frames, [str(p) for p in checked], description="Patience:",
                        control="slider", start=start, alt=alts)


def run_viewer(runs: Mapping[str, Mapping[str, Sequence[float]]], weights: Mapping[str, Any], *,
               metric: str = "bce", start: int = 0) -> StackViewer:
    """A widget: toggle between training runs, see their curves and weights.

    Parameters
    ----------
    runs : dict
        ``{label: history dict}`` (2 to ``MAX_FRAMES`` runs), each with
        ``metric`` and ``"val_" + metric`` series.
    weights : dict
        The same labels: ``{label: weights}``, e.g. the first ``Dense``
        layer's kernel at the end of the run.
    metric : str, default "bce"
        The series drawn (training solid, validation dashed). Use a metric
        without penalty terms (such as a ``BinaryCrossentropy`` metric) to
        compare penalised and plain runs fairly.
    start : int, default 0
        Index of the run shown first.

    Returns
    -------
    StackViewer
        Toggle buttons over one picture per run: left, its curves over the
        other runs' validation curves in grey; right, the histogram of its
        weights with their mean absolute value. All pictures share axes.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``runs`` and ``weights`` do not have the shape described above, or
        ``metric`` or ``start`` does not fit them.

    Examples
    --------
    >>> h = {"bce": [0.6, 0.3], "val_bce": [0.5, 0.4]}
    >>> w = np.random.default_rng(0).normal(0, 0.1, 300)
    >>> viewer = run_viewer({"plain": h, "L2": h}, {"plain": w, "L2": w / 5})
    >>> viewer.control.index = 1
    >>> viewer.index
    1
    """
    if not isinstance(runs, Mapping):
        raise _validate.fail_type("runs", runs, "a dict {label: history dict}")
    if not 2 <= len(runs) <= MAX_FRAMES:
        raise _validate.fail_value("runs", list(runs), f"2 to {MAX_FRAMES} runs")
    metric = _validate.check_str("metric", metric)
    if not isinstance(weights, Mapping) or set(weights) != set(runs):
        raise _validate.fail_value("weights", list(weights) if isinstance(weights, Mapping) else weights,
                                   f"a dict with the same labels as runs: {list(runs)}")
    start = _validate.check_int("start", start, minimum=0, maximum=len(runs) - 1)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    ws: dict[str, np.ndarray] = {}
    for label, hist in runs.items():
        label = _validate.check_str("runs", label)
        if not isinstance(hist, Mapping) or metric not in hist or "val_" + metric not in hist:
            raise _validate.fail_value(f"runs[{label!r}]", list(hist) if isinstance(hist, Mapping) else hist,
                                       f"a history dict with {metric!r} and {'val_' + metric!r} "
                                       "(the series named by `metric`)")
        train = _curve(f"runs[{label!r}][{metric!r}]", hist[metric])
        val = _curve(f"runs[{label!r}][{'val_' + metric!r}]", hist["val_" + metric])
        if len(train) != len(val):
            raise _validate.fail_value(f"runs[{label!r}]", label, "training and validation series of one length")
        curves[label] = (train, val)
        w = _validate.check_array(f"weights[{label!r}]", weights[label]).astype(float).ravel()
        ws[label] = w
    longest = max(len(v) for _, v in curves.values())
    top = max(max(t.max(), v.max()) for t, v in curves.values())
    top = top if top > 0 else 1.0  # the y-axis starts at 0
    wmax = _hist_range(0.0, float(np.quantile(np.abs(np.concatenate(list(ws.values()))), 0.995)) or 1.0)[1]
    frames, alts = [], []
    for label, (train, val) in curves.items():
        fig, (ax, ax_w) = plt.subplots(1, 2, figsize=(7.2, 2.7), gridspec_kw={"width_ratios": [1.3, 1]})
        for other, (_, oval) in curves.items():
            if other != label:
                ax.plot(np.arange(1, len(oval) + 1), oval, "--", color="0.8", linewidth=1)
        epochs = np.arange(1, len(val) + 1)
        ax.plot(epochs, train, "-", color="tab:blue", label="training")
        ax.plot(epochs, val, "--", color="tab:orange", label="validation")
        best = int(np.argmin(val))
        ax.plot(best + 1, val[best], "o", color="tab:orange")
        ax.set_xlim(0.5, longest + 0.5)
        ax.set_ylim(0, top * 1.05)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{label}: lowest val {metric} {val[best]:.3f} (epoch {best + 1})", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
        w = ws[label]
        mean_abs = float(np.mean(np.abs(w)))
        ax_w.hist(np.clip(w, -wmax, wmax), bins=np.linspace(-wmax, wmax, 61), color="tab:purple")
        ax_w.set_yscale("log")
        ax_w.set_ylim(0.8, max(len(x) for x in ws.values()))
        ax_w.set_xlabel("weight value")
        ax_w.set_ylabel("count (log)")
        ax_w.set_title(f"first-layer weights: mean |w| {mean_abs:.3f}", fontsize=9)
        fig.tight_layout()
        frames.append(figure_to_png(fig, colors=32))
        alts.append(f"Run {label}: training and validation {metric} per epoch, lowest validation "
                    f"value {val[best]:.3f} at epoch {best + 1} of {len(val)}; histogram of the "
                    f"first-layer weights, mean absolute value {mean_abs:.3f}")
    return stack_viewer(frames, list(curves), description="Run:", control="toggle",
                        start=start, alt=alts)


def stopping_explorer(val_loss: Sequence[float], patiences: Sequence[int],
                      min_deltas: Sequence[float], *, train_loss: Sequence[float] | None = None,
                      start: int = 0, ymax: float | None = None) -> StackViewer:
    """A widget: choose ``min_delta`` with buttons and the patience with a slider.

    Parameters
    ----------
    val_loss : sequence of float
        Validation loss per epoch of a run trained *without* early stopping.
    patiences : sequence of int
        Patience values on every slider (see :func:`patience_viewer`).
    min_deltas : sequence of float
        The ``min_delta`` values offered as toggle buttons (1 to
        ``MAX_FRAMES`` distinct values, each >= 0).
    train_loss : sequence of float, optional
        The run's training loss, drawn in grey.
    start : int, default 0
        Index of the patience shown first on every slider.
    ymax : float, optional
        Top of the y-axis (see :func:`patience_viewer`).

    Returns
    -------
    StackViewer
        ``control`` is the toggle of ``min_delta`` values; each frame of its
        ``stack`` is a :func:`patience_viewer`.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``min_deltas`` is not 1 to ``MAX_FRAMES`` distinct numbers >= 0, or as
        :func:`patience_viewer`.

    Examples
    --------
    >>> viewer = stopping_explorer([0.5, 0.4, 0.395, 0.41], [1, 2], [0.0, 0.01])
    >>> viewer.control.index = 1
    >>> viewer.frames[1].control.index = 1
    >>> viewer.frames[1].index
    1
    """
    if isinstance(min_deltas, (str, bytes)) or not isinstance(min_deltas, Sequence):
        raise _validate.fail_type("min_deltas", min_deltas, "a list of numbers >= 0")
    if not 1 <= len(min_deltas) <= MAX_FRAMES:
        raise _validate.fail_value("min_deltas", min_deltas, f"1 to {MAX_FRAMES} values")
    deltas = [_validate.check_float("min_deltas", d, minimum=0.0) for d in min_deltas]
    if len(set(deltas)) != len(deltas):
        raise _validate.fail_value("min_deltas", min_deltas, "distinct values")
    viewers = [patience_viewer(val_loss, patiences, min_delta=d, train_loss=train_loss,
                               start=start, ymax=ymax) for d in deltas]
    return stack_viewer(viewers, [f"{d:g}" for d in deltas], description="min_delta:",
                        control="toggle")
