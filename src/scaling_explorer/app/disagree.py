"""The "why they disagree" panel: Porian et al.'s corrections one step at a time, and the counting switch.

Every number comes from the library: the steps from ``data/porian2024_steps.csv``
(:func:`~scaling_explorer.conventions.load_porian_steps`), the exponent of the page's loss law
in the page's parameter count from :func:`~scaling_explorer.frontier.frontier_exponent`.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..conventions import load_porian_steps
from ..frontier import frontier_exponent
from .state import EXTRAS, FILTERS, MONEY, VIEW, AppState

#: Non-embedding compute of Kaplan et al.'s runs (Pearce & Song's script: 10**12.95 to 10**20.7 FLOPs).
KAPLAN_RANGE = (10**12.95, 10**20.7)
# The exponent is the surface law's in the page's count: the budget, models, demand and view leave it be.
IGNORED_FIELDS = frozenset({"budget", "laws", "band"}) | FILTERS | MONEY | EXTRAS | VIEW


class DisagreementPanel:
    """Porian's steps (a slider walks through them) and the page law's exponent over Kaplan's range."""

    def __init__(self, state: AppState):
        self.state = state
        self.steps = {name: load_porian_steps(dataset=name) for name in ("RefinedWeb", "OpenWebText2")}
        self.attention = load_porian_steps(sequence="attention")
        last = int(self.steps["RefinedWeb"]["step"].max())
        self.step = w.IntSlider(value=0, min=0, max=last, description="Corrections", continuous_update=True,
                                style={"description_width": "initial"}, layout=w.Layout(width="420px"))
        self.dataset = w.ToggleButtons(options=list(self.steps), value="RefinedWeb", description="Data",
                                       style={"description_width": "initial"})
        self.steps_html = w.HTML()
        self.count_html = w.HTML()
        self.step.observe(lambda _: self.render_steps(), "value")
        self.dataset.observe(lambda _: self.render_steps(), "value")
        state.watch(lambda _: self.render_count(), ignore=IGNORED_FIELDS)
        self.render_steps()
        self.render_count()

    def render_steps(self) -> None:
        """The cumulative corrections up to the slider's step, with each fitted exponent."""
        steps, current = self.steps[self.dataset.value], self.step.value
        rows = []
        for _, r in steps.iterrows():
            done = r["step"] <= current
            bar = f'<span style="display:inline-block;height:10px;width:{int(300 * r["exponent"])}px;' \
                  f'background:{"#0072B2" if done else "#dddddd"}"></span>'
            weight = "bold" if r["step"] == current else "normal"
            attention = self.attention[self.attention["step"] == r["step"]]
            att = (f"{attention['exponent'].iloc[0]:.3f}" if self.dataset.value == "RefinedWeb" and len(attention)
                   else "—")
            rows.append(f'<tr style="font-weight:{weight};color:{"#222" if done else "#999"}">'
                        f"<td>{int(r['step'])}</td><td>{html.escape(r['correction'])}</td>"
                        f"<td>{r['exponent']:.3f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})</td>"
                        f'<td style="text-align:left">{bar}</td>'
                        f"<td>{att}</td></tr>")
        now = steps[steps["step"] == current].iloc[0]
        self.steps_html.value = (
            f"<div>Porian et al. 2024 (arXiv:2406.19146) reproduce Kaplan's fit on {html.escape(self.dataset.value)} "
            "and add one correction at a time (each step keeps the earlier ones). After step "
            f"{current}: <b>N* ∝ C<sup>{now['exponent']:.3f}</sup></b> (Kaplan 0.73, Chinchilla ≈ 0.5).</div>"
            '<table class="se-table"><thead><tr><th>step</th><th>correction</th><th>a (95% bootstrap)</th><th></th>'
            "<th title='the same steps, attention FLOPs counted too (RefinedWeb)'>a, attention counted</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<div class='se-note'>Source: the authors' released summary data "
            "(github.com/formll/resolving-scaling-law-discrepancies), as data/porian2024_steps.csv.</div>")

    def render_count(self) -> None:
        """Pearce & Song's point, live: the page's loss law over Kaplan's range in the page's count."""
        s = self.state.scenario
        law = s.law(s.surface)
        e = frontier_exponent(law, *KAPLAN_RANGE)
        switch = {"native": "each law in its own count", "total": "total parameters",
                  "non-embedding": "non-embedding parameters and compute (Kaplan's count)"}[s.param_count]
        self.count_html.value = (
            f"<div>Counting as set under <i>Conventions</i> ({html.escape(switch)}), "
            f"<b>{html.escape(law.name)}</b> over Kaplan's compute range (10<sup>12.95</sup> to "
            f"10<sup>20.7</sup> FLOPs) gives <b>N<sub>opt</sub> ∝ C<sup>{e.regression:.3f}</sup></b> "
            f"(local exponent {e.local_min:.2f} to {e.local_max:.2f}). Pearce &amp; Song 2024 (arXiv:2406.12907): "
            "counting non-embedding parameters at Kaplan's small scale turns a Chinchilla-form law's "
            "≈0.5 into ≈0.75" + ("." if s.param_count == "non-embedding"
                                 else " — switch <i>Count N as</i> to non-embedding to see it.") + "</div>")

    def panel(self) -> w.Widget:
        """The panel's widget."""
        return w.VBox([self.count_html, w.HBox([self.step, self.dataset]), self.steps_html])
