"""HTML views: the numbers table and the model card, formatted from the state's Readout.

They compute nothing: every number comes from ``state.readout`` (``evaluate(scenario)``).
"""

from __future__ import annotations

import html
import math

import numpy as np

from ..catalog import NOT_DESCRIBED, NOT_PLOTTED
from ..laws import law_caveat
from ..readout import ALLOCATION_COLUMNS, OPTIMUM_UNITS, allocation_columns, law_label
from ..readout import EXTRAS as REGISTERED_EXTRAS
from ..style import STATUS_COLOR, law_style
from .format import fill, fmt_count, fmt_flops
from .state import EXTRAS, FILTERS, JUDGING, MONEY, VIEW, AppState

COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


def _fmt_value(value, unit: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = fmt_count(value) if unit in ("parameters", "non-embedding parameters", "tokens") else f"{value:.4g}"
        return f"<b>{text}</b>" + (f" {html.escape(unit)}" if unit and unit not in ("parameters", "tokens") else "")
    return html.escape(str(value))


def extra_line(name: str, values: dict) -> str:
    """One registered extra's values as a line of text: its label, then each value with its unit."""
    extra = REGISTERED_EXTRAS[name]
    parts = [f"{html.escape(v.replace('_', ' '))} {_fmt_value(values[v], extra.units.get(v, ''))}"
             for v in extra.values if v in values and v != "extrapolated"]
    if values.get("extrapolated"):
        parts.append('<span class="se-warn">extrapolated</span>')
    return f"{html.escape(extra.label)}: " + " &middot; ".join(parts)


def _allocation_cell(column: str, value) -> str:
    """An allocation column's value (:data:`scaling_explorer.readout.ALLOCATION_COLUMNS`) as the table writes it."""
    if OPTIMUM_UNITS.get(column) == "FLOPs":
        return fmt_flops(value)
    return "—" if value is None else f"{value:.3g}"


class NumbersView:
    """The numbers for the chosen budget, one row per shown law, as an HTML table (from the Readout).

    Each registered extra that the scenario asks for is shown as it declares
    (:attr:`scaling_explorer.readout.Extra.shown_as`): an allocation (inference-aware,
    data-constrained, target) as a row under its law's, with the columns the applying extras ask
    for (:func:`~scaling_explorer.readout.allocation_columns`); a range (the flat optimum) as columns
    of the law's row; anything else as a line of values under it.
    """

    def __init__(self, state: AppState, widget):
        self.state = state
        self.widget = widget
        # The law rows and the budget do not depend on which models show or how the page is viewed.
        state.watch(self.refresh, ignore=FILTERS | VIEW | {"band"})
        self.refresh()

    def refresh(self, changed=None):
        readout = self.state.readout
        s = readout.scenario
        b = readout.budget
        shown = readout.applying
        ranges = [(extra.name, *spec) for extra in shown if extra.shown_as == "range" for spec in extra.ranges]
        more = allocation_columns(s, shown)
        columns = 5 + len(ranges) + len(more)
        no_ranges = "<td>—</td>" * len(ranges)

        def cells(values: dict, range_cells: str) -> str:
            loss = values.get("loss")
            return (f"<td>{fmt_count(values['params'])}</td><td>{fmt_count(values['tokens'])}</td>"
                    f"<td>{values['tokens_per_param']:.3g}</td><td>{'—' if loss is None else f'{loss:.3f}'}</td>"
                    + range_cells + "".join(f"<td>{_allocation_cell(c, values.get(c))}</td>" for c in more))

        def range_cells(row) -> str:
            out = ""
            for name, _, low, high in ranges:
                values = row.extra(name)
                out += ("<td>—</td>" if values is None
                        else f"<td>{fmt_count(values[low])} – {fmt_count(values[high])}</td>")
            return out

        def warning(row, text: str) -> str:
            return (f'<tr class="se-sub"><td colspan="{columns}"><span class="se-warn">&#8627; '
                    f"{html.escape(row.name)}: {html.escape(text)}</span></td></tr>")

        rows = []
        for row in readout.rows:
            note = ""
            if row.extrapolated:
                span = ("fitted span not stated" if row.fitted_flops is None
                        else "fitted on {:.1e}–{:.1e} FLOPs".format(*row.fitted_flops))
                note = f' <span class="se-warn" title="{span}">extrapolated</span>'
            if not all(math.isfinite(x) and x > 0 for x in (row.params, row.tokens, row.tokens_per_param)):
                note += (' <span class="se-warn">— outside floating-point range: these coefficients give no '
                         "usable optimum</span>")
            swatch = f'<span style="color:{law_style(row.key)["color"]}">&#9632;</span>'
            # Beside lifetime FLOPs, the compute-optimal row is the training-only answer.
            mode = " <span class='se-note'>training only</span>" if "total_flops" in more else ""
            rows.append(f"<tr><td>{swatch} {html.escape(row.label)}{note}{mode}</td>"
                        + cells(vars(row.compute_optimal), range_cells(row)) + "</tr>")
            for extra in shown:
                values = row.extra(extra.name)
                if extra.shown_as != "allocation" or values is None:
                    continue
                rows.append(f'<tr class="se-sub" title="{html.escape(fill(extra.title, s))}"><td>&#8627; '
                            f"{html.escape(fill(extra.caption, s))}</td>" + cells(values, no_ranges) + "</tr>")
                caveat = extra.caveat(values, s) if extra.caveat is not None else None
                if caveat:
                    rows.append(warning(row, caveat))
            for name, values in row.extras.items():
                if REGISTERED_EXTRAS[name].shown_as == "line":
                    rows.append(f'<tr class="se-sub"><td colspan="{columns}">&#8627; {extra_line(name, values)}'
                                "</td></tr>")
            # The law's known flaw (DeepSeek's N = M / 6) as a sub-row; extrapolation is the name's tag and
            # implausible coefficients sit beside the coefficient controls.
            caveat = law_caveat(s.law(row.key))
            for text in (*row.notes, *((caveat,) if caveat else ())):
                rows.append(warning(row, text))
        if not rows:
            rows.append(f'<tr><td colspan="{columns}"><i>No law ticked: tick one under "Laws" to see '
                        "its numbers.</i></td></tr>")
        range_heads = "".join(f"<th>{html.escape(fill(heading, s))}</th>" for _, heading, _, _ in ranges)
        more_heads = "".join(f"<th title='{tip}'>{label}</th>" if tip else f"<th>{label}</th>"
                             for label, tip in (ALLOCATION_COLUMNS[c] for c in more))
        # Each given extra's note (a caveat, how far to trust it) once, beside the numbers it qualifies.
        notes = "".join(f'<div class="se-note"><b>{html.escape(REGISTERED_EXTRAS[name].label)}</b>: '
                        f"{html.escape(note)}</div>" for name, note in readout.notes.items())
        counting = ""
        if s.param_count != "native" or s.flop_model != "6ND":
            counting = (f'<div class="se-note">N counted as <b>{COUNT_LABEL[s.param_count]}</b> parameters; '
                        f"FLOPs counted as <b>{html.escape(s.flop_model)}</b>"
                        + (" (non-embedding budgets are 6&middot;N<sub>nonemb</sub>&middot;D)"
                           if s.param_count == "non-embedding" else "") + ".</div>")
        self.widget.value = (
            f'<div class="se-numbers"><div class="se-budget">Budget <b>{fmt_flops(b.flops)} FLOPs</b> = '
            f"{fmt_count(b.pf_days)} PF-days = <b>{fmt_count(b.gpu_hours)} {b.hardware} GPU-hours</b> "
            f"({fmt_count(b.gpu_hours / 24)} GPU-days) at {b.mfu:.0%} MFU, about <b>${fmt_count(b.cost_usd)}</b> "
            f"at ${b.usd_per_gpu_hour:g}/GPU-hour</div>"
            '<table class="se-table"><thead><tr><th>law</th><th>N<sub>opt</sub> (params)</th>'
            "<th>D<sub>opt</sub> (tokens)</th><th>tokens / param</th><th>predicted loss</th>"
            f"{range_heads}{more_heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>{counting}"
            f"{notes}</div>"
        )


def _count_note(scenario, name: str, statuses) -> str:
    """Which parameter count the card's verdicts use, and where a non-embedding count comes from."""
    bases = sorted({st.params_basis for st in statuses})
    note = " / ".join(bases)
    if "non-embedding" in bases:
        from ..readout import catalog_counted

        row = catalog_counted(scenario.param_count).set_index("name").loc[name]
        source = row.get("non_embedding_basis", "published") if scenario.param_count == "non-embedding" else "published"
        note += f" ({source or 'published'})"
    return note


def _break_even_cell(st) -> str:
    """A model's break-even demand under one law, or why there is none."""
    T = st.break_even_inference_tokens
    if T is not None:
        return f"{fmt_count(T)} tokens" if T else "0 (compute-optimal)"
    if np.isfinite(st.d_over_d_opt) and st.d_over_d_opt < 1:
        return "<i title='trained on fewer tokens than its compute-optimal D: no demand makes it optimal'>none</i>"
    return "<i title='break-even demand needs a Chinchilla-form law'>n/a for this law</i>"


class ModelCardView:
    """The selected model: size, tokens, FLOPs, status against each shown law, source (from the Readout)."""

    def __init__(self, state: AppState, widget):
        self.state = state
        self.widget = widget
        # A model's verdicts do not depend on the budget, the money, the page's filters or the view.
        state.watch(self.refresh, ignore={"budget"} | MONEY | EXTRAS - JUDGING | FILTERS - {"model"} | VIEW)
        self.refresh()

    def refresh(self, changed=None):
        card = self.state.readout.selected
        if card is None:
            self.widget.value = ("<i>Select a model (click its point, or pick it under Published models) "
                                 "to see its card.</i>")
            return
        m = card.model
        size = fmt_count(m["params"])
        if np.isfinite(m["active_params"]):
            size += f" total, {fmt_count(m['active_params'])} active (MoE)"
        reported = fmt_flops(m['flops_reported']) if np.isfinite(m["flops_reported"]) else "not reported"
        lines = [f"<h4>{html.escape(m['name'])}</h4>",
                 f"<div>{html.escape(m['organization'])}, {m['release_date']:%Y-%m-%d}; "
                 f"{'open weights' if m['open_weights'] else 'closed weights'}</div>",
                 f"<div>Parameters: <b>{size}</b>; training tokens: <b>{fmt_count(m['tokens'])}</b></div>",
                 f"<div>FLOPs reported: {reported}</div>",
                 f"<div class='se-note'>{html.escape(str(m.get('non_embedding_placement', '')))}</div>"]
        if any(st.status == NOT_PLOTTED for st in card.statuses):
            reason = next(st.not_plotted for st in card.statuses if st.status == NOT_PLOTTED)
            lines.append(f"<div class='se-warn'>Not on the plot: {html.escape(reason)}.</div>")
        elif card.statuses:
            # The first law that places the model gives the FLOPs line (a law may refuse it).
            first = next((st for st in card.statuses if st.status != NOT_DESCRIBED), card.statuses[0])
            s = self.state.scenario
            counted = f"FLOPs ({html.escape(s.law(first.key).flop_model.name)} count)"
            if first.status != NOT_DESCRIBED:
                lines.append(f"<div>{counted} = {fmt_flops(first.flops)} FLOPs; "
                             f"{first.tokens_per_param:.3g} tokens/param</div>")
            lines.append(f"<div>N counted as: {html.escape(_count_note(s, m['name'], card.statuses))}</div>")
            status_rows = []
            for st in card.statuses:
                if st.status == NOT_DESCRIBED:  # the law refuses this model: say why, no numbers
                    status_rows.append(f"<tr><td>{html.escape(st.label)}</td><td colspan='4'><b>{st.status}</b>: "
                                       f"{html.escape(st.not_plotted)}</td></tr>")
                    continue
                eff = "—" if not np.isfinite(st.efficiency) else f"{st.efficiency:.0%}"
                status_rows.append(
                    f"<tr><td>{html.escape(st.label)}</td><td style='color:{STATUS_COLOR[st.status]}'>"
                    f"<b>{st.status}</b></td><td>{st.d_over_d_opt:.2g}</td><td>{eff}</td>"
                    f"<td>{_break_even_cell(st)}</td></tr>")
            lines.append("<table class='se-table'><thead><tr><th>law</th><th>status</th><th>D / D<sub>opt</sub></th>"
                         "<th title='compute the optimal allocation needs for the same loss'>efficiency</th>"
                         "<th title='lifetime inference tokens at which this (N, D) is the cheapest model of its "
                         "loss (Sardana et al. 2024)'>break-even demand</th></tr>"
                         f"</thead><tbody>{''.join(status_rows)}</tbody></table>")
            lines.append("<div class='se-note'>Break-even demand: the lifetime inference tokens T at which this "
                         "model's own (N, D) is the cheapest way, training plus serving, to its predicted loss. "
                         "<i>none</i>: no demand makes it optimal (it saw fewer tokens than the compute-optimal "
                         "D, and serving only ever favours more tokens).</div>")
            condition = self.state.readout.status_condition
            if condition is not None and condition.applies:
                at = m["status"]
                lines.append(f"<div>At {condition.text(fmt_count)}, under "
                             f"{html.escape(law_label(s, s.surface))}: <b style='color:{STATUS_COLOR[at]}'>{at}</b> "
                             f"(D / D<sub>opt</sub> at that {condition.noun} {m[condition.ratio_column]:.2g})</div>")
        if card.benchmarks is not None:  # observed, not predicted: Ruan et al. 2024's evaluation
            scores = card.benchmarks.labelled()
            lines.append("<div>Observed benchmark scores:</div><table class='se-table'><thead><tr>"
                         + "".join(f"<th>{html.escape(k).replace('-', '&#8209;')}</th>" for k in scores)
                         + "</tr></thead><tbody><tr>"
                         + "".join(f"<td>{v:.1%}</td>" for v in scores.values()) + "</tr></tbody></table>"
                         f"<div class='se-note'>As evaluated by {html.escape(card.benchmarks.source)} "
                         f"(model {html.escape(card.benchmarks.model_id)}).</div>")
        if card.caveats:
            lines.append("<div class='se-warn'>Caveats on these verdicts: "
                         f"{html.escape('; '.join(card.caveats))}.</div>")
        lines.append(f"<div>Source: <a href='{html.escape(m['source'])}' target='_blank'>"
                     f"{html.escape(m['source'])}</a> ({html.escape(m['source_detail'])})</div>")
        if m["notes"]:
            lines.append(f"<div class='se-note'>{html.escape(m['notes'])}</div>")
        self.widget.value = "".join(lines)
