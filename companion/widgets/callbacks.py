"""Early stopping seen from the outside: where each patience stopped, and what it kept.

Chapter 9 trains the same seeded model several times with
``keras.callbacks.EarlyStopping(patience=p, restore_best_weights=True)`` and
hands the results to :func:`early_stopping_viewer`: a slider over the
patience values whose precomputed frames show the validation curve of each
run, the epoch where training stopped and the epoch whose weights were
restored. The frames switch in the browser, so the widget also works on the
static web page.

The early-stopping rule itself is not re-implemented here: the chapter passes
in what the callbacks reported (``best_epoch``, the number of epochs run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate
from ._core import MAX_FRAMES, StackViewer, figure_to_png, stack_viewer

__all__ = ["early_stopping_viewer"]


def _series(name: str, value: Any) -> np.ndarray:
    arr = _validate.check_array(name, value, ndim=1)
    return arr.astype(float)


def early_stopping_viewer(runs: Mapping[str, Mapping[str, Any]], *,
                          reference: Sequence[float] | None = None,
                          description: str = "Patience:",
                          start: int = 0) -> StackViewer:
    """A slider over early-stopped runs: the curve, the stop and the restored epoch.

    Each frame draws one run's training loss (solid) and validation loss
    (dashed) for the epochs it ran, a vertical line after its last epoch
    ("stopped here") and a star on the epoch whose weights
    ``restore_best_weights`` brought back. An optional ``reference`` curve
    (for example the validation loss of a run that did not stop) is drawn in light
    grey behind, so the reader sees what the stopped runs did not. All frames
    share the same axes. Epochs are numbered from 1, as ``fit`` prints them.

    Parameters
    ----------
    runs : mapping of str to dict
        ``{label: run}`` with 1 to ``MAX_FRAMES`` runs. Each run is a dict with
        ``"loss"`` and ``"val_loss"`` (lists of equal, non-zero length, one
        value per epoch run) and ``"best_epoch"``, the 0-based epoch that
        ``EarlyStopping.best_epoch`` reported (0 <= best_epoch < epochs run).
    reference : sequence of float, optional
        A validation-loss curve drawn in grey in every frame.
    description : str, default "Patience:"
        Label in front of the slider.
    start : int, default 0
        Index of the frame shown first.

    Returns
    -------
    StackViewer
        ``control`` is a SelectionSlider of the labels.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``runs`` is not such a mapping, a run lacks a key, its series differ
        in length, or ``best_epoch`` is outside the epochs run.

    Examples
    --------
    >>> runs = {"0": {"loss": [0.6, 0.5], "val_loss": [0.5, 0.52], "best_epoch": 0},
    ...         "2": {"loss": [0.6, 0.5, 0.45, 0.42], "val_loss": [0.5, 0.52, 0.49, 0.5],
    ...               "best_epoch": 2}}
    >>> viewer = early_stopping_viewer(runs)
    >>> viewer.control.index = 1
    >>> viewer.index
    1
    """
    if not isinstance(runs, Mapping):
        raise _validate.fail_type("runs", runs, "a dict {label: {'loss', 'val_loss', 'best_epoch'}}")
    if not 1 <= len(runs) <= MAX_FRAMES:
        raise _validate.fail_value("runs", f"{len(runs)} runs", f"1 to {MAX_FRAMES} runs")
    parsed: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for label, run in runs.items():
        if not isinstance(label, str) or not label.strip():
            raise _validate.fail_type("runs", label, "non-empty string labels")
        where = f"runs[{label!r}]"
        if not isinstance(run, Mapping) or not {"loss", "val_loss", "best_epoch"} <= set(run):
            raise _validate.fail_value(where, run, "a dict with 'loss', 'val_loss' and 'best_epoch'")
        loss = _series(f"{where}['loss']", run["loss"])
        val = _series(f"{where}['val_loss']", run["val_loss"])
        if loss.shape != val.shape:
            raise _validate.fail_value(where, run, "'loss' and 'val_loss' of equal length")
        best = _validate.check_int(f"{where}['best_epoch']", run["best_epoch"],
                                   minimum=0, maximum=len(val) - 1)
        parsed[label] = (loss, val, best)
    ref = None if reference is None else _series("reference", reference)
    if not isinstance(description, str):
        raise _validate.fail_type("description", description, "a string")
    start = _validate.check_int("start", start, minimum=0, maximum=len(parsed) - 1)

    # The y-range follows the validation curves (the interesting part); an early
    # training loss above them is clipped at the top.
    vals = [va for _, va, _ in parsed.values()] + ([ref] if ref is not None else [])
    lows = [lo for lo, _, _ in parsed.values()] + vals
    lo_y = max(float(min(v.min() for v in lows)), -_validate.LARGEST)  # so the padding cannot overflow
    hi_y = min(float(max(v.max() for v in vals)), _validate.LARGEST)
    lo_y = min(lo_y, hi_y)
    pad = 0.05 * (hi_y - lo_y or 1.0)
    n_max = max([len(v) for _, v, _ in parsed.values()] + ([len(ref)] if ref is not None else []))
    frames, alts = [], []
    for label, (loss, val, best) in parsed.items():
        n = len(val)
        epochs = np.arange(1, n + 1)
        fig, ax = plt.subplots(figsize=(6.2, 3.2))
        if ref is not None:
            ax.plot(np.arange(1, len(ref) + 1), ref, color="0.8", linestyle="--", linewidth=1,
                    label="validation, full run")
        ax.plot(epochs, loss, color="tab:blue", label="training")
        ax.plot(epochs, val, color="tab:orange", linestyle="--", label="validation")
        ax.axvline(n + 0.5, color="tab:red", linewidth=1)
        right = n < 0.75 * n_max
        ax.text(n + (0.7 if right else 0.3), hi_y, f"stopped after\n{n} epochs", color="tab:red",
                fontsize=8, va="top", ha="left" if right else "right")
        ax.plot(best + 1, val[best], marker="*", markersize=12, color="tab:green",
                linestyle="none", label=f"restored: epoch {best + 1}")
        ax.set_xlim(0.5, n_max + 0.5)
        ax.set_ylim(lo_y - pad, hi_y + pad)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(f"{description} {label}: ran {n} epochs, best val loss "
                     f"{val[best]:.4f} (epoch {best + 1})", fontsize=9)
        ax.legend(fontsize=7, loc="lower left")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        frames.append(figure_to_png(fig))
        alts.append(f"Training and validation loss of the run with {description.rstrip(':').lower()} "
                    f"{label}: it ran {n} epochs and restored epoch {best + 1}, whose validation "
                    f"loss is {val[best]:.4f}")
    return stack_viewer(frames, list(parsed), description=description, control="slider",
                        start=start, alt=alts)
