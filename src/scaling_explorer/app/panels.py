"""The control panels: panel-sized groups of controls, each bound to Scenario fields.

A page composes the panels it needs over one :class:`~scaling_explorer.app.bind.Binder`::

    binder = Binder(state, errors)
    budget, laws = BudgetPanel(binder), LawsPanel(binder)
    column = w.VBox([panel.section() for panel in (budget, laws)])

Every panel writes only through its bindings (or ``binder.write`` for a button) and shows only
what the state says; no science here.
"""

from __future__ import annotations

import html
import math

import ipywidgets as w

from .. import compute, laws
from ..catalog import year_span
from ..conventions import FLOP_MODELS
from ..distill import Accounting, catalog_teachers
from ..readout import catalog
from ..scenario import BUDGET_RANGE, choice
from ..wrappers import inference_tokens_from_requests
from .bind import FULL, STYLE, Binder, CoefficientEditor, LawChecklist, LogQuantity, message_box, optional_number
from .format import fmt_count, fmt_flops, fmt_sci

# Inference demand and unique tokens: the sliders' spans (tokens). Demand from 1e9 (a small
# deployment) to 1e16 (beyond the ~1e15 tokens the largest services report per year); 0, no
# demand, is the "serve the model" box unticked. Unique tokens from 1e9 to 1e15 (past the ~1e14
# tokens of the largest public web corpora).
DEMAND_RANGE = (1e9, 1e16)
UNIQUE_RANGE = (1e9, 1e15)
FLOP_MODEL_LABELS = {"6ND": "6ND", "kaplan": "Kaplan: 6 N_nonemb D", "chinchilla": "Chinchilla App. F",
                     "deepseek": "DeepSeek: M D"}


def flatness_options(current) -> list[tuple[str, float]]:
    """Off, 1% and 2%, plus the scenario's own tolerance when it is another one (from a link)."""
    options = [("off", 0.0), ("1%", 0.01), ("2%", 0.02)]
    if current and current not in (0.01, 0.02):
        options.append((f"{current:.2%}", current))
    return options


def positive(what: str, value: float) -> float:
    """``value`` if it is a finite positive number; else ``ValueError`` naming ``what``."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{what}: {value!r} is not a positive number")
    return float(value)


def mfu_from_percent_box(value: float) -> float:
    """The MFU fraction from the percent box: 40 is 0.4; 1 or less is already a fraction (0.4 stays 0.4).

    Above 100 (or at 0 or below) raises ``ValueError`` in the box's own unit, percent.
    """
    value = float(value)
    if not 0 < value <= 100:
        raise ValueError(f"mfu: {value:g}% is not a utilisation: type a percent of peak above 0 and at most 100")
    return value if value <= 1 else round(value, 6) / 100


def readout_html(text: str) -> str:
    """A one-line readout under a control."""
    return f'<div class="se-readout">{text}</div>'


class Panel:
    """A group of controls over a shared :class:`Binder`; ``widget()`` is its content, ``section()`` with a title."""

    title = ""

    def __init__(self, binder: Binder):
        self.binder = binder
        self.state = binder.state

    def widget(self) -> w.Widget:
        """The panel's controls (no title)."""
        raise NotImplementedError

    def section(self) -> w.Widget:
        """The panel with its title, as the explorer's side column shows it."""
        return w.VBox([w.HTML(f"<h4 class='se-h'>{html.escape(self.title)}</h4>"), self.widget()])


