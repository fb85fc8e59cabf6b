"""Widgets that keep working on the static web page: a viewer of precomputed frames.

Every choice a reader can make is computed in advance (one picture per
choice). The pictures go into an ``ipywidgets.Stack``, and the control's
``index`` is linked to the stack's ``selected_index`` with ``jslink``. The
link lives in the browser, so the widget reacts on the built web page where no
Python kernel runs; a Python-side observer keeps the two in step in a kernel.

A chapter's own widget is a short composition: draw one matplotlib figure per
setting, then hand the figures to :func:`frame_viewer`.
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

from . import _validate
from .plots import plot_probabilities

__all__ = ["MAX_FRAMES", "figure_to_png", "frame_viewer", "probability_viewer"]

MAX_FRAMES = 12
"""Most frames one widget may hold: each frame is embedded in the HTML page."""


def figure_to_png(fig: Figure, *, dpi: int = 144, colors: int = 64) -> bytes:
    """Render a figure to compact PNG bytes and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : int, default 144
        Resolution (20-300). 144 is twice the 72 pixels per inch at which a
        frame is shown, so it stays sharp on high-density screens; with the
        64-colour palette a 5x3 inch figure takes about 25-50 KB.
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
    >>> figure_to_png(plt.figure(figsize=(1, 1)))[:4]
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


def _img(png: bytes, alt: str) -> str:
    """An ``<img>`` tag with alt text, shown at 72 pixels per inch (half the 144-dpi picture)."""
    width = int.from_bytes(png[16:20], "big") // 2 if png[:8] == b"\x89PNG\r\n\x1a\n" else None
    size = f' width="{width}"' if width else ""
    data = base64.b64encode(png).decode("ascii")
    return (f'<img alt="{html.escape(alt, quote=True)}"{size} src="data:image/png;base64,{data}" '
            'style="max-width:100%;height:auto">')


def _picture(png: bytes, alt: str, value: str) -> widgets.HTML:
    """A frame: the setting it shows, as text a screen reader announces, then the picture.

    ``ipywidgets.Image`` cannot carry alt text, hence HTML; the bytes are kept as ``.png``.
    """
    frame = widgets.HTML(f'<p class="frame-value" role="status" aria-live="polite">{html.escape(value)}</p>'
                         + _img(png, alt))
    frame.png = png
    return frame


class FrameViewer(widgets.VBox):
    """A control (slider, dropdown or toggle buttons) that switches between frames.

    Build it with :func:`frame_viewer`. ``control`` and ``stack`` are the two
    linked widgets; ``index`` is the frame on show, ``frames`` all of them.
    """

    def __init__(self, control: widgets.Widget, stack: widgets.Stack, header: widgets.Widget | None = None,
                 fallback: str = ""):
        self.control, self.stack, self.fallback = control, stack, fallback
        # In the browser (no kernel needed): control.index -> stack.selected_index.
        self.link = widgets.jslink((control, "index"), (stack, "selected_index"))
        # In a kernel: keep the Python-side models in step as well.
        control.observe(self._sync, names="index")
        super().__init__(children=[w for w in (header, control, stack) if w is not None])

    def _sync(self, change: dict) -> None:
        self.stack.selected_index = change["new"]

    def _ipython_display_(self) -> None:
        # The widget, then (for a page read with JavaScript off, where widgets do
        # not render) the first frame and a line saying what the widget does.
        from IPython.display import HTML, display
        display(self._repr_mimebundle_(), raw=True)
        if self.fallback:
            display(HTML(f"<noscript>{self.fallback}</noscript>"))

    @property
    def index(self) -> int:
        return self.stack.selected_index

    @property
    def frames(self) -> tuple:
        return self.stack.children


