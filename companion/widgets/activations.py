"""Widgets of chapter 4: activation functions and per-layer activations by initializer.

Two widgets, both made of precomputed frames so they react on the static web
page as well as in a kernel:

- :func:`activation_explorer`: toggle buttons over sigmoid, tanh, ReLU and
  LeakyReLU; each frame plots the function and its derivative. LeakyReLU has a
  slider of its own over the negative slope.
- :func:`activation_histograms`: toggle buttons over weight initializers; each
  frame shows one histogram of activations per layer of a deep network.

The maths lives in :func:`activation` (function and derivative in NumPy), which
the tests check against finite differences.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, _hist_range, stack_viewer

__all__ = ["ACTIVATIONS", "activation", "plot_activation", "activation_explorer",
           "plot_layer_histograms", "activation_histograms"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
"""Names accepted by :func:`activation`, as Keras spells them."""

_TITLES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU"}

# What each frame of the explorer shows, for readers who cannot see the picture.
_ALTS = {
    "sigmoid": ("The sigmoid rises from 0 to 1 in an S shape; its derivative is a bump that peaks "
                "at 0.25 at x = 0 and is nearly 0 beyond |x| = 5."),
    "tanh": ("tanh rises from -1 to 1 in an S shape; its derivative peaks at 1 at x = 0 and is "
             "nearly 0 beyond |x| = 3."),
    "relu": ("ReLU is 0 for negative x and equal to x for positive x; its derivative is 0 for "
             "negative x and 1 for positive x."),
}


def activation(name: str, x: Any, *, negative_slope: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate an activation function and its derivative.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "leaky_relu"}
        The activation, spelled as in Keras.
    x : array-like of float
        Where to evaluate it.
    negative_slope : float, default 0.3
        Slope of LeakyReLU for ``x < 0`` (Keras 3's default is 0.3); ignored by
        the other functions. From 0 to 1.

    Returns
    -------
    (y, dy) : tuple of numpy.ndarray
        The function's values and its derivative at ``x``. At ``x = 0`` the
        derivative of ReLU is taken as 0 and that of LeakyReLU as the slope,
        as TensorFlow does.

    Raises
    ------
    CompanionValueError, CompanionTypeError
        For an unknown name, a non-numeric ``x`` or a slope outside [0, 1].

    Examples
    --------
    >>> y, dy = activation("sigmoid", [0.0])
    >>> float(y[0]), float(dy[0])
    (0.5, 0.25)
    >>> activation("leaky_relu", [-2.0], negative_slope=0.1)[1]
    array([0.1])
    """
    name = _validate.check_choice("name", name, ACTIVATIONS)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if isinstance(x, (numbers.Number, np.generic)):
        x = np.asarray(_validate.check_float("x", x))
    else:
        x = _validate.check_array("x", x, ndim=(1, 2)).astype(float)
    slope = _validate.check_float("negative_slope", negative_slope, minimum=0.0, maximum=1.0)
    if name == "sigmoid":
        y = 1.0 / (1.0 + np.exp(-x))
        return y, y * (1.0 - y)
    if name == "tanh":
        y = np.tanh(x)
        return y, 1.0 - y ** 2
    if name == "relu":
        return np.maximum(x, 0.0), (x > 0).astype(float)
    return np.where(x > 0, x, slope * x), np.where(x > 0, 1.0, slope)