class BudgetPanel(Panel):
    """Compute budget (log slider + exact box), budget from GPUs × days or dollars, hardware, MFU, price."""

    title = "Compute budget"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        s = self.state.scenario
        # The slider steps 0.05 dex on a grid anchored on Chinchilla's 5.76e23 FLOPs (Hoffmann §4),
        # across the Scenario's whole range; exact values are typed in the box beside it.
        self.budget = LogQuantity(s.budget, description="C (FLOPs)", span=BUDGET_RANGE, step=0.05, anchor=5.76e23,
                                  name="budget", hint="a number of FLOPs (type e.g. 3.14e23)",
                                  placeholder="e.g. 3.14e23")
        binder.bind("budget", self.budget, message=self.budget.message)
        self.readout = w.HTML()
        self.message = self.budget.message
        # Budget from hardware time or from dollars (compute.flops_from_gpu_time / flops_for_cost). Plain
        # number boxes: a value out of reason is refused with a message when "Set budget" is clicked,
        # never clamped by the box.
        self.gpus = w.FloatText(value=1024, description="GPUs", layout=w.Layout(width="150px"),
                                style={"description_width": "40px"})
        self.days = w.FloatText(value=30, description="days", layout=w.Layout(width="140px"),
                                style={"description_width": "36px"})
        self.from_gpus = w.Button(description="Set budget", tooltip="GPUs × days at the hardware and MFU below",
                                  layout=w.Layout(width="auto"))
        self.from_gpus.on_click(lambda _: self._budget_from_gpus())
        self.dollars = w.FloatText(value=1e6, description="$", layout=w.Layout(width="170px"),
                                   style={"description_width": "16px"})
        self.from_dollars = w.Button(description="Set budget", tooltip="dollars at your price, hardware and MFU",
                                     layout=w.Layout(width="auto"))
        self.from_dollars.on_click(lambda _: self._budget_from_dollars())
        self.from_message = message_box()

        self.hw_message = message_box()
        self.hardware = w.Dropdown(options=[(hw.name, k) for k, hw in compute.HARDWARE.items()],
                                   description="Hardware", layout=FULL, style=STYLE)
        binder.bind("hardware", self.hardware, message=self.hw_message)
        # A plain box in percent of peak (the Scenario holds the fraction): 40 is 40%. A value of 1
        # or less is read as a fraction (0.4 is 40%) and the note beside the box says so; above 100%
        # the Scenario refuses it. Rounded: 40.00000000000001 from browser arithmetic is no choice.
        self.mfu = w.FloatText(description="MFU (% of peak)", layout=FULL, style=STYLE,
                               tooltip="model-FLOPs utilisation: achieved / peak throughput, in percent")
        self.mfu_note = w.HTML()
        binder.bind("mfu", self.mfu, to_widget=lambda f: round(100 * f, 9), from_widget=mfu_from_percent_box,
                    message=self.hw_message)
        self.mfu.observe(self._show_mfu_note, "value")
        self._show_mfu_note()
        self.price = w.FloatText(description="Your price, $/GPU-hour", layout=FULL, style=STYLE)
        binder.bind("price", self.price, message=self.hw_message)
        self.state.watch(self._show_readout)  # a line of text: every change
        self._show_readout()


    def _show_readout(self, changed=None) -> None:
        b = self.state.readout.budget
        self.readout.value = readout_html(f"{fmt_flops(b.flops)} FLOPs = {fmt_count(b.pf_days)} PF-days "
                                          f"= {fmt_count(b.gpu_hours / 24)} {b.hardware} GPU-days")

    def _show_mfu_note(self, change=None) -> None:
        v = self.mfu.value
        self.mfu_note.value = (readout_html(f"{v:g} read as a fraction of peak: {100 * v:g}% MFU")
                               if 0 < v <= 1 else "")

    def _budget_from_gpus(self) -> None:
        def set_budget():
            gpus, days = positive("GPUs", self.gpus.value), positive("days", self.days.value)
            s = self.state.scenario
            flops = compute.flops_from_gpu_time(gpus, days, s.hardware, s.mfu)
            self._set_budget(flops, f"{fmt_sci(gpus)} GPUs × {fmt_sci(days)} days at {s.mfu:.0%} MFU")
        self.binder.errors.guard(self.from_message, set_budget)

    def _budget_from_dollars(self) -> None:
        def set_budget():
            dollars = positive("$", self.dollars.value)
            s = self.state.scenario
            flops = compute.flops_for_cost(dollars, s.hardware, s.mfu, s.price)
            self._set_budget(flops, f"${fmt_sci(dollars)} at ${s.price:g}/GPU-hour and {s.mfu:.0%} MFU")
        self.binder.errors.guard(self.from_message, set_budget)

    def _set_budget(self, flops: float, what: str) -> None:
        """Set the budget computed from ``what``; out of range, say what it came from and change nothing."""
        low, high = choice("budget").range()
        if not low <= flops <= high:
            raise ValueError(f"{what} give {fmt_sci(flops)} FLOPs, outside the budget's range "
                             f"({choice('budget').describe_range()} FLOPs): nothing changed")
        self.state.update(budget=float(flops))

    def widget(self) -> w.Widget:
        from_hardware = w.Accordion(children=[w.VBox([
            w.HBox([self.gpus, self.days, self.from_gpus]), w.HBox([self.dollars, self.from_dollars]),
            self.from_message,
        ])])
        from_hardware.set_title(0, "Budget from GPUs × days, or from dollars")
        from_hardware.selected_index = None
        return w.VBox([self.budget, self.readout, from_hardware, self.hardware, self.mfu, self.mfu_note,
                       self.price, self.hw_message])


