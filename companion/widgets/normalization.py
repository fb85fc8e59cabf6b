"""Widgets of chapter 8: per-layer activation statistics with and without normalization.

- :func:`layer_statistics` runs one batch through a ``Sequential`` model layer
  by layer and keeps, for every hidden ``Dense`` layer, its pre-activations
  (the weighted sums before any activation) and, when a ``BatchNormalization``
  or ``LayerNormalization`` layer follows, the normalized values that go on to
  the activation. Moving statistics of batch normalization are restored
  afterwards, so measuring never changes the model.
- :func:`plot_layer_statistics` draws, per layer, box plots of the per-unit
  mean and standard deviation of those values.
- :func:`normalization_viewer` puts precomputed plots behind toggle buttons
  (one per kind of normalization, and inside each one per state, such as "at
  initialization" and "after training"), so the widget reacts on the static
  web page too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["layer_statistics", "plot_layer_statistics", "normalization_viewer"]

_NORM_LAYERS = ("BatchNormalization", "LayerNormalization")


def layer_statistics(model: Any, x: Any, *, training: bool = True) -> list[dict[str, Any]]:
    """Collect the pre-activations (and normalized values) of each hidden Dense layer.

    Parameters
    ----------
    model : keras.Sequential
        A built model whose hidden layers are ``Dense`` layers, each optionally
        followed by a ``BatchNormalization`` or ``LayerNormalization`` layer.
        The last ``Dense`` layer is taken as the output layer and skipped.
    x : array-like
        One batch of inputs (at least 2 examples).
    training : bool, default True
        Passed to every layer: True uses the batch's own statistics in batch
        normalization (and dropout), False the moving statistics.

    Returns
    -------
    list of dict
        One dict per hidden Dense layer with keys ``"name"`` (the layer's
        name), ``"pre"`` (array ``(batch, units)``: ``x @ kernel + bias``, before
        any activation) and ``"normalized"`` (the output of the normalization
        layer that follows, or None).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``model`` is not a built ``Sequential`` model with a hidden Dense
        layer, or ``x`` is not a batch of at least 2 examples of its input shape.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
    ...                           keras.layers.BatchNormalization(),
    ...                           keras.layers.Dense(2)])  # doctest: +SKIP
    >>> stats = layer_statistics(model, np.ones((8, 4)))  # doctest: +SKIP
    >>> stats[0]["normalized"].shape  # doctest: +SKIP
    (8, 3)
    """
    import keras

    if not isinstance(model, keras.Sequential):
        raise _validate.fail_type("model", model, "a keras.Sequential model")
    training = _validate.check_bool("training", training)
    if not model.built:
        raise _validate.fail_value("model", model, "a built model (start it with keras.Input(shape=...))")
    arr = _validate.check_array("x", x)
    if len(arr) < 2:
        raise _validate.fail_value("x", x, "a batch of at least 2 examples")
    _validate.check_model_input("x", arr, model)
    dense_idx = [i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Dense)]
    if len(dense_idx) < 2:
        raise _validate.fail_value("model", model, "a model with at least one hidden Dense layer")
    hidden = set(dense_idx[:-1])
    saved = [(v, np.array(v.numpy())) for v in model.non_trainable_variables]
    stats: list[dict[str, Any]] = []
    h = keras.ops.convert_to_tensor(arr.astype("float32"))
    try:
        for i, layer in enumerate(model.layers):
            if i in hidden:
                pre = keras.ops.matmul(h, layer.kernel)
                if layer.bias is not None:
                    pre = pre + layer.bias
                stats.append({"name": layer.name, "pre": np.asarray(pre), "normalized": None})
            out = layer(h, training=training)
            if type(layer).__name__ in _NORM_LAYERS and stats and stats[-1]["normalized"] is None:
                stats[-1]["normalized"] = np.asarray(out)
            h = out
    finally:
        for var, value in saved:  # calling BN with training=True updates its moving statistics
            var.assign(value)
    return stats


def _check_stats(name: str, stats: Any) -> list[dict[str, Any]]:
    if not isinstance(stats, Sequence) or isinstance(stats, (str, bytes)) or not stats:
        raise _validate.fail_type(name, stats, "a non-empty list of dicts from layer_statistics()")
    if len(stats) > 6:
        raise _validate.fail_value(name, f"{len(stats)} layers", "at most 6 layers")
    for j, s in enumerate(stats):
        if not isinstance(s, Mapping) or "pre" not in s:
            raise _validate.fail_type(f"{name}[{j}]", s, "a dict with keys 'name', 'pre', 'normalized'")
        _validate.check_array(f"{name}[{j}]['pre']", s["pre"], ndim=2)
        if s.get("normalized") is not None:
            _validate.check_array(f"{name}[{j}]['normalized']", s["normalized"], ndim=2)
    return list(stats)


def plot_layer_statistics(stats: Sequence[Mapping[str, Any]], *, title: str = "",
                          std_max: float | None = None) -> Figure:
    """Box plots of the per-unit mean and standard deviation, layer by layer.

    For every hidden layer, one box shows the spread over the units of the
    pre-activations' mean (left panel) and standard deviation (right panel),
    both taken over the batch; a second, green box shows the same for the
    normalized values when the layer has a normalization layer.

    Parameters
    ----------
    stats : list of dict
        What :func:`layer_statistics` returned (1 to 6 layers).
    title : str, optional
        Title above the panels.
    std_max : float, optional
        Upper limit of the standard-deviation axis, to keep several figures on
        one scale.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``stats`` is not 1 to 6 dicts as :func:`layer_statistics` returns, or
        ``std_max`` is not a positive number.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = [{"name": "d", "pre": rng.normal(size=(32, 8)), "normalized": None}]
    >>> fig = plot_layer_statistics(s, title="demo")
    """
    stats = _check_stats("stats", stats)
    if not isinstance(title, str):
        raise _validate.fail_type("title", title, "a string")
    if std_max is not None:
        std_max = _validate.check_float("std_max", std_max, minimum=0.0, maximum=_validate.LARGEST,
                                          inclusive=False)
    fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(7.0, 2.8))
    positions, means, stds, colours, ticks, ticklabels = [], [], [], [], [], []
    pos = 0.0
    for j, s in enumerate(stats):
        parts = [("z", np.asarray(s["pre"], dtype=float), "tab:grey")]
        if s.get("normalized") is not None:
            parts.append(("norm", np.asarray(s["normalized"], dtype=float), "tab:green"))
        for label, values, colour in parts:
            positions.append(pos)
            means.append(values.mean(axis=0))
            stds.append(values.std(axis=0))
            colours.append(colour)
            ticks.append(pos)
            ticklabels.append(f"L{j + 1} {label}")
            pos += 1.0
        pos += 0.6
    for ax, data, what in ((ax_m, means, "mean"), (ax_s, stds, "std")):
        boxes = ax.boxplot(data, positions=positions, widths=0.7, patch_artist=True,
                           showfliers=False)
        for patch, colour in zip(boxes["boxes"], colours):
            patch.set_facecolor(colour)
            patch.set_alpha(0.6)
        ax.set_xticks(ticks, ticklabels, fontsize=8)
        ax.set_title(f"per-unit {what} over the batch", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    ax_m.axhline(0.0, color="black", lw=0.6)
    ax_s.axhline(1.0, color="black", lw=0.6, ls="--")
    ax_s.set_ylim(0.0, std_max if std_max is not None else None)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _describe(stats: list[dict[str, Any]]) -> str:
    parts = []
    for j, s in enumerate(stats):
        text = f"layer {j + 1}: pre-activation std {np.asarray(s['pre']).std(axis=0).mean():.2f}"
        if s.get("normalized") is not None:
            text += f", after normalization {np.asarray(s['normalized']).std(axis=0).mean():.2f}"
        parts.append(text)
    return "; ".join(parts)


def normalization_viewer(stats_by_model: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
                         *, std_max: float | None = None) -> StackViewer:
    """Toggle between models, and inside each between states, of per-layer statistics.

    Parameters
    ----------
    stats_by_model : dict
        ``{model label: {state label: stats}}`` where ``stats`` is what
        :func:`layer_statistics` returned, e.g.
        ``{"no normalization": {"at initialization": s0, "after training": s1}}``.
        Every model must have the same state labels. At most ``MAX_FRAMES``
        models and states.
    std_max : float, optional
        Common upper limit of the standard-deviation axes (default: the largest
        per-unit standard deviation of all frames, plus 10 %).

    Returns
    -------
    StackViewer
        Toggle buttons over the models; each frame is a :class:`StackViewer`
        with toggle buttons over the states (attribute ``viewers``).

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``stats_by_model`` is not such a dict (the same string state labels for
        every model), or ``std_max`` is not a positive number.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = [{"name": "d", "pre": rng.normal(size=(32, 8)), "normalized": None}]
    >>> v = normalization_viewer({"plain": {"start": s, "end": s}})
    >>> v.viewers[0].control.index = 1
    """
    if not isinstance(stats_by_model, Mapping) or not stats_by_model:
        raise _validate.fail_type("stats_by_model", stats_by_model,
                                  "a non-empty dict {model label: {state label: stats}}")
    if len(stats_by_model) > MAX_FRAMES:
        raise _validate.fail_value("stats_by_model", f"{len(stats_by_model)} models",
                                   f"at most {MAX_FRAMES} models")
    states = None
    checked: dict[str, dict[str, list]] = {}
    for model_label, by_state in stats_by_model.items():
        model_label = _validate.check_str("stats_by_model", model_label)
        where = f"stats_by_model[{model_label!r}]"
        if not isinstance(by_state, Mapping) or not by_state:
            raise _validate.fail_type(where, by_state, "a non-empty dict {state label: stats}")
        if len(by_state) > MAX_FRAMES:
            raise _validate.fail_value(where, f"{len(by_state)} states", f"at most {MAX_FRAMES} states")
        for st in by_state:
            _validate.check_str(f"{where} (a state label)", st)
        if states is None:
            states = list(by_state)
        elif list(by_state) != states:
            raise _validate.fail_value(where, list(by_state), f"the same states as the first model, {states}")
        checked[model_label] = {st: _check_stats(f"{where}[{st!r}]", s) for st, s in by_state.items()}
    if std_max is None:
        top = max(float(np.asarray(arr).std(axis=0).max())
                  for by_state in checked.values() for stats in by_state.values()
                  for s in stats for arr in (s["pre"], s.get("normalized")) if arr is not None)
        std_max = float(np.clip(1.1 * max(top, 1.0), 1.0, _validate.LARGEST / 2))  # an overflowing std: inf
    else:
        std_max = _validate.check_float("std_max", std_max, minimum=0.0, maximum=_validate.LARGEST,
                                          inclusive=False)
    viewers = []
    for model_label, by_state in checked.items():
        frames, alts = [], []
        for state, stats in by_state.items():
            fig = plot_layer_statistics(stats, title=f"{model_label}, {state}", std_max=std_max)
            frames.append(figure_to_png(fig))
            alts.append(f"{model_label}, {state}: box plots of the per-unit mean and standard "
                        f"deviation of each hidden layer's values for one batch; {_describe(stats)}")
        viewers.append(stack_viewer(frames, list(by_state), description="When:",
                                    control="toggle", alt=alts))
    outer = stack_viewer(viewers, list(checked), description="Model:", control="toggle")
    outer.viewers = viewers
    return outer
