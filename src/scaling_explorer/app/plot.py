"""The figure: the N-D plane and loss against compute, built once from its layers and updated in place.

The figure iterates its layers (:mod:`.layers`). A change updates only the layers that do not
ignore one of the changed fields; when those are all animated (a budget step) only the
animated artists are blitted over a cached background, else the figure redraws once. The figure
follows the width the browser gives it (:meth:`PlotsView.resize`): side by side when wide,
stacked when narrow. Sizes are in CSS pixels (the figure's dpi is 72, so a point is a pixel).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.text import Text

from ..catalog import NOT_DESCRIBED
from ..readout import law_label
from ..scenario import Scenario
from .compat import demand_applies
from .layers import C_LIM, D_LIM, FONT, LAYERS_IN_ORDER, N_LIM, Layer, status_sizes, status_style
from .state import AppState

__all__ = ["DPI", "PRESENTATION_SCALE", "WIDE", "Blitter", "PlotsView", "status_sizes", "status_style"]

DPI = 72  # one point is one CSS pixel
PRESENTATION_SCALE = 1.5
WIDE = 760  # px: from this width the panels sit side by side
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
            if a.get_visible():
                self.figure.draw_artist(a)

    def update(self):
        """Show the animated artists' new state."""
        if self.background is None:
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self.background)
        self._draw_animated()
        self.canvas.blit(self.figure.bbox)