class LawsPanel(Panel):
    """Which laws are drawn, which one shades and classifies, the near-optimal band, the coefficients."""

    title = "Laws"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        state = self.state
        self.message = message_box()
        self.laws = LawChecklist()
        binder.bind("laws", self.laws, message=self.message,
                    options=lambda s: [(laws.get_law(k).name, k) for k in state.available()])
        self.surface = w.Dropdown(description="Contours, shading, status", layout=FULL, style=STYLE)
        binder.bind("surface", self.surface, message=self.message,
                    options=lambda s: [(laws.get_law(k).name, k) for k in state.available()
                                       if laws.get_law(k).has_loss])
        self.band = w.FloatSlider(min=1.25, max=10, step=0.25, layout=FULL, style=STYLE,
                                  description="Near-optimal ×", readout_format=".2f",
                                  tooltip="a model is near-optimal when D / D_opt is within this factor")
        binder.bind("band", self.band, from_widget=lambda v: round(v, 9), message=self.message)
        self.coefficients = CoefficientEditor()
        self.coef_message = message_box()
        self.coef_warnings = w.HTML()
        binder.bind("edits", self.coefficients, message=self.coef_message,
                    options=lambda s: [(s.surface, s.law(s.surface))])
        state.watch(self._show_warnings)
        self._show_warnings()


    def _show_warnings(self, changed=None) -> None:
        s = self.state.scenario
        warnings = laws.implausible_coefficients(s.law(s.surface))
        self.coef_warnings.value = "".join(f'<div class="se-warn">{html.escape(text)}</div>' for text in warnings)

    def widget(self) -> w.Widget:
        advanced = w.Accordion(children=[w.VBox([self.coefficients, self.coef_message, self.coef_warnings])])
        advanced.set_title(0, "Advanced: edit the loss law's coefficients")
        advanced.selected_index = None
        return w.VBox([self.laws, self.surface, self.band, self.message, advanced])


