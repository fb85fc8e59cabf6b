"""Multiple-choice questions with instant feedback, in a notebook and on the web page.

Each option's feedback is written in advance and stacked; the radio buttons'
``index`` is linked to the stack in the browser (``jslink``), so the reader of
the static HTML book gets the same feedback as a learner in Colab.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from . import _validate

__all__ = ["Quiz", "quiz"]


class Quiz(widgets.VBox):
    """A question, its options and one feedback message per option.

    Build it with :func:`quiz`. ``options`` is the radio-button widget,
    ``feedback`` the stack of messages; ``answer`` is the right index.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        As :func:`quiz`.
    """

    def __init__(self, question: str, options: list[str], answer: int,
                 explanations: list[str]):
        question = _validate.check_str("question", question)
        options = _validate.check_sequence_of_str("options", options)
        if not 2 <= len(options) <= 8:
            raise _validate.fail_value("options", options, "2 to 8 options")
        if len(set(options)) != len(options):
            raise _validate.fail_value("options", options, "options that are all different")
        answer = _validate.check_int("answer", answer, minimum=0, maximum=len(options) - 1)
        explanations = _validate.check_sequence_of_str("explanations", explanations, length=len(options))
        self.answer = answer
        self._question, self._options, self._explanations = question, list(options), list(explanations)
        self.options = widgets.RadioButtons(options=options, index=None,
                                            layout=widgets.Layout(width="max-content"))
        messages = []
        for i, text in enumerate(explanations):
            right = i == answer
            mark = "&#10004;" if right else "&#10008; Not quite."  # right explanations start "Right: ..."
            color = "#1a7f37" if right else "#b42318"
            messages.append(widgets.HTML(
                f'<div style="border-left:4px solid {color};padding:2px 8px">'
                f'<b style="color:{color}">{mark}</b> {html.escape(text)}</div>'))
        self.feedback = widgets.Stack(children=messages, selected_index=None)
        self.link = widgets.jslink((self.options, "index"), (self.feedback, "selected_index"))
        self.options.observe(self._sync, names="index")
        title = widgets.HTML(f"<b>{html.escape(question)}</b>")
        super().__init__(children=[title, self.options, self.feedback])

    def _sync(self, change: dict) -> None:
        self.feedback.selected_index = change["new"]

    def _ipython_display_(self) -> None:
        # Two outputs: the interactive widget, then the answer as plain HTML,
        # folded away. The HTML needs no JavaScript, so the built page can be
        # read, printed and searched even where widgets do not render.
        from IPython.display import HTML, display
        display(self._repr_mimebundle_(), raw=True)
        options = "".join(f"<li>{html.escape(o)}</li>" for o in self._options)
        display(HTML(f"<noscript><p><b>{html.escape(self._question)}</b></p><ol>{options}</ol>"
                     "<p><em>(The clickable quiz needs JavaScript; the answer is folded below.)</em></p>"
                     "</noscript>" + self.answer_html()))

    def answer_html(self) -> str:
        """The answer and the explanation of every option, as HTML.

        Everything sits in a collapsed ``<details>`` block ("Show the answer
        and why"), so a reader tries the question first and opens the answer
        on purpose. It works with no JavaScript and no kernel.
        """
        items = []
        for i, (option, text) in enumerate(zip(self._options, self._explanations)):
            right = i == self.answer
            mark = "&#10004; right" if right else "&#10008; not right"
            items.append(f"<li><b>{html.escape(option)}</b> ({mark}): {html.escape(text)}</li>")
        return ('<details class="quiz-answer"><summary>Show the answer and why</summary>'
                f'<p>{html.escape(self._question)} Answer: <b>{html.escape(self._options[self.answer])}</b></p>'
                f'<ul>{"".join(items)}</ul></details>')

    @property
    def is_correct(self) -> bool | None:
        """True/False once an option is chosen, None before."""
        chosen = self.options.index
        return None if chosen is None else chosen == self.answer

    @property
    def message(self) -> str:
        """The feedback on show (HTML), or an empty string."""
        i = self.feedback.selected_index
        return "" if i is None else self.feedback.children[i].value


def quiz(question: str, options: Sequence[str], answer: int,
         explanations: Sequence[str]) -> Quiz:
    """Make a multiple-choice question that answers back.

    Parameters
    ----------
    question : str
        The question.
    options : sequence of str
        Two to eight possible answers, all different.
    answer : int
        Index of the right option (0-based).
    explanations : sequence of str
        One explanation per option: why it is right, or why it is not.

    Returns
    -------
    Quiz
        Display it as the last expression of a cell.

    Raises
    ------
    CompanionTypeError, CompanionValueError
        On an empty question, fewer than two options, duplicate options, an
        answer out of range or a missing explanation.

    Examples
    --------
    >>> q = quiz("2 + 2?", ["3", "4"], 1, ["Off by one.", "Yes."])
    >>> q.options.index = 1
    >>> q.is_correct
    True
    """
    return Quiz(question, options, answer, explanations)   # Quiz checks every argument