class PlotsView:
    """One figure, two panels (the N-D plane and loss against compute), drawn by its layers.

    Attributes
    ----------
    layers : tuple of Layer
        In legend order; ``layer(cls)`` finds one by type. Their artists are also reachable on
        this object (``plots.frontiers`` is the frontiers layer's), as tests drive them.
    """

    def __init__(self, state: AppState, figure: Figure, layers=LAYERS_IN_ORDER):
        self.state = state
        self.fig = figure
        self.scale = PRESENTATION_SCALE if state.scenario.present else 1.0
        self.wide = True
        self.ax = figure.add_subplot()
        self.ax_loss = figure.add_subplot()
        self._hovered = None
        self._build_axes()
        self.hover_note = self.ax.annotate("", (1, 1), xytext=(10, 10), textcoords="offset points", visible=False,
                                           zorder=10, bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#555555"))
        self.blitter = Blitter(figure, [self.hover_note])
        self.layers: tuple[Layer, ...] = tuple(layer(self) for layer in layers)
        for layer in self.layers:
            if layer.animated:
                for artist in layer.artists():
                    self.blitter.add(artist)
        for layer in self.layers:
            ensure = getattr(layer, "ensure", None)
            if ensure is not None:
                ensure(state.available())
        figure.canvas.mpl_connect("motion_notify_event", self._on_motion)
        figure.canvas.mpl_connect("pick_event", self._on_pick)
        self._legend_labels: tuple[str, ...] = ()
        self._legend_cache: dict[int, tuple] = {}
        self._fields = tuple(f.name for f in dataclasses.fields(Scenario) if f.init)
        self.legend = None
        self._layout(*figure.canvas.get_width_height())
        state.watch(self._on_change)
        self.refresh()

    def __getattr__(self, name: str):
        # Only reached for names this object lacks: an artist of one of its layers.
        for layer in self.__dict__.get("layers", ()):
            if name in vars(layer) or isinstance(getattr(type(layer), name, None), property):
                return getattr(layer, name)
        raise AttributeError(name)

    def layer(self, cls: type[Layer]) -> Layer:
        """The layer of type ``cls``."""
        return next(layer for layer in self.layers if isinstance(layer, cls))

    def _build_axes(self):
        ax = self.ax
        ax.set(xscale="log", yscale="log", xlim=N_LIM, ylim=D_LIM)
        ax.minorticks_off()  # a major-only grid reads as well, and ~170 minor ticks cost 40% of a full draw
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.nd_title = ax.set_title("")
        ax = self.ax_loss
        ax.set(xscale="log", xlim=C_LIM)
        ax.minorticks_off()
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.loss_title = ax.set_title("Loss at the compute-optimal allocation")
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
        self.refresh()

    def _layout(self, width: float, height: float) -> None:
        """Place the two axes for a ``width`` x ``height`` px figure, leaving room for the legend."""
        self.wide = width >= WIDE
        s = self.scale
        legend_rows = self._legend_lines(self.legend_handles(), self._legend_columns(width))
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

    @staticmethod
    def _legend_lines(handles, columns: int) -> int:
        """Lines of text in the tallest legend column (matplotlib fills the columns top to bottom, in turn).

        An entry may take two lines (a label with its source on the second).
        """
        lines = [h.get_label().count("\n") + 1 for h in handles]
        per_column = -(-len(lines) // columns) if lines else 0
        return max((sum(lines[i:i + per_column]) for i in range(0, len(lines), per_column)), default=0)

    def _legend_columns(self, width: float) -> int:
        """As many legend columns as fit: about 250 px each at 12 px type."""
        return int(max(1, min(4, width // (250 * self.scale))))

    def legend_handles(self) -> list:
        """Every layer's legend entries, in layer order.

        A layer's entries depend at most on the fields it does not ignore (and the fit): they are
        kept per layer and made again only when one of those changed.
        """
        readout = self.state.readout
        s = readout.scenario
        handles = []
        for layer in self.layers:
            key = (tuple(getattr(s, f) for f in self._fields if f not in layer.ignores), id(self.state.fit_result))
            cached = self._legend_cache.get(id(layer))
            if cached is None or cached[0] != key:
                cached = self._legend_cache[id(layer)] = (key, layer.legend(readout))
            handles += cached[1]
        return handles

    def _restyle(self) -> None:
        """Apply the text sizes for the current scale to the axes' own texts (layers size their own)."""
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

    def text_sizes_px(self) -> list[float]:
        """Every visible text's size in CSS pixels (for checking legibility)."""
        texts = [t for t in self.fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        return [t.get_fontsize() * self.fig.dpi / 72 / self.fig.canvas.device_pixel_ratio for t in texts]

    # -- updates ------------------------------------------------------------------------------
    def visible_models(self) -> pd.DataFrame:
        """Classified models that pass the filters and can be placed on the N-D plane."""
        return self.state.readout.plotted

    def refresh(self) -> None:
        """Show the whole readout: every layer, the titles, the legend; redraw once."""
        self._update(self.layers, frozenset())
        self._update_background()
        self.fig.canvas.draw_idle()

    def _update(self, layers, changed: frozenset[str]) -> None:
        readout = self.state.readout
        hidden = readout.scenario.hide
        # An edited law can overflow far from its optimum (alpha = 10 at 1e-8 parameters): such
        # points do not draw, and the numbers table says why; warnings would only reach a log.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for layer in layers:
                layer.update(readout, changed)
                if layer.name in hidden:
                    for artist in layer.artists():
                        artist.set_visible(False)

    def _on_change(self, changed: frozenset[str]) -> None:
        s = self.state.scenario
        scale = PRESENTATION_SCALE if s.present else 1.0
        labels = tuple(h.get_label() for h in self.legend_handles())
        if scale != self.scale or labels != self._legend_labels:  # type size, or legend rows, changed
            self.scale = scale
            self._layout(*self.fig.canvas.get_width_height())
            self.refresh()
            return
        stale = [layer for layer in self.layers if changed - layer.ignores or "hide" in changed]
        self._update(stale, changed)
        if all(layer.animated for layer in stale):
            self.blitter.update()
        else:
            self._update_background()
            self.fig.canvas.draw_idle()

    def _update_background(self) -> None:
        """The texts and limits that are no layer's: axis labels, the N-D title, the loss axis, the legend."""
        s = self.state.scenario
        readout = self.state.readout
        self._restyle()
        self._update_loss_ylim(readout.plotted)
        label = law_label(s, s.surface)
        if demand_applies(readout):
            self.nd_title.set_text(f"Status at T = {s.inference_tokens:.3g} tokens of demand: {label}")
        elif s.inference_tokens:
            self.nd_title.set_text(f"Shading and model status: {label} (training cost only: "
                                   "demand needs a Chinchilla-form law)")
        else:
            self.nd_title.set_text(f"Shading and model status: {label}")
        refused = int((readout.models["status"] == NOT_DESCRIBED).sum())
        if refused:  # a law that describes only some architectures (the MoE law) leaves the rest off the plot
            self.nd_title.set_text(f"{self.nd_title.get_text()} ({refused} models not described: see the table)")
        self._update_legend()

    def _update_loss_ylim(self, models):
        curves = self.layer_of("frontiers").loss_curves.values()
        values = [c.get_ydata() for c in curves if c.get_visible()]
        values.append(models["loss"].to_numpy())
        values = np.concatenate([np.asarray(v, float) for v in values]) if values else np.array([2.0, 4.0])
        values = values[np.isfinite(values)]
        lo, hi = (np.min(values), np.max(values)) if values.size else (1.5, 4.0)
        self.ax_loss.set_ylim(lo - 0.05 * (hi - lo), min(hi, lo + 3.0) + 0.05 * (hi - lo))

    def layer_of(self, name: str) -> Layer:
        """The first layer called ``name``."""
        return next(layer for layer in self.layers if layer.name == name)

    def _update_legend(self):
        handles = self.legend_handles()
        self._legend_labels = tuple(h.get_label() for h in handles)
        if self.legend is not None:
            self.legend.remove()
        width = self.fig.canvas.get_width_height()[0]
        self.legend = self.fig.legend(handles=handles, loc="lower center", ncol=self._legend_columns(width),
                                      fontsize=FONT["legend"] * self.scale, frameon=False,
                                      bbox_to_anchor=(0.5, 0.0), handlelength=2.2, columnspacing=1.5)

    def layer_artists(self) -> dict[str, list]:
        """The artists under each hide key."""
        out: dict[str, list] = {}
        for layer in self.layers:
            out.setdefault(layer.name, []).extend(layer.artists())
        return out

    # -- mouse ----------------------------------------------------------------------------------
    def _on_pick(self, event):
        """Clicking a model's point selects it (its card opens beside the numbers)."""
        models = self.layer_of("models")
        for arch, points in models.points.items():
            if event.artist is points and len(event.ind):
                self.state.update(model=models.point_names[arch][event.ind[0]])

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
            self.hover_note.set_text(f"{name}: {hit['status']}\n{hit['tokens_per_param']:.3g} tokens/param")
            # Keep the note inside the axes: flip it left of points in the right half.
            right = event.x > self.ax.bbox.x0 + self.ax.bbox.width / 2
            self.hover_note.set_position((-12 if right else 12, 10))
            self.hover_note.set_horizontalalignment("right" if right else "left")
        self.hover_note.set_visible(hit is not None)
        self.blitter.update()
