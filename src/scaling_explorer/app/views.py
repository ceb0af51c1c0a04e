"""HTML views: the numbers table and the model card, formatted from the state's Readout.

They compute nothing: every number comes from ``state.readout`` (``evaluate(scenario)``).
"""

from __future__ import annotations

import html
import math

import numpy as np

from ..catalog import NOT_PLOTTED
from ..style import STATUS_COLOR, law_style
from .format import fmt_count
from .state import LAWS_CHANGED, AppState

COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


class NumbersView:
    """The numbers for the chosen budget, one row per shown law, as an HTML table (from the Readout)."""

    def __init__(self, state: AppState, widget):
        self.state = state
        self.widget = widget
        state.watch(self.refresh, {"budget", "laws", "edits", "hardware", "mfu", "price", "param_count", "flop_model",
                                   "flatness", LAWS_CHANGED})
        self.refresh()

    def refresh(self, changed=None):
        readout = self.state.readout
        s = readout.scenario
        b = readout.budget
        flat = s.flatness is not None
        rows = []
        for row in readout.rows:
            loss = "—" if row.loss is None else f"{row.loss:.3f}"
            note = ""
            if row.extrapolated:
                low, high = row.fitted_flops
                note = f' <span class="se-warn" title="fitted on {low:.1e}–{high:.1e} FLOPs">extrapolated</span>'
            if not all(math.isfinite(x) and x > 0 for x in (row.params, row.tokens, row.tokens_per_param)):
                note += (' <span class="se-warn">— outside floating-point range: these coefficients give no '
                         "usable optimum</span>")
            swatch = f'<span style="color:{law_style(row.key)["color"]}">&#9632;</span>'
            ranges = ""
            if flat:
                ranges = "<td>—</td><td>—</td>" if row.params_range is None else (
                    f"<td>{fmt_count(row.params_range[0])} – {fmt_count(row.params_range[1])}</td>"
                    f"<td>{fmt_count(row.tokens_range[0])} – {fmt_count(row.tokens_range[1])}</td>")
            rows.append(
                f"<tr><td>{swatch} {html.escape(row.label)}{note}</td><td>{fmt_count(row.params)}</td>"
                f"<td>{fmt_count(row.tokens)}</td><td>{row.tokens_per_param:.3g}</td><td>{loss}</td>{ranges}</tr>"
            )
        if not rows:
            rows.append(f'<tr><td colspan="{7 if flat else 5}"><i>No law ticked: tick one under "Laws" to see '
                        "its numbers.</i></td></tr>")
        range_heads = (f"<th>N within {s.flatness:.1%} of the optimal loss</th><th>D in that range</th>"
                       if flat else "")
        counting = ""
        if s.param_count != "native" or s.flop_model != "6ND":
            counting = (f'<div class="se-note">N counted as <b>{COUNT_LABEL[s.param_count]}</b> parameters; '
                        f"FLOPs counted as <b>{html.escape(s.flop_model)}</b>"
                        + (" (non-embedding budgets are 6&middot;N<sub>nonemb</sub>&middot;D)"
                           if s.param_count == "non-embedding" else "") + ".</div>")
        self.widget.value = (
            f'<div class="se-numbers"><div class="se-budget">Budget <b>{b.flops:.3g} FLOPs</b> = '
            f"{b.pf_days:,.4g} PF-days = <b>{fmt_count(b.gpu_hours)} {b.hardware} GPU-hours</b> "
            f"({fmt_count(b.gpu_hours / 24)} GPU-days) at {b.mfu:.0%} MFU, about <b>${fmt_count(b.cost_usd)}</b> "
            f"at ${b.usd_per_gpu_hour:g}/GPU-hour</div>"
            '<table class="se-table"><thead><tr><th>law</th><th>N<sub>opt</sub> (params)</th>'
            "<th>D<sub>opt</sub> (tokens)</th><th>tokens / param</th><th>predicted loss</th>"
            f"{range_heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>{counting}</div>"
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


class ModelCardView:
    """The selected model: size, tokens, FLOPs, status against each shown law, source (from the Readout)."""

    def __init__(self, state: AppState, widget):
        self.state = state
        self.widget = widget
        state.watch(self.refresh, {"model", "laws", "edits", "band", "param_count", "flop_model", LAWS_CHANGED})
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
        reported = f"{m['flops_reported']:.3g}" if np.isfinite(m["flops_reported"]) else "not reported"
        lines = [f"<h4>{html.escape(m['name'])}</h4>",
                 f"<div>{html.escape(m['organization'])}, {m['release_date']:%Y-%m-%d}; "
                 f"{'open weights' if m['open_weights'] else 'closed weights'}</div>",
                 f"<div>Parameters: <b>{size}</b>; training tokens: <b>{fmt_count(m['tokens'])}</b></div>",
                 f"<div>FLOPs reported: {reported}</div>"]
        if any(st.status == NOT_PLOTTED for st in card.statuses):
            reason = next(st.not_plotted for st in card.statuses if st.status == NOT_PLOTTED)
            lines.append(f"<div class='se-warn'>Not on the plot: {html.escape(reason)}.</div>")
        elif card.statuses:
            first = card.statuses[0]
            s = self.state.scenario
            counted = "6ND" if s.flop_model == "6ND" else f"FLOPs ({html.escape(s.flop_model)} count)"
            lines.append(f"<div>{counted} = {first.flops:.3g} FLOPs; {first.tokens_per_param:.3g} tokens/param</div>")
            lines.append(f"<div>N counted as: {html.escape(_count_note(s, m['name'], card.statuses))}</div>")
            status_rows = []
            for st in card.statuses:
                eff = "—" if not np.isfinite(st.efficiency) else f"{st.efficiency:.0%}"
                status_rows.append(
                    f"<tr><td>{html.escape(st.label)}</td><td style='color:{STATUS_COLOR[st.status]}'>"
                    f"<b>{st.status}</b></td><td>{st.d_over_d_opt:.2g}</td><td>{eff}</td></tr>")
            lines.append("<table class='se-table'><thead><tr><th>law</th><th>status</th><th>D / D<sub>opt</sub></th>"
                         "<th title='compute the optimal allocation needs for the same loss'>efficiency</th></tr>"
                         f"</thead><tbody>{''.join(status_rows)}</tbody></table>")
        if card.caveats:
            lines.append("<div class='se-warn'>Caveats on these verdicts: "
                         f"{html.escape('; '.join(card.caveats))}.</div>")
        lines.append(f"<div>Source: <a href='{html.escape(m['source'])}' target='_blank'>"
                     f"{html.escape(m['source'])}</a> ({html.escape(m['source_detail'])})</div>")
        if m["notes"]:
            lines.append(f"<div class='se-note'>{html.escape(m['notes'])}</div>")
        self.widget.value = "".join(lines)
