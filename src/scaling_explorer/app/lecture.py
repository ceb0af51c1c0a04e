"""The lecture panel: one step at a time, Previous/Next, and an optional predict-first box.

No science here: scenarios, answers and how far a guess is off come from
:mod:`scaling_explorer.lecture`. Moving to a step is the user's click, and it deliberately sets
the whole scenario (``AppState.set``) except the view preferences the lecture does not set
(presentation mode survives Next/Previous); the panel never writes the state otherwise, except
the reveal, which shows the predicted law (also the user's click). A string opens only a shipped
lecture (:func:`~scaling_explorer.lecture.load_shipped`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import ipywidgets as w

from .. import lecture as lec
from .bind import ErrorSink, message_box
from .format import fmt_count
from .state import AppState, view_preferences

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def render_text(text: str) -> str:
    """A step's text as HTML: escaped, blank-line separated paragraphs, ``**bold**``."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + _BOLD.sub(r"<b>\1</b>", html.escape(p)) + "</p>" for p in paragraphs)


def render_sources(sources) -> str:
    """A step's citations as a short list with links."""
    if not sources:
        return ""
    items = []
    for s in sources:
        text = html.escape(s.text)
        items.append(f'<li><a href="{html.escape(s.url)}" target="_blank" rel="noopener">{text}</a></li>'
                     if s.url else f"<li>{text}</li>")
    return f'<div class="se-lecture-sources">Sources:<ul>{"".join(items)}</ul></div>'


def format_value(quantity: str, value: float) -> str:
    """A predicted quantity as shown: counts with B/T suffixes, ratios to three digits."""
    if quantity == "tokens_per_param":
        return f"{value:.3g}"
    return fmt_count(value)


