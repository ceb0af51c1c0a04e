"""The figure: the N-D plane and loss against compute, built once from its layers and updated in place.

The figure iterates its layers (:mod:`.layers`). A change updates only the layers that do not
ignore one of the changed fields; when those are all animated (a budget step) only the
animated artists are blitted over a cached background, else the figure redraws once. The figure
follows the width the browser gives it (:meth:`PlotsView.resize`): side by side when wide,
stacked when narrow. Sizes are in CSS pixels (the figure's dpi is 72, so a point is a pixel).
"""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
import pandas as pd
from matplotlib.backend_tools import Cursors
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.gridspec import GridSpec
from matplotlib.text import Text

from ..catalog import NOT_DESCRIBED
from ..readout import law_label
from ..scenario import Scenario
from .format import log_ticks_as_text
from .layers import C_LIM, D_LIM, FONT, LAYERS_IN_ORDER, N_LIM, Layer, status_sizes, status_style
from .state import AppState

__all__ = ["DPI", "PRESENTATION_SCALE", "WIDE", "Blitter", "PlotsView", "status_sizes", "status_style"]

DPI = 72  # one point is one CSS pixel
PRESENTATION_SCALE = 1.5
WIDE = 760  # px: from this width the panels sit side by side
#: Layers whose legend entries explain the N-D panel's marks (model status and the two regions):
#: their legend sits under the N-D panel; every other layer's under the loss panel (or the figure).
STATUS_LAYERS = frozenset({"models", "shading"})
LEGEND_ROW = 1.5   # legend row height, in legend font sizes
LEGEND_HANDLE = 1.8   # legend handle length and column spacing, in legend font sizes
LEGEND_SPACING = 1.0
TITLE_LINE = 1.25  # title line height, in title font sizes
COUNT_LABEL = {"native": "as each law counts them", "total": "total", "non-embedding": "non-embedding"}