class ModelsPanel(Panel):
    """Which published models show (release years, weights, architecture) and which one is selected."""

    title = "Published models"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        self.message = message_box()
        first, last = year_span(catalog())
        self.years = w.IntRangeSlider(value=(first, last), min=first, max=last, description="Released",
                                      layout=FULL, style=STYLE, continuous_update=False)
        # The whole span is "no year filter", so models added to the catalog later still show.
        binder.bind("years", self.years, to_widget=lambda y: y or (first, last),
                    from_widget=lambda y: None if tuple(y) == (first, last) else tuple(y), message=self.message)
        self.weights = w.ToggleButtons(options=[("all", "all"), ("open", "open"), ("closed", "closed")],
                                       description="Weights", style=STYLE)
        binder.bind("weights", self.weights, message=self.message)
        self.architecture = w.ToggleButtons(options=[("all", "all"), ("dense", "dense"), ("MoE", "moe")],
                                            description="Architecture", style=STYLE)
        binder.bind("architecture", self.architecture, message=self.message)
        self.model = w.Dropdown(options=[("(none)", ""), *((n, n) for n in catalog()["name"])],
                                description="Model card", layout=FULL, style=STYLE)
        binder.bind("model", self.model, message=self.message)

    def widget(self) -> w.Widget:
        return w.VBox([self.years, self.weights, self.architecture, self.model, self.message])


class BeyondPanel(Panel):
    """Beyond Chinchilla: inference demand (Sardana et al.), unique tokens (Muennighoff et al.), a target loss,
    a teacher to distil from (Busbridge et al.), a larger model to trade for test-time compute (Snell et al.) and
    the hyperparameters at the optimum (Step Law, DeepSeek LLM)."""

    title = "Beyond Chinchilla"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        s = self.state.scenario
        # Inference demand (issue 11): lifetime tokens T, 0 by default (the box unticked).
        self.demand = LogQuantity(s.inference_tokens, description="T (tokens)", span=DEMAND_RANGE, step=0.1,
                                  toggle="serve the model (lifetime tokens T)", off=0.0, rest=1e13, name="demand",
                                  hint="a number of tokens (type e.g. 2e12, or 0 for none)",
                                  placeholder="e.g. 2e12 (0: none)")
        binder.bind("inference_tokens", self.demand, message=self.demand.message)
        # Plain boxes: the product is checked against the demand's declared range when clicked.
        self.requests = w.FloatText(value=1e10, description="requests", layout=w.Layout(width="170px"),
                                    style={"description_width": "60px"})
        self.tokens_per_request = w.FloatText(value=1000, description="tokens each", layout=w.Layout(width="170px"),
                                              style={"description_width": "76px"})
        self.from_requests = w.Button(description="Set demand", tooltip="T = requests × (input + output) tokens each")
        self.from_requests.on_click(self._on_requests)
        self.demand_readout = w.HTML()

        self.unique = LogQuantity(s.unique_tokens, description="U (tokens)", span=UNIQUE_RANGE, step=0.1,
                                  toggle="limit unique training tokens U (repeat data)", off=None, rest=1e12,
                                  name="unique tokens",
                                  hint="a number of tokens (type e.g. 2e11, or leave empty for unlimited)",
                                  placeholder="empty: unlimited")
        binder.bind("unique_tokens", self.unique, message=self.unique.message)

        self.target_message = message_box()
        self.target = w.Text(description="Target loss (nats/token)", continuous_update=False,
                             placeholder="empty: none", layout=FULL, style=STYLE)
        binder.bind("target_loss", self.target, message=self.target_message,
                    to_widget=lambda v: "" if v is None else repr(float(v)),
                    from_widget=optional_number("target", "a loss in nats per token (type e.g. 2.0, or leave empty "
                                                "for none)"))

        # Beyond the pre-training budget (issue 23): a teacher typed or picked (catalog models with a size
        # and tokens are offered; NT:DT and a loss are typed), its accounting, the size ratio M.
        self.distill_message = message_box()
        self.teacher = w.Combobox(options=catalog_teachers(), ensure_option=False, continuous_update=False,
                                  description="Distil from", placeholder="a model, NT:DT or a loss (empty: none)",
                                  layout=FULL, style=STYLE)
        binder.bind("teacher", self.teacher, from_widget=str.strip, message=self.distill_message)
        self.accounting = w.Dropdown(options=[(f"{a.value.replace('-', ' ')} ({a.short_label})", a.value)
                                              for a in Accounting], description="Teacher costs", layout=FULL,
                                     style=STYLE, tooltip="which teacher costs the FLOPs count (Busbridge et al. "
                                                          "2025, Table 2)")
        binder.bind("accounting", self.accounting, message=self.distill_message)
        self.size_ratio = w.FloatText(description="Against a model M× larger, M =", layout=FULL, style=STYLE,
                                      tooltip="with demand: test-time compute instead of a bigger model "
                                              "(Snell et al. 2024 §7)")
        self.size_message = message_box()
        binder.bind("size_ratio", self.size_ratio, message=self.size_message)
        self.hyperparameters = w.Checkbox(description="learning rate and batch at each optimum", indent=False,
                                          layout=FULL)
        binder.bind("hyperparameters", self.hyperparameters, message=self.size_message)
        self.state.watch(self._show_readout)  # a line of text: every change
        self._show_readout()


    def _show_readout(self, changed=None) -> None:
        T = self.state.scenario.inference_tokens
        self.demand_readout.value = readout_html(
            f"T = {fmt_count(T)} tokens over the model's life; serving costs 2&middot;N&middot;T FLOPs"
            if T else "no inference demand: training cost only")

    def _on_requests(self, _button=None) -> None:
        def set_demand():
            requests, each = self.requests.value, self.tokens_per_request.value
            T = inference_tokens_from_requests(requests, each)
            low, high = choice("inference_tokens").range()
            if not low <= T <= high:
                accepted = choice("inference_tokens").describe_range()
                raise ValueError(f"demand: {fmt_sci(requests)} requests × {fmt_sci(each)} tokens = {fmt_sci(T)} "
                                 f"tokens, outside the accepted range ({accepted}): nothing changed")
            self.state.update(inference_tokens=T)
        self.binder.errors.guard(self.demand.message, set_demand)

    def widget(self) -> w.Widget:
        return w.VBox([
            w.HTML("<div class='se-note'>Inference demand</div>"), self.demand, self.demand_readout,
            w.HBox([self.requests, self.tokens_per_request]), self.from_requests,
            w.HTML("<div class='se-note'>Data and target</div>"), self.unique, self.target, self.target_message,
            w.HTML("<div class='se-note'>Beyond the pre-training budget</div>"), self.teacher, self.accounting,
            self.distill_message, self.size_ratio, self.hyperparameters, self.size_message,
        ])


