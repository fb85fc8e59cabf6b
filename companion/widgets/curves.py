"""Loss curves of precomputed runs: a viewer over runs and a player over epochs.

Chapter 5 trains a few models and keeps their histories (one value per epoch
for ``loss`` and ``val_loss``). This module draws those curves with the epoch
of minimum validation loss marked, and turns them into widgets that keep
working on the static web page:

- :func:`curve_viewer` switches between runs (for example learning rates)
  with a slider; every frame uses the same axes, so the curves can be
  compared by eye;
- :func:`epoch_player` replays one run epoch by epoch (a ``Play`` button
  driving a slider), marking the best epoch *seen so far*, as a person
  watching training would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ..plots import _as_history_dict
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["plot_loss_curves", "curve_viewer", "epoch_player", "EpochPlayer"]


def _loss_series(name: str, history: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (loss, val_loss) of one run, checking both are there."""
    hist = _as_history_dict(name, history)
    for key in ("loss", "val_loss"):
        if key not in hist:
            raise _validate.fail_value(
                name, sorted(hist), "a history with 'loss' and 'val_loss' (fit with validation data)")
    return np.asarray(hist["loss"], dtype=float), np.asarray(hist["val_loss"], dtype=float)


def _ylim(name: str, ylim: Any) -> tuple[float, float] | None:
    return None if ylim is None else _validate.check_limits(name, ylim)


def _best(val: np.ndarray) -> int | None:
    """0-based epoch of the lowest validation loss; None when every value is NaN."""
    return None if np.all(np.isnan(val)) else int(np.nanargmin(val))


def plot_loss_curves(history: Any, *, upto: int | None = None, max_epochs: int | None = None,
                     ylim: Sequence[float] | None = None, title: str | None = None,
                     figsize: tuple[float, float] = (5.6, 3.3)) -> Figure:
    """Draw training and validation loss per epoch, with the best epoch marked.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        One run with ``loss`` and ``val_loss`` (what ``fit`` returned with
        validation data, or its ``.history`` dict).
    upto : int, optional
        Draw only the first ``upto`` epochs (1 to the run's length); the best
        epoch marked is then the best among those. Default: all.
    max_epochs : int, optional
        Right end of the x-axis, so several figures share one scale. Default:
        the run's length.
    ylim : pair of float, optional
        Y-axis limits, e.g. ``(0.2, 0.6)``.
    title : str, optional
        Title of the plot.
    figsize : pair of float, default (5.6, 3.3)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Training loss solid, validation loss dashed; a dot and a dotted
        vertical line at the epoch of minimum validation loss.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If the history has no ``val_loss``, or an argument is out of range
        (``figsize``: 1 to 30 inches each way). A run whose validation loss
        is all NaN is drawn without a best epoch.

    Examples
    --------
    >>> fig = plot_loss_curves({"loss": [0.6, 0.4, 0.3], "val_loss": [0.5, 0.45, 0.5]})
    >>> fig.axes[0].get_title()
    'best epoch 2: validation loss 0.450'
    """
    loss, val = _loss_series("history", history)
    n = len(loss)
    upto = n if upto is None else _validate.check_int("upto", upto, minimum=1, maximum=n)
    max_epochs = (n if max_epochs is None else
                  _validate.check_int("max_epochs", max_epochs, minimum=n, maximum=max(n, 100_000)))
    lim = _ylim("ylim", ylim)
    if title is not None:
        title = _validate.check_str("title", title)
    size = _validate.check_array("figsize", figsize, ndim=1)
    if size.shape != (2,) or not np.all((size >= 1) & (size <= 30)):
        raise _validate.fail_value("figsize", figsize, "a pair (width, height) in inches, each from 1 to 30")
    fig, ax = plt.subplots(figsize=(float(size[0]), float(size[1])))
    epochs = np.arange(1, upto + 1)
    ax.plot(epochs, loss[:upto], "-", color="tab:blue", label="training loss")
    ax.plot(epochs, val[:upto], "--", color="tab:orange", label="validation loss")
    best = _best(val[:upto])
    if best is None:
        headline = "no validation loss to mark: every value is NaN (the run diverged)"
    else:
        ax.axvline(best + 1, color="0.5", linestyle=":", linewidth=1)
        ax.plot(best + 1, val[best], "o", color="tab:red", markersize=6,
                label="minimum validation loss")
        headline = f"best epoch {best + 1}: validation loss {val[best]:.3f}"
    ax.set_title(headline if title is None else f"{title}\n{headline}", fontsize=9)
    ax.set_xlim(0.5, max_epochs + 0.5)
    if lim is not None:
        ax.set_ylim(*lim)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def _shared_ylim(series: list[np.ndarray]) -> tuple[float, float]:
    values = np.concatenate(series)
    values = values[np.abs(values) <= _validate.LARGEST]  # finite and drawable
    if not values.size:  # nothing finite to fit: any scale will do
        return 0.0, 1.0
    low, high = float(values.min()), float(np.percentile(values, 97))
    pad = 0.05 * (high - low) or 0.05 * (abs(low) or 1.0)
    bottom = max(0.0, low - pad) if low >= 0 else low - pad
    return max(bottom, -_validate.LARGEST), min(high + pad, _validate.LARGEST)


