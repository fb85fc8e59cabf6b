"""Dropout, seen two ways: the units one batch drops, and loss curves per rate.

Chapter 6 uses two widgets that keep working in the static HTML book:

- :func:`dropout_mask_viewer` shows, for several rates, which hidden units a
  real ``keras.layers.Dropout`` layer switches off for a few examples of one
  batch (computed with ``training=True`` and a fixed seed), and the factor
  ``1 / (1 - rate)`` by which it scales the units it keeps;
- :func:`rate_curve_viewer` steps through precomputed training and validation
  loss curves of a dropout-rate sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["dropout_mask", "dropout_mask_viewer", "rate_curve_viewer"]


def _rate(name: str, value: Any) -> float:
    rate = _validate.check_float(name, value, minimum=0.0, maximum=1.0)
    if rate == 1.0:
        raise _validate.fail_value(name, value, "a number >= 0 and < 1")
    return rate


def dropout_mask(rate: float, *, n_examples: int = 4, n_units: int = 100,
                 seed: int = 0) -> np.ndarray:
    """What a ``keras.layers.Dropout`` layer outputs for a batch of ones in training.

    Builds ``keras.layers.Dropout(rate, seed=seed)`` and calls it with
    ``training=True`` on an array of ones of shape ``(n_examples, n_units)``:
    a dropped unit comes out as 0, a kept one as ``1 / (1 - rate)``.

    Parameters
    ----------
    rate : float
        Fraction of units to drop, 0 <= rate < 1.
    n_examples : int, default 4
        Rows of the batch (1 to 64).
    n_units : int, default 100
        Units per example (1 to 10,000).
    seed : int, default 0
        Seed of the layer's random generator: the same seed gives the same mask.

    Returns
    -------
    numpy.ndarray, shape (n_examples, n_units)
        The layer's output: 0 for dropped units, ``1 / (1 - rate)`` for kept ones.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``rate`` is not in [0, 1) or a size or the seed is out of range.

    Examples
    --------
    >>> out = dropout_mask(0.5, n_examples=2, n_units=10, seed=1)
    >>> sorted(set(np.round(out.ravel(), 3)))   # doctest: +SKIP
    [0.0, 2.0]
    """
    import keras

    rate = _rate("rate", rate)
    n_examples = _validate.check_int("n_examples", n_examples, minimum=1, maximum=64)
    n_units = _validate.check_int("n_units", n_units, minimum=1, maximum=10_000)
    seed = _validate.check_int("seed", seed, minimum=0, maximum=2**31 - 1)
    layer = keras.layers.Dropout(rate, seed=seed)
    ones = np.ones((n_examples, n_units), dtype="float32")
    return np.asarray(keras.ops.convert_to_numpy(layer(ones, training=True)))


def _grid_side(n_units: int) -> tuple[int, int]:
    rows = int(np.floor(np.sqrt(n_units)))
    while n_units % rows:
        rows -= 1
    return rows, n_units // rows


def dropout_mask_viewer(rates: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5), *,
                        n_examples: int = 4, n_units: int = 100, seed: int = 0) -> StackViewer:
    """A slider over dropout rates showing which units one batch drops.

    Each frame draws, for ``n_examples`` examples of one training batch, the
    ``n_units`` hidden units as a grid: dropped units dark, kept units light.
    The masks come from the real ``keras.layers.Dropout`` layer (see
    :func:`dropout_mask`), so the count of dropped units varies around
    ``rate * n_units`` from example to example, as it does in training.

    Parameters
    ----------
    rates : sequence of float, default (0.1, 0.2, 0.3, 0.4, 0.5)
        The rates to show (1 to ``MAX_FRAMES``, each 0 <= rate < 1, distinct).
    n_examples : int, default 4
        Examples of the batch drawn side by side (1 to 8).
    n_units : int, default 100
        Hidden units per example (4 to 400).
    seed : int, default 0
        Seed of the dropout layer.

    Returns
    -------
    StackViewer
        ``control`` is a SelectionSlider of the rates.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``rates`` is not a list of 1 to ``MAX_FRAMES`` distinct rates in [0, 1), or
        a size or the seed is out of range.

    Examples
    --------
    >>> viewer = dropout_mask_viewer([0.1, 0.5], n_examples=2)  # doctest: +SKIP
    >>> viewer.control.index = 1  # doctest: +SKIP
    """
    if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence):
        raise _validate.fail_type("rates", rates, "a list of dropout rates, e.g. [0.1, 0.3, 0.5]")
    if not 1 <= len(rates) <= MAX_FRAMES:
        raise _validate.fail_value("rates", rates, f"1 to {MAX_FRAMES} rates")
    values = [_rate(f"rates[{i}]", r) for i, r in enumerate(rates)]
    if len({f"{r:g}" for r in values}) != len(values):  # the slider shows them with 6 digits
        raise _validate.fail_value("rates", rates, "distinct rates (as written with 6 digits)")
    n_examples = _validate.check_int("n_examples", n_examples, minimum=1, maximum=8)
    n_units = _validate.check_int("n_units", n_units, minimum=4, maximum=400)
    seed = _validate.check_int("seed", seed, minimum=0, maximum=2**31 - 1)
    rows, cols = _grid_side(n_units)
    frames, alts = [], []
    for rate in values:
        out = dropout_mask(rate, n_examples=n_examples, n_units=n_units, seed=seed)
        dropped = out == 0
        fig, axes = plt.subplots(1, n_examples, figsize=(1.6 * n_examples + 0.4, 2.3), squeeze=False)
        for k, ax in enumerate(axes[0]):
            ax.imshow(dropped[k].reshape(rows, cols), cmap="Greys", vmin=0, vmax=1.6)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"example {k + 1}\n{int(dropped[k].sum())} of {n_units} dropped", fontsize=8)
        scale = 1.0 / (1.0 - rate)
        fig.suptitle(f"rate {rate:g}: dark units are dropped (0), light ones kept and "
                     f"scaled by 1/(1-rate) = {scale:.2f}", fontsize=8.5)
        fig.tight_layout()
        frames.append(figure_to_png(fig, colors=16))
        counts = ", ".join(str(int(d.sum())) for d in dropped)
        alts.append(f"Grids of {n_units} hidden units for {n_examples} examples at dropout rate "
                    f"{rate:g}; dropped units ({counts} per example) are dark, kept ones light "
                    f"and scaled by {scale:.2f}")
    labels = [f"{r:g}" for r in values]
    return stack_viewer(frames, labels, description="Dropout rate:", control="slider", alt=alts)


def rate_curve_viewer(runs: Mapping[str, Mapping[str, Sequence[float]]], *,
                      reference: str | None = None, title: str = "",
                      description: str = "Run:") -> StackViewer:
    """A slider over precomputed runs showing training and validation loss.

    Each frame plots the ``loss`` (solid) and ``val_loss`` (dashed) of one
    run against the epoch, as :func:`companion.plots.plot_history` does, with the same axes in every frame; the ``reference`` run (for
    example the one without dropout) is drawn in grey in every frame, and the
    epoch of lowest validation loss is marked.

    Parameters
    ----------
    runs : mapping of str to history dict
        ``{label: history}`` as :func:`companion.experiments.sweep` returns;
        each history needs ``"loss"`` and ``"val_loss"`` of equal length
        (1 to ``MAX_FRAMES`` runs).
    reference : str, optional
        Label of the run drawn in grey behind the others; default the first.
    title : str
        Text in front of each frame's title.
    description : str, default "Run:"
        Label in front of the slider.

    Returns
    -------
    StackViewer
        ``control`` is a SelectionSlider of the labels.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``runs`` is not 1 to ``MAX_FRAMES`` histories with equal-length ``loss`` and
        ``val_loss`` series, or ``reference`` is not one of its labels.

    Examples
    --------
    >>> runs = {"0.0": {"loss": [0.5, 0.3], "val_loss": [0.45, 0.4]},
    ...         "0.5": {"loss": [0.7, 0.5], "val_loss": [0.5, 0.42]}}
    >>> viewer = rate_curve_viewer(runs)
    >>> viewer.control.index = 1
    """
    if not isinstance(runs, Mapping):
        raise _validate.fail_type("runs", runs, "a dict {label: history dict}, as sweep() returns")
    if not 1 <= len(runs) <= MAX_FRAMES:
        raise _validate.fail_value("runs", f"{len(runs)} runs", f"1 to {MAX_FRAMES} runs")
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, hist in runs.items():
        if not isinstance(label, str):
            raise _validate.fail_type("runs", label, "string labels")
        if not isinstance(hist, Mapping) or "loss" not in hist or "val_loss" not in hist:
            raise _validate.fail_value(f"runs[{label!r}]", hist, "a history dict with 'loss' and 'val_loss'")
        loss = _validate.check_array(f"runs[{label!r}]['loss']", hist["loss"], ndim=1, finite=False)
        val = _validate.check_array(f"runs[{label!r}]['val_loss']", hist["val_loss"], ndim=1, finite=False)
        loss, val = loss.astype(float), val.astype(float)
        for arr in (loss, val):  # beyond +-1e300: off any scale matplotlib can draw, as infinite
            arr[np.abs(arr) > _validate.LARGEST] *= np.inf
        if loss.shape != val.shape:
            raise _validate.fail_value(f"runs[{label!r}]", hist,
                                       "'loss' and 'val_loss' lists of equal, non-zero length")
        curves[label] = (loss, val)
    if reference is None:
        reference = next(iter(curves))
    reference = _validate.check_choice("reference", reference, list(curves))
    if not isinstance(title, str):
        raise _validate.fail_type("title", title, "a string")
    if not isinstance(description, str):
        raise _validate.fail_type("description", description, "a string")
    everything = np.concatenate([np.concatenate(c) for c in curves.values()])
    finite = everything[np.abs(everything) <= _validate.LARGEST]  # finite and drawable
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo or 1.0)
    n_max = max(len(c[0]) for c in curves.values())
    frames, alts = [], []
    ref_loss, ref_val = curves[reference]
    for label, (loss, val) in curves.items():
        fig, ax = plt.subplots(figsize=(5.4, 3.0))
        epochs = np.arange(1, len(loss) + 1)
        if label != reference:
            ref_epochs = np.arange(1, len(ref_loss) + 1)
            ax.plot(ref_epochs, ref_loss, color="0.7", linewidth=1, label=f"{reference}: training")
            ax.plot(ref_epochs, ref_val, color="0.7", linestyle="--", linewidth=1,
                    label=f"{reference}: validation")
        ax.plot(epochs, loss, color="tab:blue", label=f"{label}: training")
        ax.plot(epochs, val, color="tab:orange", linestyle="--", label=f"{label}: validation")
        best = None if np.all(np.isnan(val)) else int(np.nanargmin(val))
        if best is not None:
            ax.plot(best + 1, val[best], marker="o", color="tab:orange")
        gap = val[-1] - loss[-1]
        lowest = ("no val loss is a number" if best is None else
                  f"lowest val loss {val[best]:.3f} (epoch {best + 1})")
        ax.set_xlim(0.5, n_max + 0.5)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(f"{title}{label}: {lowest}, final gap {gap:+.3f}", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        frames.append(figure_to_png(fig))
        alts.append(f"Training and validation loss of run {label} over {len(loss)} epochs; "
                    + ("no validation loss is a number" if best is None else
                       f"lowest validation loss {val[best]:.3f} at epoch {best + 1}")
                    + f"; final validation minus training loss {gap:+.3f}")
    return stack_viewer(frames, list(curves), description=description, control="slider", alt=alts)
