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
import numpy as np

from .. import compute, laws
from ..catalog import year_span
from ..conventions import FLOP_MODELS
from ..readout import catalog
from ..scenario import BUDGET_RANGE
from ..wrappers import inference_tokens_from_requests
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


def _fmt_tokens(tokens: float) -> str:
    """A token count as typed: 0, or the shortest exact scientific form (2e12, 1.9952623149688828e12)."""
    if tokens == 0:
        return "0"
    return np.format_float_scientific(float(tokens), unique=True, trim="-", exp_digits=1).replace("e+", "e")


def _parse_optional(text: str) -> tuple[bool, float | None]:
    """(ok, value) of an entry where empty means none: (True, None), (True, 2.0) or (False, None)."""
    if not text.strip():
        return True, None
    value = _parse_budget(text)
    return value is not None, value


def _error(text: str) -> str:
    return f'<span class="se-error">{html.escape(text)}</span>'


def _on_log_grid(slider: w.FloatLogSlider, value: float) -> float:
    """The slider's grid value nearest ``value`` (clamped to its range)."""
    exponent = min(max(math.log(value, slider.base), slider.min), slider.max)
    return slider.base ** (slider.min + round((exponent - slider.min) / slider.step) * slider.step)


# Inference demand and unique tokens: the sliders' spans (tokens). Demand from 1e9 (a small
# deployment) to 1e16 (beyond the ~1e15 tokens the largest services report per year); 0, no
# demand, is the "serve the model" box unticked. Unique tokens from 1e9 to 1e15 (past the ~1e14
# tokens of the largest public web corpora).
DEMAND_RANGE = (1e9, 1e16)
UNIQUE_RANGE = (1e9, 1e15)
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

        # Inference demand (issue 11): lifetime tokens T, 0 by default (the box unticked). The slider
        # writes T and so ticks the box (through the read-back); exact values are typed beside it.
        self.demand_message = message_box()
        self.serve = w.Checkbox(value=s.inference_tokens > 0, description="serve the model (lifetime tokens T)",
                                indent=False, layout=full)
        self.serve.observe(self._on_serve, "value")
        self.demand = w.FloatLogSlider(value=1e13, base=10, min=math.log10(DEMAND_RANGE[0]),
                                       max=math.log10(DEMAND_RANGE[1]), step=0.1, readout=False,
                                       description="T (tokens)", continuous_update=True, layout=full, style=style)
        # On the grid from the start, so the browser's snapped echo is not taken for a user's move.
        self.demand.value = self._demand_shows = _on_log_grid(self.demand, s.inference_tokens or 1e13)
        self.demand.observe(self._on_demand_slider, "value")
        self.demand_text = w.Text(value=_fmt_tokens(s.inference_tokens), description="exact",
                                  continuous_update=False, placeholder="e.g. 2e12 (0: none)",
                                  layout=w.Layout(width="200px"), style={"description_width": "44px"})
        self.demand_text.observe(self._on_demand_text, "value")
        self.requests = w.BoundedFloatText(value=1e10, min=0, max=1e16, description="requests",
                                           layout=w.Layout(width="170px"), style={"description_width": "60px"})
        self.tokens_per_request = w.BoundedFloatText(value=1000, min=0, max=1e8, description="tokens each",
                                                     layout=w.Layout(width="170px"),
                                                     style={"description_width": "76px"})
        self.from_requests = w.Button(description="Set demand", tooltip="T = requests × (input + output) tokens each")
        self.from_requests.on_click(self._on_requests)
        self.demand_readout = w.HTML()

        self.unique_message = message_box()
        self.limit_unique = w.Checkbox(value=s.unique_tokens is not None, indent=False, layout=full,
                                       description="limit unique training tokens U (repeat data)")
        self.limit_unique.observe(self._on_limit_unique, "value")
        self.unique = w.FloatLogSlider(value=1e12, base=10, min=math.log10(UNIQUE_RANGE[0]),
                                       max=math.log10(UNIQUE_RANGE[1]), step=0.1, readout=False,
                                       description="U (tokens)", continuous_update=True, layout=full, style=style)
        self.unique.value = self._unique_shows = _on_log_grid(self.unique, s.unique_tokens or 1e12)
        self.unique.observe(self._on_unique_slider, "value")
        self.unique_text = w.Text(value="" if s.unique_tokens is None else _fmt_tokens(s.unique_tokens),
                                  description="exact", continuous_update=False, placeholder="empty: unlimited",
                                  layout=w.Layout(width="200px"), style={"description_width": "44px"})
        self.unique_text.observe(self._on_unique_text, "value")

        self.target_message = message_box()
        self.target = w.Text(value="" if s.target_loss is None else _fmt_budget(s.target_loss),
                             description="Target loss (nats/token)", continuous_update=False,
                             placeholder="empty: none", layout=full, style=style)
        self.target.observe(self._on_target, "value")

        self.coef_box = w.VBox()
        self.coef: dict[str, w.FloatText] = {}
        self.reset = w.Button(description="Reset to published", icon="undo")
        self.reset.on_click(self._on_reset)
        self.coef_title = w.HTML()
        self.coef_message = message_box()

        state.watch(self.read_back)
        self.read_back(frozenset({"laws", "surface", "edits", "budget", "hardware", "inference_tokens"}))

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
                self._slider_shows = self._show_on_slider(self.budget, s.budget)
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
            if "inference_tokens" in changed:
                T = s.inference_tokens
                self.serve.value = T > 0
                if T > 0:
                    self._demand_shows = self._show_on_slider(self.demand, T)
                if _parse_budget(self.demand_text.value) != T:
                    self.demand_text.value = _fmt_tokens(T)
            if "unique_tokens" in changed:
                U = s.unique_tokens
                self.limit_unique.value = U is not None
                if U is not None:
                    self._unique_shows = self._show_on_slider(self.unique, U)
                if _parse_optional(self.unique_text.value) != (True, U):
                    self.unique_text.value = "" if U is None else _fmt_tokens(U)
            if "target_loss" in changed and _parse_optional(self.target.value) != (True, s.target_loss):
                self.target.value = "" if s.target_loss is None else _fmt_budget(s.target_loss)
        if changed & {"budget", "hardware", "mfu"}:
            b = self.state.readout.budget
            self.budget_readout.value = (
                f'<div class="se-readout">{b.flops:.3g} FLOPs = {b.pf_days:,.4g} PF-days '
                f"= {fmt_count(b.gpu_hours / 24)} {b.hardware} GPU-days</div>")

        if "inference_tokens" in changed:
            T = self.state.scenario.inference_tokens
            self.demand_readout.value = (
                f'<div class="se-readout">T = {T:.3g} tokens ({fmt_count(T)}) over the model\'s life; '
                "serving costs 2&middot;N&middot;T FLOPs</div>" if T else
                '<div class="se-readout">no inference demand: training cost only</div>')

    @staticmethod
    def _show_on_slider(slider: w.FloatLogSlider, value: float) -> float:
        """Put ``slider`` on its grid value nearest ``value`` (read-back only); returns that value."""
        on_grid = _on_log_grid(slider, value)
        if abs(math.log10(slider.value) - math.log10(on_grid)) >= 1e-9:
            slider.value = on_grid
        return on_grid

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

    # Inference demand, unique tokens, target loss. A slider's echo of its own read-back (the
    # browser snapping to the grid) is not the user's choice, as for the budget.
    def _on_serve(self, change) -> None:
        self._write(self.demand_message, inference_tokens=float(self.demand.value) if change["new"] else 0.0)

    def _on_demand_slider(self, change) -> None:
        if abs(math.log10(change["new"]) - math.log10(self._demand_shows)) < 1e-9:
            return
        self._write(self.demand_message, inference_tokens=float(change["new"]))

    def _on_demand_text(self, change) -> None:
        value = _parse_budget(change["new"]) if change["new"].strip() else 0.0
        if value is None:
            self.demand_message.value = _error(f"demand: {change['new']} is not a number of tokens "
                                               "(type e.g. 2e12, or 0 for none)")
            return
        self._write(self.demand_message, inference_tokens=value)

    def _on_requests(self, _button=None) -> None:
        def apply():
            self.state.update(inference_tokens=inference_tokens_from_requests(
                self.requests.value, self.tokens_per_request.value))

        self.errors.guard(self.demand_message, apply)

    def _on_limit_unique(self, change) -> None:
        self._write(self.unique_message, unique_tokens=float(self.unique.value) if change["new"] else None)

    def _on_unique_slider(self, change) -> None:
        if abs(math.log10(change["new"]) - math.log10(self._unique_shows)) < 1e-9:
            return
        self._write(self.unique_message, unique_tokens=float(change["new"]))

    def _on_unique_text(self, change) -> None:
        ok, value = _parse_optional(change["new"])
        if not ok:
            self.unique_message.value = _error(f"unique tokens: {change['new']} is not a number of tokens "
                                               "(type e.g. 2e11, or leave empty for unlimited)")
            return
        self._write(self.unique_message, unique_tokens=value)

    def _on_target(self, change) -> None:
        ok, value = _parse_optional(change["new"])
        if not ok:
            self.target_message.value = _error(f"target: {change['new']} is not a loss in nats per token "
                                               "(type e.g. 2.0, or leave empty for none)")
            return
        self._write(self.target_message, target_loss=value)

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
            section("Inference demand"), self.serve, self.demand, self.demand_text, self.demand_readout,
            w.HBox([self.requests, self.tokens_per_request]), self.from_requests, self.demand_message,
            section("Data and target"), self.limit_unique, self.unique, self.unique_text, self.unique_message,
            self.target, self.target_message,
            section("Conventions"), self.param_count, self.flop_model, self.flatness, self.conventions_message,
            advanced,
        ], layout=w.Layout(width="360px", min_width="320px", padding="0 12px 0 0"))