def curve_viewer(runs: Mapping[Any, Any], *, description: str = "learning rate",
                 start: int = 0, ylim: Sequence[float] | None = None,
                 caption: str | None = None) -> StackViewer:
    """A slider over precomputed runs, each shown as loss curves with its best epoch.

    Parameters
    ----------
    runs : dict
        ``{label: history}``, 1 to 12 runs, each with ``loss`` and
        ``val_loss`` (History objects or ``.history`` dicts, such as what
        :func:`companion.experiments.sweep` returns). A label that is not a
        string (e.g. a learning rate) is shown as ``str(label)``.
    description : str, default "learning rate"
        Label in front of the slider.
    start : int, default 0
        Index of the run shown first.
    ylim : pair of float, optional
        Y-axis limits shared by all frames; default: fitted to all runs.
    caption : str, optional
        A line of HTML above the slider.

    Returns
    -------
    StackViewer
        ``control`` is a ``SelectionSlider`` over the labels; its index is
        ``jslink``-ed to the stack of frames, so it works without a kernel.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``runs`` is not a non-empty dict of at most 12 runs with
        ``loss`` and ``val_loss``.

    Examples
    --------
    >>> runs = {"0.001": {"loss": [0.5, 0.3], "val_loss": [0.4, 0.45]},
    ...         "0.0001": {"loss": [0.9, 0.6], "val_loss": [0.8, 0.6]}}
    >>> viewer = curve_viewer(runs)
    >>> viewer.control.value = "0.0001"
    >>> viewer.index
    1
    """
    if not isinstance(runs, Mapping):
        raise _validate.fail_type("runs", runs, "a dict {label: history}")
    if not 1 <= len(runs) <= MAX_FRAMES:
        raise _validate.fail_value("runs", f"{len(runs)} runs", f"1 to {MAX_FRAMES} runs")
    labels = [_validate.check_str("runs (a label)", str(k)) for k in runs]
    if len(set(labels)) != len(labels):
        raise _validate.fail_value("runs", labels, "distinct labels, one per run")
    series = {label: _loss_series(f"runs[{label!r}]", run) for label, run in zip(labels, runs.values())}
    description = _validate.check_str("description", description, nonempty=False)
    start = _validate.check_int("start", start, minimum=0, maximum=len(runs) - 1)
    if caption is not None:
        caption = _validate.check_str("caption", caption, nonempty=False)
    lim = _ylim("ylim", ylim) or _shared_ylim([s for pair in series.values() for s in pair])
    max_epochs = max(len(loss) for loss, _ in series.values())
    frames, alts = [], []
    for label, (loss, val) in series.items():
        best = _best(val)
        frames.append(figure_to_png(plot_loss_curves(
            {"loss": loss, "val_loss": val}, max_epochs=max_epochs, ylim=lim,
            title=f"{description} {label}".strip())))
        lowest = ("every value is NaN" if best is None else
                  f"is lowest ({val[best]:.3f}) at epoch {best + 1} and ends at {val[-1]:.3f}")
        alts.append(f"Loss curves for {description} {label} over {len(loss)} epochs: training loss "
                    f"ends at {loss[-1]:.3f}, validation loss {lowest}")
    return stack_viewer(frames, labels, description=description, control="slider", start=start,
                        caption=caption, alt=alts)


