"""Views: matplotlib artists and HTML panels that follow the state's Readout and update in place.

The figure is built once. A budget change only moves the "animated" artists (the iso-FLOP
line, the optima, the budget marker), which are blitted over a cached background; anything
else (a law, the shading, the points) changes the background and redraws the figure once.
Every number drawn or printed comes from ``state.readout`` (``evaluate(scenario)``).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import frontier
from ..catalog import NEAR_OPTIMAL, NOT_PLOTTED, OVERTRAINED, UNDERTRAINED
from ..readout import law_label
from ..style import SHADE, STATUS_COLOR, law_style
from .format import fmt_count
from .state import FIT_KEY, LAWS_CHANGED, AppState

N_LIM = (1e7, 1e14)        # parameters
D_LIM = (1e9, 1e15)        # tokens
C_LIM = (1e17, 1e28)       # FLOPs
N_GRID = np.geomspace(*N_LIM, 300)
C_GRID = np.geomspace(1e8, 1e36, 400)          # wide, so frontier curves cross the whole view
C_PLOT = np.geomspace(*C_LIM, 200)
CONTOUR_BUDGETS = 10.0 ** np.arange(18, 28, 1.0)  # contours tangent to these iso-FLOP lines

KEY_MODELS = [
    "GPT-3 175B", "Gopher", "Chinchilla", "MT-NLG", "PaLM 540B", "LLaMA-65B", "Llama 2 70B", "Llama 3 8B",
    "Llama 3 70B", "Llama 3.1 405B", "DeepSeek-V3", "TinyLlama 1.1B", "Pythia-70M", "Gemma 2 27B", "BLOOM",
]


# Fields whose change only moves the blitted budget artists; everything else redraws the figure.
BUDGET_FIELDS = frozenset({"budget"})
PLOT_FIELDS = frozenset({"budget", "laws", "surface", "edits", "band", "years", "weights", "architecture", "model",
                         "hide", "param_count", "flop_model", "flatness", LAWS_CHANGED})
COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


class Blitter:
    """Redraw only the animated artists of a figure over a cached background.

    Follows matplotlib's blitting recipe; with ipympl, ``canvas.blit`` sends just the changed
    pixels, without the full Agg render that ``draw_idle`` costs.
    """

    def __init__(self, figure: Figure, artists: list):
        self.figure = figure
        self.canvas = figure.canvas
        self.artists = list(artists)
        self.background = None
        for a in artists:
            a.set_animated(True)
        self.canvas.mpl_connect("draw_event", self._on_draw)

    def add(self, artist) -> None:
        """Animate one more artist."""
        artist.set_animated(True)
        self.artists.append(artist)

    def _on_draw(self, event):
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()

    def _draw_animated(self):
        for a in self.artists:
            self.figure.draw_artist(a)

    def update(self):
        """Show the animated artists' new state."""
        if self.background is None:
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self.background)
        self._draw_animated()
        self.canvas.blit(self.figure.bbox)


