"""Controls bound to Scenario fields: one way in (widget -> state), one way back (state -> widget).

A :class:`Binder` is shared by every panel of a page. ``binder.bind(field, widget, ...)`` is all a
control needs: the widget's ``value`` writes the field through ``AppState.update`` (a bad value
becomes a message beside the control), and every change of the field (or of the fields its
options depend on) is shown back in the widget. The read-back is one loop, under one guard, so
showing a value never writes the state again.

:class:`LogQuantity` is the one composite for a quantity on a log scale (budget, inference demand,
unique tokens): a slider on a fixed grid, an exact box beside it, and optionally an on/off box;
it is a widget with a ``value`` like any other, so it binds the same way.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import ipywidgets as w
import numpy as np
import traitlets

from ..scenario import Scenario
from .state import AppState

log = logging.getLogger(__name__)

FULL = w.Layout(width="100%")
STYLE = {"description_width": "initial"}


class ErrorSink:
    """Turns exceptions raised by a control into a message beside it.

    ``raise_errors=True`` (for tests) re-raises instead, so a test sees the real error.
    """

    def __init__(self, raise_errors: bool = False):
        self.raise_errors = raise_errors

    def guard(self, message: w.HTML, fn, *args, **kwargs) -> bool:
        """Run ``fn``; on an error show it in ``message`` and return False, else clear ``message``."""
        try:
            fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            if self.raise_errors:
                raise
            message.value = error_html(str(exc))
            return False
        except Exception as exc:  # never a traceback on the page
            log.exception("unexpected error in a control")
            if self.raise_errors:
                raise
            message.value = f'<span class="se-error">Something went wrong: {html.escape(repr(exc))}</span>'
            return False
        message.value = ""
        return True


def message_box() -> w.HTML:
    """An empty line that shows a control's error."""
    return w.HTML("", layout=w.Layout(min_height="0"))


def error_html(text: str) -> str:
    """``text`` as an error message beside a control."""
    return f'<span class="se-error">{html.escape(text)}</span>'


