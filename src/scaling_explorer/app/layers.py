"""The figure's layers: each a small class that builds its artists once and shows the Readout.

A layer declares its ``name`` (its key in ``Scenario.hide``; several layers may hide together
under one key), the Scenario fields whose change it may ignore, whether it is ``animated``
(blitted over the cached background on a budget step), how it is built, how it follows the
Readout (:meth:`Layer.update`), and its legend entries. :class:`~.plot.PlotsView` iterates
:data:`LAYERS_IN_ORDER`; the hide keys are the layer names (:data:`HIDE_KEYS`).

A new feature's marks are one more layer appended to :data:`LAYERS_IN_ORDER`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from .. import frontier
from ..catalog import NEAR_OPTIMAL, OVERTRAINED, UNDERTRAINED
from ..counting import dense_non_embedding
from ..distill import Accounting, distillation_region, teacher_from_spec
from ..downstream import has_downstream
from ..readout import law_label
from ..scenario import LAYERS
from ..style import SHADE, STATUS_COLOR, law_style
from ._adjusttext import adjust_text  # adjustText 1.4.0 without scipy.spatial (app/_adjusttext.py)
from .state import EXTRAS, FILTERS, FIT_KEY, JUDGING, MONEY

if TYPE_CHECKING:
    from .plot import PlotsView

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
FONT = dict(tick=12, label=13, title=14, legend=12, note=12, contour=12, model=12, hover=13)
# The regions' opacity: strong enough to survive a washed-out projector, light enough that the
# contours and hollow points stay readable on them (Okabe-Ito vermillion and sky blue, style.SHADE).
SHADE_ALPHA = 0.22



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


def _xy(x, y) -> np.ndarray:
    return np.column_stack([x, y]) if len(x) else np.empty((0, 2))


class Layer:
    """One part of the figure.

    Class attributes
    ----------------
    name : str
        Its key in ``Scenario.hide``.
    ignores : frozenset of str
        Scenario fields (and pseudo-fields such as ``"law_definitions"``) whose change leaves it as it is.
        Everything not listed updates it: a new field is seen by every layer until one declares it
        may ignore it.
    animated : bool
        Its artists are blitted over the cached background, so a change that touches only animated
        layers redraws only them.

    Parameters
    ----------
    view : PlotsView
        The figure's view (axes, state, type scale).
    """

    name: ClassVar[str]
    ignores: ClassVar[frozenset[str]] = frozenset()
    animated: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The hide keys are the link's vocabulary, declared by the library (scenario.LAYERS: the CLI and lecture
        # files check them without the widget stack); a layer takes one of them as its name.
        if "name" in cls.__dict__ and cls.name not in LAYERS:
            raise TypeError(f"{cls.__name__}.name {cls.name!r} is not a hide key: add it to "
                            f"scaling_explorer.scenario.LAYERS ({', '.join(LAYERS)})")

    def __init__(self, view: PlotsView):
        self.view = view

    def artists(self) -> list:
        """Every artist this layer draws (hidden together under its name)."""
        return []

    def update(self, readout, changed: frozenset[str]) -> None:
        """Show ``readout``: set data, style and visibility of every artist (hiding is the view's)."""

    def legend(self, readout) -> list:
        """Legend handles for this layer under ``readout``'s scenario (none by default)."""
        return []

    def hidden(self, scenario) -> bool:
        """Whether the scenario hides this layer."""
        return self.name in scenario.hide


class ContoursLayer(Layer):
    """Iso-loss contours of the surface law, each touching one decade's iso-FLOP line at its minimum."""

    name = "contours"
    ignores = frozenset({"budget", "laws", "band"}) | EXTRAS | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        ax = view.ax
        self.lines = [ax.plot([], [], color="#9a9a9a", lw=0.8, zorder=1)[0] for _ in CONTOUR_BUDGETS]
        self.texts = [ax.text(1, 1, "", color="#555555", ha="left", va="top", clip_on=True, zorder=3,
                              bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.7))
                      for _ in CONTOUR_BUDGETS]

    def artists(self):
        return [*self.lines, *self.texts]

    def update(self, readout, changed):
        s = readout.scenario
        surface = s.law(s.surface)
        # Where the law's frontier is its iso-FLOP loss minimum, its own (closed-form) optimum is
        # that minimum; the numeric search (scipy.optimize, ~11 MiB a kernel) is for the others.
        minimum = (surface.compute_optimal if surface.frontier_minimises_loss
                   else lambda C: frontier.iso_flop_minimum(surface, C))
        try:
            levels = surface.loss(*minimum(CONTOUR_BUDGETS))
        except ValueError:  # a law too extreme to have a minimum on some budgets' lines: no contours
            levels = np.full(len(CONTOUR_BUDGETS), np.nan)
        size = FONT["contour"] * self.view.scale
        for line, text, level in zip(self.lines, self.texts, levels, strict=True):
            D = surface.tokens_for_loss(N_GRID, level)
            line.set_data(N_GRID, D)
            line.set_visible(True)
            inside = np.flatnonzero(np.isfinite(D) & (D <= D_LIM[1]))
            text.set_fontsize(size)
            text.set_visible(True)
            if inside.size:
                # Left-aligned just right of where the contour enters the view (top or left edge), so
                # a label is never cut by the axes' left edge (".49").
                i = inside[0]
                text.set_position((N_GRID[i] * 1.12, min(D[i], D_LIM[1]) / 1.15))
                text.set_text(f"{level:.2f}")
            else:
                text.set_text("")
        self._drop_crowded()

    def _drop_crowded(self) -> None:
        """Hide a contour label that would overlap one already kept (crowded near the top edge)."""
        ax = self.view.ax
        to_px = ax.transData.transform
        size = FONT["contour"] * self.view.scale
        kept = []
        for text in self.texts:
            if not text.get_text():
                continue
            x, y = to_px(text.get_position())
            w, h = 0.62 * size * len(text.get_text()), 1.2 * size
            box = (x, y - h, x + w, y)
            if any(box[0] < b[2] + 2 and b[0] < box[2] + 2 and box[1] < b[3] and b[1] < box[3] for b in kept):
                text.set_text("")
                continue
            kept.append(box)

    def legend(self, readout):
        return [Line2D([], [], color="#9a9a9a", lw=0.8, label="iso-loss contour (loss value)")]


