"""HTML views: the numbers table and the model card, formatted from the state's Readout.

They compute nothing: every number comes from ``state.readout`` (``evaluate(scenario)``).
"""

from __future__ import annotations

import html
import math

import numpy as np

from ..catalog import NOT_DESCRIBED, NOT_PLOTTED
from ..laws import law_caveat
from ..readout import EXTRAS as REGISTERED_EXTRAS
from ..readout import law_label
from ..style import STATUS_COLOR, law_style
from .compat import demand_applies
from .format import fmt_count, fmt_flops
from .state import EXTRAS, FILTERS, MONEY, VIEW, AppState

COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


_fmt_flops = fmt_flops


#: Extras the table shows as allocation rows or range columns (above); every other extra is one line
#: under its law's row, its values as the Readout declares them (:data:`scaling_explorer.readout.EXTRAS`).
SHOWN_AS_ALLOCATIONS = frozenset({"inference_aware", "data_constrained", "target", "target_inference_aware",
                                  "flat_range"})


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


class NumbersView:
    """The numbers for the chosen budget, one row per shown law, as an HTML table (from the Readout).

    With inference demand, a unique-token budget or a target loss the Readout's extra results for
    each law follow its row (inference-aware, data-constrained, target), with the columns they
    need; without them the table is the training-only one.
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
        flat = s.flatness is not None
        demand, unique, target = s.inference_tokens > 0, s.unique_tokens is not None, s.target_loss is not None
        show_training = demand or target
        columns = 5 + 2 * flat + show_training + demand + unique

        def cells(params, tokens, tokens_per_param, loss, ranges, training, total, epochs) -> str:
            out = (f"<td>{fmt_count(params)}</td><td>{fmt_count(tokens)}</td><td>{tokens_per_param:.3g}</td>"
                   f"<td>{'—' if loss is None else f'{loss:.3f}'}</td>{ranges}")
            if show_training:
                out += f"<td>{_fmt_flops(training)}</td>"
            if demand:
                out += f"<td>{_fmt_flops(total)}</td>"
            if unique:
                out += f"<td>{'—' if epochs is None else f'{epochs:.3g}'}</td>"
            return out

        def sub_row(label: str, opt, title: str) -> str:
            return (f'<tr class="se-sub" title="{html.escape(title)}"><td>&#8627; {label}</td>'
                    + cells(opt.params, opt.tokens, opt.tokens_per_param, opt.loss, "<td>—</td><td>—</td>" * flat,
                            opt.training_flops, opt.total_flops, opt.epochs) + "</tr>")

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
            ranges = ""
            if flat:
                ranges = "<td>—</td><td>—</td>" if row.params_range is None else (
                    f"<td>{fmt_count(row.params_range[0])} – {fmt_count(row.params_range[1])}</td>"
                    f"<td>{fmt_count(row.tokens_range[0])} – {fmt_count(row.tokens_range[1])}</td>")
            mode = " <span class='se-note'>training only</span>" if demand else ""
            rows.append(
                f"<tr><td>{swatch} {html.escape(row.label)}{note}{mode}</td>"
                + cells(row.params, row.tokens, row.tokens_per_param, row.loss, ranges, b.flops if show_training
                        else None, row.total_flops, row.epochs) + "</tr>"
            )
            if row.inference_aware is not None:
                rows.append(sub_row(f"inference-aware, T = {fmt_count(s.inference_tokens)} tokens", row.inference_aware,
                                    "the same loss at the lowest training + inference FLOPs (Sardana et al. 2024)"))
            if row.data_constrained is not None:
                rows.append(sub_row(f"with U = {fmt_count(s.unique_tokens)} unique tokens", row.data_constrained,
                                    "the lowest loss of this budget when data repeats past U unique tokens "
                                    "(Muennighoff et al. 2023)"))
            if row.target is not None:
                rows.append(sub_row(f"reaching loss {s.target_loss:g}", row.target,
                                    "the cheapest training-only allocation reaching the target loss"))
            if row.target is not None and row.target.loss is not None and not math.isclose(
                    row.target.loss, s.target_loss, rel_tol=1e-3):
                # Kaplan's budget for a loss comes from its compute law L(C_min), fitted to early-stopped
                # runs; its L(N, D) (eq. 1.5) at that allocation gives another number. Say so, beside it.
                rows.append(f'<tr class="se-sub"><td colspan="{columns}"><span class="se-warn">&#8627; '
                            f"{html.escape(row.name)}: the budget for loss {s.target_loss:g} comes from its "
                            "compute law L(C), fitted to early-stopped runs; at that (N, D) its own L(N, D) "
                            f"predicts {row.target.loss:.3f}, shown above. Its frontier is not the minimum of "
                            "its L(N, D), so the two disagree.</span></td></tr>")
            if row.target_inference_aware is not None:
                rows.append(sub_row(f"reaching loss {s.target_loss:g}, serving T", row.target_inference_aware,
                                    "the cheapest allocation over the model's life reaching the target loss"))
            for name, values in row.extras.items():
                if name not in SHOWN_AS_ALLOCATIONS:
                    rows.append(f'<tr class="se-sub"><td colspan="{columns}">&#8627; {extra_line(name, values)}'
                                "</td></tr>")
            # The law's known flaw (DeepSeek's N = M / 6) as a sub-row; extrapolation is the name's tag and
            # implausible coefficients sit beside the coefficient controls.
            caveat = law_caveat(s.law(row.key))
            for text in (*row.notes, *((caveat,) if caveat else ())):
                rows.append(f'<tr class="se-sub"><td colspan="{columns}"><span class="se-warn">&#8627; '
                            f"{html.escape(row.name)}: {html.escape(text)}</span></td></tr>")
        if not rows:
            rows.append(f'<tr><td colspan="{columns}"><i>No law ticked: tick one under "Laws" to see '
                        "its numbers.</i></td></tr>")
        range_heads = (f"<th>N within {s.flatness:.1%} of the optimal loss</th><th>D in that range</th>"
                       if flat else "")
        beyond_heads = (
            ("<th>training FLOPs</th>" if show_training else "")
            + ("<th title='training + 2·N·T inference FLOPs'>total FLOPs (training + inference)</th>" if demand else "")
            + ("<th>epochs (D / U)</th>" if unique else ""))
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
            f"{range_heads}{beyond_heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>{counting}"
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
        state.watch(self.refresh, ignore={"budget"} | MONEY | EXTRAS - {"inference_tokens"} | FILTERS - {"model"}
                    | VIEW)
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
            if demand_applies(self.state.readout):
                at = m["status"]
                lines.append(f"<div>At T = {fmt_count(s.inference_tokens)} tokens of demand, under "
                             f"{html.escape(law_label(s, s.surface))}: <b style='color:{STATUS_COLOR[at]}'>{at}</b> "
                             f"(D / D<sub>opt</sub> at that demand {m['d_over_d_opt_at_demand']:.2g})</div>")
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
