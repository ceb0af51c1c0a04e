"""Controls: widgets that write the state. No science here; bad input becomes a message."""

from __future__ import annotations

import html
import logging
import math

import ipywidgets as w
import traitlets as t

from .. import compute, laws
from .format import fmt_count
from .state import FIT_KEY, ExplorerState, catalog

log = logging.getLogger(__name__)
COEFFICIENTS = ("E", "A", "B", "alpha", "beta")


class ErrorSink:
    """Turns exceptions raised by a control into a message beside it.

    ``raise_errors=True`` (for tests) re-raises instead, so a test sees the real error.
    """

    def __init__(self, raise_errors: bool = False):
        self.raise_errors = raise_errors

    def guard(self, message: w.HTML, fn, *args):
        try:
            fn(*args)
        except (ValueError, TypeError, t.TraitError) as exc:
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


def _message() -> w.HTML:
    return w.HTML("", layout=w.Layout(min_height="0"))


class Controls:
    """All controls, grouped in panels; each writes its trait of the state."""

    def __init__(self, state: ExplorerState, errors: ErrorSink):
        self.state = state
        self.errors = errors
        full = w.Layout(width="100%")
        style = {"description_width": "initial"}

        # The slider snaps to min + k*step in log10: anchor the grid on Chinchilla's 5.76e23 FLOPs
        # (Hoffmann §4) so the default budget is exact; the range is ~1e18 to ~1e27.
        anchor, step = math.log10(5.76e23), 0.05
        self.budget = w.FloatLogSlider(
            value=state.budget, base=10, min=anchor - 115 * step, max=anchor + 65 * step, step=step,
            description="C (FLOPs)",
            readout_format=".2e", continuous_update=True, layout=full, style=style,
        )
        self.budget_readout = w.HTML()
        self.budget_message = _message()
        self.budget.observe(self._on_budget, "value")

        self.law_boxes = {}
        self.laws_box = w.VBox()
        self._rebuild_law_boxes()

        loss_laws = [(laws.get_law(k).name, k) for k, law in laws.PRESETS.items() if law.has_loss]
        self.surface = w.Dropdown(options=loss_laws, value=state.surface, description="Contours, shading, status",
                                  layout=full, style=style)
        self.surface.observe(lambda c: self._write("surface", c["new"], self.laws_message), "value")
        self.laws_message = _message()

        self.band = w.FloatSlider(value=state.band_factor, min=1.25, max=10, step=0.25, layout=full, style=style,
                                  description="Near-optimal ×", readout_format=".2f",
                                  tooltip="a model is near-optimal when D / D_opt is within this factor")
        self.band.observe(lambda c: self._write("band_factor", c["new"], self.laws_message), "value")

        self.years = w.IntRangeSlider(value=state.years, min=2019, max=2025, description="Released",
                                      layout=full, style=style, continuous_update=False)
        self.years.observe(lambda c: self._write("years", tuple(c["new"]), self.filter_message), "value")
        self.weights = w.ToggleButtons(options=[("all", "all"), ("open", "open"), ("closed", "closed")],
                                       value=state.weights, description="Weights", style=style)
        self.weights.observe(lambda c: self._write("weights", c["new"], self.filter_message), "value")
        self.architecture = w.ToggleButtons(options=[("all", "all"), ("dense", "dense"), ("MoE", "moe")],
                                            value=state.architecture, description="Architecture", style=style)
        self.architecture.observe(lambda c: self._write("architecture", c["new"], self.filter_message), "value")
        self.filter_message = _message()

        names = catalog()["name"].tolist()
        self.model = w.Dropdown(options=names, value=state.selected, description="Model card", layout=full,
                                style=style)
        self.model.observe(lambda c: self._write("selected", c["new"], self.filter_message), "value")
        state.observe(lambda c: setattr(self.model, "value", c["new"]), "selected")  # a click on a point

        self.hardware = w.Dropdown(options=[(hw.name, k) for k, hw in compute.HARDWARE.items()],
                                   value=state.hardware, description="Hardware", layout=full, style=style)
        self.hardware.observe(lambda c: self._write("hardware", c["new"], self.hw_message), "value")
        self.mfu = w.FloatSlider(value=state.mfu, min=0.05, max=0.8, step=0.05, description="MFU",
                                 tooltip="model-FLOPs utilisation: achieved / peak throughput",
                                 readout_format=".0%", layout=full, style=style)
        self.mfu.observe(lambda c: self._write("mfu", c["new"], self.hw_message), "value")
        self.price = w.FloatText(value=state.usd_per_gpu_hour, description="Your price, $/GPU-hour",
                                 layout=full, style=style)
        self.price.observe(self._on_price, "value")
        self.hw_message = _message()

        self.coef = {name: w.FloatText(description=name, layout=w.Layout(width="160px"), continuous_update=False,
                                       style={"description_width": "40px"})
                     for name in COEFFICIENTS}
        for box in self.coef.values():
            box.observe(self._on_coefficient, "value")
        self.reset = w.Button(description="Reset to published", icon="undo")
        self.reset.on_click(self._on_reset)
        self.coef_title = w.HTML()
        self.coef_message = _message()
        self._loading_coefficients = False
        state.observe(self._load_coefficients, ["surface", "overrides"])
        state.observe(self._show_budget, ["budget", "hardware", "mfu"])
        state.observe(self._on_fit, "fit_result")
        state.observe(self._sync_law_boxes, "shown")
        self._load_coefficients()
        self._show_budget()

    # -- writers -------------------------------------------------------------------------
    def _write(self, trait: str, value, message: w.HTML):
        return self.errors.guard(message, setattr, self.state, trait, value)

    def _on_budget(self, change):
        self._write("budget", float(change["new"]), self.budget_message)

    def _on_price(self, change):
        value = change["new"]
        if not value or value <= 0:
            self.hw_message.value = '<span class="se-error">the price must be above $0 per GPU-hour</span>'
            return
        self._write("usd_per_gpu_hour", float(value), self.hw_message)

    def _rebuild_law_boxes(self):
        self.law_boxes = {}
        for key in self.state.available():
            box = w.Checkbox(value=key in self.state.shown, description=self.state.law(key).name, indent=False,
                             layout=w.Layout(width="100%"))
            box.observe(self._on_law_toggle, "value")
            self.law_boxes[key] = box
        self.laws_box.children = list(self.law_boxes.values())

    def _on_fit(self, change=None):
        """A new fit: offer it as a law and as the loss law of the contours."""
        self._rebuild_law_boxes()
        options = [(laws.get_law(k).name, k) for k, law in laws.PRESETS.items() if law.has_loss]
        if self.state.fit_result is not None:
            options.append((self.state.fit_result.law.name, FIT_KEY))
        self.surface.options = options
        self.surface.value = self.state.surface if self.state.surface in dict(options).values() else options[0][1]

    def _sync_law_boxes(self, change=None):
        self._syncing = True  # our own writes: do not echo them back into the state
        try:
            for key, box in self.law_boxes.items():
                box.value = key in self.state.shown
        finally:
            self._syncing = False

    def _on_law_toggle(self, change):
        if getattr(self, "_syncing", False):
            return
        shown = tuple(k for k, box in self.law_boxes.items() if box.value)
        self._write("shown", shown, self.laws_message)

    def _show_budget(self, change=None):
        s = self.state
        days = float(compute.gpu_hours(s.budget, s.hardware, s.mfu)) / 24
        self.budget_readout.value = (
            f'<div class="se-readout">{s.budget:.3g} FLOPs = {float(compute.to_pf_days(s.budget)):,.4g} PF-days '
            f"= {fmt_count(days)} {s.hardware} GPU-days</div>"
        )

    def _load_coefficients(self, change=None):
        law = self.state.law(self.state.surface)
        editable = isinstance(law, laws.ParametricLaw)
        self._loading_coefficients = True
        try:
            for name, box in self.coef.items():
                box.disabled = not editable
                box.value = getattr(law, name) if editable else 0.0
        finally:
            self._loading_coefficients = False
        self.coef_title.value = (f"Coefficients of <b>{html.escape(law.name)}</b>: L = E + A/N<sup>α</sup> + "
                                 "B/D<sup>β</sup>" if editable else
                                 f"<i>{html.escape(law.name)} is not of the form E + A/N^α + B/D^β.</i>")

    def _on_coefficient(self, change):
        if self._loading_coefficients:  # our own write, not the user's
            return
        key = self.state.surface
        base = laws.get_law(key) if key != FIT_KEY else self.state.fit_result.law
        values = {name: float(box.value) for name, box in self.coef.items()}

        def apply():
            edited = base.replace(**values)
            overrides = {k: v for k, v in self.state.overrides.items() if k != key}
            if edited != base:
                overrides[key] = edited
            self.state.overrides = overrides

        self.errors.guard(self.coef_message, apply)

    def _on_reset(self, _button=None):
        self.state.overrides = {k: v for k, v in self.state.overrides.items() if k != self.state.surface}
        self.coef_message.value = ""

    # -- layout --------------------------------------------------------------------------
    def panel(self) -> w.Widget:
        section = lambda title: w.HTML(f"<h4 class='se-h'>{title}</h4>")  # noqa: E731
        advanced = w.Accordion(children=[w.VBox([
            self.coef_title, w.HBox([self.coef["E"]], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.coef["A"], self.coef["alpha"]]), w.HBox([self.coef["B"], self.coef["beta"]]),
            self.reset, self.coef_message,
        ])])
        advanced.set_title(0, "Advanced: edit the loss law's coefficients")
        advanced.selected_index = None
        return w.VBox([
            section("Compute budget"), self.budget, self.budget_readout, self.budget_message,
            section("Laws"), self.laws_box, self.surface, self.band, self.laws_message,
            section("Published models"), self.years, self.weights, self.architecture, self.model,
            self.filter_message,
            section("Hardware"), self.hardware, self.mfu, self.price, self.hw_message,
            advanced,
        ], layout=w.Layout(width="360px", min_width="320px", padding="0 12px 0 0"))