class ShadingLayer(Layer):
    """The under- and over-trained regions of the surface law, judged as the models' status is (the Readout's)."""

    name = "shading"
    ignores = frozenset({"budget", "laws"}) | EXTRAS - JUDGING | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        ax = view.ax
        self.under = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[UNDERTRAINED], alpha=SHADE_ALPHA, lw=0)
        self.over = ax.fill_between([1, 2], [1, 1], [1, 1], color=SHADE[OVERTRAINED], alpha=SHADE_ALPHA, lw=0)

    def artists(self):
        return [self.under, self.over]

    def update(self, readout, changed):
        N_low, D_low, N_high, D_high = readout.band_edges(C_GRID)
        self.under.set_data(N_low, np.full_like(N_low, D_LIM[0] / 10), D_low)
        self.over.set_data(N_high, D_high, np.full_like(N_high, D_LIM[1] * 10))
        self.under.set_visible(True)
        self.over.set_visible(True)

    def legend(self, readout):
        return [Patch(color=SHADE[UNDERTRAINED], alpha=SHADE_ALPHA * 1.4, label="undertrained region"),
                Patch(color=SHADE[OVERTRAINED], alpha=SHADE_ALPHA * 1.4, label="over-trained region")]


class _PerLaw(Layer):
    """A layer with artists per law, made on the law's first use (any key: a fallback style)."""

    def __init__(self, view):
        super().__init__(view)
        self.by_law: dict[str, list] = {}

    def make(self, key: str, style: dict) -> list:
        """The artists of law ``key``."""
        raise NotImplementedError

    def ensure(self, keys) -> None:
        """Make the artists of every law in ``keys`` that has none yet."""
        for key in keys:
            if key not in self.by_law:
                self.by_law[key] = self.make(key, law_style(key))
                if self.animated:
                    for artist in self.by_law[key]:
                        self.view.blitter.add(artist)

    def artists(self):
        return [a for artists in self.by_law.values() for a in artists]