def _columns(entries: list, ncol: int) -> list[list]:
    """``entries`` split into legend columns as matplotlib's legend splits them (top to bottom, the
    first ``len % ncol`` columns one entry longer)."""
    rows, long_columns = divmod(len(entries), ncol)
    sizes = [rows + 1] * long_columns + [rows] * (ncol - long_columns)
    out, start = [], 0
    for size in sizes:
        if size:
            out.append(entries[start:start + size])
        start += size
    return out


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
        # Said on the plane when the filters leave no model (an empty plot otherwise looks broken).
        self.empty_note = self.ax.text(0.5, 0.5, "", transform=self.ax.transAxes, ha="center", va="center",
                                       color="#9a5b00", zorder=8, visible=False,
                                       bbox=dict(boxstyle="round,pad=0.4", fc="white", ec="#9a5b00"))
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
        self.legend = None          # the laws' legend (under the loss panel, or the figure when stacked)
        self.status_legend = None   # the status legend, under the N-D panel
        self._title_lines = (1, 1)
        self._pointer = False
        self._room: tuple[int, int] | None = None  # the last width and height resize() was given
        # The canvas's own size, until the browser tells its room: the figure grows from it (never
        # from a size larger type once asked for, so leaving presentation mode gives it back).
        self._given_size = tuple(figure.canvas.get_width_height())
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
        log_ticks_as_text(ax.xaxis, ax.yaxis)
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.nd_title = ax.set_title("")
        ax = self.ax_loss
        ax.set(xscale="log", xlim=C_LIM)
        ax.minorticks_off()
        log_ticks_as_text(ax.xaxis)
        ax.grid(True, which="major", color="#dddddd", lw=0.6)
        self.loss_title = ax.set_title("Loss at the compute-optimal allocation")
        # Top right: the curves fall to the right, so that corner is empty at every budget.
        self.loss_note = ax.text(0.98, 0.98, "", transform=ax.transAxes, color="#555555", ha="right", va="top")

    # -- size and type -----------------------------------------------------------------------
    def resize(self, width: int, viewport_height: int = 0) -> None:
        """Fit the figure to ``width`` CSS pixels and, when given, ``viewport_height`` (the height the
        page leaves it in the first screen): side by side from :data:`WIDE` px, stacked below."""
        self._room = (int(max(320, width)), max(420, viewport_height) if viewport_height else 10_000)
        if self._fit():
            self.refresh()

    def _fit(self) -> bool:
        """Size the canvas for the last width and room and the current legends; whether it changed.

        The axes keep at least a readable height: a figure whose legends need more than the room
        runs past the first screen rather than squash its panels.
        """
        width, height = self._given_size
        if self._room is not None:  # else not yet told the browser's size: keep the canvas's, unless too small
            width, room = self._room
            height = (int(np.clip(width * 0.52, 420, max(420, room))) if width >= WIDE
                      else int(min(width * 1.55 + 60, room)))
        wide = width >= WIDE
        m = self._margins(width)
        if wide:
            least = m["top"] + m["below_axes"] + max(m["status"], m["laws"]) + 220
        else:
            # 260 px of axes: the N-D panel 160 px and the loss panel 100 px still show three or more
            # tick labels each at presentation size (a presented lecture at 1024x768 then fits).
            least = m["top"] + m["loss_top"] + 2 * m["below_axes"] + m["status"] + m["laws"] + 260
        height = int(max(height, least))
        if (width, height) == tuple(self.fig.canvas.get_width_height()) and wide == self.wide:
            return False
        self.fig.canvas.handle_resize({"width": width, "height": height})
        self._layout(width, height)
        return True

    def _margins(self, width: float) -> dict[str, float]:
        """Pixel margins around the axes for a figure ``width`` px wide (titles, labels and legends)."""
        s = self.scale
        f = {k: v * s for k, v in FONT.items()}
        status_rows, law_rows = self._legend_rows(width)
        row = f["legend"] * LEGEND_ROW
        below_axes = f["tick"] * 1.6 + f["label"] * 1.6 + 8  # tick labels and the axis label
        # Side by side the titles share a row (the taller sets the top margin); stacked, each panel
        # keeps the room its own title needs (``top`` over the N-D panel, ``loss_top`` over the loss panel).
        nd_lines, loss_lines = self._title_lines
        return dict(left=f["tick"] * 3.6 + f["label"] * 1.8 + 6, right=26 * s,
                    top=f["title"] * TITLE_LINE * (max(nd_lines, loss_lines) if width >= WIDE else nd_lines) + 10,
                    loss_top=f["title"] * TITLE_LINE * loss_lines + 10, below_axes=below_axes,
                    status=status_rows * row + (6 if status_rows else 0), laws=law_rows * row + 8)

    def _layout(self, width: float, height: float) -> None:
        """Place the two axes for a ``width`` x ``height`` px figure, leaving room for titles and legends."""
        self.wide = width >= WIDE
        m = self._margins(width)
        left, right, top = m["left"], m["right"], m["top"]
        # GridSpec spaces are fractions of the mean axes size: turn the gaps wanted in px into those.
        if self.wide:
            bottom = m["below_axes"] + max(m["status"], m["laws"]) + 4
            gap = m["left"] + 24 * self.scale
            mean_axes = (width - left - right - gap) / 2
            gs = GridSpec(1, 2, figure=self.fig, width_ratios=[1.3, 1], left=left / width,
                          right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                          wspace=gap / mean_axes)
        else:
            bottom = m["below_axes"] + m["laws"] + 4
            gap = m["below_axes"] + m["status"] + m["loss_top"] + 4
            mean_axes = max(40.0, (height - top - bottom - gap) / 2)
            gs = GridSpec(2, 1, figure=self.fig, height_ratios=[1.6, 1], left=left / width,
                          right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                          hspace=gap / mean_axes)
        for ax, spec in ((self.ax, gs[0]), (self.ax_loss, gs[1])):
            ax.set_subplotspec(spec)
            # set_subplotspec moves the axes only at the next draw; labels are placed before it.
            ax.set_position(spec.get_position(self.fig))

    def _legend_split(self) -> tuple[list, list]:
        """The legend handles under the N-D panel (status) and under the loss panel (laws and the rest)."""
        status, laws = [], []
        for layer, handles in self._handles_by_layer():
            (status if layer.name in STATUS_LAYERS else laws).extend(handles)
        return status, laws

    def _legend_room(self, width: float) -> tuple[float, float]:
        """The widths in px the status and the laws legend may take."""
        if width >= WIDE:
            return width * 1.3 / 2.3 - 10, width * 1.0 / 2.3 - 10
        return width - 20, width - 20

    def _entry_width(self, label: str) -> float:
        """The width in px of one legend entry (handle, text and the space to the next column)."""
        size = FONT["legend"] * self.scale
        renderer = self.fig.canvas.get_renderer()
        widest = max(renderer.get_text_width_height_descent(line, FontProperties(size=size), ismath=False)[0]
                     for line in label.split("\n"))
        return widest / self.fig.canvas.device_pixel_ratio + size * (LEGEND_HANDLE + 0.8 + LEGEND_SPACING)

    def _legend_labels_wrapped(self, handles, room: float) -> list[str]:
        """Each handle's label, wrapped so that one entry fits ``room`` px."""
        size = FONT["legend"] * self.scale
        chars = max(12, int((room - size * 4.5) / (0.6 * size)))
        return ["\n".join(textwrap.wrap(h.get_label(), chars)) or h.get_label() for h in handles]

    def _legend_columns_for(self, labels: list[str], room: float) -> int:
        """As many columns as fit ``room`` px at the widest entry (at least one; at most four)."""
        if not labels:
            return 1
        widths = [self._entry_width(label) for label in labels]
        for ncol in range(min(4, len(labels)), 1, -1):
            if sum(max(col) for col in _columns(widths, ncol)) <= room:
                return ncol
        return 1

    def _legend_rows(self, width: float) -> tuple[int, int]:
        """Text rows of the status and the laws legend at ``width``."""
        rows = []
        for handles, room in zip(self._legend_split(), self._legend_room(width), strict=True):
            labels = self._legend_labels_wrapped(handles, room)
            ncol = self._legend_columns_for(labels, room)
            columns = _columns(labels, ncol) if labels else []
            rows.append(max((sum(label.count("\n") + 1 for label in col) for col in columns), default=0))
        return rows[0], rows[1]

    def _legend_columns(self, width: float) -> int:
        """Columns of the laws legend at ``width`` (kept for callers of the single-legend layout)."""
        handles = self._legend_split()[1]
        room = self._legend_room(width)[1]
        return self._legend_columns_for(self._legend_labels_wrapped(handles, room), room)

    def legend_handles(self) -> list:
        """Every layer's legend entries, in layer order.

        A layer's entries depend at most on the fields it does not ignore (and the fit): they are
        kept per layer and made again only when one of those changed.
        """
        return [h for _, handles in self._handles_by_layer() for h in handles]

    def _handles_by_layer(self) -> list[tuple[Layer, list]]:
        readout = self.state.readout
        s = readout.scenario
        out = []
        for layer in self.layers:
            key = (tuple(getattr(s, f) for f in self._fields if f not in layer.ignores), id(self.state.fit_result))
            cached = self._legend_cache.get(id(layer))
            if cached is None or cached[0] != key:
                cached = self._legend_cache[id(layer)] = (key, layer.legend(readout))
            out.append((layer, cached[1]))
        return out

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
        self._set_titles()
        if not self._fit():
            self._layout(*self.fig.canvas.get_width_height())
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
        lines = self._title_lines
        if not all(layer.animated for layer in self.layers if changed - layer.ignores):
            self._set_titles()  # a title may take another line: then the axes move
        if scale != self.scale or labels != self._legend_labels or self._title_lines != lines:
            self.scale = scale  # type size, legend rows or title lines changed: the axes move
            self.refresh()
            return
        stale = [layer for layer in self.layers if changed - layer.ignores or "hide" in changed]
        self._update(stale, changed)
        if all(layer.animated for layer in stale):
            self.blitter.update()
        else:
            self._update_background()
            self.fig.canvas.draw_idle()

    def _title_text(self) -> str:
        """The N-D panel's title: which law shades the plane and colours the points."""
        s = self.state.scenario
        readout = self.state.readout
        label = law_label(s, s.surface)
        condition = readout.status_condition
        if condition is not None and condition.applies:
            text = f"Status at {condition.text()}: {label}"
        elif condition is not None:
            text = f"Shading and model status: {label} (training cost only: {condition.unmet})"
        else:
            text = f"Shading and model status: {label}"
        refused = int((readout.models["status"] == NOT_DESCRIBED).sum())
        if refused:  # a law that describes only some architectures (the MoE law) leaves the rest off the plot
            text = f"{text} ({refused} models not described: see the table)"
        return text

    def _axes_widths(self) -> tuple[float, float]:
        """The two axes' widths in px for the current figure size (before the draw moves them)."""
        width = self.fig.canvas.get_width_height()[0]
        m = self._margins(width)
        if width >= WIDE:
            inner = width - m["left"] * 2 - m["right"] - 24 * self.scale
            return inner * 1.3 / 2.3, inner / 2.3
        return (width - m["left"] - m["right"],) * 2

    def _wrap(self, text: str, width_px: float, size: float) -> str:
        """``text`` wrapped to lines of at most ``width_px`` px at ``size`` px type (DejaVu Sans averages
        about 0.55 em per character)."""
        chars = max(16, int(width_px / (0.55 * size)))
        return "\n".join(textwrap.wrap(text, chars))

    def _set_titles(self) -> None:
        """Both titles and the loss note, wrapped to their axes (a long law name takes a second line)."""
        f = {k: v * self.scale for k, v in FONT.items()}
        nd_width, loss_width = self._axes_widths()
        self.nd_title.set_text(self._wrap(self._title_text(), nd_width, f["title"]))
        self.loss_title.set_text(self._wrap("Loss at the compute-optimal allocation", loss_width, f["title"]))
        self.loss_note.set_text(self._wrap("Kaplan: WebText2; Chinchilla: MassiveText. "
                                           "Compare shapes, not absolute values.", loss_width * 0.6, f["note"]))
        self._title_lines = (self.nd_title.get_text().count("\n") + 1, self.loss_title.get_text().count("\n") + 1)

    def _update_background(self) -> None:
        """The texts and limits that are no layer's: axis labels, titles, the loss axis, the legends."""
        readout = self.state.readout
        self._restyle()
        self._update_loss_ylim(readout.plotted)
        self._set_titles()
        empty = not len(readout.plotted) and "models" not in readout.scenario.hide
        self.empty_note.set_text("No model matches the filters:\nwiden the years or sizes, or tick more types"
                                 if empty else "")
        self.empty_note.set_fontsize(FONT["label"] * self.scale)
        self.empty_note.set_visible(empty)
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
        """Two legends, each wrapped into as many columns as fit under its panel: the status legend
        (hollow, filled, rimmed; the two regions) under the N-D panel, the laws' under the loss panel
        (both under the figure's panels when stacked: status under the N-D panel, laws at the bottom)."""
        status, laws = self._legend_split()
        self._legend_labels = tuple(h.get_label() for h in self.legend_handles())  # as _on_change compares
        for legend in (self.legend, self.status_legend):
            if legend is not None:
                legend.remove()
        width, height = self.fig.canvas.get_width_height()
        m = self._margins(width)
        size = FONT["legend"] * self.scale
        status_room, laws_room = self._legend_room(width)
        made = []
        for handles, room, ax in ((status, status_room, self.ax), (laws, laws_room, self.ax_loss)):
            labels = self._legend_labels_wrapped(handles, room)
            box = ax.get_position()
            # Stacked, a legend may take the figure's width (_legend_room): centre it on the figure, not
            # on the axes, whose wider left margin would push a full-width legend past the right edge.
            x = (box.x0 + box.x1) / 2 if self.wide else 0.5
            y = box.y0 - m["below_axes"] / height
            made.append(self.fig.legend(handles=handles, labels=labels, loc="upper center",
                                        ncol=self._legend_columns_for(labels, room), fontsize=size,
                                        frameon=False, bbox_to_anchor=(x, y), handlelength=LEGEND_HANDLE,
                                        columnspacing=LEGEND_SPACING, borderaxespad=0.0, borderpad=0.0)
                        if handles else None)
        self.status_legend, self.legend = made

    def text_boxes(self) -> list[tuple[str, str, object]]:
        """Every visible text of the figure as ``(kind, text, bbox in display px)``, drawn first.

        Kinds: ``title``, ``axis-label``, ``note``, ``contour``, ``model-label``, ``legend``. For checking
        that no two overlap (tick labels are matplotlib's own and left out).
        """
        self.fig.canvas.draw()
        renderer = self.fig.canvas.get_renderer()
        contours = self.layer_of("contours")
        labels = self.layer_of("labels")
        kinds = [("title", [self.nd_title, self.loss_title]),
                 ("axis-label", [self.ax.xaxis.label, self.ax.yaxis.label, self.ax_loss.xaxis.label,
                                 self.ax_loss.yaxis.label]),
                 ("note", [self.loss_note, self.empty_note]),
                 ("contour", list(contours.texts)),
                 ("model-label", [a for a in labels.labels if isinstance(a, Text)]),
                 ("legend", [t for lg in (self.legend, self.status_legend) if lg is not None
                             for t in lg.get_texts()])]
        out = []
        for kind, texts in kinds:
            for t in texts:
                if t.get_visible() and t.get_text().strip():
                    box = t.get_window_extent(renderer)
                    if kind in ("contour", "model-label"):
                        clip = t.axes.get_window_extent(renderer)
                        if not box.overlaps(clip):
                            continue
                    out.append((kind, t.get_text(), box))
        return out

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
        if (hit is not None) != self._pointer:  # a point is clickable (it selects the model): say so
            self._pointer = hit is not None
            try:
                self.fig.canvas.set_cursor(Cursors.HAND if self._pointer else Cursors.POINTER)
            except (AttributeError, NotImplementedError):  # a canvas without cursors (Agg, in tests)
                pass
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
