"""The model table: every catalog model, sortable and filterable, status under the surface law.

Rows are the options of one ``Select`` (monospace, padded columns): a click or the arrow keys
select a model, and the list scrolls, so ~120 rows stay responsive. The numbers are the
classified catalog's (``state.readout.all_models``, or ``.models`` with "follow the page's
filters"); "set the budget to its compute" and "size it as <law> would" call
:mod:`scaling_explorer.sizing`. No science here.
"""

from __future__ import annotations

import html
from contextlib import contextmanager

import ipywidgets as w
import pandas as pd

from ..catalog import NEAR_OPTIMAL, NOT_DESCRIBED, NOT_PLOTTED, OVERTRAINED, UNDERTRAINED
from ..readout import law_label
from ..sizing import model_budget, size_model
from .controls import ErrorSink, message_box
from .format import fmt_count
from .state import EXTRAS, JUDGING, LAWS_CHANGED, MONEY, VIEW, AppState

#: Sort keys offered: (label, column).
SORT_COLUMNS = (
    ("name", "name"), ("organisation", "organization"), ("release date", "release_date"),
    ("parameters N", "compute_params"), ("tokens D", "tokens"), ("tokens per parameter", "tokens_per_param"),
    ("compute (FLOPs)", "flops"), ("D / D_opt", "d_over_d_opt"), ("status", "status"),
)
_STATUS_ORDER = {UNDERTRAINED: 0, NEAR_OPTIMAL: 1, OVERTRAINED: 2, NOT_PLOTTED: 3, NOT_DESCRIBED: 4}
# Column widths of the padded rows (characters).
_COLUMNS = (("model", 22, "<"), ("organisation", 16, "<"), ("year", 4, "<"), ("N", 8, ">"), ("D", 8, ">"),
            ("D/N", 7, ">"), ("FLOPs", 8, ">"), ("D/D_opt", 7, ">"), ("status", 13, "<"))
_NBSP = "\u00a0"  # <option> text collapses runs of spaces; non-breaking ones keep the columns
# Fields that leave the table as it is: the budget and its price, what the law rows add, the view.
IGNORED_FIELDS = frozenset({"budget"}) | MONEY | EXTRAS - JUDGING | VIEW


def flop_label(scenario) -> str:
    """How the scenario counts a model's training FLOPs, as the table names it."""
    own = scenario.law(scenario.surface).flop_model.name
    if scenario.flop_model == "6ND" and own != "6ND":  # a law that counts its own way (the MoE law)
        return own
    return "6ND" if scenario.flop_model == "6ND" else f"{scenario.flop_model} count"


def _cell(text: str, width: int, align: str) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"{text:{align}{width}}"


def _number(x: float, fmt: str = "count") -> str:
    if pd.isna(x):
        return "—"
    if fmt == "ratio":  # tokens per parameter: 0.51, 20, 1,875, 60,000
        return f"{x:,.0f}" if x >= 100 else f"{x:.2g}"
    return fmt_count(x) if fmt == "count" else f"{x:.{fmt}}"


def row_label(model: pd.Series) -> str:
    """One model as a padded row of the table (``*`` after the status marks caveats)."""
    cells = (
        model["name"], model["organization"], str(model["release_date"].year),
        _number(model["compute_params"]), _number(model["tokens"]), _number(model["tokens_per_param"], "ratio"),
        _number(model["flops"], "2e"), _number(model["d_over_d_opt"], "2f"),
        model["status"] + (" *" if len(model["caveats"]) else ""),
    )
    return (" ".join(_cell(c, width, align) for c, (_, width, align) in zip(cells, _COLUMNS, strict=True))
            .rstrip().replace(" ", _NBSP))


def header_label() -> str:
    """The column titles, padded like :func:`row_label`."""
    return " ".join(_cell(t, width, align) for t, width, align in _COLUMNS).rstrip()