class FrontiersLayer(_PerLaw):
    """Each shown law's compute-optimal path on the N-D plane and its optimal loss against compute."""

    name = "frontiers"
    ignores = frozenset({"budget", "band"}) | EXTRAS | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        self.frontiers: dict[str, Line2D] = {}
        self.loss_curves: dict[str, Line2D] = {}
        self.fit_band = view.ax.fill([1, 2, 2], [1, 1, 2], color=law_style(FIT_KEY)["color"], alpha=0.2, lw=0,
                                     zorder=2, label="fit: 95% bootstrap band")[0]

    def make(self, key, style):
        self.frontiers[key] = self.view.ax.plot([], [], lw=2.4, zorder=3, visible=False, **style)[0]
        self.loss_curves[key] = self.view.ax_loss.plot([], [], lw=2.2, visible=False, **style)[0]
        return [self.frontiers[key], self.loss_curves[key]]

    def artists(self):
        return [*super().artists(), self.fit_band]

    def update(self, readout, changed):
        s = readout.scenario
        self.ensure(s.laws)
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
        show = self._fit_band_shown(s)
        self.fit_band.set_visible(show)
        if show:
            N_low, N_high, D_low, D_high = self.view.state.fit_result.bootstrap.frontier_interval(C_GRID)
            self.fit_band.set_xy(np.column_stack([np.r_[N_low, N_high[::-1]], np.r_[D_high, D_low[::-1]]]))

    def legend(self, readout):
        s = readout.scenario
        self.ensure(s.laws)
        for k in s.laws:  # labelled here too: the figure sizes its legend before the layers update
            self.frontiers[k].set_label(law_label(s, k))
        return [self.frontiers[k] for k in s.laws] + [self.fit_band] * self._fit_band_shown(s)

    def _fit_band_shown(self, scenario) -> bool:
        """Whether the user's fit is shown and has a bootstrap band."""
        fit = self.view.state.fit_result
        return FIT_KEY in scenario.laws and fit is not None and fit.bootstrap is not None


class OptimaLayer(_PerLaw):
    """Each shown law's optimum at the budget: a star on the plane and on its loss curve."""

    name = "optima"
    animated = True
    ignores = frozenset({"band", "surface"}) | EXTRAS | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        self.optimum: dict[str, Line2D] = {}
        self.loss_optimum: dict[str, Line2D] = {}

    def make(self, key, style):
        self.optimum[key], self.loss_optimum[key] = (
            ax.plot([], [], marker="*", ms=size, mec="white", mew=0.8, ls="none", zorder=6, visible=False,
                    color=style["color"])[0] for ax, size in ((self.view.ax, 16), (self.view.ax_loss, 14)))
        return [self.optimum[key], self.loss_optimum[key]]

    def update(self, readout, changed):
        s = readout.scenario
        self.ensure(s.laws)
        rows = {row.key: row for row in readout.rows}
        C = readout.budget.flops
        for key, (marker, loss_marker) in self.by_law.items():
            row = rows.get(key)
            marker.set_visible(row is not None)
            loss_marker.set_visible(row is not None and row.loss is not None)
            if row is None:
                continue
            marker.set_data([row.params], [row.tokens])
            if row.loss is not None:
                loss_marker.set_data([C], [row.loss])


class _BeyondOptimumLayer(_PerLaw):
    """A hollow marker per law at an optimum the Readout adds under some field (hidden with the optima)."""

    name = "optima"
    animated = True
    extra: ClassVar[str]    # the Readout extra whose allocation it marks (:meth:`LawRow.optimum`)
    marker: ClassVar[str]
    size: ClassVar[float]

    def __init__(self, view):
        super().__init__(view)
        self.markers: dict[str, Line2D] = {}

    def make(self, key, style):
        self.markers[key] = self.view.ax.plot([], [], marker=self.marker, ms=self.size, mfc="none",
                                              mec=style["color"], mew=2.0, ls="none", zorder=6, visible=False)[0]
        return [self.markers[key]]

    def update(self, readout, changed):
        self.ensure(readout.scenario.laws)
        rows = {row.key: row for row in readout.rows}
        for key, (marker,) in self.by_law.items():
            optimum = rows[key].optimum(self.extra) if key in rows else None
            marker.set_visible(optimum is not None)
            if optimum is not None:
                marker.set_data([optimum.params], [optimum.tokens])

    def legend_marker(self, label: str) -> Line2D:
        return Line2D([], [], ls="none", marker=self.marker, ms=self.size * 0.72, mfc="none", mec="#555555", mew=1.6,
                      label=label)