class LecturePanel:
    """Steps of ``lecture`` driving ``state``.

    Attributes
    ----------
    step : int
        The current step, 0-based.
    revealed : bool
        Whether the current step's prediction has been revealed (True for a step without one).
    on_step : list of callables
        Each is called with the step index after every move (the page puts :meth:`query` in the URL).
    """

    def __init__(self, state: AppState, errors: ErrorSink, lecture: lec.Lecture | str, start: int = 0):
        self.state = state
        self.errors = errors
        self.lecture = lecture if isinstance(lecture, lec.Lecture) else lec.load_shipped(lecture)
        # View preferences the lecture never sets are the viewer's: carried over at every step.
        self.carried = view_preferences() - lec.fields_set(self.lecture)
        self.step = 0
        self.revealed = True
        self.on_step: list[Callable[[int], None]] = []

        self.heading = w.HTML()
        self.counter = w.HTML()
        self.text = w.HTML()
        self.sources = w.HTML()
        self.previous_button = w.Button(description="Previous", tooltip="previous step")
        self.next_button = w.Button(description="Next", tooltip="next step")
        self.restore_button = w.Button(description="Back to this step's view",
                                       tooltip="undo your changes since this step opened",
                                       layout=w.Layout(width="auto"))
        self.previous_button.on_click(lambda _: self._move(self.step - 1))
        self.next_button.on_click(lambda _: self._move(self.step + 1))
        self.restore_button.on_click(lambda _: self._move(self.step))
        self.changed_note = w.HTML()
        self.message = message_box()

        self.prompt = w.HTML()
        self.guess = w.Text(placeholder="your guess, e.g. 20 or 7e10 or 70B", continuous_update=False,
                            layout=w.Layout(width="16em"))
        self.reveal_button = w.Button(description="Reveal", button_style="info", tooltip="show the true value")
        self.reveal_button.on_click(lambda _: self.errors.guard(self.message, self.reveal))
        self.result = w.HTML()
        self.predict_box = w.VBox([self.prompt, w.HBox([self.guess, self.reveal_button]), self.result])
        self.predict_box.add_class("se-predict")

        self._widget = w.VBox([
            self.counter, self.heading, self.text, self.predict_box, self.sources,
            w.HBox([self.previous_button, self.next_button, self.restore_button]),
            self.changed_note, self.message,
        ])
        self._widget.add_class("se-lecture")
        self.close = state.watch(self._on_state)
        self.goto(start)

    # -- moving --------------------------------------------------------------------------------
    def goto(self, i: int) -> None:
        """Open step ``i`` (0-based): set its scenario (before the reveal, if it asks a prediction)."""
        lecture = self.lecture
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(lecture):
            raise lec.LectureError([f"step {i!r}: this lecture has steps 1 to {len(lecture)}"], lecture.name)
        step = lecture.steps[i]
        self.step = i
        self.revealed = step.predict is None
        self.guess.value = ""
        self.result.value = ""
        self.state.set(self._viewed(lec.question_scenario(lecture, i)))
        self._render()
        for callback in list(self.on_step):
            callback(i)

    def next(self) -> None:
        """Go to the next step (the last step stays put)."""
        self._move(self.step + 1)

    def previous(self) -> None:
        """Go to the previous step (the first step stays put)."""
        self._move(self.step - 1)

    def _move(self, i: int) -> None:
        if 0 <= i < len(self.lecture):
            self.errors.guard(self.message, self.goto, i)

    def reveal(self) -> None:
        """Judge the typed guess, show the true value, and show the predicted law on the plot."""
        step = self.lecture.steps[self.step]
        p = step.predict
        if p is None:
            raise lec.LectureError([f"step {self.step + 1} asks for no prediction"], self.lecture.name)
        guess = lec.parse_guess(self.guess.value)  # GuessError: a message, nothing revealed
        truth = lec.true_value(self.lecture, self.step)
        j = lec.judge(guess, truth)
        row = lec.answer_row(self.lecture, self.step)
        what = lec.QUANTITIES[p.quantity][1]
        verdict = ("within 10%: well done" if j.direction == "close"
                   else f"{j.factor:.2g}x {j.direction}")
        self.result.value = (
            f'<div class="se-guess-result">You guessed <b>{html.escape(format_value(p.quantity, j.guess))}</b>; '
            f"{html.escape(row.label)} says <b>{html.escape(format_value(p.quantity, j.truth))}</b> "
            f"({html.escape(what)} at {self.state.scenario.budget:.3g} FLOPs): {verdict}.</div>")
        self.revealed = True
        self.state.set(self._viewed(lec.step_scenario(self.lecture, self.step)))
        self._render()

    # -- links ---------------------------------------------------------------------------------
    def query(self) -> str:
        """The current step as a link query: ``lecture=<name>&step=<1-based>``."""
        return lec.lecture_query(self.lecture, self.step)

    def expected_scenario(self):
        """The scenario this step set (before or after its reveal), in the viewer's view preferences."""
        return self._viewed((lec.step_scenario if self.revealed else lec.question_scenario)(self.lecture, self.step))

    def _viewed(self, scenario):
        """``scenario`` with the view preferences the lecture does not set taken from the current state."""
        return scenario.replace(**{name: getattr(self.state.scenario, name) for name in self.carried})

    # -- view ----------------------------------------------------------------------------------
    def _on_state(self, changed) -> None:
        differs = self.state.scenario != self.expected_scenario()
        self.changed_note.value = (
            '<div class="se-note">You have changed the view since this step opened; '
            "“Back to this step's view” restores it.</div>" if differs else "")
        self.restore_button.disabled = not differs

    def _render(self) -> None:
        lecture, i = self.lecture, self.step
        step = lecture.steps[i]
        self.heading.value = (f'<div class="se-lecture-title"><span class="se-note">{html.escape(lecture.title)}'
                              f"</span><br><b>{html.escape(step.title)}</b></div>")
        self.counter.value = f'<div class="se-lecture-counter se-note">step {i + 1} of {len(lecture)}</div>'
        self.text.value = f'<div class="se-lecture-text">{render_text(step.text)}</div>'
        self.sources.value = render_sources(step.sources)
        self.previous_button.disabled = i == 0
        self.next_button.disabled = i == len(lecture) - 1
        if step.predict is None:
            self.predict_box.layout.display = "none"
        else:
            self.predict_box.layout.display = None
            self.prompt.value = (f'<div class="se-predict-prompt"><b>Predict first:</b> '
                                 f"{html.escape(step.predict.prompt)}</div>")
            self.guess.disabled = self.revealed
            self.reveal_button.disabled = self.revealed
        self._on_state(frozenset())

    def panel(self) -> w.Widget:
        """The panel's widget."""
        return self._widget