def fmt_exact(x: float) -> str:
    """A number as typed: the shortest text that reads back exactly (3.14e23, 2e12, 0, 1.947)."""
    x = float(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        return repr(x).removesuffix(".0")
    return np.format_float_scientific(x, unique=True, trim="-", exp_digits=1).replace("e+", "e")


def parse_number(text: str) -> float | None:
    """A typed number (commas and underscores allowed), or None if it is not one."""
    try:
        return float(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        return None


def optional_number(what: str, hint: str) -> Callable[[str], float | None]:
    """A ``from_widget`` for a text box where empty means none; a non-number raises ``ValueError``."""

    def parse(text: str) -> float | None:
        if not text.strip():
            return None
        value = parse_number(text)
        if value is None:
            raise ValueError(f"{what}: {text} is not {hint}")
        return value

    return parse


def _same(value):
    return value


@dataclasses.dataclass(eq=False)
class Binding:
    """One control bound to one Scenario field.

    Attributes
    ----------
    field : str
        The Scenario field.
    widget : ipywidgets.Widget
        Any widget with a ``value`` (a composite too).
    to_widget, from_widget : callable
        Field value -> widget value, and back (``from_widget`` may raise ``ValueError``: a message).
    message : ipywidgets.HTML
        Where an error shows.
    options : callable or None
        ``options(scenario)``: the widget's options, recomputed at every change (they may follow
        any field, or a new fit) and shown, with the value, when they differ.
    """

    field: str
    widget: w.Widget
    to_widget: Callable[[Any], Any]
    from_widget: Callable[[Any], Any]
    message: w.HTML
    options: Callable[[Scenario], list] | None = None


class Binder:
    """The bindings of one page, its one read-back and its one guard.

    Parameters
    ----------
    state : AppState
    errors : ErrorSink
    """

    def __init__(self, state: AppState, errors: ErrorSink):
        self.state = state
        self.errors = errors
        self.bindings: list[Binding] = []
        self.reading_back = False
        self._fields = frozenset(f.name for f in dataclasses.fields(Scenario) if f.init)
        self.close = state.watch(self.read_back)

    def bind(self, field: str, widget: w.Widget, *, to_widget: Callable = _same, from_widget: Callable = _same,
             message: w.HTML | None = None, options: Callable[[Scenario], list] | None = None) -> Binding:
        """Bind ``widget`` to Scenario field ``field`` and show the field's current value in it."""
        if field not in self._fields:
            raise ValueError(f"field: {field!r} is no Scenario field")
        binding = Binding(field, widget, to_widget, from_widget, message if message is not None else message_box(),
                          options)
        self.bindings.append(binding)
        widget.observe(lambda change: self._on_widget(binding, change["new"]), "value")
        with self.guard():
            self._show(binding, self.state.scenario, frozenset({field}))
        return binding

    def write(self, message: w.HTML, **changes) -> bool:
        """Write fields from a control that is no binding (a button); an error shows in ``message``."""
        if self.reading_back:
            return True
        return self.errors.guard(message, self.state.update, **changes)

    @contextmanager
    def guard(self):
        """While inside, widget changes are the read-back's, not the user's: nothing is written."""
        outer = self.reading_back
        self.reading_back = True
        try:
            yield
        finally:
            self.reading_back = outer

    def read_back(self, changed: frozenset[str]) -> None:
        """Show the current scenario in every widget whose field or options changed."""
        s = self.state.scenario
        with self.guard():
            for binding in self.bindings:
                if binding.field in changed or binding.options is not None:
                    self._show(binding, s, changed)

    # -- internals -------------------------------------------------------------------------------
    def _on_widget(self, binding: Binding, value) -> None:
        if self.reading_back:  # our own read-back, not the user
            return
        self.errors.guard(binding.message, lambda: self.state.update(**{binding.field: binding.from_widget(value)}))

    @staticmethod
    def _show(binding: Binding, scenario: Scenario, changed: frozenset[str] = frozenset({"*"})) -> None:
        widget, value = binding.widget, getattr(scenario, binding.field)
        if binding.options is not None:
            options = binding.options(scenario)
            if list(widget.options) != list(options):
                widget.options = options
            elif binding.field not in changed:
                return
        try:  # a box showing the value in other words ("2" for 2.0) keeps the user's words
            same = binding.from_widget(widget.value) == value
        except (ValueError, TypeError):
            same = False
        if not same or getattr(widget, "index", 0) is None:  # a choice with nothing selected shows no value
            widget.value = binding.to_widget(value)


def on_log_grid(slider: w.FloatLogSlider, value: float) -> float:
    """The slider's grid value nearest ``value`` (clamped to its range)."""
    exponent = min(max(math.log(value, slider.base), slider.min), slider.max)
    return slider.base ** (slider.min + round((exponent - slider.min) / slider.step) * slider.step)


def from_grid(value: float) -> float:
    """A slider grid value as a choice: four significant digits (1.024e17, not 1.0242889401824211e17).

    The grid is 0.05 dex or coarser (12% a step), so four digits keep every grid point apart and
    read back to the same one; the exact box and the link then show short text.
    """
    return float(f"{float(value):.4g}")


class LogQuantity(w.VBox):
    """A quantity on a log scale: a slider on a grid, an exact box, and optionally an on/off box.

    Parameters
    ----------
    value : float or None
        The starting value (``off`` when switched off).
    description : str
        The slider's label, with the unit.
    span : (float, float)
        The slider's range; typed values outside it are the Scenario's to judge (a message).
    step : float
        The slider's grid step in decades.
    anchor : float, optional
        A value the grid passes through exactly (default: the span's lower end).
    toggle : str, optional
        Label of the on/off box; without it the quantity is always on.
    off : float or None
        The value meaning "off" (0 for no demand, None for no limit).
    rest : float
        Where the slider sits while the quantity is off (what ticking the box gives).
    hint : str
        What a typed entry must be, for the message (``"a number of FLOPs (type e.g. 3.14e23)"``).

    Attributes
    ----------
    value : float or None
        The quantity (a traitlet: observe it, or bind it).
    slider, exact, toggle, message : ipywidgets.Widget
    """

    value = traitlets.Any(allow_none=True)

    def __init__(self, value, *, description: str, span: tuple[float, float], step: float,
                 anchor: float | None = None, toggle: str | None = None, off=None, rest: float | None = None,
                 name: str = "value", hint: str = "a number", placeholder: str = ""):
        low, high = (math.log10(x) for x in span)
        a = low if anchor is None else math.log10(anchor)
        self.slider = w.FloatLogSlider(
            value=10 ** a, base=10, min=a - math.floor((a - low) / step + 1e-9) * step,
            max=a + math.floor((high - a) / step + 1e-9) * step, step=step, readout=False,
            description=description, continuous_update=True, layout=w.Layout(width="100%"), style=STYLE)
        self.toggle = (None if toggle is None else
                       w.Checkbox(value=False, description=toggle, indent=False, layout=w.Layout(width="100%")))
        self.exact = w.Text(description="exact", continuous_update=False, placeholder=placeholder,
                            layout=w.Layout(width="200px"), style={"description_width": "44px"})
        self.message = message_box()
        self.off, self.name, self.hint = off, name, hint
        self._syncing = False
        self._slider_shows = self.slider.value
        # Where the slider rests while off: declared, never the last value (the view follows the state alone).
        self._rest = on_log_grid(self.slider, rest if rest is not None else 10 ** a)
        self._slider_shows = self.slider.value = self._rest
        parts = [self.slider, self.exact, self.message]
        super().__init__(children=([self.toggle] if self.toggle is not None else []) + parts,
                         layout=w.Layout(width="100%"))
        self.value = value
        self._show(value)
        self.observe(lambda change: self._show(change["new"]), "value")
        self.slider.observe(self._on_slider, "value")
        self.exact.observe(self._on_exact, "value")
        if self.toggle is not None:
            self.toggle.observe(self._on_toggle, "value")

    def _show(self, value) -> None:
        """Show ``value`` in the parts (never writes ``value``)."""
        self._syncing = True
        try:
            on = value != self.off and value is not None
            if self.toggle is not None:
                self.toggle.value = on
            if not on or (math.isfinite(value) and value > 0):  # else the Scenario refuses it, with a message
                grid = on_log_grid(self.slider, value) if on else self._rest
                if abs(math.log10(self.slider.value) - math.log10(grid)) >= 1e-9:
                    self.slider.value = grid
                self._slider_shows = grid
            if self._parse(self.exact.value) != (True, value):
                self.exact.value = fmt_exact(value) if on else ""  # off is an empty box, as on a fresh page
        finally:
            self._syncing = False

    def _parse(self, text: str) -> tuple[bool, float | None]:
        if not text.strip():
            return self.toggle is not None, self.off
        number = parse_number(text)
        return number is not None, number

    def _on_slider(self, change) -> None:
        # The browser snaps the slider to its grid and sends the snapped value back; that echo of
        # our own showing is not the user's choice (3.14e23 typed must stay 3.14e23).
        if self._syncing or abs(math.log10(change["new"]) - math.log10(self._slider_shows)) < 1e-9:
            return
        self.value = from_grid(change["new"])

    def _on_exact(self, change) -> None:
        if self._syncing:
            return
        ok, number = self._parse(change["new"])
        if not ok:
            self.message.value = error_html(f"{self.name}: {change['new']} is not {self.hint}")
            return
        self.value = number

    def _on_toggle(self, change) -> None:
        if not self._syncing:
            self.value = from_grid(self.slider.value) if change["new"] else self.off


class LawChecklist(w.VBox):
    """One checkbox per law; ``value`` is the tuple of ticked keys, ``options`` the (name, key) pairs."""

    value = traitlets.Tuple()
    options = traitlets.List()

    def __init__(self):
        super().__init__(layout=w.Layout(width="100%"))
        self.boxes: dict[str, w.Checkbox] = {}
        self._syncing = False
        self.observe(lambda _: self._show(), ["value", "options"])

    def _show(self) -> None:
        self._syncing = True
        try:
            for name, key in self.options:
                if key not in self.boxes:
                    box = w.Checkbox(indent=False, layout=w.Layout(width="100%"))
                    box.observe(self._on_box, "value")
                    self.boxes[key] = box
                self.boxes[key].description = name
                self.boxes[key].value = key in self.value
            self.children = [self.boxes[key] for _, key in self.options]
        finally:
            self._syncing = False

    def _on_box(self, _change) -> None:
        if not self._syncing:
            self.value = tuple(key for _, key in self.options if self.boxes[key].value)


class CoefficientEditor(w.VBox):
    """The coefficients of one law, editable; ``value`` is the scenario's edits.

    ``options`` is ``[(key, law)]``: the law shown (with the edits applied) and its key.
    """

    value = traitlets.Tuple()
    options = traitlets.List()

    def __init__(self):
        self.title = w.HTML()
        self.boxes: dict[str, w.FloatText] = {}
        self.box = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.reset = w.Button(description="Reset to published", icon="undo")
        self.reset.on_click(self._on_reset)
        self._syncing = False
        super().__init__(children=[self.title, self.box, self.reset])
        self.observe(lambda _: self._show(), "options")

    def _show(self) -> None:
        from .. import laws

        if not self.options:
            return
        _, law = self.options[0]
        names = getattr(law, "coefficients", ())
        self._syncing = True
        try:
            for name in names:
                if name not in self.boxes:
                    box = w.FloatText(description=name, layout=w.Layout(width="160px"), continuous_update=False,
                                      style={"description_width": "52px"})
                    box.observe(self._on_box, "value")
                    self.boxes[name] = box
                self.boxes[name].value = getattr(law, name)
            self.box.children = [self.boxes[n] for n in names]
        finally:
            self._syncing = False
        self.title.value = f"Coefficients of <b>{html.escape(law.name)}</b>" + (
            ": L = E + A/N<sup>α</sup> + B/D<sup>β</sup>" if isinstance(law, laws.ParametricLaw) else "")

    def _on_box(self, _change) -> None:
        from .. import laws

        if self._syncing or not self.options:
            return
        key, law = self.options[0]
        base = laws.get_law(key)
        values = {n: float(self.boxes[n].value) for n in getattr(law, "coefficients", ())}
        edited = tuple((key, n, v) for n, v in values.items() if v != getattr(base, n))
        self.value = tuple(e for e in self.value if e[0] != key) + edited

    def _on_reset(self, _button=None) -> None:
        if self.options:
            self.value = tuple(e for e in self.value if e[0] != self.options[0][0])