class InferenceAwareLayer(_BeyondOptimumLayer):
    """The same loss at the lowest training + inference FLOPs under the demand (Sardana et al. 2024)."""

    extra, marker, size = "inference_aware", "*", 17

    @property
    def aware_optimum(self) -> dict[str, Line2D]:
        """The markers by law key."""
        return self.markers
    ignores = frozenset({"band", "surface"}) | EXTRAS - {"inference_tokens"} | MONEY | FILTERS

    def legend(self, readout):
        T = readout.scenario.inference_tokens
        return [self.legend_marker(f"same loss, least FLOPs serving T = {T:.3g}")] if T > 0 else []


class DataConstrainedLayer(_BeyondOptimumLayer):
    """The lowest loss of the budget with limited unique tokens (Muennighoff et al. 2023)."""

    extra, marker, size = "data_constrained", "p", 13

    @property
    def constrained_optimum(self) -> dict[str, Line2D]:
        """The markers by law key."""
        return self.markers
    ignores = frozenset({"band", "surface"}) | EXTRAS - {"unique_tokens"} | MONEY | FILTERS

    def legend(self, readout):
        # No value in the label: moving U then stays a blitted step (the numbers table gives U).
        return [self.legend_marker("best with U unique tokens")] if readout.scenario.unique_tokens is not None else []


class FlatBandLayer(_PerLaw):
    """The stretch of the budget's iso-FLOP line within ``scenario.flatness`` of each law's optimal loss."""

    name = "optima"
    animated = True
    ignores = frozenset({"band", "surface"}) | EXTRAS - {"flatness"} | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        self.flat_band: dict[str, Line2D] = {}

    def make(self, key, style):
        self.flat_band[key] = self.view.ax.plot([], [], lw=9, alpha=0.35, solid_capstyle="butt", zorder=2.5,
                                                visible=False, color=style["color"])[0]
        return [self.flat_band[key]]

    def update(self, readout, changed):
        s = readout.scenario
        self.ensure(s.laws)
        rows = {row.key: row for row in readout.rows}
        C = readout.budget.flops
        for key, (band,) in self.by_law.items():
            flat = rows[key].extra("flat_range") if key in rows else None
            band.set_visible(flat is not None)
            if flat is not None:
                N = np.geomspace(flat["params_low"], flat["params_high"], 24)
                band.set_data(N, s.law(key).flop_model.tokens(C, N))


