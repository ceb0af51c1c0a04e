"""Controls: widgets that write the Scenario. No science here; bad input becomes a message.

Every control writes through ``AppState.update``. The way back (state -> widgets) is one
method, :meth:`Controls.read_back`, under one guard (``self._reading_back``) so that setting a
widget's value or options never writes the state again.
"""

from __future__ import annotations

import html
import logging
import math
from contextlib import contextmanager

import ipywidgets as w

from .. import compute, laws
from ..catalog import year_span
from ..conventions import FLOP_MODELS
from ..readout import catalog
from ..scenario import BUDGET_RANGE
from .format import fmt_count
from .state import AppState

log = logging.getLogger(__name__)


class ErrorSink:
    """Turns exceptions raised by a control into a message beside it.

    ``raise_errors=True`` (for tests) re-raises instead, so a test sees the real error.
    """

    def __init__(self, raise_errors: bool = False):
        self.raise_errors = raise_errors

    def guard(self, message: w.HTML, fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            if self.raise_errors:
                raise
            message.value = f'<span class="se-error">{html.escape(str(exc))}</span>'
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


def _fmt_budget(flops: float) -> str:
    """The budget as typed: shortest text that reads back exactly (3.14e23, not 3.1400000000000003e+23)."""
    return repr(float(flops)).replace("e+", "e")


def _parse_budget(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        return None
FLOP_MODEL_LABELS = {"6ND": "6ND", "kaplan": "Kaplan: 6 N_nonemb D", "chinchilla": "Chinchilla App. F",
                     "deepseek": "DeepSeek: M D"}


def _flatness_options(current) -> list[tuple[str, float]]:
    """Off, 1% and 2%, plus the scenario's own tolerance when it is another one (from a link)."""
    options = [("off", 0.0), ("1%", 0.01), ("2%", 0.02)]
    if current and current not in (0.01, 0.02):
        options.append((f"{current:.2%}", current))
    return options


class Controls:
    """All controls, grouped in panels; each writes one Scenario field."""

    def __init__(self, state: AppState, errors: ErrorSink):
        self.state = state
        self.errors = errors
        self._reading_back = False
        s = state.scenario
        full = w.Layout(width="100%")
        style = {"description_width": "initial"}

        # The slider steps 0.05 dex on a grid anchored on Chinchilla's 5.76e23 FLOPs (Hoffmann §4),
        # across the Scenario's whole range; exact values are typed in the box beside it (the
        # slider's own readout would clamp and snap what is typed, so it is off).
        anchor, step = math.log10(5.76e23), 0.05
        low, high = (math.log10(b) for b in BUDGET_RANGE)
        self.budget = w.FloatLogSlider(
            value=s.budget, base=10, min=anchor - math.floor((anchor - low) / step) * step,
            max=anchor + math.floor((high - anchor) / step) * step, step=step, readout=False,
            description="C (FLOPs)", continuous_update=True, layout=full, style=style,
        )
        self.budget_text = w.Text(value=_fmt_budget(s.budget), description="exact", continuous_update=False,
                                  placeholder="e.g. 3.14e23", layout=w.Layout(width="200px"),
                                  style={"description_width": "44px"})
        self.budget_readout = w.HTML()
        self.budget_message = message_box()
        self._slider_shows = s.budget  # the grid value read-back last put on the slider
        self.budget.observe(self._on_budget_slider, "value")
        self.budget_text.observe(self._on_budget_text, "value")
        # Budget from hardware time or from dollars (compute.flops_from_gpu_time / flops_for_cost).
        self.gpus = w.BoundedIntText(value=1024, min=1, max=10_000_000, description="GPUs",
                                     layout=w.Layout(width="150px"), style={"description_width": "40px"})
        self.days = w.BoundedFloatText(value=30, min=0.01, max=10_000, description="days",
                                       layout=w.Layout(width="140px"), style={"description_width": "36px"})
        self.from_gpus = w.Button(description="Set budget", tooltip="GPUs × days at the hardware and MFU below")
        self.from_gpus.on_click(lambda _: self._budget_from(
            lambda s: compute.flops_from_gpu_time(self.gpus.value, self.days.value, s.hardware, s.mfu)))
        self.dollars = w.BoundedFloatText(value=1e6, min=1, max=1e13, description="$",
                                          layout=w.Layout(width="170px"), style={"description_width": "16px"})
        self.from_dollars = w.Button(description="Set budget", tooltip="dollars at your price, hardware and MFU")
        self.from_dollars.on_click(lambda _: self._budget_from(
            lambda s: compute.flops_for_cost(self.dollars.value, s.hardware, s.mfu, s.price)))

        self.law_boxes: dict[str, w.Checkbox] = {}
        self.laws_box = w.VBox()
        self.surface = w.Dropdown(description="Contours, shading, status", layout=full, style=style)
        self.laws_message = message_box()
        self.surface.observe(lambda c: self._write(self.laws_message, surface=c["new"]), "value")

        self.band = w.FloatSlider(value=s.band, min=1.25, max=10, step=0.25, layout=full, style=style,
                                  description="Near-optimal ×", readout_format=".2f",
                                  tooltip="a model is near-optimal when D / D_opt is within this factor")
        self.band.observe(lambda c: self._write(self.laws_message, band=round(c["new"], 9)), "value")

        self.filter_message = message_box()
        first, last = year_span(catalog())
        self.years = w.IntRangeSlider(value=s.years or (first, last), min=first, max=last, description="Released",
                                      layout=full, style=style, continuous_update=False)
        # The whole span is "no year filter", so models added to the catalog later still show.
        self.years.observe(lambda c: self._write(
            self.filter_message, years=None if tuple(c["new"]) == (first, last) else tuple(c["new"])), "value")
        self.weights = w.ToggleButtons(options=[("all", "all"), ("open", "open"), ("closed", "closed")],
                                       value=s.weights, description="Weights", style=style)
        self.weights.observe(lambda c: self._write(self.filter_message, weights=c["new"]), "value")
        self.architecture = w.ToggleButtons(options=[("all", "all"), ("dense", "dense"), ("MoE", "moe")],
                                            value=s.architecture, description="Architecture", style=style)
        self.architecture.observe(lambda c: self._write(self.filter_message, architecture=c["new"]), "value")
        self.model = w.Dropdown(options=[("(none)", ""), *((n, n) for n in catalog()["name"])], value=s.model,
                                description="Model card", layout=full, style=style)
        self.model.observe(lambda c: self._write(self.filter_message, model=c["new"]), "value")

        self.hw_message = message_box()
        self.hardware = w.Dropdown(options=[(hw.name, k) for k, hw in compute.HARDWARE.items()],
                                   value=s.hardware, description="Hardware", layout=full, style=style)
        self.hardware.observe(lambda c: self._write(self.hw_message, hardware=c["new"]), "value")
        # Entered as a percentage; the Scenario holds the fraction.
        self.mfu = w.FloatSlider(value=100 * s.mfu, min=1, max=100, step=1, description="MFU (%)",
                                 tooltip="model-FLOPs utilisation: achieved / peak throughput, in percent",
                                 readout_format=".0f", layout=full, style=style)
        # Rounded: the browser's slider arithmetic sends 40.00000000000001 for 40, and that is no choice.
        self.mfu.observe(lambda c: self._write(self.hw_message, mfu=round(c["new"], 6) / 100), "value")
        self.price = w.FloatText(value=s.price, description="Your price, $/GPU-hour", layout=full, style=style)
        self.price.observe(lambda c: self._write(self.hw_message, price=c["new"]), "value")

        # How N and C are counted (issue 12): every law and every model point follow the switch.
        self.conventions_message = message_box()
        self.param_count = w.ToggleButtons(
            options=[("as published", "native"), ("total", "total"), ("non-embedding", "non-embedding")],
            value=s.param_count, description="Count N as", style=style,
            tooltips=["each law in its own convention (Kaplan: non-embedding; the rest: total)",
                      "every law and model in total parameters", "every law and model in non-embedding "
                      "parameters (Kaplan's count; budgets are 6 N_nonemb D)"])
        self.param_count.observe(lambda c: self._write(self.conventions_message, param_count=c["new"]), "value")
        self.flop_model = w.Dropdown(options=[(FLOP_MODEL_LABELS.get(k, k), k) for k in FLOP_MODELS],
                                     value=s.flop_model, description="FLOPs counted as", layout=full, style=style)
        self.flop_model.observe(lambda c: self._write(self.conventions_message, flop_model=c["new"]), "value")
        self.flatness = w.ToggleButtons(options=_flatness_options(s.flatness), value=s.flatness or 0.0,
                                        description="Flat optimum", style=style,
                                        tooltips=["off", "N and D whose loss is within 1% of the optimum",
                                                  "within 2%"])
        self.flatness.observe(lambda c: self._write(self.conventions_message, flatness=c["new"] or None), "value")

        self.coef_box = w.VBox()
        self.coef: dict[str, w.FloatText] = {}
        self.reset = w.Button(description="Reset to published", icon="undo")
        self.reset.on_click(self._on_reset)
        self.coef_title = w.HTML()
        self.coef_message = message_box()

        state.watch(self.read_back)
        self.read_back(frozenset({"laws", "surface", "edits", "budget", "hardware"}))

    # -- state -> widgets: the one way back ---------------------------------------------------
    @contextmanager
    def _guard(self):
        self._reading_back = True
        try:
            yield
        finally:
            self._reading_back = False

    def read_back(self, changed: frozenset[str]) -> None:
        """Show the current scenario in the widgets whose fields changed."""
        s = self.state.scenario
        with self._guard():
            if changed & {"laws", "law_definitions"} or set(self.law_boxes) != set(self.state.available()):
                self._law_boxes()
            if changed & {"laws", "surface", "law_definitions"}:
                loss_laws = [(laws.get_law(k).name, k) for k in self.state.available() if laws.get_law(k).has_loss]
                if list(self.surface.options) != loss_laws:
                    self.surface.options = loss_laws
                self.surface.value = s.surface
            if changed & {"surface", "edits", "law_definitions"}:
                self._coefficient_boxes()
            if "budget" in changed:
                self._show_budget_on_slider(s.budget)
            for field, widget in (("band", self.band), ("weights", self.weights),
                                  ("architecture", self.architecture), ("model", self.model),
                                  ("hardware", self.hardware), ("price", self.price)):
                if field in changed and widget.value != getattr(s, field):
                    widget.value = getattr(s, field)
            if "mfu" in changed and self.mfu.value / 100 != s.mfu:
                self.mfu.value = 100 * s.mfu
            if "budget" in changed and _parse_budget(self.budget_text.value) != s.budget:
                self.budget_text.value = _fmt_budget(s.budget)
            if "years" in changed:
                self.years.value = s.years or (self.years.min, self.years.max)
            for field, widget in (("param_count", self.param_count), ("flop_model", self.flop_model)):
                if field in changed and widget.value != getattr(s, field):
                    widget.value = getattr(s, field)
            if "flatness" in changed and self.flatness.value != (s.flatness or 0.0):
                self.flatness.options = _flatness_options(s.flatness)
                self.flatness.value = s.flatness or 0.0
        if changed & {"budget", "hardware", "mfu"}:
            b = self.state.readout.budget
            self.budget_readout.value = (
                f'<div class="se-readout">{b.flops:.3g} FLOPs = {b.pf_days:,.4g} PF-days '
                f"= {fmt_count(b.gpu_hours / 24)} {b.hardware} GPU-days</div>")

    def _law_boxes(self) -> None:
        shown = self.state.scenario.laws
        for key in self.state.available():
            if key not in self.law_boxes:
                box = w.Checkbox(description=laws.get_law(key).name, indent=False, layout=w.Layout(width="100%"))
                box.observe(self._on_law_toggle, "value")
                self.law_boxes[key] = box
            self.law_boxes[key].description = laws.get_law(key).name
            self.law_boxes[key].value = key in shown
        self.laws_box.children = [self.law_boxes[k] for k in self.state.available()]

    def _coefficient_boxes(self) -> None:
        s = self.state.scenario
        law = s.law(s.surface)
        names = getattr(law, "coefficients", ())
        for name in names:
            if name not in self.coef:
                box = w.FloatText(description=name, layout=w.Layout(width="160px"), continuous_update=False,
                                  style={"description_width": "52px"})
                box.observe(self._on_coefficient, "value")
                self.coef[name] = box
            self.coef[name].value = getattr(law, name)
        self.coef_box.children = [self.coef[n] for n in names]
        self.coef_title.value = f"Coefficients of <b>{html.escape(law.name)}</b>" + (
            ": L = E + A/N<sup>α</sup> + B/D<sup>β</sup>" if isinstance(law, laws.ParametricLaw) else "")

    # -- widgets -> state -----------------------------------------------------------------------
    def _write(self, message: w.HTML, **changes) -> bool:
        if self._reading_back:  # our own read-back, not the user
            return True
        return self.errors.guard(message, self.state.update, **changes)

    def _on_budget_slider(self, change) -> None:
        # The browser snaps the slider to its 0.05-dex grid and sends the snapped value back; that
        # echo of our own read-back is not the user's choice (3.14e23 typed must stay 3.14e23).
        if abs(math.log10(change["new"]) - math.log10(self._slider_shows)) < 1e-9:
            return
        self._write(self.budget_message, budget=float(change["new"]))

    def _show_budget_on_slider(self, budget: float) -> None:
        b = self.budget
        on_grid = b.base ** (b.min + round((math.log(budget, b.base) - b.min) / b.step) * b.step)
        self._slider_shows = on_grid
        if abs(math.log10(b.value) - math.log10(on_grid)) >= 1e-9:
            b.value = on_grid

    def _on_budget_text(self, change) -> None:
        value = _parse_budget(change["new"])
        if value is None:
            self.budget_message.value = (f'<span class="se-error">budget: {html.escape(change["new"])!s} is not a '
                                         "number of FLOPs (type e.g. 3.14e23)</span>")
            return
        self._write(self.budget_message, budget=value)

    def _budget_from(self, flops_of) -> None:
        def apply():
            self.state.update(budget=float(flops_of(self.state.scenario)))

        self.errors.guard(self.budget_message, apply)

    def _on_law_toggle(self, change) -> None:
        if self._reading_back:
            return
        self._write(self.laws_message, laws=tuple(k for k, box in self.law_boxes.items() if box.value))

    def _on_coefficient(self, change) -> None:
        if self._reading_back:
            return
        s = self.state.scenario
        key = s.surface
        base = laws.get_law(key)
        names = getattr(base, "coefficients", ())
        values = {name: float(self.coef[name].value) for name in names}
        changed = {n: v for n, v in values.items() if v != getattr(base, n)}
        edits = tuple(e for e in s.edits if e[0] != key) + tuple((key, n, v) for n, v in changed.items())
        if self._write(self.coef_message, edits=edits):
            warnings = laws.implausible_coefficients(self.state.scenario.law(key))
            self.coef_message.value = "".join(f'<div class="se-warn">{html.escape(w_)}</div>' for w_ in warnings)

    def _on_reset(self, _button=None) -> None:
        s = self.state.scenario
        self._write(self.coef_message, edits=tuple(e for e in s.edits if e[0] != s.surface))

    # -- layout --------------------------------------------------------------------------
    def panel(self) -> w.Widget:
        """The controls column."""
        section = lambda title: w.HTML(f"<h4 class='se-h'>{title}</h4>")  # noqa: E731
        advanced = w.Accordion(children=[w.VBox([
            self.coef_title, w.Box([self.coef_box], layout=w.Layout(flex_flow="row wrap")),
            self.reset, self.coef_message,
        ])])
        self.coef_box.layout = w.Layout(display="flex", flex_flow="row wrap")
        advanced.set_title(0, "Advanced: edit the loss law's coefficients")
        advanced.selected_index = None
        from_hardware = w.Accordion(children=[w.VBox([
            w.HBox([self.gpus, self.days, self.from_gpus]), w.HBox([self.dollars, self.from_dollars]),
        ])])
        from_hardware.set_title(0, "Budget from GPUs × days, or from dollars")
        from_hardware.selected_index = None
        return w.VBox([
            section("Compute budget"), self.budget, self.budget_text, self.budget_readout, self.budget_message,
            from_hardware,
            section("Laws"), self.laws_box, self.surface, self.band, self.laws_message,
            section("Published models"), self.years, self.weights, self.architecture, self.model,
            self.filter_message,
            section("Hardware"), self.hardware, self.mfu, self.price, self.hw_message,
            section("Conventions"), self.param_count, self.flop_model, self.flatness, self.conventions_message,
            advanced,
        ], layout=w.Layout(width="360px", min_width="320px", padding="0 12px 0 0"))
