"""Widgets that keep working in the static HTML book.

The pattern: every choice a reader can make is computed in advance (one
picture per choice), the pictures go into an ``ipywidgets.Stack``, and the
control's ``index`` is linked to the stack's ``selected_index`` with
``jslink``. The link lives in the browser, so the widget reacts on the built
web page where no Python kernel runs. A Python-side observer keeps the two in
step inside a kernel too (and lets the tests check the effect).

The building blocks live in ``_core``; chapter-specific widgets have a module
each and are re-exported here.
"""

from ._core import (MAX_FRAMES, StackViewer, class_browser, figure_to_png, png_frame,
                    probability_viewer, stack_viewer)

__all__ = ["MAX_FRAMES", "StackViewer", "class_browser", "figure_to_png", "png_frame",
           "probability_viewer", "stack_viewer"]