class ModelsLayer(Layer):
    """Published models: status by colour and fill, MoE lines to total parameters, the selected ring."""

    name = "models"
    ignores = frozenset({"budget", "laws"}) | EXTRAS - JUDGING | MONEY

    def __init__(self, view):
        super().__init__(view)
        ax = view.ax
        self.points = {arch: ax.scatter([], [], s=50, marker=m, zorder=4, picker=True, pickradius=6)
                       for arch, m in (("dense", "o"), ("moe", "D"))}
        self.point_names = {arch: [] for arch in self.points}
        self.over_dots = ax.scatter([], [], s=10, color="white", zorder=4.5)
        # MoE models sit at their active parameters (what sets FLOPs per token); a thin line runs
        # to their total parameter count, so both are on the plane.
        self.moe_totals = ax.add_collection(LineCollection([], colors="#777777", linewidths=0.8, zorder=3.4,
                                                           linestyles=(0, (2, 2))), autolim=False)
        self.highlight = ax.plot([], [], "o", ms=15, mfc="none", mec="#000000", mew=1.6, zorder=5)[0]
        self.loss_points = view.ax_loss.scatter([], [], s=30, zorder=4)

    def artists(self):
        return [*self.points.values(), self.over_dots, self.moe_totals, self.loss_points, self.highlight]

    def update(self, readout, changed):
        s = readout.scenario
        models = readout.plotted
        for arch, points in self.points.items():
            m = models[models["architecture"].fillna("dense") == arch]
            points.set_offsets(_xy(m["compute_params"], m["tokens"]))
            face, edge, width = status_style(m["status"])
            points.set_facecolors(face), points.set_edgecolors(edge), points.set_linewidths(width)
            points.set_sizes(status_sizes(m["status"]))
            self.point_names[arch] = m["name"].tolist()
        over = models[models["status"] == OVERTRAINED]
        moe = models[(models["architecture"] == "moe") & models["params"].notna()]
        self.moe_totals.set_segments([[(a, d), (t, d)] for a, t, d in
                                      zip(moe["compute_params"], moe["params"], moe["tokens"], strict=True)])
        self.over_dots.set_offsets(_xy(over["compute_params"], over["tokens"]))
        self.loss_points.set_offsets(_xy(models["flops"], models["loss"]))
        face, edge, width = status_style(models["status"])
        self.loss_points.set_facecolors(face), self.loss_points.set_edgecolors(edge)
        self.loss_points.set_linewidths(width)
        sel = models[models["name"] == s.model]
        self.highlight.set_data(sel["compute_params"], sel["tokens"])
        for artist in self.artists():
            artist.set_visible(True)

    def legend(self, readout):
        face, edge, width = status_style([UNDERTRAINED, NEAR_OPTIMAL, OVERTRAINED])
        handles = [Line2D([], [], ls="none", marker="o", mfc=f, mec=e, mew=w, ms=9, label=label)
                   for f, e, w, label in zip(face, edge, width, ["undertrained (hollow)", "near-optimal (filled)",
                                                                 "over-trained (rimmed)"], strict=True)]
        handles.append(Line2D([], [], ls=(0, (2, 2)), marker="D", color="#888888", ms=7, lw=0.8,
                              label="MoE, line to total params"))
        return handles


