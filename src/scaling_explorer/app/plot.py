"""The figure: the N-D plane and loss against compute, built once and updated in place.

A budget change only moves the "animated" artists (the iso-FLOP line, the optima, the budget
marker, the hover note), which are blitted over a cached background; anything else (a law, the
shading, the points) changes the background and redraws the figure once. The figure follows
the width the browser gives it (:meth:`PlotsView.resize`): side by side when wide, stacked when
narrow. Sizes are in CSS pixels (the figure's dpi is 72, so a point is a pixel).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from adjustText import adjust_text
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from .. import frontier
from ..catalog import NEAR_OPTIMAL, NOT_DESCRIBED, OVERTRAINED, UNDERTRAINED
from ..readout import law_label
from ..style import SHADE, STATUS_COLOR, law_style
from ..wrappers import band_edge_at_demand
from .state import FIT_KEY, LAWS_CHANGED, AppState

DPI = 72  # one point is one CSS pixel
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
    "Qwen3-8B", "SmolLM3-3B", "Kimi K2",
]

# Text sizes in px at scale 1 (the brief: at least 12 px in the figure; presentation mode: 18).
FONT = dict(tick=12, label=13, title=13, legend=12, note=12, contour=12, model=12, hover=13)
PRESENTATION_SCALE = 1.5
WIDE = 760  # px: from this width the panels sit side by side

# Fields whose change only moves the blitted budget artists; everything else redraws the figure.
# A unique-token budget moves only the data-constrained markers (blitted) unless it turns on or
# off, which changes the legend. Inference demand changes the models' status: a redraw.
BUDGET_FIELDS = frozenset({"budget", "unique_tokens"})
PLOT_FIELDS = frozenset({"budget", "laws", "surface", "edits", "band", "years", "weights", "architecture", "model",
                         "hide", "present", "param_count", "flop_model", "flatness", "inference_tokens",
                         "unique_tokens", LAWS_CHANGED})
COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


class Blitter:
    """Redraw only the animated artists of a figure over a cached background.

    Follows matplotlib's blitting recipe; with ipympl, ``canvas.blit`` sends just the changed
    pixels, without the full Agg render that ``draw_idle`` costs.
    """

    def __init__(self, figure: Figure, artists: list):
        self.figure = figure
        self.canvas = figure.canvas
        self.artists = []
        self.background = None
        for a in artists:
            self.add(a)
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


def status_sizes(statuses, base: float = 50.0) -> list[float]:
    """Marker areas: near-optimal points a little larger, since a thin rim makes them look smaller."""
    return [base * 1.35 if status == NEAR_OPTIMAL else base for status in statuses]


def status_style(statuses) -> tuple[list, list, list]:
    """Face colours, edge colours and edge widths telling status by fill as well as colour.

    Undertrained: hollow ring; near-optimal: filled; over-trained: filled, with a dark rim (and a
    white centre dot drawn by the caller) so it reads apart from near-optimal without colour.
    """
    face, edge, width = [], [], []
    for status in statuses:
        color = STATUS_COLOR[status]
        if status == UNDERTRAINED:
            face.append("none"), edge.append(color), width.append(1.8)
        elif status == OVERTRAINED:
            face.append(color), edge.append("#1b3a5c"), width.append(1.2)
        else:
            face.append(color), edge.append("white"), width.append(0.6)
    return face, edge, width


class PlotsView:
    """One figure, two panels: the N-D plane and loss against compute."""

    def __init__(self, state: AppState, figure: Figure):
        self.state = state
        self.fig = figure
        self.scale = 1.0
        self.wide = True
        self.ax = figure.add_subplot()
        self.ax_loss = figure.add_subplot()
        self.frontiers: dict[str, Line2D] = {}
        self.loss_curves: dict[str, Line2D] = {}
        self.optimum: dict[str, Line2D] = {}
        self.loss_optimum: dict[str, Line2D] = {}
        self.flat_band: dict[str, Line2D] = {}
        self.aware_optimum: dict[str, Line2D] = {}        # inference-aware optimum (hollow star)
        self.constrained_optimum: dict[str, Line2D] = {}  # data-constrained optimum (hollow pentagon)
        self._label_cache: dict = {}
        self._hovered = None
        self._build_nd()
        self._build_loss()
        self.hover_note = self.ax.annotate("", (1, 1), xytext=(10, 10), textcoords="offset points", visible=False,
                                           zorder=10, bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#555555"))
        self.blitter = Blitter(figure, [self.iso_flop, self.budget_line, self.hover_note])
        for key in state.available():
            self._law_artists(key)
        figure.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.scale = PRESENTATION_SCALE if state.scenario.present else 1.0
        self._layout(*figure.canvas.get_width_height())
        state.watch(self._on_change, PLOT_FIELDS)
        self.refresh()

    # -- construction, once (per law: on first use) ------------------------------------------
    def _law_artists(self, key: str) -> None:
        """The frontier, loss curve and optimum markers of law ``key``, made once (any key: a fallback style)."""
        if key in self.frontiers:
            return
        style = law_style(key)
        self.frontiers[key] = self.ax.plot([], [], lw=2.4, zorder=3, visible=False, **style)[0]
        self.loss_curves[key] = self.ax_loss.plot([], [], lw=2.2, visible=False, **style)[0]
        for markers, ax, size in ((self.optimum, self.ax, 16), (self.loss_optimum, self.ax_loss, 14)):
            markers[key] = ax.plot([], [], marker="*", ms=size, mec="white", mew=0.8, ls="none", zorder=6,
                                   visible=False, color=style["color"])[0]
            self.blitter.add(markers[key])
        # Beyond Chinchilla (issue 11): the same loss at the lowest lifetime FLOPs under the demand,
        # and the lowest loss of the budget with limited unique tokens.
        for markers, marker, size in ((self.aware_optimum, "*", 17), (self.constrained_optimum, "p", 13)):
            markers[key] = self.ax.plot([], [], marker=marker, ms=size, mfc="none", mec=style["color"], mew=2.0,
                                        ls="none", zorder=6, visible=False)[0]
            self.blitter.add(markers[key])
        # The near-optimal stretch of the budget's iso-FLOP line (scenario.flatness), drawn over it.
        self.flat_band[key] = self.ax.plot([], [], lw=9, alpha=0.35, solid_capstyle="butt", zorder=2.5,
                                           visible=False, color=style["color"])[0]
        self.blitter.add(self.flat_band[key])

    def _build_nd(self):
        ax = self.ax
        ax.set(xscale="log", yscale="log", xlim=N_LIM, ylim=D_LIM)
        ax.minorticks_off()  # a major-only grid reads as well, and ~170 minor ticks cost 40% of a full draw
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.under = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[UNDERTRAINED], alpha=0.10, lw=0)
        self.over = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[OVERTRAINED], alpha=0.10, lw=0)
        self.contours = [ax.plot([], [], color="#9a9a9a", lw=0.8, zorder=1)[0] for _ in CONTOUR_BUDGETS]
        self.contour_text = [ax.text(1, 1, "", color="#6a6a6a", ha="center", va="top", clip_on=True)
                             for _ in CONTOUR_BUDGETS]
        self.fit_band = ax.fill([1, 2, 2], [1, 1, 2], color=law_style(FIT_KEY)["color"], alpha=0.2, lw=0,
                                zorder=2, label="fit: 95% bootstrap band")[0]
        self.points = {arch: ax.scatter([], [], s=50, marker=m, zorder=4, picker=True, pickradius=6)
                       for arch, m in (("dense", "o"), ("moe", "D"))}
        self.over_dots = ax.scatter([], [], s=10, color="white", zorder=4.5)
        # MoE models sit at their active parameters (what sets FLOPs per token); a thin line runs
        # to their total parameter count, so both are on the plane.
        self.moe_totals = ax.add_collection(LineCollection([], colors="#777777", linewidths=0.8, zorder=3.4,
                                                           linestyles=(0, (2, 2))), autolim=False)
        self.point_names = {arch: [] for arch in self.points}
        self.fig.canvas.mpl_connect("pick_event", self._on_pick)
        self.highlight = ax.plot([], [], "o", ms=15, mfc="none", mec="#000000", mew=1.6, zorder=5)[0]
        self.labels: list[Text] = []
        self.iso_flop = ax.plot([], [], color="#333333", lw=1.4, ls=(0, (5, 3)), zorder=2)[0]
        self.nd_title = ax.set_title("")

    def _build_loss(self):
        ax = self.ax_loss
        ax.set(xscale="log", xlim=C_LIM)
        ax.minorticks_off()
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.loss_title = ax.set_title("Loss at the compute-optimal allocation")
        self.loss_points = ax.scatter([], [], s=30, zorder=4)
        self.budget_line = ax.axvline(1e20, color="#333333", lw=1.4, ls=(0, (5, 3)))
        self.loss_note = ax.text(0.02, 0.02, "Kaplan: WebText2; Chinchilla: MassiveText.\n"
                                 "Compare shapes, not absolute values.", transform=ax.transAxes, color="#555555")

    # -- size and type -----------------------------------------------------------------------
    def resize(self, width: int, viewport_height: int = 0) -> None:
        """Fit the figure to ``width`` CSS pixels: side by side from :data:`WIDE` px, stacked below."""
        width = int(max(320, width))
        wide = width >= WIDE
        if wide:
            height = int(np.clip(width * 0.52, 460, max(460, viewport_height - 40) if viewport_height else 10_000))
        else:
            height = int(width * 1.55) + 60
        if (width, height) == tuple(self.fig.canvas.get_width_height()) and wide == self.wide:
            return
        self.fig.canvas.handle_resize({"width": width, "height": height})
        self._layout(width, height)
        self._label_cache.clear()
        self.refresh()

    def _layout(self, width: float, height: float) -> None:
        """Place the two axes for a ``width`` x ``height`` px figure, leaving room for the legend."""
        self.wide = width >= WIDE
        s = self.scale
        legend_rows = -(-self._legend_entries() // self._legend_columns(width))
        bottom_px = (FONT["legend"] * 1.45 * legend_rows + FONT["label"] * 2.6) * s + 20
        left_px, right_px, top_px = 78 * s, 26 * s, 34 * s
        # GridSpec spaces are fractions of the mean axes size: turn the gaps wanted in px into those.
        if self.wide:
            gap = 80 * s
            mean_axes = (width - left_px - right_px - gap) / 2
            gs = GridSpec(1, 2, figure=self.fig, width_ratios=[1.3, 1], left=left_px / width,
                          right=1 - right_px / width, top=1 - top_px / height, bottom=bottom_px / height,
                          wspace=gap / mean_axes)
        else:
            gap = (FONT["tick"] + FONT["label"] * 1.6 + FONT["title"] * 2.2 + 16) * s
            mean_axes = (height - top_px - bottom_px - gap) / 2
            gs = GridSpec(2, 1, figure=self.fig, height_ratios=[1.25, 1], left=left_px / width,
                          right=1 - right_px / width, top=1 - top_px / height, bottom=bottom_px / height,
                          hspace=gap / mean_axes)
        for ax, spec in ((self.ax, gs[0]), (self.ax_loss, gs[1])):
            ax.set_subplotspec(spec)
            # set_subplotspec moves the axes only at the next draw; labels are placed before it.
            ax.set_position(spec.get_position(self.fig))

    def _legend_columns(self, width: float) -> int:
        """As many legend columns as fit: about 250 px each at 12 px type."""
        return int(max(1, min(4, width // (250 * self.scale))))

    def _legend_entries(self) -> int:
        """Entries in the legend: the shown laws, the fit band, and nine fixed keys."""
        s = self.state.scenario
        return len(s.laws) + 9 + (FIT_KEY in s.laws and self.state.fit_result is not None) + sum(self._legend_key())

    def _legend_key(self) -> tuple[bool, bool]:
        """Which optional legend entries show: the inference-aware and the data-constrained optimum."""
        s = self.state.scenario
        return s.inference_tokens > 0, s.unique_tokens is not None

    def _restyle(self) -> None:
        """Apply the text sizes for the current scale to every fixed text artist."""
        f = {k: v * self.scale for k, v in FONT.items()}
        for ax in (self.ax, self.ax_loss):
            ax.tick_params(labelsize=f["tick"])
        s = self.state.scenario
        self.ax.set_xlabel(f"parameters N ({COUNT_LABEL[s.param_count]})", fontsize=f["label"])
        self.ax.set_ylabel("training tokens D", fontsize=f["label"])
        counted = ("" if s.flop_model == "6ND" else f", {s.flop_model} count") + (
            ", non-embedding" if s.param_count == "non-embedding" else "")
        self.ax_loss.set_xlabel(f"training compute C (FLOPs{counted})", fontsize=f["label"])
        self.ax_loss.set_ylabel("loss (nats/token)", fontsize=f["label"])
        self.nd_title.set_fontsize(f["title"])
        self.loss_title.set_fontsize(f["title"])
        self.loss_note.set_fontsize(f["note"])
        self.hover_note.set_fontsize(f["hover"])
        for text in self.contour_text:
            text.set_fontsize(f["contour"])

    def text_sizes_px(self) -> list[float]:
        """Every visible text's size in CSS pixels (for checking legibility)."""
        texts = [t for t in self.fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        return [t.get_fontsize() * self.fig.dpi / 72 / self.fig.canvas.device_pixel_ratio for t in texts]

    # -- updates ------------------------------------------------------------------------------
    def status_column(self) -> str:
        """The models' status column the plot shows: relative to the demand when there is one."""
        return "status_at_demand" if "status_at_demand" in self.state.readout.all_models.columns else "status"

    def visible_models(self) -> pd.DataFrame:
        """Classified models that pass the filters and can be placed on the plane."""
        return self.state.readout.plotted

    def refresh(self):
        # An edited law can overflow far from its optimum (alpha = 10 at 1e-8 parameters): such
        # points do not draw, and the numbers table says why; warnings would only reach a log.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            self._update_background()
            self._update_budget_artists()
        self.fig.canvas.draw_idle()

    def _on_pick(self, event):
        """Clicking a model's point selects it (its card opens beside the numbers)."""
        for arch, points in self.points.items():
            if event.artist is points and len(event.ind):
                self.state.update(model=self.point_names[arch][event.ind[0]])

    def _on_motion(self, event):
        """Hovering near a model shows its name and status (a blitted note; nothing else redraws)."""
        hit = None
        if event.inaxes is self.ax and "models" not in self.state.scenario.hide:
            models = self.visible_models()
            if len(models):
                xy = self.ax.transData.transform(np.column_stack([models["compute_params"], models["tokens"]]))
                d = np.hypot(xy[:, 0] - event.x, xy[:, 1] - event.y)
                i = int(np.argmin(d))
                if d[i] <= 8 * self.fig.canvas.device_pixel_ratio:
                    hit = models.iloc[i]
        name = None if hit is None else hit["name"]
        if name == self._hovered:
            return
        self._hovered = name
        if hit is not None:
            self.hover_note.xy = (hit["compute_params"], hit["tokens"])
            self.hover_note.set_text(f"{name}: {hit[self.status_column()]}\n{hit['tokens_per_param']:.3g} tokens/param")
            # Keep the note inside the axes: flip it left of points in the right half.
            right = event.x > self.ax.bbox.x0 + self.ax.bbox.width / 2
            self.hover_note.set_position((-12 if right else 12, 10))
            self.hover_note.set_horizontalalignment("right" if right else "left")
        self.hover_note.set_visible(hit is not None)
        self.blitter.update()

    def _on_change(self, changed: frozenset[str]):
        legend_changed = self._legend_key() != self._legend_shows
        if changed & {"present", "laws", LAWS_CHANGED} or legend_changed:  # type size, or legend rows, changed
            self.scale = PRESENTATION_SCALE if self.state.scenario.present else 1.0
            self._layout(*self.fig.canvas.get_width_height())
        if changed <= BUDGET_FIELDS and not legend_changed:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                self._update_budget_artists()
            self.blitter.update()
        else:
            self.refresh()

    def _update_background(self):
        s = self.state.scenario
        readout = self.state.readout
        self._restyle()
        for key in s.laws:
            self._law_artists(key)
        surface = s.law(s.surface)
        # Iso-loss contours: each touches one decade's iso-FLOP line where the loss is lowest.
        try:
            levels = surface.loss(*frontier.iso_flop_minimum(surface, CONTOUR_BUDGETS))
        except ValueError:  # a law too extreme to have a minimum on some budgets' lines: no contours
            levels = np.full(len(CONTOUR_BUDGETS), np.nan)
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
        # Shading from the surface law's band edges, traced along its frontier; under demand, relative
        # to the cheapest model of each loss over its lifetime (as the models' status is).
        status = self.status_column()
        if status == "status_at_demand":
            levels = frontier.optimal_loss(surface, C_GRID)
            N_low, D_low = self._finite(*band_edge_at_demand(surface, levels, 1.0 / s.band, s.inference_tokens))
            N_high, D_high = self._finite(*band_edge_at_demand(surface, levels, s.band, s.inference_tokens))
        else:
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
        # Published models: status by colour and by fill.
        models = readout.plotted
        for arch, points in self.points.items():
            m = models[models["architecture"].fillna("dense") == arch]
            points.set_offsets(np.column_stack([m["compute_params"], m["tokens"]]) if len(m) else np.empty((0, 2)))
            face, edge, width = status_style(m[status])
            points.set_facecolors(face), points.set_edgecolors(edge), points.set_linewidths(width)
            points.set_sizes(status_sizes(m[status]))
            self.point_names[arch] = m["name"].tolist()
        over = models[models[status] == OVERTRAINED]
        moe = models[(models["architecture"] == "moe") & models["params"].notna()]
        self.moe_totals.set_segments([[(a, d), (t, d)] for a, t, d in
                                      zip(moe["compute_params"], moe["params"], moe["tokens"], strict=True)])
        self.over_dots.set_offsets(np.column_stack([over["compute_params"], over["tokens"]]) if len(over)
                                   else np.empty((0, 2)))
        self.loss_points.set_offsets(np.column_stack([models["flops"], models["loss"]]) if len(models)
                                     else np.empty((0, 2)))
        face, edge, width = status_style(models[status])
        self.loss_points.set_facecolors(face), self.loss_points.set_edgecolors(edge)
        self.loss_points.set_linewidths(width)
        self._update_labels(models)
        sel = models[models["name"] == s.model]
        self.highlight.set_data(sel["compute_params"], sel["tokens"])
        self._update_loss_ylim(models)
        if status == "status_at_demand":
            self.nd_title.set_text(f"Status at T = {s.inference_tokens:.3g} tokens of demand: "
                                   f"{law_label(s, s.surface)}")
        elif s.inference_tokens:
            self.nd_title.set_text(f"Shading and model status: {law_label(s, s.surface)} (training cost only: "
                                   "demand needs a Chinchilla-form law)")
        else:
            self.nd_title.set_text(f"Shading and model status: {law_label(s, s.surface)}")
        refused = int((readout.models["status"] == NOT_DESCRIBED).sum())
        if refused:  # a law that describes only some architectures (the MoE law) leaves the rest off the plot
            self.nd_title.set_text(f"{self.nd_title.get_text()} ({refused} models not described: see the table)")
        self._update_legend()
        self._apply_layers()

    def _update_labels(self, models: pd.DataFrame) -> None:
        """Name the key models, placed by adjustText clear of the points, each other and the axes.

        Placement is computed once per figure size and type size for every key model the catalog
        can place (against every catalog point), then reused: filters only hide labels, and a law or
        band change that moves no point costs nothing here. A thin leader joins label and point.
        """
        for artist in self.labels:
            artist.remove()
        self.labels = []
        catalog = self.state.readout.all_models
        catalog = catalog[catalog["not_plotted"] == ""]
        key = catalog[catalog["name"].isin(KEY_MODELS)]
        names = key["name"].tolist()
        xs, ys = key["compute_params"].to_numpy(), key["tokens"].to_numpy()
        size = FONT["model"] * self.scale
        cache_key = (tuple(names), xs.round(6).tobytes(), ys.round(6).tobytes(), size,
                     tuple(self.fig.canvas.get_width_height()), self.wide)
        placed = self._label_cache.get(cache_key)
        if placed is None:
            texts = [self.ax.text(x, y, name, fontsize=size) for x, y, name in zip(xs, ys, names, strict=True)]
            # Iterations, not seconds, bound the search: the same picture on every machine.
            adjust_text(texts, x=catalog["compute_params"].to_numpy(), y=catalog["tokens"].to_numpy(), ax=self.ax,
                        expand=(1.2, 1.6), ensure_inside_axes=True, iter_lim=150)
            placed = self._label_cache[cache_key] = self._keep_clear(texts)
            for text in texts:
                text.remove()
        shown = key[key["name"].isin(set(models["name"]) & set(placed))]
        segments = []
        for name, x0, y0 in zip(shown["name"], shown["compute_params"], shown["tokens"], strict=True):
            x, y, ha, va = placed[name]
            self.labels.append(self.ax.text(x, y, name, fontsize=size, color="#222222", zorder=7, clip_on=True,
                                            ha=ha, va=va))
            segments.append([(x0, y0), (x, y)])
        if segments:
            leaders = LineCollection(segments, colors="#999999", linewidths=0.6, zorder=3.5)
            self.labels.append(self.ax.add_collection(leaders, autolim=False))

    @staticmethod
    def _finite(N, D):
        """The points of a band edge that exist (a loss some N reaches on those tokens)."""
        keep = np.isfinite(N) & np.isfinite(D)
        return N[keep], D[keep]

    def _keep_clear(self, texts: list[Text]) -> dict[str, tuple[float, float, str, str]]:
        """Where adjustText left each label, moved inside the axes; a label still overlapping one of
        higher priority (earlier in :data:`KEY_MODELS`) is left out (hovering still names it)."""
        renderer = self.fig.canvas.get_renderer()
        frame = self.ax.get_window_extent(renderer)
        to_data = self.ax.transData.inverted()
        order = sorted(texts, key=lambda t: KEY_MODELS.index(t.get_text()))
        kept, boxes = {}, []
        for text in order:
            box = text.get_window_extent(renderer)
            dx = max(0.0, frame.x0 + 2 - box.x0) - max(0.0, box.x1 - (frame.x1 - 2))
            dy = max(0.0, frame.y0 + 2 - box.y0) - max(0.0, box.y1 - (frame.y1 - 2))
            if dx or dy:
                px, py = self.ax.transData.transform(text.get_position())
                text.set_position(to_data.transform((px + dx, py + dy)))
                box = text.get_window_extent(renderer)
            if any(box.overlaps(other) for other in boxes):
                continue
            boxes.append(box)
            # adjustText centres the texts it moves: keep the alignment with the position.
            kept[text.get_text()] = (*text.get_position(), text.get_ha(), text.get_va())
        return kept

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
        face, edge, width = status_style([UNDERTRAINED, NEAR_OPTIMAL, OVERTRAINED])
        handles += [Line2D([], [], ls="none", marker="o", mfc=f, mec=e, mew=w, ms=9, label=label)
                    for f, e, w, label in zip(face, edge, width, ["undertrained (hollow)", "near-optimal (filled)",
                                                                  "over-trained (rimmed)"], strict=True)]
        handles += [Line2D([], [], ls=(0, (2, 2)), marker="D", color="#888888", ms=7, lw=0.8,
                           label="MoE: active params, line to total"),
                    Patch(color=SHADE[UNDERTRAINED], alpha=0.25, label="undertrained region"),
                    Patch(color=SHADE[OVERTRAINED], alpha=0.25, label="over-trained region"),
                    Line2D([], [], color="#333333", ls=(0, (5, 3)), label="iso-FLOP line of the budget"),
                    Line2D([], [], color="#9a9a9a", lw=0.8, label="iso-loss contour (loss value)")]
        aware, constrained = self._legend_shows = self._legend_key()
        if aware:
            handles.append(Line2D([], [], ls="none", marker="*", ms=12, mfc="none", mec="#555555", mew=1.6,
                                  label=f"same loss, least FLOPs serving T = {s.inference_tokens:.3g}"))
        if constrained:
            handles.append(Line2D([], [], ls="none", marker="p", ms=10, mfc="none", mec="#555555", mew=1.6,
                                  label=f"best with U = {s.unique_tokens:.3g} unique tokens"))
        if getattr(self, "legend", None) is not None:
            self.legend.remove()
        width = self.fig.canvas.get_width_height()[0]
        self.legend = self.fig.legend(handles=handles, loc="lower center", ncol=self._legend_columns(width),
                                      fontsize=FONT["legend"] * self.scale, frameon=False,
                                      bbox_to_anchor=(0.5, 0.0), handlelength=2.2, columnspacing=1.5)

    def layer_artists(self) -> dict[str, list]:
        """The artists of each hideable layer (``scenario.LAYERS``)."""
        return {
            "contours": [*self.contours, *self.contour_text],
            "shading": [self.under, self.over],
            "frontiers": [*self.frontiers.values(), *self.loss_curves.values(), self.fit_band],
            "optima": [*self.optimum.values(), *self.loss_optimum.values(), *self.flat_band.values(),
                       *self.aware_optimum.values(), *self.constrained_optimum.values()],
            "models": [*self.points.values(), self.over_dots, self.moe_totals, self.loss_points, self.highlight],
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
        for markers, field in ((self.aware_optimum, "inference_aware"), (self.constrained_optimum, "data_constrained")):
            for key, marker in markers.items():
                row = rows.get(key) if "optima" not in s.hide else None
                optimum = None if row is None else getattr(row, field)
                marker.set_visible(optimum is not None)
                if optimum is not None:
                    marker.set_data([optimum.params], [optimum.tokens])
        for key, band in self.flat_band.items():
            row = rows.get(key) if "optima" not in s.hide else None
            band.set_visible(row is not None and row.params_range is not None)
            if band.get_visible():
                N = np.geomspace(*row.params_range, 24)
                band.set_data(N, s.law(key).flop_model.tokens(C, N))