class EpochPlayer(widgets.VBox):
    """A ``Play`` button and a slider over "epochs seen so far", switching frames.

    Build it with :func:`epoch_player`. ``play``, ``viewer`` (a
    :class:`StackViewer`) and ``epochs`` are its parts; ``index`` is the frame
    on show.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``play`` is not a ``Play`` widget, ``viewer`` not a StackViewer, or
        ``epochs`` not one epoch number per frame.
    """

    def __init__(self, play: widgets.Play, viewer: StackViewer, epochs: list[int]):
        if not isinstance(play, widgets.Play):
            raise _validate.fail_type("play", play, "an ipywidgets.Play button")
        if not isinstance(viewer, StackViewer):
            raise _validate.fail_type("viewer", viewer, "a StackViewer (from stack_viewer)")
        if isinstance(epochs, (str, bytes)) or not isinstance(epochs, Sequence):
            raise _validate.fail_type("epochs", epochs, "a list of epoch numbers, one per frame")
        epochs = [_validate.check_int(f"epochs[{i}]", e, minimum=1) for i, e in enumerate(epochs)]
        if len(epochs) != len(viewer.frames):
            raise _validate.fail_value("epochs", epochs, f"one epoch number per frame of `viewer` "
                                       f"({len(viewer.frames)})")
        self.play = play
        self.viewer = viewer
        self.epochs = epochs
        # Browser side (no kernel): Play.value -> slider.index -> stack.
        self.play_link = widgets.jslink((play, "value"), (viewer.control, "index"))
        play.observe(self._sync, names="value")
        super().__init__(children=[widgets.HBox([play, viewer.control]), viewer.stack])

    def _sync(self, change: dict) -> None:
        self.viewer.control.index = change["new"]

    @property
    def index(self) -> int:
        return self.viewer.index


def epoch_player(history: Any, epochs: Sequence[int], *, ylim: Sequence[float] | None = None,
                 title: str | None = None, interval: int = 900) -> EpochPlayer:
    """Replay one run's loss curves epoch by epoch, marking the best epoch so far.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        One run with ``loss`` and ``val_loss``.
    epochs : sequence of int
        The numbers of epochs to show, increasing, each from 1 to the run's
        length, at most 12 of them, e.g. ``[2, 4, 6, ..., 20]``.
    ylim : pair of float, optional
        Y-axis limits shared by all frames; default: fitted to the run.
    title : str, optional
        Title of every frame.
    interval : int, default 900
        Milliseconds between frames when playing (100 to 5000).

    Returns
    -------
    EpochPlayer

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``epochs`` is not an increasing list of 1 to 12 valid epoch
        numbers, or the history has no ``val_loss``.

    Examples
    --------
    >>> hist = {"loss": [0.6, 0.4, 0.3, 0.2], "val_loss": [0.5, 0.4, 0.42, 0.5]}
    >>> player = epoch_player(hist, [2, 4])
    >>> player.play.value = 1
    >>> player.index
    1
    """
    loss, val = _loss_series("history", history)
    if isinstance(epochs, (str, bytes)) or not isinstance(epochs, Sequence):
        raise _validate.fail_type("epochs", epochs, "a list of epoch numbers, e.g. [2, 4, 6]")
    if not 1 <= len(epochs) <= MAX_FRAMES:
        raise _validate.fail_value("epochs", epochs, f"1 to {MAX_FRAMES} epoch numbers")
    shown = [_validate.check_int("epochs", e, minimum=1, maximum=len(loss)) for e in epochs]
    if any(b <= a for a, b in zip(shown, shown[1:])):
        raise _validate.fail_value("epochs", epochs, "increasing epoch numbers")
    lim = _ylim("ylim", ylim) or _shared_ylim([loss, val])
    interval = _validate.check_int("interval", interval, minimum=100, maximum=5000)
    frames, alts = [], []
    if title is not None:
        title = _validate.check_str("title", title)
    for k in shown:
        best = _best(val[:k])
        frames.append(figure_to_png(plot_loss_curves(
            {"loss": loss, "val_loss": val}, upto=k, max_epochs=len(loss), ylim=lim, title=title)))
        alts.append(f"Loss curves after {k} of {len(loss)} epochs; " + (
            "no validation loss so far is a number" if best is None else
            f"the lowest validation loss so far ({val[best]:.3f}) was at epoch {best + 1}"))
    viewer = stack_viewer(frames, [str(k) for k in shown], description="epochs so far",
                          control="slider", alt=alts)
    play = widgets.Play(value=0, min=0, max=len(shown) - 1, step=1, interval=interval,
                        description="play")
    return EpochPlayer(play, viewer, shown)