class ConventionsPanel(Panel):
    """How N and C are counted (issue 12) and the flat-optimum tolerance."""

    title = "Conventions"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        self.message = message_box()
        self.param_count = w.ToggleButtons(
            options=[("as published", "native"), ("total", "total"), ("non-embedding", "non-embedding")],
            description="Count N as", style=STYLE,
            tooltips=["each law in its own convention (Kaplan: non-embedding; the rest: total)",
                      "every law and model in total parameters", "every law and model in non-embedding "
                      "parameters (Kaplan's count; budgets are 6 N_nonemb D)"])
        binder.bind("param_count", self.param_count, message=self.message)
        self.flop_model = w.Dropdown(options=[(FLOP_MODEL_LABELS.get(k, k), k) for k in FLOP_MODELS],
                                     description="FLOPs counted as", layout=FULL, style=STYLE)
        binder.bind("flop_model", self.flop_model, message=self.message)
        self.flatness = w.ToggleButtons(description="Flat optimum", style=STYLE,
                                        tooltips=["off", "N and D whose loss is within 1% of the optimum",
                                                  "within 2%"])
        binder.bind("flatness", self.flatness, to_widget=lambda x: x or 0.0, from_widget=lambda x: x or None,
                    options=lambda s: flatness_options(s.flatness), message=self.message)

    def widget(self) -> w.Widget:
        return w.VBox([self.param_count, self.flop_model, self.flatness, self.message])


#: The explorer's side column, in order.
PANELS = (BudgetPanel, LawsPanel, ModelsPanel, BeyondPanel, ConventionsPanel)