def sort_models(models: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """Models sorted by ``column`` (names case-insensitively; status under < near < over < undisclosed).

    Missing numbers go last either way; ties keep the catalog's order.
    """
    if column == "status":
        key = models["status"].map(_STATUS_ORDER)
    elif pd.api.types.is_string_dtype(models[column]):
        key = models[column].str.lower()
    else:
        key = models[column]
    order = key.sort_values(ascending=ascending, na_position="last", kind="stable").index
    return models.loc[order]


def filter_models(models: pd.DataFrame, text: str) -> pd.DataFrame:
    """Models whose name or organisation contains ``text`` (case-insensitive; blank keeps all)."""
    text = text.strip().lower()
    if not text:
        return models
    hit = (models["name"].str.lower().str.contains(text, regex=False)
           | models["organization"].str.lower().str.contains(text, regex=False))
    return models[hit]


class ModelTable:
    """The model table panel; ``.panel()`` is its widget.

    Attributes
    ----------
    visible : DataFrame
        The rows shown, in order.
    """

    def __init__(self, state: AppState, errors: ErrorSink, rows: int = 14):
        self.state = state
        self.errors = errors
        self._reading_back = False
        style = {"description_width": "initial"}

        self.search = w.Text(placeholder="filter by name or organisation", description="Find",
                             continuous_update=True, style=style, layout=w.Layout(width="22em"))
        self.sort = w.Dropdown(options=SORT_COLUMNS, value="release_date", description="Sort by", style=style,
                               layout=w.Layout(width="16em"))
        self.ascending = w.ToggleButton(value=True, description="ascending",
                                        tooltip="ascending or descending")
        self.follow_filters = w.Checkbox(value=False, indent=False, description="only models the page's filters show")
        self.caption = w.HTML()
        self.header = w.HTML()
        self.rows = w.Select(options=[], rows=rows, layout=w.Layout(width="100%"))
        self.rows.add_class("se-model-table")
        self.empty = w.HTML()
        self.detail = w.HTML()
        self.message = message_box()

        self.budget_button = w.Button(description="Set the budget to its compute",
                                      layout=w.Layout(width="auto"))
        self.size_law = w.Dropdown(description="Size its compute as", style=style, layout=w.Layout(width="24em"))
        self.size_button = w.Button(description="would", tooltip="N_opt and D_opt at the model's compute",
                                    layout=w.Layout(width="auto"))
        self.sizing = w.HTML()

        for widget in (self.search, self.sort, self.ascending, self.follow_filters):
            widget.observe(lambda _: self.refresh(), "value")
        self.rows.observe(self._on_select, "value")
        self.budget_button.on_click(lambda _: self.errors.guard(self.message, self.set_budget))
        self.size_button.on_click(lambda _: self.errors.guard(self.message, self.size))
        self.size_law.observe(self._on_pick, "value")
        self._picked = None  # the law the user picked to size with (never one the page fell back to)

        self._widget = w.VBox([
            w.HBox([self.search, self.sort, self.ascending], layout=w.Layout(flex_flow="row wrap")),
            self.follow_filters, self.caption, self.header, self.rows, self.empty, self.detail,
            w.HBox([self.budget_button], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.size_law, self.size_button], layout=w.Layout(flex_flow="row wrap")),
            self.sizing, self.message,
        ])
        self._widget.add_class("se-table-panel")
        self.close = state.watch(self._on_state, ignore=IGNORED_FIELDS)
        self._on_state(frozenset({"laws"}))

    # -- state -> widgets ------------------------------------------------------------------------
    @contextmanager
    def _guard(self):
        self._reading_back = True
        try:
            yield
        finally:
            self._reading_back = False

    def _on_state(self, changed: frozenset[str]) -> None:
        s = self.state.scenario
        if changed & {"laws", "edits", "surface", "param_count", LAWS_CHANGED}:
            # The law to size with: the user's pick while it is shown, else the surface law, else the
            # first shown. A new surface law is the new default, as on a page opened at that view.
            if "surface" in changed:
                self._picked = None
            options = [(law_label(s, k), k) for k in s.laws]
            with self._guard():
                if list(self.size_law.options) != options:
                    self.size_law.options = options
                for choice in (self._picked, s.surface, *s.laws):
                    if choice in s.laws:
                        self.size_law.value = choice
                        break
        self.sizing.value = ""  # numbers of another model, law or band would be stale
        if changed <= {"model"}:  # the rows stay; only the selection and the detail follow
            self._select_current()
            self._render_detail()
            return
        self.refresh()

    def _on_pick(self, change) -> None:
        self.sizing.value = ""
        if not self._reading_back:
            self._picked = change.new

    def _select_current(self) -> None:
        model = self.state.scenario.model
        shown = list(self.visible["name"])
        with self._guard():
            self.rows.index = shown.index(model) if model in shown else None

    def refresh(self) -> None:
        """Rebuild the rows from the state, the filter box and the sort."""
        s, readout = self.state.scenario, self.state.readout
        source = readout.models if self.follow_filters.value else readout.all_models
        self.visible = sort_models(filter_models(source, self.search.value), self.sort.value, self.ascending.value)
        options = [(row_label(m), m["name"]) for _, m in self.visible.iterrows()]
        with self._guard():
            if list(self.rows.options) != options:
                self.rows.options = options
        self._select_current()
        band = f"{1 / s.band:.2g}–{s.band:.3g}"
        condition = readout.status_condition
        at = f"at {condition.text()} " if condition is not None and condition.applies else ""
        self.caption.value = (
            f'<div class="se-note">{len(self.visible)} of {len(readout.all_models)} models. Status {at}under '
            f"<b>{html.escape(law_label(s, s.surface))}</b> (near-optimal: D / D_opt within {band}); "
            "N counts active parameters for MoE; * marks caveats (see the selected model). "
            "Click a row to select it.</div>")
        self.header.value = f'<div class="se-table-header">{html.escape(header_label())}</div>'
        self.empty.value = "" if len(self.visible) else self._empty_message(source)
        self._render_detail()

    def _empty_message(self, source: pd.DataFrame) -> str:
        text = self.search.value.strip()
        if text and len(source):
            hint = (f"No model's name or organisation contains “{html.escape(text)}”. "
                    "Clear the Find box or try part of the name (e.g. “llama”).")
        elif self.follow_filters.value:
            hint = ("The page's filters (release years, weights, architecture) match no model. Widen them, or "
                    "untick “only models the page's filters show”.")
        else:
            hint = "The catalog is empty."
        return f'<div class="se-empty">{hint}</div>'

    def _render_detail(self) -> None:
        s = self.state.scenario
        has_model = bool(s.model)
        self.budget_button.disabled = not has_model
        self.size_button.disabled = not has_model or not s.laws
        self.size_button.description = "would" if s.laws else "would (tick a law first)"
        if not has_model:
            self.detail.value = '<div class="se-note">No model selected: click a row.</div>'
            return
        m = self.state.readout.all_models.set_index("name").loc[s.model]
        status = m["status"] if not m["not_plotted"] else f"not placed: {m['not_plotted']}"
        caveats = "".join(f"<li>{html.escape(c)}</li>" for c in m["caveats"])
        self.detail.value = (
            f'<div class="se-table-detail"><b>{html.escape(s.model)}</b> ({html.escape(m["organization"])}, '
            f'{m["release_date"]:%Y-%m-%d}): N = {html.escape(_number(m["compute_params"]))} '
            f'({html.escape(m["params_basis"])}), D = {html.escape(_number(m["tokens"]))} tokens, '
            f'{html.escape(_number(m["flops"], "3g"))} FLOPs ({html.escape(flop_label(s))}). '
            f"Under {html.escape(law_label(s, s.surface))}: <b>{html.escape(status)}</b>"
            + (f", D / D_opt = {m['d_over_d_opt']:.2f}" if not m["not_plotted"] else "") + "."
            + (f"<ul class='se-caveats'>{caveats}</ul>" if caveats else "") + "</div>")

    # -- widgets -> state ------------------------------------------------------------------------
    def _on_select(self, change) -> None:
        if self._reading_back or change["new"] is None:
            return
        self.errors.guard(self.message, self.state.update, model=change["new"])

    def set_budget(self) -> None:
        """Set the budget to the selected model's compute (a message, never a clamp, if out of range)."""
        name = self.state.scenario.model
        if not name:
            raise ValueError("select a model first")
        self.state.update(budget=model_budget(self.state.readout, name))

    def size(self) -> None:
        """Show N_opt and D_opt of the chosen law at the selected model's compute, beside its own N and D."""
        s = self.state.scenario
        if not s.model:
            raise ValueError("select a model first")
        if self.size_law.value is None:
            raise ValueError("tick a law to size the model's compute with")
        z = size_model(s, s.model, self.size_law.value)
        r = z.row
        note = " (extrapolated beyond its fit)" if r.extrapolated else ""
        self.sizing.value = (
            f'<div class="se-sizing">At {html.escape(s.model)}\'s compute, {z.flops:.3g} FLOPs '
            f"({html.escape(flop_label(s))} with {html.escape(z.params_basis)} N), "
            f"<b>{html.escape(r.label)}</b>{note} would train "
            f"N<sub>opt</sub> = <b>{fmt_count(r.params)}</b> parameters on D<sub>opt</sub> = "
            f"<b>{fmt_count(r.tokens)}</b> tokens ({r.tokens_per_param:.3g} per parameter). "
            f"{html.escape(s.model)} has N = {fmt_count(z.params)} ({z.params_ratio:.3g}x N<sub>opt</sub>) and "
            f"D = {fmt_count(z.tokens)} ({z.tokens_ratio:.3g}x D<sub>opt</sub>).</div>")

    def panel(self) -> w.Widget:
        """The panel's widget."""
        return self._widget