def _place_labels(ax, xs, ys, names, fontsize=8.5):
    """Greedy label placement: the first of eight offsets whose box overlaps no earlier label."""
    placed, texts = [], []
    offsets = [(6, 4), (6, -10), (-6, 4), (-6, -10), (8, 12), (8, -18), (-8, 12), (-8, -18)]
    to_px = ax.transData.transform
    for x, y, name in zip(xs, ys, names, strict=True):
        px, py = to_px((x, y))
        w, h = 0.6 * fontsize * len(name), 1.3 * fontsize
        for dx, dy in offsets:
            left = px + dx if dx > 0 else px + dx - w
            box = (left, py + dy, left + w, py + dy + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        texts.append(ax.annotate(
            name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
            ha="left" if dx > 0 else "right", va="bottom", color="#222222",
        ))
    return texts


class PlotsView:
    """One figure, two panels: the N-D plane and loss against compute."""

    def __init__(self, state: AppState, figure: Figure):
        self.state = state
        self.fig = figure
        self.ax, self.ax_loss = figure.subplots(1, 2, gridspec_kw=dict(width_ratios=[1.35, 1]))
        figure.subplots_adjust(left=0.07, right=0.98, top=0.94, bottom=0.21, wspace=0.2)
        self.frontiers: dict[str, Line2D] = {}
        self.loss_curves: dict[str, Line2D] = {}
        self.optimum: dict[str, Line2D] = {}
        self.loss_optimum: dict[str, Line2D] = {}
        self.flat_band: dict[str, Line2D] = {}
        self._build_nd()
        self._build_loss()
        self.blitter = Blitter(figure, [self.iso_flop, self.budget_line])
        for key in state.available():
            self._law_artists(key)
        state.watch(self._on_change, PLOT_FIELDS)
        self.refresh()

    # -- construction, once (per law: on first use) ------------------------------------------
    def _law_artists(self, key: str) -> None:
        """The frontier, loss curve and optimum markers of law ``key``, made once (any key: a fallback style)."""
        if key in self.frontiers:
            return
        style = law_style(key)
        self.frontiers[key] = self.ax.plot([], [], lw=2.2, zorder=3, visible=False, **style)[0]
        self.loss_curves[key] = self.ax_loss.plot([], [], lw=2.0, visible=False, **style)[0]
        for markers, ax, size in ((self.optimum, self.ax, 15), (self.loss_optimum, self.ax_loss, 13)):
            markers[key] = ax.plot([], [], marker="*", ms=size, mec="white", mew=0.8, ls="none", zorder=6,
                                   visible=False, color=style["color"])[0]
            self.blitter.add(markers[key])
        # The near-optimal stretch of the budget's iso-FLOP line (scenario.flatness), drawn over it.
        self.flat_band[key] = self.ax.plot([], [], lw=9, alpha=0.35, solid_capstyle="butt", zorder=2.5,
                                           visible=False, color=style["color"])[0]
        self.blitter.add(self.flat_band[key])

    def _build_nd(self):
        ax = self.ax
        ax.set(xscale="log", yscale="log", xlim=N_LIM, ylim=D_LIM,
               xlabel="parameters N", ylabel="training tokens D")
        ax.minorticks_off()  # a major-only grid reads as well, and ~170 minor ticks cost 40% of a full draw
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.under = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[UNDERTRAINED], alpha=0.10, lw=0)
        self.over = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[OVERTRAINED], alpha=0.10, lw=0)
        self.contours = [ax.plot([], [], color="#9a9a9a", lw=0.7, zorder=1)[0] for _ in CONTOUR_BUDGETS]
        self.contour_text = [ax.text(1, 1, "", fontsize=7.5, color="#777777", ha="center", va="top",
                                     clip_on=True) for _ in CONTOUR_BUDGETS]
        self.fit_band = ax.fill([1, 2, 2], [1, 1, 2], color=law_style(FIT_KEY)["color"], alpha=0.2, lw=0,
                                zorder=2, label="fit: 95% bootstrap band")[0]
        self.points = {arch: ax.scatter([], [], s=34, marker=m, edgecolors="white", linewidths=0.6, zorder=4,
                                        picker=True, pickradius=5)
                       for arch, m in (("dense", "o"), ("moe", "D"))}
        self.point_names = {arch: [] for arch in self.points}
        self.fig.canvas.mpl_connect("pick_event", self._on_pick)
        self.highlight = ax.plot([], [], "o", ms=14, mfc="none", mec="#000000", mew=1.6, zorder=5)[0]
        self.labels = []
        self.iso_flop = ax.plot([], [], color="#333333", lw=1.3, ls=(0, (5, 3)), zorder=2)[0]
        self.nd_title = ax.set_title("", fontsize=11)

    def _build_loss(self):
        ax = self.ax_loss
        ax.set(xscale="log", xlim=C_LIM, xlabel="training compute C (FLOPs)",
               ylabel="loss (nats/token)")
        ax.minorticks_off()
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        ax.set_title("Loss at the compute-optimal allocation", fontsize=11)
        self.loss_points = ax.scatter([], [], s=26, edgecolors="white", linewidths=0.5, zorder=4)
        self.budget_line = ax.axvline(1e20, color="#333333", lw=1.3, ls=(0, (5, 3)))
        ax.text(0.02, 0.02, "Kaplan's loss is on WebText2, Chinchilla's on MassiveText:\n"
                "compare shapes, not absolute values.", transform=ax.transAxes, fontsize=7.5, color="#555555")

    # -- updates ------------------------------------------------------------------------------
    def visible_models(self) -> pd.DataFrame:
        """Classified models that pass the filters and can be placed on the plane."""
        return self.state.readout.plotted

    def refresh(self):
        self._update_background()
        self._update_budget_artists()
        self.fig.canvas.draw_idle()

    def _on_pick(self, event):
        """Clicking a model's point selects it (its card opens below the plots)."""
        for arch, points in self.points.items():
            if event.artist is points and len(event.ind):
                self.state.update(model=self.point_names[arch][event.ind[0]])

    def _on_change(self, changed: frozenset[str]):
        if changed <= BUDGET_FIELDS:
            self._update_budget_artists()
            self.blitter.update()
        else:
            self.refresh()

    def _update_background(self):
        s = self.state.scenario
        readout = self.state.readout
        for key in s.laws:
            self._law_artists(key)
        surface = s.law(s.surface)
        # Iso-loss contours: each touches one decade's iso-FLOP line where the loss is lowest.
        levels = surface.loss(*frontier.iso_flop_minimum(surface, CONTOUR_BUDGETS))
        for line, text, level in zip(self.contours, self.contour_text, levels, strict=True):
            D = surface.tokens_for_loss(N_GRID, level)
            line.set_data(N_GRID, D)
            inside = np.flatnonzero(np.isfinite(D) & (D <= D_LIM[1]))
            if inside.size:
                i = inside[0]
                text.set_position((N_GRID[i] * 1.05, min(D[i], D_LIM[1]) / 1.15))
                text.set_text(f"{level:.2f}")
            else:
                text.set_text("")
        # Shading from the surface law's band edges, traced along its frontier.
        N_low, D_low = frontier.band_edge(surface, C_GRID, 1.0 / s.band)
        N_high, D_high = frontier.band_edge(surface, C_GRID, s.band)
        self.under.set_data(N_low, np.full_like(N_low, D_LIM[0] / 10), D_low)
        self.over.set_data(N_high, D_high, np.full_like(N_high, D_LIM[1] * 10))
        # Frontiers and optimal-loss curves of the shown laws.
        for key, line in self.frontiers.items():
            shown = key in s.laws
            line.set_visible(shown)
            self.loss_curves[key].set_visible(False)
            if shown:
                law = s.law(key)
                line.set_data(*law.compute_optimal(C_GRID))
                line.set_label(law_label(s, key))
                if law.has_loss:
                    self.loss_curves[key].set_data(C_PLOT, frontier.optimal_loss(law, C_PLOT))
                    self.loss_curves[key].set_visible(True)
        self._update_fit_band()
        # Published models.
        models = readout.plotted
        for arch, points in self.points.items():
            m = models[models["architecture"].fillna("dense") == arch]
            points.set_offsets(np.column_stack([m["compute_params"], m["tokens"]]) if len(m) else np.empty((0, 2)))
            points.set_facecolors([STATUS_COLOR[x] for x in m["status"]])
            self.point_names[arch] = m["name"].tolist()
        self.loss_points.set_offsets(np.column_stack([models["flops"], models["loss"]]) if len(models)
                                     else np.empty((0, 2)))
        self.loss_points.set_facecolors([STATUS_COLOR[x] for x in models["status"]])
        for text in self.labels:
            text.remove()
        key = models[models["name"].isin(KEY_MODELS)]
        self.labels = _place_labels(self.ax, key["compute_params"], key["tokens"], key["name"].tolist())
        sel = models[models["name"] == s.model]
        self.highlight.set_data(sel["compute_params"], sel["tokens"])
        self._update_loss_ylim(models)
        self.nd_title.set_text(f"Shading and model status: {law_label(s, s.surface)}")
        self.ax.set_xlabel(f"parameters N ({COUNT_LABEL[s.param_count]})")
        counted = ("" if s.flop_model == "6ND" else f", {s.flop_model} count") + (
            ", non-embedding" if s.param_count == "non-embedding" else "")
        self.ax_loss.set_xlabel(f"training compute C (FLOPs{counted})")
        self._update_legend()
        self._apply_layers()

    def layer_artists(self) -> dict[str, list]:
        """The artists of each hideable layer (``scenario.LAYERS``)."""
        return {
            "contours": [*self.contours, *self.contour_text],
            "shading": [self.under, self.over],
            "frontiers": [*self.frontiers.values(), *self.loss_curves.values(), self.fit_band],
            "optima": [*self.optimum.values(), *self.loss_optimum.values(), *self.flat_band.values()],
            "models": [*self.points.values(), self.loss_points, self.highlight],
            "labels": list(self.labels),
            "budget": [self.iso_flop, self.budget_line],
        }

    def _apply_layers(self):
        hidden = self.state.scenario.hide
        for layer, artists in self.layer_artists().items():
            if layer in hidden:
                for artist in artists:
                    artist.set_visible(False)
            elif layer in ("contours", "shading", "models", "labels", "budget"):
                for artist in artists:  # always-on layers; frontiers and optima follow the shown laws
                    artist.set_visible(True)

    def _update_fit_band(self):
        fit = self.state.fit_result
        show = FIT_KEY in self.state.scenario.laws and fit is not None and fit.bootstrap is not None
        self.fit_band.set_visible(show)
        if show:
            N_low, N_high, D_low, D_high = fit.bootstrap.frontier_interval(C_GRID)
            self.fit_band.set_xy(np.column_stack([np.r_[N_low, N_high[::-1]], np.r_[D_high, D_low[::-1]]]))

    def _update_loss_ylim(self, models):
        values = [c.get_ydata() for c in self.loss_curves.values() if c.get_visible()]
        values.append(models["loss"].to_numpy())
        values = np.concatenate([np.asarray(v, float) for v in values]) if values else np.array([2.0, 4.0])
        values = values[np.isfinite(values)]
        lo, hi = (np.min(values), np.max(values)) if values.size else (1.5, 4.0)
        self.ax_loss.set_ylim(lo - 0.05 * (hi - lo), min(hi, lo + 3.0) + 0.05 * (hi - lo))

    def _update_legend(self):
        s = self.state.scenario
        handles = [self.frontiers[k] for k in s.laws]
        if self.fit_band.get_visible():
            handles.append(self.fit_band)
        handles += [Line2D([], [], ls="none", marker="o", color=STATUS_COLOR[k], mec="white", ms=8,
                           label=f"{k} model") for k in (UNDERTRAINED, NEAR_OPTIMAL, OVERTRAINED)]
        handles += [Line2D([], [], ls="none", marker="D", color="#888888", ms=6, label="MoE (active params)"),
                    Patch(color=SHADE[UNDERTRAINED], alpha=0.25, label="undertrained region"),
                    Patch(color=SHADE[OVERTRAINED], alpha=0.25, label="over-trained region"),
                    Line2D([], [], color="#333333", ls=(0, (5, 3)), label="iso-FLOP line of the budget"),
                    Line2D([], [], color="#9a9a9a", lw=0.7, label="iso-loss contour (loss value)")]
        if getattr(self, "legend", None) is not None:
            self.legend.remove()
        self.legend = self.fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False,
                                      bbox_to_anchor=(0.5, 0.0), handlelength=2.2, columnspacing=1.5)

    def _update_budget_artists(self):
        readout = self.state.readout
        s = self.state.scenario
        C = readout.budget.flops
        flops = s.law(s.surface).flop_model
        if flops.linear:
            self.iso_flop.set_data(*frontier.iso_flop_line(C, N_LIM))  # straight on log-log axes: two points
        else:  # counts with embeddings or attention bend the line: trace it
            self.iso_flop.set_data(*frontier.iso_flop_line(C, N_GRID, flops))
        self.budget_line.set_xdata([C, C])
        rows = {row.key: row for row in readout.rows}
        for key, marker in self.optimum.items():
            loss_marker = self.loss_optimum[key]
            row = rows.get(key) if "optima" not in self.state.scenario.hide else None
            # Hidden markers cost nothing to blit; drawing empty ones still would.
            marker.set_visible(row is not None)
            loss_marker.set_visible(row is not None and row.loss is not None)
            if row is None:
                continue
            marker.set_data([row.params], [row.tokens])
            if row.loss is not None:
                loss_marker.set_data([C], [row.loss])
        for key, band in self.flat_band.items():
            row = rows.get(key) if "optima" not in s.hide else None
            band.set_visible(row is not None and row.params_range is not None)
            if band.get_visible():
                N = np.geomspace(*row.params_range, 24)
                band.set_data(N, s.law(key).flop_model.tokens(C, N))


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
            lines.append(f"<div>{'6ND' if s.flop_model == '6ND' else 'FLOPs (' + html.escape(s.flop_model) + ' count)'}"
                         f" = {first.flops:.3g} FLOPs; "
                         f"{first.tokens_per_param:.3g} tokens/param</div>")
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
