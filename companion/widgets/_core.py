"""Widgets that keep working in the static HTML book.

The pattern: every choice a reader can make is computed in advance (one
picture per choice), the pictures go into an ``ipywidgets.Stack``, and the
control's ``index`` is linked to the stack's ``selected_index`` with
``jslink``. The link lives in the browser, so the widget reacts on the built
web page where no Python kernel runs. A Python-side observer keeps the two in
step inside a kernel too (and lets the tests check the effect).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import _validate
from ..plots import plot_probabilities

__all__ = ["figure_to_png", "png_frame", "StackViewer", "stack_viewer", "class_browser",
           "probability_viewer", "MAX_FRAMES"]

MAX_FRAMES = 12
"""Most frames one widget may hold: each frame is embedded in the HTML page."""


def png_frame(png: bytes, alt: str) -> widgets.HTML:
    """Wrap PNG bytes in an HTML widget showing the picture with its alt text.

    ``ipywidgets.Image`` cannot carry alt text; an ``<img>`` in an HTML widget
    can, and it switches in a ``Stack`` just the same. The bytes stay
    available as the widget's ``png`` attribute.

    Parameters
    ----------
    png : bytes
        PNG data (see :func:`figure_to_png`).
    alt : str
        What the picture shows, for readers who cannot see it.

    Returns
    -------
    ipywidgets.HTML

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``png`` is not non-empty bytes or ``alt`` not a non-empty string.

    Examples
    --------
    >>> frame = png_frame(b"\\x89PNG...", "a test picture")
    >>> 'alt="a test picture"' in frame.value
    True
    """
    if not isinstance(png, (bytes, bytearray)) or not png:
        raise _validate.fail_type("png", png, "non-empty PNG bytes")
    alt = _validate.check_str("alt", alt)
    data = base64.b64encode(bytes(png)).decode("ascii")
    frame = widgets.HTML(f'<img alt="{html.escape(alt, quote=True)}" '
                         f'src="data:image/png;base64,{data}" style="max-width:100%">')
    frame.png = bytes(png)
    return frame


def figure_to_png(fig: Figure, *, dpi: int = 72, colors: int = 64) -> bytes:
    """Render a figure to compact PNG bytes and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : int, default 72
        Resolution; 72 keeps a 5x3 inch figure around 15-30 KB.
    colors : int, default 64
        Size of the palette the image is reduced to (2-256); 0 keeps full colour.

    Returns
    -------
    bytes
        PNG data.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``fig`` is not a matplotlib Figure, or ``dpi`` or ``colors`` is out of range.

    Examples
    --------
    >>> fig = plt.figure(figsize=(1, 1))
    >>> figure_to_png(fig)[:4]
    b'\\x89PNG'
    """
    if not isinstance(fig, Figure):
        raise _validate.fail_type("fig", fig, "a matplotlib Figure")
    dpi = _validate.check_int("dpi", dpi, minimum=20, maximum=300)
    colors = _validate.check_int("colors", colors, minimum=0, maximum=256)
    if colors == 1:
        raise _validate.fail_value("colors", colors, "0 (full colour) or 2 to 256")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    if colors:
        from PIL import Image

        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        img = img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


class StackViewer(widgets.VBox):
    """A control (slider, dropdown or toggle buttons) that switches between frames.

    Build it with :func:`stack_viewer`. Attributes ``control`` and ``stack``
    are the two linked widgets; ``index`` is the frame on show.

    Raises
    ------
    CompanionTypeError
        If ``control`` is not a widget with an ``index``, ``stack`` not an
        ``ipywidgets.Stack`` or ``header`` neither a widget nor None.
    """

    def __init__(self, control: widgets.Widget, stack: widgets.Stack,
                 header: widgets.Widget | None = None):
        if not isinstance(control, widgets.Widget) or not control.has_trait("index"):
            raise _validate.fail_type("control", control, "a selection widget with an `index` "
                                      "(e.g. ipywidgets.Dropdown or SelectionSlider)")
        if not isinstance(stack, widgets.Stack):
            raise _validate.fail_type("stack", stack, "an ipywidgets.Stack of frames")
        if header is not None and not isinstance(header, widgets.Widget):
            raise _validate.fail_type("header", header, "a widget shown above the control, or None")
        self.control = control
        self.stack = stack
        # In the browser (no kernel needed): control.index -> stack.selected_index.
        self.link = widgets.jslink((control, "index"), (stack, "selected_index"))
        # In a kernel: keep the Python-side models in step as well.
        control.observe(self._sync, names="index")
        children = [header, control, stack] if header is not None else [control, stack]
        super().__init__(children=children)

    def _sync(self, change: dict) -> None:
        self.stack.selected_index = change["new"]

    @property
    def index(self) -> int:
        return self.stack.selected_index

    @property
    def frames(self) -> tuple:
        return self.stack.children


def stack_viewer(frames: Sequence[Any], labels: Sequence[str], *, description: str = "",
                 control: str = "slider", start: int = 0, caption: str | None = None,
                 alt: str | Sequence[str] | None = None) -> StackViewer:
    """Make a widget that shows one of several precomputed frames.

    Parameters
    ----------
    frames : sequence of bytes, Figure or Widget
        One frame per choice: PNG bytes, a matplotlib figure (rendered with
        :func:`figure_to_png`), or any ipywidget. At most ``MAX_FRAMES``.
    labels : sequence of str
        The name of each choice, shown by the control.
    description : str
        Label in front of the control.
    control : {"slider", "dropdown", "toggle"}
        The kind of control.
    start : int, default 0
        Index of the frame shown first.
    caption : str, optional
        A line of HTML text above the control.
    alt : str or sequence of str, optional
        Alt text of the pictures (one for all, or one per frame); default
        "<description> <label>". Widget frames keep their own content.

    Returns
    -------
    StackViewer

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``frames`` is not a list of 1 to ``MAX_FRAMES`` pictures or widgets,
        ``labels`` (or ``alt``) has not one distinct entry per frame, or an
        option is not one of those described above.

    Examples
    --------
    >>> v = stack_viewer([b"a", b"b"], ["first", "second"])
    >>> v.control.index = 1
    >>> v.index
    1
    """
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence):
        raise _validate.fail_type("frames", frames, "a list of PNG bytes, figures or widgets")
    if not 1 <= len(frames) <= MAX_FRAMES:
        raise _validate.fail_value("frames", f"{len(frames)} frames", f"1 to {MAX_FRAMES} frames")
    labels = _validate.check_sequence_of_str("labels", labels, length=len(frames),
                                             per="frame of `frames`")
    if len(set(labels)) != len(labels):
        raise _validate.fail_value("labels", labels, "distinct labels, one per frame")
    if not isinstance(description, str):
        raise _validate.fail_type("description", description, "a string")
    control = _validate.check_choice("control", control, ["slider", "dropdown", "toggle"])
    start = _validate.check_int("start", start, minimum=0, maximum=len(frames) - 1)
    if caption is not None:
        caption = _validate.check_str("caption", caption, nonempty=False)

    if alt is None:
        alts = [f"{description} {label}".strip() for label in labels]
    elif isinstance(alt, str):
        alts = [_validate.check_str("alt", alt)] * len(frames)
    else:
        alts = _validate.check_sequence_of_str("alt", alt, length=len(frames))
    children = []
    for i, frame in enumerate(frames):
        if isinstance(frame, Figure):
            frame = figure_to_png(frame)
        if isinstance(frame, (bytes, bytearray)):
            children.append(png_frame(bytes(frame), alts[i]))
        elif isinstance(frame, widgets.Widget):
            children.append(frame)
        else:
            raise _validate.fail_type(f"frames[{i}]", frame, "PNG bytes, a matplotlib Figure or a widget")
    stack = widgets.Stack(children=children, selected_index=start)
    options = list(labels)
    layout = widgets.Layout(width="auto")
    if control == "slider":
        ctrl = widgets.SelectionSlider(options=options, index=start, description=description,
                                       continuous_update=True, style={"description_width": "initial"},
                                       layout=widgets.Layout(width="420px"))
    elif control == "dropdown":
        ctrl = widgets.Dropdown(options=options, index=start, description=description,
                                style={"description_width": "initial"}, layout=layout)
    else:
        ctrl = widgets.ToggleButtons(options=options, index=start, description=description,
                                     style={"description_width": "initial", "button_width": "auto"})
    header = widgets.HTML(caption) if caption else None
    return StackViewer(ctrl, stack, header)


def class_browser(images: Any, labels: Any, class_names: Sequence[str], *,
                  per_class: int = 12, seed: int = 0) -> StackViewer:
    """Browse example images class by class.

    Parameters
    ----------
    images : array-like, shape (n, 28, 28)
        Grey-scale images.
    labels : array-like of int, shape (n,)
        Class of each image.
    class_names : sequence of str
        One name per class (at most ``MAX_FRAMES`` classes).
    per_class : int, default 12
        How many examples to show for each class (1-24).
    seed : int, default 0
        Which examples are drawn.

    Returns
    -------
    StackViewer
        A dropdown of class names switching between grids of examples.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``images`` is not a stack of images, ``labels`` has not one label
        per image and at least one image per class, or an option is out of
        range.

    Examples
    --------
    >>> imgs = np.random.rand(20, 28, 28); labs = np.arange(20) % 2
    >>> viewer = class_browser(imgs, labs, ["even", "odd"], per_class=3)
    >>> viewer.control.index = 1
    """
    imgs = _validate.check_array("images", images, ndim=3)
    labs = _validate.check_array("labels", labels, ndim=1)
    names = _validate.check_sequence_of_str("class_names", class_names)
    if len(labs) != len(imgs):
        raise _validate.fail_value("labels", labels, f"one label per image of `images` ({len(imgs)})")
    if len(names) > MAX_FRAMES:
        raise _validate.fail_value("class_names", names, f"at most {MAX_FRAMES} classes")
    per_class = _validate.check_int("per_class", per_class, minimum=1, maximum=24)
    seed = _validate.check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    frames = []
    for k, name in enumerate(names):
        idx = np.flatnonzero(labs == k)
        if len(idx) == 0:
            raise _validate.fail_value("labels", labels, f"at least one image of each class in "
                                       f"`class_names`, but none is of class {k} ({name!r})")
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False)
        fig, axes = plt.subplots(2, int(np.ceil(len(pick) / 2)), figsize=(7.2, 2.6), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, i in zip(axes.flat, pick):
            ax.imshow(imgs[i], cmap="gray_r")
        fig.suptitle(f"class {k}: {name}", fontsize=11)
        fig.tight_layout()
        frames.append(figure_to_png(fig, colors=32))
    alts = [f"{per_class} example images of class {k}, {name}" for k, name in enumerate(names)]
    return stack_viewer(frames, names, description="Class:", control="dropdown", alt=alts)


def probability_viewer(images: Any, probabilities: Any, labels: Any,
                       class_names: Sequence[str]) -> StackViewer:
    """Step through images and see the probability a model gives each class.

    Parameters
    ----------
    images : array-like, shape (n, 28, 28)
        The images (1 to ``MAX_FRAMES`` of them).
    probabilities : array-like, shape (n, n_classes)
        The model's softmax output for each image (``model.predict``).
    labels : array-like of int, shape (n,)
        True class of each image.
    class_names : sequence of str
        One name per class.

    Returns
    -------
    StackViewer
        A slider over the images; each frame shows the image and a bar chart.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If the arrays do not describe 1 to ``MAX_FRAMES`` images, one softmax
        row and one class number per image.

    Examples
    --------
    >>> p = np.full((2, 2), 0.5)
    >>> v = probability_viewer(np.zeros((2, 28, 28)), p, [0, 1], ["a", "b"])
    """
    imgs = _validate.check_array("images", images, ndim=3)
    probs = _validate.check_array("probabilities", probabilities, ndim=2)
    labs = _validate.check_array("labels", labels, ndim=1)
    names = _validate.check_sequence_of_str("class_names", class_names)
    n = len(imgs)
    if not 1 <= n <= MAX_FRAMES:
        raise _validate.fail_value("images", images, f"1 to {MAX_FRAMES} images")
    if probs.shape != (n, len(names)):
        raise _validate.fail_value("probabilities", probabilities,
                                   f"an array of shape ({n}, {len(names)}): one row per image of `images`, "
                                   "one column per class of `class_names`")
    if len(labs) != n:
        raise _validate.fail_value("labels", labels, f"one label per image of `images` ({n})")
    if not np.all(labs == np.round(labs)) or labs.min() < 0 or labs.max() >= len(names):
        raise _validate.fail_value("labels", labels, f"class numbers from 0 to {len(names) - 1} "
                                   "(one name each in `class_names`)")
    frames, captions, alts = [], [], []
    for i in range(n):
        fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(6.4, 2.6),
                                             gridspec_kw={"width_ratios": [1, 2.2]})
        ax_img.imshow(imgs[i], cmap="gray_r")
        ax_img.axis("off")
        guess = int(np.argmax(probs[i]))
        ok = guess == int(labs[i])
        ax_img.set_title(f"true: {names[int(labs[i])]}", fontsize=9)
        plot_probabilities(probs[i], names, true_label=int(labs[i]), ax=ax_bar)
        ax_bar.set_title(("right" if ok else "WRONG") + f": predicts {names[guess]}",
                         fontsize=9, color="black" if ok else "crimson")
        fig.tight_layout()
        frames.append(figure_to_png(fig))
        captions.append(f"image {i + 1}")
        alts.append(f"Image {i + 1}, a {names[int(labs[i])]}; the model gives "
                    f"{names[guess]} the highest probability, {probs[i, guess]:.2f}")
    return stack_viewer(frames, captions, description="Image:", control="slider", alt=alts)


def _hist_range(low: float, high: float) -> tuple[float, float]:
    """A histogram range NumPy can always split into bins: within +-LARGEST, not degenerate."""
    low, high = max(float(low), -_validate.LARGEST), min(float(high), _validate.LARGEST)
    least = max(1e-290, 1e-9 * max(abs(low), abs(high)))
    if not high - low >= least:
        high = low + least
    return low, high
