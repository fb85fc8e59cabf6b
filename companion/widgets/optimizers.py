"""Optimizer paths on a 2-D loss surface: the update rules in plain NumPy.

Chapter 3 trains real networks with ``keras.optimizers``; this module shows
what those optimizers *do*, on a loss with only two weights, where a path can
be drawn. The loss is an elongated quadratic bowl

.. math:: f(w) = \\tfrac12 (h_1 w_1^2 + h_2 w_2^2),

gentle along :math:`w_1` and steep along :math:`w_2`. The update rules follow
Keras 3's implementations (``SGD`` with ``momentum`` and ``nesterov``,
``Adagrad``, ``RMSprop``, ``Adam``, with Keras's default ``rho``, ``beta_1``,
``beta_2``, ``epsilon`` and initial accumulator), so a path here is the path
Keras would take on the same loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["OPTIMIZERS", "bowl_loss", "bowl_gradient", "optimizer_path", "plot_optimizer_paths",
           "optimizer_explorer"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
"""Names accepted by :func:`optimizer_path`."""

_EPSILON = 1e-7          # Keras's default epsilon for all four adaptive/momentum optimizers
_DIVERGED = 1e6          # a path is cut once a weight exceeds this size
_COLORS = {"sgd": "tab:blue", "momentum": "tab:orange", "nesterov": "tab:green",
           "adagrad": "tab:brown", "rmsprop": "tab:purple", "adam": "tab:red"}
_NAMES = {"sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov", "adagrad": "Adagrad",
          "rmsprop": "RMSprop", "adam": "Adam"}


def _curvature(curvature: Any) -> np.ndarray:
    h = _validate.check_array("curvature", curvature, ndim=1)
    if h.shape != (2,) or not np.all(h > 0):
        raise _validate.fail_value("curvature", curvature, "two positive numbers, e.g. (1.0, 10.0)")
    return h.astype(float)


def _point(name: str, value: Any) -> np.ndarray:
    w = _validate.check_array(name, value, ndim=(1, 2))
    if w.shape[-1] != 2:
        raise _validate.fail_value(name, value, "a point (w1, w2) or an array of shape (n, 2)")
    return w.astype(float)


def bowl_loss(w: Any, curvature: Sequence[float] = (1.0, 10.0)) -> np.ndarray | float:
    """Loss of the elongated bowl ``0.5 * (h1 * w1**2 + h2 * w2**2)``.

    Parameters
    ----------
    w : array-like, shape (2,) or (n, 2)
        One point or several points.
    curvature : pair of float, default (1.0, 10.0)
        The curvatures ``h1, h2`` (second derivatives) along the two axes.

    Returns
    -------
    float or numpy.ndarray
        The loss at each point.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``w`` is not a point or points (w1, w2), or ``curvature`` not two positive
        numbers.

    Examples
    --------
    >>> float(bowl_loss([2.0, 1.0]))
    7.0
    """
    h = _curvature(curvature)
    p = _point("w", w)
    out = 0.5 * (p ** 2 * h).sum(axis=-1)
    return float(out) if p.ndim == 1 else out


def bowl_gradient(w: Any, curvature: Sequence[float] = (1.0, 10.0)) -> np.ndarray:
    """Gradient of :func:`bowl_loss`: ``(h1 * w1, h2 * w2)``.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        As :func:`bowl_loss`.

    Examples
    --------
    >>> bowl_gradient([2.0, 1.0])
    array([ 2., 10.])
    """
    return _curvature(curvature) * _point("w", w)


def optimizer_path(optimizer: str, learning_rate: float, *, steps: int = 40,
                   start: Sequence[float] = (-4.0, 1.5), momentum: float = 0.9,
                   curvature: Sequence[float] = (1.0, 10.0)) -> np.ndarray:
    """Follow one optimizer for a number of steps on the bowl.

    Parameters
    ----------
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
        The update rule, as Keras implements it: ``"sgd"`` is
        ``SGD(learning_rate)``, ``"momentum"`` is ``SGD(learning_rate, momentum=m)``,
        ``"nesterov"`` is ``SGD(learning_rate, momentum=m, nesterov=True)``; the
        other three use Keras's defaults apart from the learning rate.
    learning_rate : float
        Step size, > 0 and at most 100.
    steps : int, default 40
        Number of updates (1 to 1000).
    start : pair of float, default (-4.0, 1.5)
        Starting weights.
    momentum : float, default 0.9
        Momentum factor for ``"momentum"`` and ``"nesterov"`` (0 <= m < 1).
    curvature : pair of float, default (1.0, 10.0)
        Curvatures of the bowl (see :func:`bowl_loss`).

    Returns
    -------
    numpy.ndarray, shape (steps + 1, 2)
        The weights before the first step and after each step. If the path
        diverges (a weight beyond 1e6), the rows after that are NaN.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For an unknown optimizer, or an argument out of the ranges above.

    Examples
    --------
    >>> path = optimizer_path("adam", 0.1, steps=1)
    >>> np.round(np.abs(path[1] - path[0]), 6)   # Adam's first step: lr in every coordinate
    array([0.1, 0.1])
    """
    optimizer = _validate.check_choice("optimizer", optimizer, OPTIMIZERS)
    lr = _validate.check_float("learning_rate", learning_rate, minimum=0.0, maximum=100.0, inclusive=True)
    if lr == 0.0:
        raise _validate.fail_value("learning_rate", learning_rate, "a number > 0 and <= 100")
    steps = _validate.check_int("steps", steps, minimum=1, maximum=1000)
    w = _point("start", start)
    if w.ndim != 1:
        raise _validate.fail_value("start", start, "one point (w1, w2)")
    beta = _validate.check_float("momentum", momentum, minimum=0.0, maximum=1.0)
    if beta == 1.0:
        raise _validate.fail_value("momentum", momentum, "a number >= 0 and < 1")
    h = _curvature(curvature)

    path = np.full((steps + 1, 2), np.nan)
    path[0] = w
    m = np.zeros(2)                          # velocity (SGD) or first moment (Adam)
    v = np.full(2, 0.1) if optimizer == "adagrad" else np.zeros(2)   # Keras's initial accumulator
    for t in range(1, steps + 1):
        g = h * w
        if optimizer == "sgd":
            w = w - lr * g
        elif optimizer in ("momentum", "nesterov"):
            m = beta * m - lr * g
            # Nesterov: the step includes the velocity's next move (a look-ahead);
            # still one gradient per step.
            w = w + (beta * m - lr * g if optimizer == "nesterov" else m)
        elif optimizer == "adagrad":
            v = v + g ** 2
            w = w - lr * g / np.sqrt(v + _EPSILON)
        elif optimizer == "rmsprop":
            v = 0.9 * v + 0.1 * g ** 2
            w = w - lr * g / np.sqrt(v + _EPSILON)
        else:  # adam, as keras.optimizers.Adam computes it
            m = m + (g - m) * (1 - 0.9)
            v = v + (g ** 2 - v) * (1 - 0.999)
            alpha = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            w = w - m * alpha / (np.sqrt(v) + _EPSILON)
        if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > _DIVERGED:
            break
        path[t] = w
    return path


def _label(optimizer: str, momentum: float) -> str:
    if optimizer in ("momentum", "nesterov"):
        return f"{_NAMES[optimizer]} {momentum:g}"
    return _NAMES[optimizer]


def _draw(paths: dict[str, np.ndarray], colors: dict[str, str], curvature: np.ndarray,
          title: str, figsize: tuple[float, float]) -> Figure:
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.9, 1]})
    x1, x2 = np.meshgrid(np.linspace(-5, 5, 161), np.linspace(-2.5, 2.5, 101))
    z = 0.5 * (curvature[0] * x1 ** 2 + curvature[1] * x2 ** 2)
    ax.contour(x1, x2, z, levels=[0.1, 0.5, 1, 2, 4, 8, 16, 32], colors="0.75", linewidths=0.8)
    ax.plot(0, 0, marker="*", color="black", markersize=10, linestyle="none")
    for label, path in paths.items():
        ok = np.all(np.isfinite(path), axis=1)
        ax.plot(path[ok, 0], path[ok, 1], "-o", color=colors[label], markersize=2.5, linewidth=1.1,
                label=label)
        losses = 0.5 * (path ** 2 * curvature).sum(axis=1)
        ax_loss.semilogy(np.arange(len(path))[ok], np.maximum(losses[ok], 1e-6), color=colors[label])
        if not ok.all():
            ax_loss.annotate("diverged", xy=(np.flatnonzero(ok)[-1], 1e3), color=colors[label],
                             fontsize=8)
    ax.plot(*next(iter(paths.values()))[0], marker="s", color="black", markersize=5)
    ax.set_xlim(-5, 5)
    ax.set_ylim(-2.5, 2.5)
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$ (gentle)")
    ax.set_ylabel("$w_2$ (steep)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    ax_loss.set_ylim(1e-6, 1e4)
    ax_loss.set_xlabel("step")
    ax_loss.set_title("loss (log scale)", fontsize=9)
    ax_loss.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_optimizer_paths(optimizers: Sequence[str] = ("sgd", "momentum", "nesterov", "rmsprop", "adam"),
                         learning_rate: float = 0.05, *, steps: int = 40, momentum: float = 0.9,
                         start: Sequence[float] = (-4.0, 1.5),
                         curvature: Sequence[float] = (1.0, 10.0)) -> Figure:
    """Draw several optimizers' paths on the bowl's contour plot, with their losses.

    Parameters
    ----------
    optimizers : sequence of str
        Names from :data:`OPTIMIZERS` (1 to 6, distinct).
    learning_rate : float, default 0.05
        The same learning rate for every optimizer.
    steps, momentum, start, curvature
        As in :func:`optimizer_path`.

    Returns
    -------
    matplotlib.figure.Figure
        Left: contours of the loss, the start (square), the minimum (star) and
        each path. Right: the loss after each step, on a log scale.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        For unknown or repeated optimizer names, or an argument out of range (see
        :func:`optimizer_path`).

    Examples
    --------
    >>> fig = plot_optimizer_paths(["sgd", "adam"], 0.1, steps=10)
    >>> len(fig.axes)
    2
    """
    names = _validate.check_sequence_of_str("optimizers", optimizers)
    if len(names) > len(OPTIMIZERS) or len(set(names)) != len(names):
        raise _validate.fail_value("optimizers", optimizers, "1 to 6 distinct names from " + ", ".join(OPTIMIZERS))
    for name in names:
        _validate.check_choice("optimizers", name, OPTIMIZERS)
    paths, colors = {}, {}
    for name in names:
        path = optimizer_path(name, learning_rate, steps=steps, start=start, momentum=momentum,
                              curvature=curvature)  # checks the arguments before they are printed
        label = _label(name, momentum)
        paths[label] = path
        colors[label] = _COLORS[name]
    return _draw(paths, colors, _curvature(curvature), f"learning rate {learning_rate:g}, {steps} steps",
                 (9.0, 3.4))


def optimizer_explorer(choices: Sequence[tuple[str, float]] | None = None, *,
                       learning_rates: dict[str, Sequence[float]] | None = None, steps: int = 40,
                       start: Sequence[float] = (-4.0, 1.5),
                       curvature: Sequence[float] = (1.0, 10.0)) -> StackViewer:
    """A widget: pick an optimizer (and momentum), slide the learning rate, see the path.

    Every frame is drawn in advance, so the widget also works in the static
    HTML page: toggle buttons choose the optimizer, each shows its own
    learning-rate slider.

    Parameters
    ----------
    choices : sequence of (name, momentum) pairs, optional
        The optimizers offered, e.g. ``[("sgd", 0), ("momentum", 0.5)]``; the
        momentum is used by ``"momentum"`` and ``"nesterov"`` only. Default:
        SGD, momentum 0.5, momentum 0.9, Nesterov 0.9, RMSprop and Adam.
    learning_rates : dict, optional
        ``{"sgd": [...], "adaptive": [...]}``: the learning rates of the
        slider for the SGD family and for Adagrad/RMSprop/Adam (1 to 12 each).
        Default: 0.01-0.4 for the SGD family, 0.01-1 for the adaptive ones.
    steps, start, curvature
        As in :func:`optimizer_path`.

    Returns
    -------
    StackViewer
        ``control`` is the toggle of optimizers; each frame of its ``stack``
        is itself a :class:`StackViewer` with a learning-rate slider.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``choices`` is not a list of (name, momentum) pairs, ``learning_rates`` not
        such a dict, or an argument out of range (see :func:`optimizer_path`).

    Examples
    --------
    >>> w = optimizer_explorer([("sgd", 0.0), ("adam", 0.0)],
    ...                        learning_rates={"sgd": [0.1, 0.3], "adaptive": [0.1]}, steps=5)
    >>> w.control.index = 1
    >>> w.index
    1
    """
    if choices is None:
        choices = [("sgd", 0.0), ("momentum", 0.5), ("momentum", 0.9), ("nesterov", 0.9),
                   ("rmsprop", 0.0), ("adam", 0.0)]
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence) or not choices:
        raise _validate.fail_type("choices", choices, "a list of (optimizer name, momentum) pairs")
    if len(choices) > MAX_FRAMES:
        raise _validate.fail_value("choices", choices, f"at most {MAX_FRAMES} optimizers")
    rates = {"sgd": [0.01, 0.03, 0.1, 0.19, 0.21, 0.4], "adaptive": [0.01, 0.03, 0.1, 0.3, 1.0]}
    if learning_rates is not None:
        if not isinstance(learning_rates, dict) or not set(learning_rates) <= {"sgd", "adaptive"}:
            raise _validate.fail_type("learning_rates", learning_rates,
                                      'a dict with keys "sgd" and/or "adaptive", each a list of rates')
        rates.update(learning_rates)
    for key, values in rates.items():
        arr = _validate.check_array(f"learning_rates[{key!r}]", values, ndim=1)
        if (len(arr) > MAX_FRAMES or not np.all((arr > 0) & (arr <= 100))
                or len({f"{v:g}" for v in arr}) != len(arr)):
            raise _validate.fail_value(f"learning_rates[{key!r}]", values,
                                       f"1 to {MAX_FRAMES} distinct learning rates, each > 0 and <= 100")
    h = _curvature(curvature)
    viewers, labels = [], []
    for i, pair in enumerate(choices):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise _validate.fail_type(f"choices[{i}]", pair, "a pair (optimizer name, momentum)")
        name, beta = pair
        _validate.check_choice(f"choices[{i}][0]", name, OPTIMIZERS)
        beta = _validate.check_float(f"choices[{i}][1]", beta, minimum=0.0, maximum=0.999)
        label = _label(name, beta)
        if label in labels:
            raise _validate.fail_value("choices", choices, "distinct optimizers")
        family = "sgd" if name in ("sgd", "momentum", "nesterov") else "adaptive"
        frames = []
        for lr in rates[family]:
            path = optimizer_path(name, float(lr), steps=steps, start=start, momentum=beta, curvature=h)
            final = 0.5 * float((path[-1] ** 2 * h).sum())
            result = "diverged" if not np.isfinite(final) else f"loss after {steps} steps: {final:.2g}"
            fig = _draw({label: path}, {label: _COLORS[name]}, h, f"{label}, learning rate {lr:g}: {result}",
                        (7.2, 2.7))
            frames.append(figure_to_png(fig, colors=32))
        viewers.append(stack_viewer(frames, [f"{lr:g}" for lr in rates[family]],
                                    description="Learning rate:", control="slider",
                                    start=min(2, len(frames) - 1)))
        labels.append(label)
    return stack_viewer(viewers, labels, description="Optimizer:", control="toggle")