def plot_activation(name: str, *, negative_slope: float = 0.3, x_range: float = 6.0) -> Figure:
    """Plot one activation function (left) and its derivative (right).

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "leaky_relu"}
        The activation.
    negative_slope : float, default 0.3
        LeakyReLU's slope for negative inputs (0 to 1).
    x_range : float, default 6.0
        The x-axis runs from ``-x_range`` to ``x_range`` (0.5 to 50).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For an unknown name, or a slope or ``x_range`` out of range.

    Examples
    --------
    >>> fig = plot_activation("tanh")
    >>> len(fig.axes)
    2
    """
    name = _validate.check_choice("name", name, ACTIVATIONS)
    x_range = _validate.check_float("x_range", x_range, minimum=0.5, maximum=50.0)
    x = np.linspace(-x_range, x_range, 401)
    y, dy = activation(name, x, negative_slope=negative_slope)
    title = _TITLES[name] + (f" (negative_slope={negative_slope:g})" if name == "leaky_relu" else "")
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(6.4, 2.5))
    ax_f.plot(x, y, color="#1f77b4")
    ax_f.set_title(title, fontsize=9)
    ax_d.plot(x, dy, color="#d62728")
    ax_d.set_title("derivative", fontsize=9)
    ax_d.set_ylim(-0.05, 1.1)
    # the derivative is where a gradient gets multiplied: mark the 'flat' zone
    ax_d.axhspan(-0.05, 0.05, color="#d62728", alpha=0.08)
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="grey", lw=0.6)
        ax.axvline(0, color="grey", lw=0.6)
        ax.grid(alpha=0.3)
        ax.set_xlabel("x", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def activation_explorer(*, slopes: Sequence[float] = (0.01, 0.1, 0.2, 0.3, 0.5),
                        x_range: float = 6.0) -> StackViewer:
    """Toggle between activation functions; slide LeakyReLU's slope.

    Parameters
    ----------
    slopes : sequence of float, default (0.01, 0.1, 0.2, 0.3, 0.5)
        The LeakyReLU slopes offered on its slider (1 to ``MAX_FRAMES``
        distinct values from 0 to 1). The frame shown first is the one
        closest to Keras's default, 0.3.
    x_range : float, default 6.0
        Half-width of the x-axis.

    Returns
    -------
    StackViewer
        ``control`` is a ToggleButtons over sigmoid, tanh, ReLU and LeakyReLU;
        the LeakyReLU frame is itself a :class:`StackViewer` (attribute
        ``leaky``) with a slider over ``slopes``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``slopes`` is not a list of distinct numbers in [0, 1] or
        ``x_range`` is out of range.

    Examples
    --------
    >>> explorer = activation_explorer(slopes=[0.1, 0.3])
    >>> explorer.control.index = 3          # LeakyReLU
    >>> explorer.leaky.control.index = 0    # slope 0.1
    """
    if isinstance(slopes, (str, bytes)) or not isinstance(slopes, Sequence):
        raise _validate.fail_type("slopes", slopes, "a list of numbers from 0 to 1")
    if not 1 <= len(slopes) <= MAX_FRAMES:
        raise _validate.fail_value("slopes", slopes, f"1 to {MAX_FRAMES} slopes")
    values = [_validate.check_float(f"slopes[{i}]", s, minimum=0.0, maximum=1.0)
              for i, s in enumerate(slopes)]
    if len(set(values)) != len(values):
        raise _validate.fail_value("slopes", slopes, "distinct slopes")
    x_range = _validate.check_float("x_range", x_range, minimum=0.5, maximum=50.0)
    frames: list[Any] = [figure_to_png(plot_activation(n, x_range=x_range))
                         for n in ("sigmoid", "tanh", "relu")]
    start = int(np.argmin([abs(v - 0.3) for v in values]))
    leaky = stack_viewer([plot_activation("leaky_relu", negative_slope=v, x_range=x_range)
                          for v in values], [f"{v:g}" for v in values],
                         description="negative_slope:", control="slider", start=start,
                         alt=[f"LeakyReLU with negative_slope {v:g}: a line of slope {v:g} for "
                              f"negative x and slope 1 for positive x; its derivative is {v:g} "
                              f"for negative x and 1 for positive x." for v in values])
    frames.append(leaky)
    viewer = stack_viewer(frames, [_TITLES[n] for n in ACTIVATIONS], description="Activation:",
                          control="toggle", alt=[_ALTS[n] for n in ("sigmoid", "tanh", "relu")]
                          + ["LeakyReLU, with a slider over its slope"])
    viewer.leaky = leaky
    return viewer


def plot_layer_histograms(activations: Sequence[Any], *, title: str = "",
                          bins: int = 40, x_max: float | None = None) -> Figure:
    """Small histograms of one network's activations, one panel per layer.

    Parameters
    ----------
    activations : sequence of array-like
        The outputs of each layer for one batch (1 to 12 layers), e.g. what a
        ``keras.Model(inputs, [layer.output ...])`` returns. Exact zeros (ReLU's
        switched-off units) are left out of the bars and counted in each
        panel's title instead, with the standard deviation of all values.
    title : str, optional
        A title above the panels.
    bins : int, default 40
        Bins per histogram (5 to 200).
    x_max : float, optional
        Right end of every x-axis (all panels share it); default: the largest
        99.5th percentile over the layers.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``activations`` is not a list of 1 to 12 arrays of finite numbers,
        or an option is out of range.

    Examples
    --------
    >>> fig = plot_layer_histograms([np.random.rand(8, 4), np.random.rand(8, 4) / 2])
    >>> len(fig.axes)
    2
    """
    if isinstance(activations, (str, bytes)) or not isinstance(activations, Sequence):
        raise _validate.fail_type("activations", activations, "a list of arrays, one per layer")
    if not 1 <= len(activations) <= 12:
        raise _validate.fail_value("activations", f"{len(activations)} layers", "1 to 12 layers")
    arrays = [_validate.check_array(f"activations[{i}]", a).ravel() for i, a in enumerate(activations)]
    if not isinstance(title, str):
        raise _validate.fail_type("title", title, "a string")
    bins = _validate.check_int("bins", bins, minimum=5, maximum=200)
    if x_max is None:
        x_max = max(float(np.percentile(a, 99.5)) for a in arrays)
        x_max = x_max if x_max > 0 else 1.0  # all values <= 0: still show 0 on the right
    x_max = _validate.check_float("x_max", x_max, minimum=0.0, inclusive=False)
    n = len(arrays)
    n_cols = min(n, 5)
    n_rows = int(np.ceil(n / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.45 * n_cols + 0.3, 1.35 * n_rows + 0.4),
                             squeeze=False, sharex=True)
    for ax in axes.flat:
        ax.set_visible(False)
    for i, (ax, a) in enumerate(zip(axes.flat, arrays)):
        ax.set_visible(True)
        shown = a[a != 0]  # ReLU's exact zeros would dwarf the rest: the title counts them
        ax.hist(shown if shown.size else a, bins=bins, range=_hist_range(min(0.0, float(a.min())), x_max),
                color="#1f77b4")
        ax.set_title(f"layer {i + 1}: std {a.std():.2g}\nzeros {np.mean(a == 0):.0%}", fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def activation_histograms(activations_by_name: Mapping[str, Sequence[Any]], *,
                          bins: int = 40) -> StackViewer:
    """Toggle between initializers and see each layer's activations at initialization.

    Parameters
    ----------
    activations_by_name : mapping of str to sequence of array-like
        ``{"Glorot uniform": [layer-1 outputs, layer-2 outputs, ...], ...}``:
        for each initializer (1 to ``MAX_FRAMES``), the outputs of every layer
        on the same batch. All entries need the same number of layers.
    bins : int, default 40
        Bins per histogram.

    Returns
    -------
    StackViewer
        Toggle buttons named after the keys; one figure of per-layer
        histograms per key. Within a figure all panels share the x-axis, so a
        shrinking spread from layer to layer is visible at a glance.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For an empty mapping, non-string keys or unequal layer counts.

    Examples
    --------
    >>> acts = {"a": [np.random.rand(8, 4)] * 2, "b": [np.random.rand(8, 4) / 2] * 2}
    >>> viewer = activation_histograms(acts)
    >>> viewer.control.index = 1
    """
    if not isinstance(activations_by_name, Mapping):
        raise _validate.fail_type("activations_by_name", activations_by_name,
                                  "a dict {initializer name: list of per-layer arrays}")
    if not 1 <= len(activations_by_name) <= MAX_FRAMES:
        raise _validate.fail_value("activations_by_name", activations_by_name,
                                   f"1 to {MAX_FRAMES} initializers")
    names = _validate.check_sequence_of_str("activations_by_name", list(activations_by_name))
    depths = {len(v) if isinstance(v, Sequence) and not isinstance(v, (str, bytes)) else -1
              for v in activations_by_name.values()}
    if len(depths) != 1 or -1 in depths or 0 in depths:
        raise _validate.fail_value("activations_by_name", activations_by_name,
                                   "the same number of layers (a non-empty list of arrays) for every initializer")
    arrays = {k: [_validate.check_array(f"activations_by_name[{k!r}][{i}]", a)
                  for i, a in enumerate(activations_by_name[k])] for k in names}
    # one x-axis for every frame, so switching initializer compares like with like
    x_max = max(float(np.percentile(a, 99.5)) for v in arrays.values() for a in v)
    x_max = x_max if x_max > 0 else 1.0
    frames = [plot_layer_histograms(arrays[k], title=f"{k}: activations per layer",
                                    bins=bins, x_max=x_max) for k in names]
    alts = [f"{k}: histograms of the activations of {len(arrays[k])} layers; their standard "
            f"deviation goes from {arrays[k][0].std():.2g} in layer 1 to "
            f"{arrays[k][-1].std():.2g} in layer {len(arrays[k])}." for k in names]
    return stack_viewer(frames, names, description="Initializer:", control="toggle", alt=alts)
