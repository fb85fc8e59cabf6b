"""Widgets of chapter 2 (deep neural networks): parameter counts and activations.

Both widgets precompute every frame, so they react on the static web page too
(see :mod:`companion.widgets._core`). The arithmetic behind them is public
(:func:`dense_params`, :func:`mlp_param_counts`, :func:`activation_and_slope`)
so that a notebook or a test can check it against Keras.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["dense_params", "mlp_param_counts", "param_count_explorer",
           "ACTIVATIONS", "activation_and_slope", "activation_explorer"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
"""The hidden-layer activations :func:`activation_explorer` can draw."""


def dense_params(n_inputs: int, units: int) -> int:
    """Number of parameters of a ``Dense`` layer: one weight per input per unit, plus a bias per unit.

    Parameters
    ----------
    n_inputs : int
        Number of values each example feeds into the layer (>= 1).
    units : int
        Number of neurons of the layer (>= 1).

    Returns
    -------
    int
        ``n_inputs * units + units``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If a size is not an integer >= 1.

    Examples
    --------
    >>> dense_params(784, 100)
    78500
    """
    n_inputs = _validate.check_int("n_inputs", n_inputs, minimum=1)
    units = _validate.check_int("units", units, minimum=1)
    return n_inputs * units + units


def mlp_param_counts(n_inputs: int, hidden: Sequence[int], n_outputs: int) -> list[int]:
    """Parameters of each ``Dense`` layer of a stack: hidden layers, then the output layer.

    Parameters
    ----------
    n_inputs : int
        Size of one (flattened) example, e.g. 784 for a 28 x 28 image.
    hidden : sequence of int
        Units of each hidden layer, in order (may be empty).
    n_outputs : int
        Units of the output layer.

    Returns
    -------
    list of int
        One count per ``Dense`` layer; their sum is ``model.count_params()``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If a size is not an integer >= 1, or ``hidden`` is not a list of them.

    Examples
    --------
    >>> mlp_param_counts(784, [100], 10)
    [78500, 1010]
    """
    n_inputs = _validate.check_int("n_inputs", n_inputs, minimum=1)
    n_outputs = _validate.check_int("n_outputs", n_outputs, minimum=1)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise _validate.fail_type("hidden", hidden, "a list of positive integers (units per hidden layer)")
    sizes = [_validate.check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden)]
    counts, previous = [], n_inputs
    for units in [*sizes, n_outputs]:
        counts.append(dense_params(previous, units))
        previous = units
    return counts


def param_count_explorer(hidden_sizes: Sequence[int] = (10, 32, 100, 300, 1000), *,
                         n_inputs: int = 784, n_outputs: int = 10, start: int | None = None) -> StackViewer:
    """A slider over hidden-layer sizes showing each layer's parameter count and the total.

    The network is ``Flatten -> Dense(h) -> Dense(n_outputs)``; each frame is a
    bar chart of the two layers' counts, with the formula written on each bar.

    Parameters
    ----------
    hidden_sizes : sequence of int, default (10, 32, 100, 300, 1000)
        The hidden-layer sizes to offer, distinct, 1 to ``MAX_FRAMES`` of them
        (each 1 to 10**9).
    n_inputs : int, default 784
        Size of one flattened example (1 to 10**9).
    n_outputs : int, default 10
        Units of the output layer (1 to 10**9).
    start : int, optional
        Index of the size shown first; by default the one closest to 100.

    Returns
    -------
    StackViewer
        ``control`` is a slider labelled with the sizes; ``counts[i]`` holds the
        per-layer counts of frame ``i``. Each frame is an HTML picture with alt text.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``hidden_sizes`` is not 1 to ``MAX_FRAMES`` distinct sizes, or a size or
        ``start`` is out of range.

    Examples
    --------
    >>> v = param_count_explorer([10, 100])
    >>> v.counts[1]
    [78500, 1010]
    """
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise _validate.fail_type("hidden_sizes", hidden_sizes, "a list of positive integers")
    # Up to a billion units each: the counts stay exact in the bar chart's 64-bit numbers.
    sizes = [_validate.check_int(f"hidden_sizes[{i}]", h, minimum=1, maximum=10**9)
             for i, h in enumerate(hidden_sizes)]
    if not 1 <= len(sizes) <= MAX_FRAMES:
        raise _validate.fail_value("hidden_sizes", hidden_sizes, f"1 to {MAX_FRAMES} sizes")
    if len(set(sizes)) != len(sizes):
        raise _validate.fail_value("hidden_sizes", hidden_sizes, "distinct sizes")
    n_inputs = _validate.check_int("n_inputs", n_inputs, minimum=1, maximum=10**9)
    n_outputs = _validate.check_int("n_outputs", n_outputs, minimum=1, maximum=10**9)
    if start is None:
        start = int(np.argmin([abs(h - 100) for h in sizes]))
    start = _validate.check_int("start", start, minimum=0, maximum=len(sizes) - 1)

    all_counts = [mlp_param_counts(n_inputs, [h], n_outputs) for h in sizes]
    top = max(sum(c) for c in all_counts)
    frames, alts = [], []
    for h, counts in zip(sizes, all_counts):
        fig, ax = plt.subplots(figsize=(6.4, 2.6))
        names = [f"hidden Dense({h})", f"output Dense({n_outputs})", "total"]
        values = [*counts, sum(counts)]
        formulas = [f"{n_inputs}·{h} + {h}", f"{h}·{n_outputs} + {n_outputs}", ""]
        bars = ax.barh(names[::-1], values[::-1], color=["#555555", "#d62728", "#1f77b4"])
        for bar, value, formula in zip(bars, values[::-1], formulas[::-1]):
            text = f"{value:,}" + (f"  = {formula}" if formula else "")
            ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, text,
                    va="center", fontsize=9)
        ax.set_xlim(0, top * 1.6)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("parameters (weights + biases), same scale in every frame")
        ax.set_title(f"Flatten → Dense({h}) → Dense({n_outputs}): {sum(counts):,} parameters",
                     fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        frames.append(figure_to_png(fig, colors=16))
        alts.append(f"Bar chart for a hidden layer of {h} units: hidden layer {counts[0]:,} parameters "
                    f"({n_inputs}·{h} + {h}), output layer {counts[1]:,} ({h}·{n_outputs} + {n_outputs}), "
                    f"total {sum(counts):,}")
    viewer = stack_viewer(frames, [str(h) for h in sizes], description="Hidden units:",
                          control="slider", start=start, alt=alts)
    viewer.counts = all_counts
    return viewer


def activation_and_slope(name: str, z: object) -> tuple[np.ndarray, np.ndarray]:
    """An activation function and its derivative, evaluated at ``z``.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu"}
        The activation.
    z : array-like of float
        Where to evaluate it (the unit's weighted sum).

    Returns
    -------
    (ndarray, ndarray)
        The activation's values and its slope (for ReLU, 0 is used at z = 0).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For an unknown name, or a ``z`` that is not an array of finite numbers.

    Examples
    --------
    >>> a, s = activation_and_slope("sigmoid", [0.0])
    >>> float(a[0]), float(s[0])
    (0.5, 0.25)
    """
    name = _validate.check_choice("name", name, ACTIVATIONS)
    z = _validate.check_array("z", z)
    z = np.asarray(z, dtype=float)
    if name == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    if name == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a ** 2
    return np.maximum(z, 0.0), (z > 0).astype(float)


def activation_explorer(names: Sequence[str] = ACTIVATIONS, *, z_max: float = 6.0,
                        flat_below: float = 0.05) -> StackViewer:
    """Toggle buttons switching between plots of an activation and its derivative.

    Where the derivative is below ``flat_below`` the plot is shaded: there the
    unit is *saturated*, and almost no gradient flows back through it.

    Parameters
    ----------
    names : sequence of {"sigmoid", "tanh", "relu"}, default all three
        Which activations to offer, distinct.
    z_max : float, default 6.0
        The plots span ``-z_max`` to ``z_max`` (1 to 50).
    flat_below : float, default 0.05
        Slope under which the region is shaded as flat (0 to 1, exclusive).

    Returns
    -------
    StackViewer
        ``control`` is a ``ToggleButtons`` with the activation names.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For unknown or repeated names, or ``z_max`` or ``flat_below`` out of range.

    Examples
    --------
    >>> v = activation_explorer(["sigmoid", "relu"])
    >>> v.control.index = 1
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise _validate.fail_type("names", names, f"a list drawn from {list(ACTIVATIONS)}")
    names = [_validate.check_choice(f"names[{i}]", n, ACTIVATIONS) for i, n in enumerate(names)]
    if not names or len(set(names)) != len(names):
        raise _validate.fail_value("names", names, f"one or more distinct names from {list(ACTIVATIONS)}")
    z_max = _validate.check_float("z_max", z_max, minimum=1.0, maximum=50.0)
    flat_below = _validate.check_float("flat_below", flat_below, minimum=0.0, maximum=1.0,
                                       inclusive=False)
    z = np.linspace(-z_max, z_max, 601)
    frames, alts = [], []
    for name in names:
        a, slope = activation_and_slope(name, z)
        fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(6.8, 2.6))
        for ax in (ax_f, ax_d):
            ax.fill_between(z, 0, 1, where=slope < flat_below, color="#f4c7c3",
                            transform=ax.get_xaxis_transform(), label=f"slope < {flat_below:g}")
            ax.axhline(0, color="grey", lw=0.6)
            ax.axvline(0, color="grey", lw=0.6)
            ax.set_xlabel("z (weighted sum)")
        ax_f.plot(z, a, color="#1f77b4", lw=2)
        ax_f.set_title(f"{name}(z)", fontsize=10)
        ax_d.plot(z, slope, color="#d62728", lw=2)
        ax_d.set_ylim(-0.05, 1.1)
        ax_d.set_title(f"slope {name}'(z), largest {slope.max():.2f}", fontsize=10)
        ax_d.legend(loc="upper left", fontsize=8, frameon=False)
        fig.tight_layout()
        frames.append(figure_to_png(fig, colors=16))
        flat = "no flat region for positive z" if name == "relu" else "flat at both ends"
        alts.append(f"Left: {name}(z) from {-z_max:g} to {z_max:g}. Right: its slope, at most "
                    f"{slope.max():.2f}; shaded where the slope is below {flat_below:g} ({flat})")
    return stack_viewer(frames, names, description="Activation:", control="toggle", alt=alts)