def frame_viewer(frames: Sequence[Any], labels: Sequence[str], *, description: str = "",
                 control: str = "slider", start: int = 0, caption: str | None = None,
                 alt: str | Sequence[str] | None = None) -> FrameViewer:
    """Make a widget that shows one of several precomputed frames.

    Parameters
    ----------
    frames : sequence of Figure, bytes or Widget
        One frame per choice: a matplotlib figure (rendered with
        :func:`figure_to_png` and closed), PNG bytes, or any ipywidget.
        1 to ``MAX_FRAMES`` of them.
    labels : sequence of str
        The name of each choice, shown by the control (distinct).
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
        "<description> <label>".

    Returns
    -------
    FrameViewer

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If ``frames`` is not a list of 1 to ``MAX_FRAMES`` pictures or widgets,
        ``labels`` (or ``alt``) has not one distinct entry per frame, or an
        option is not one of those described above.

    Examples
    --------
    >>> v = frame_viewer([b"a", b"b"], ["first", "second"])
    >>> v.control.index = 1
    >>> v.index
    1
    """
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence):
        raise _validate.fail_type("frames", frames, "a list of figures, PNG bytes or widgets")
    if not 1 <= len(frames) <= MAX_FRAMES:
        raise _validate.fail_value("frames", f"{len(frames)} frames", f"1 to {MAX_FRAMES} frames")
    labels = _validate.check_sequence_of_str("labels", labels, length=len(frames), per="frame of `frames`")
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

    children, first = [], ""
    for i, frame in enumerate(frames):
        if isinstance(frame, Figure):
            frame = figure_to_png(frame)
        if isinstance(frame, (bytes, bytearray)) and frame:
            children.append(_picture(bytes(frame), alts[i], f"{description} {labels[i]}".strip()))
            first = first or _img(bytes(frame), alts[i])
        elif isinstance(frame, widgets.Widget):
            children.append(frame)
        else:
            raise _validate.fail_type(f"frames[{i}]", frame, "a matplotlib Figure, PNG bytes or a widget")
    stack = widgets.Stack(children=children, selected_index=start)
    style = {"description_width": "initial"}
    if control == "slider":
        ctrl = widgets.SelectionSlider(options=list(labels), index=start, description=description,
                                       style=style, layout=widgets.Layout(width="100%", max_width="420px"))
    elif control == "dropdown":
        ctrl = widgets.Dropdown(options=list(labels), index=start, description=description,
                                style=style, layout=widgets.Layout(width="auto"))
    else:
        ctrl = widgets.ToggleButtons(options=list(labels), index=start, description=description,
                                     style={**style, "button_width": "auto"})
    fallback = (f"<p><em>In the online book this is an interactive viewer, one picture per setting "
                f"({(description + ' ') if description else ''}{', '.join(labels)}); it needs JavaScript. "
                "Shown here: the first setting.</em></p>" + first if first else "")
    return FrameViewer(ctrl, stack, widgets.HTML(caption) if caption else None, fallback)


def probability_viewer(images: Any, probabilities: Any, labels: Any,
                       class_names: Sequence[str]) -> FrameViewer:
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
    FrameViewer
        A slider over the images; each frame shows the image and a bar chart.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        If the arrays do not describe 1 to ``MAX_FRAMES`` images, one softmax
        row and one class number per image.

    Examples
    --------
    >>> v = probability_viewer(np.zeros((2, 28, 28)), np.full((2, 2), 0.5), [0, 1], ["a", "b"])
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
    frames, alts = [], []
    for i in range(n):
        true, guess = int(labs[i]), int(np.argmax(probs[i]))
        fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(6.4, 2.6), gridspec_kw={"width_ratios": [1, 2.2]})
        ax_img.imshow(imgs[i], cmap="gray_r")
        ax_img.axis("off")
        ax_img.set_title(f"true: {names[true]}", fontsize=9)
        plot_probabilities(probs[i], names, true_label=true, ax=ax_bar)
        ax_bar.set_title(("right" if guess == true else "WRONG") + f": predicts {names[guess]}",
                         fontsize=9, color="black" if guess == true else "crimson")
        fig.tight_layout()
        frames.append(fig)
        alts.append(f"Image {i + 1}, a {names[true]}; the model gives {names[guess]} "
                    f"the highest probability, {probs[i, guess]:.2f}")
    return frame_viewer(frames, [f"image {i + 1}" for i in range(n)], description="Image:", alt=alts)