class LabelsLayer(Layer):
    """Names of the key models, placed by adjustText clear of the points, each other and the axes.

    Placement is computed once per figure size and type size for every key model the catalog
    can place (against every catalog point), then reused: filters only hide labels, and a law or
    band change that moves no point costs nothing here. The placements are kept per process, keyed
    by everything they depend on (adjustText is bounded by iterations, so the same inputs give the
    same places): a second page at the same size places nothing. A thin leader joins label and point.
    """

    name = "labels"
    ignores = frozenset({"budget", "laws", "band", "model"}) | EXTRAS | MONEY
    placements: dict = {}  # shared by every page of the process; at most PLACEMENTS_KEPT entries
    PLACEMENTS_KEPT = 64

    def __init__(self, view):
        super().__init__(view)
        self.labels: list = []

    def artists(self):
        return list(self.labels)

    def update(self, readout, changed):
        view = self.view
        for artist in self.labels:
            artist.remove()
        self.labels = []
        catalog = readout.all_models
        catalog = catalog[catalog["not_plotted"] == ""]
        key = catalog[catalog["name"].isin(KEY_MODELS)]
        names = key["name"].tolist()
        xs, ys = key["compute_params"].to_numpy(), key["tokens"].to_numpy()
        size = FONT["model"] * view.scale
        # The axes' place too: a legend that grows a row (a two-line entry) shrinks them at the same figure size.
        # Only the shown contour labels: a hidden one measures as an empty box, so a placement cached while
        # the contours were hidden (a lecture step) would be reused over them once they show again.
        contour_texts = [t for t in view.layer_of("contours").texts if t.get_text() and t.get_visible()]
        all_x, all_y = catalog["compute_params"].to_numpy(), catalog["tokens"].to_numpy()
        cache_key = (tuple(names), xs.round(6).tobytes(), ys.round(6).tobytes(), all_x.round(6).tobytes(),
                     all_y.round(6).tobytes(), size, tuple(view.fig.canvas.get_width_height()), view.fig.dpi,
                     view.fig.canvas.device_pixel_ratio, view.wide, tuple(view.ax.get_position().bounds),
                     view.ax.get_xlim(), view.ax.get_ylim(), view.ax.get_xscale(), view.ax.get_yscale(),
                     tuple((t.get_text(), t.get_position()) for t in contour_texts))
        placed = self.placements.get(cache_key)
        if placed is None:
            texts = [view.ax.text(x, y, name, fontsize=size) for x, y, name in zip(xs, ys, names, strict=True)]
            # Iterations, not seconds, bound the search: the same picture on every machine.
            adjust_text(texts, x=all_x, y=all_y, ax=view.ax, expand=(1.2, 1.6), ensure_inside_axes=True, iter_lim=150)
            anchors = {name: (x, y) for name, x, y in zip(names, xs, ys, strict=True)}
            placed = self._keep_clear(texts, np.column_stack([all_x, all_y]), contour_texts, anchors)
            if len(self.placements) >= self.PLACEMENTS_KEPT:
                self.placements.pop(next(iter(self.placements)))  # the oldest
            self.placements[cache_key] = placed
            for text in texts:
                text.remove()
        shown = key[key["name"].isin(set(readout.plotted["name"]) & set(placed))]
        segments = []
        for name, x0, y0 in zip(shown["name"], shown["compute_params"], shown["tokens"], strict=True):
            x, y, ha, va = placed[name]
            self.labels.append(view.ax.text(x, y, name, fontsize=size, color="#222222", zorder=7, clip_on=True,
                                            ha=ha, va=va))
            segments.append([(x0, y0), (x, y)])
        if segments:
            leaders = LineCollection(segments, colors="#999999", linewidths=0.6, zorder=3.5)
            self.labels.append(view.ax.add_collection(leaders, autolim=False))

    def _keep_clear(self, texts: list[Text], points=None, contour_texts=(),
                    anchors=None) -> dict[str, tuple[float, float, str, str]]:
        """Where adjustText left each label, moved inside the axes; a label still overlapping one of
        higher priority (earlier in :data:`KEY_MODELS`), a model's marker or a contour label is left
        out (hovering still names it)."""
        view = self.view
        renderer = view.fig.canvas.get_renderer()
        frame = view.ax.get_window_extent(renderer)
        marker_px = 6.0 * view.fig.canvas.device_pixel_ratio  # a marker's radius and a little air
        xy = view.ax.transData.transform(points) if points is not None and len(points) else np.empty((0, 2))
        anchors = anchors or {}
        to_data = view.ax.transData.inverted()
        order = sorted(texts, key=lambda t: KEY_MODELS.index(t.get_text()))
        kept, boxes = {}, []
        contour_boxes = [c.get_window_extent(renderer) for c in contour_texts]

        def clear(box) -> bool:
            inside = (box.x0 >= frame.x0 + 1 and box.x1 <= frame.x1 - 1 and box.y0 >= frame.y0 + 1
                      and box.y1 <= frame.y1 - 1)
            on_marker = np.any((xy[:, 0] > box.x0 - marker_px) & (xy[:, 0] < box.x1 + marker_px)
                               & (xy[:, 1] > box.y0 - marker_px) & (xy[:, 1] < box.y1 + marker_px))
            return (inside and not on_marker and not any(box.overlaps(o) for o in boxes)
                    and not any(box.overlaps(c) for c in contour_boxes))

        for text in order:
            box = text.get_window_extent(renderer)
            dx = max(0.0, frame.x0 + 2 - box.x0) - max(0.0, box.x1 - (frame.x1 - 2))
            dy = max(0.0, frame.y0 + 2 - box.y0) - max(0.0, box.y1 - (frame.y1 - 2))
            if dx or dy:
                px, py = view.ax.transData.transform(text.get_position())
                text.set_position(to_data.transform((px + dx, py + dy)))
                box = text.get_window_extent(renderer)
            if not clear(box) and text.get_text() in anchors:
                # Where adjustText left it collides: try the eight places around its own point.
                ax0, ay0 = view.ax.transData.transform(anchors[text.get_text()])
                gap = marker_px + 2
                for (ox, oy, ha, va) in ((1, 0, "left", "center"), (-1, 0, "right", "center"),
                                         (0, 1, "center", "bottom"), (0, -1, "center", "top"),
                                         (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
                                         (1, -1, "left", "top"), (-1, -1, "right", "top")):
                    text.set_ha(ha), text.set_va(va)
                    text.set_position(to_data.transform((ax0 + ox * gap, ay0 + oy * gap)))
                    box = text.get_window_extent(renderer)
                    if clear(box):
                        break
            if not clear(box):
                continue  # left to hover
            boxes.append(box)
            # adjustText centres the texts it moves: keep the alignment with the position.
            kept[text.get_text()] = (*text.get_position(), text.get_ha(), text.get_va())
        return kept


class BudgetLayer(Layer):
    """The budget: its iso-FLOP line on the plane (bent when the count is not 6ND) and its line on the loss panel."""

    name = "budget"
    animated = True
    ignores = frozenset({"laws", "band"}) | EXTRAS | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        self.iso_flop = view.ax.plot([], [], color="#333333", lw=1.4, ls=(0, (5, 3)), zorder=2)[0]
        self.budget_line = view.ax_loss.axvline(1e20, color="#333333", lw=1.4, ls=(0, (5, 3)))

    def artists(self):
        return [self.iso_flop, self.budget_line]

    def update(self, readout, changed):
        s = readout.scenario
        C = readout.budget.flops
        flops = s.law(s.surface).flop_model
        if flops.linear:
            self.iso_flop.set_data(*frontier.iso_flop_line(C, N_LIM))  # straight on log-log axes: two points
        else:  # counts with embeddings or attention bend the line: trace it
            self.iso_flop.set_data(*frontier.iso_flop_line(C, N_GRID, flops))
        self.budget_line.set_xdata([C, C])
        self.iso_flop.set_visible(True)
        self.budget_line.set_visible(True)

    def legend(self, readout):
        return [Line2D([], [], color="#333333", ls=(0, (5, 3)), label="iso-FLOP line of the budget")]


# -- beyond the pre-training budget (issues 21 and 23) ----------------------------------------------------
ERROR_LEVELS = np.round(np.arange(0.30, 0.751, 0.05), 2)  # average top-1 error, every 5 points
ERROR_COLOR = "#7b3294"
ERROR_DASH = (0, (5, 2, 1, 2, 1, 2))  # dash-dot-dot: no law's frontier uses it (style.LAW_STYLES)
ERROR_LABEL = "average top-1 error, 17 tasks\n(Gadre et al. 2024; C4-eval loss)"


class PredictedErrorLayer(Layer):
    """Iso-error lines of the surface law: its loss mapped to Gadre et al.'s 17-task average top-1 error.

    Drawn only when the surface law has a downstream map (a Gadre et al. 2024 law): their error law
    takes C4-eval loss with their tokenizer, which no other law predicts. Each line is the surface's
    iso-loss curve at the loss the error law maps to that error
    (:meth:`~scaling_explorer.downstream.ErrorLaw.loss_for_error`).
    """

    name = "error"
    ignores = frozenset({"budget", "laws", "band"}) | EXTRAS | MONEY | FILTERS

    def __init__(self, view):
        super().__init__(view)
        ax = view.ax
        self.lines = [ax.plot([], [], color=ERROR_COLOR, lw=1.1, ls=ERROR_DASH, zorder=1.5)[0] for _ in ERROR_LEVELS]
        self.texts = [ax.text(1, 1, "", color=ERROR_COLOR, ha="right", va="bottom", clip_on=True, zorder=1.5)
                      for _ in ERROR_LEVELS]

    def artists(self):
        return [*self.lines, *self.texts]

    def update(self, readout, changed):
        s = readout.scenario
        surface = s.law(s.surface)
        shown = has_downstream(surface)
        size = FONT["contour"] * self.view.scale
        for level, line, text in zip(ERROR_LEVELS, self.lines, self.texts, strict=True):
            line.set_visible(shown)
            text.set_visible(shown)
            if not shown:
                continue
            D = surface.tokens_for_loss(N_GRID, surface.error_law("17").loss_for_error(level))
            line.set_data(N_GRID, D)
            inside = np.flatnonzero(np.isfinite(D) & (D >= D_LIM[0]) & (D <= D_LIM[1]))
            text.set_fontsize(size)
            if inside.size:  # at the right-hand end, where the lines run flat and apart
                i = inside[-1]
                text.set_position((N_GRID[i] / 1.15, D[i] * 1.08))
                text.set_text(f"{level:.2f}")
            else:
                text.set_text("")

    def legend(self, readout):
        s = readout.scenario
        if not has_downstream(s.law(s.surface)):
            return []
        return [Line2D([], [], color=ERROR_COLOR, lw=1.1, ls=ERROR_DASH, label=ERROR_LABEL)]


REGION_COLOR = "#666666"  # a grey hatch: apart from every law's colour, the status colours and the shading
# The students of the distillation region: fine enough that its edge reads as a curve at full width.
REGION_N = np.geomspace(*N_LIM, 240)
REGION_D = np.geomspace(*D_LIM, 180)


class DistillationRegionLayer(Layer):
    """Where distilling from the scenario's teacher beats training the student directly on the same FLOPs.

    Each point of the N-D plane is a student (N in the surface law's count, converted to the dense
    non-embedding N Busbridge et al. 2025 count); the region, hatched and outlined, is where
    :func:`~scaling_explorer.distill.distillation_region` holds for the teacher and accounting.
    Not animated: it does not depend on the budget. Its two contour sets are made again when the
    teacher, the accounting or the surface law's count changes.

    Attributes
    ----------
    region : numpy.ndarray of bool or None
        Where distilling wins, over ``students`` (N, D meshgrids); None when the scenario asks for no region.
    """

    name = "distillation"
    ignores = frozenset({"budget", "laws", "band", "edits", "flop_model"}) | (
        EXTRAS - {"teacher", "accounting"} | MONEY | FILTERS)

    def __init__(self, view):
        super().__init__(view)
        self.students = np.meshgrid(REGION_N, REGION_D)
        self.region = None
        self.fill = self.edge = None

    def artists(self):
        return [a for a in (self.fill, self.edge) if a is not None]

    def _setting(self, s):
        """(teacher, accounting, students' non-embedding N) when the scenario asks for the region, else None."""
        if not s.teacher:
            return None
        teacher, setting = teacher_from_spec(s.teacher), Accounting(s.accounting)
        if setting.needs_teacher_size and teacher.params is None:
            return None  # the numbers table says why
        try:
            N = dense_non_embedding(self.students[0], s.law(s.surface).params_meaning)
        except ValueError:  # an active-per-token count: no dense student
            return None
        return teacher, setting, N

    def update(self, readout, changed):
        for artist in self.artists():
            artist.remove()
        self.fill = self.edge = self.region = None
        setting = self._setting(readout.scenario)
        if setting is None:
            return
        teacher, accounting, N = setting
        self.region = distillation_region(N, self.students[1], teacher, accounting)
        if not self.region.any():
            return
        ax, z = self.view.ax, self.region.astype(float)
        self.fill = ax.contourf(*self.students, z, levels=[0.5, 1.5], colors="none", hatches=["/"], zorder=0.8)
        self.fill.set_edgecolor(REGION_COLOR)  # the hatch's colour
        self.fill.set_linewidth(0)
        if not self.region.all():
            self.edge = ax.contour(*self.students, z, levels=[0.5], colors=REGION_COLOR, linewidths=1.3, zorder=0.9)

    def legend(self, readout):
        setting = self._setting(readout.scenario)
        if setting is None:
            return []
        _, accounting, _ = setting
        return [Patch(facecolor="none", edgecolor=REGION_COLOR, hatch="/",
                      label=f"distilling from {readout.scenario.teacher} wins\n"
                            f"({accounting.short_label}; Busbridge et al. 2025)")]


#: The figure's layers, in legend order.
LAYERS_IN_ORDER: tuple[type[Layer], ...] = (
    FrontiersLayer, ModelsLayer, ShadingLayer, DistillationRegionLayer, BudgetLayer, ContoursLayer,
    PredictedErrorLayer, OptimaLayer, InferenceAwareLayer, DataConstrainedLayer, FlatBandLayer, LabelsLayer,
)
#: The keys ``Scenario.hide`` accepts: the layers' names.
HIDE_KEYS: tuple[str, ...] = tuple(dict.fromkeys(layer.name for layer in LAYERS_IN_ORDER))
