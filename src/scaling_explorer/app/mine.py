"""Your own model as a point: the ``mine`` Scenario field (``N:D``), its panel and its layer.

The panel enters N and D (one bound control, :class:`PointEntry`), shows the model's loss and
status under the loss law (:func:`scaling_explorer.readout.own_model`) and slides it along its
iso-FLOP line (N·D fixed, so 6ND is too). The layer draws it on the N-D plane and on the loss
panel, styled as a published model of its status, with a ring that marks it as yours.
The link, the CLI (``--mine``) and the exports carry it through the Scenario.
"""

from __future__ import annotations

import html
import math

import ipywidgets as w
import traitlets
from matplotlib.lines import Line2D

from ..readout import Missing, own_model
from ..scenario import choice
from ..style import STATUS_COLOR
from .bind import Binder, error_html, fmt_exact, message_box, parse_number
from .format import fmt_count, fmt_flops
from .layers import Layer, status_style
from .panels import Panel, readout_html
from .state import EXTRAS, FILTERS, MONEY

#: One click of "smaller N" / "larger N" moves the point this far along its iso-FLOP line (decades of N).
SLIDE_DEX = 0.1


def placed(scenario) -> dict | None:
    """The user's model under the scenario's loss law (None without one); raises ``Missing`` when it has no loss."""
    if scenario.mine is None:
        return None
    return own_model(scenario.law(scenario.surface), *scenario.mine, scenario.band)


class PointEntry(w.VBox):
    """Two boxes, N and D; ``value`` is (N, D), or None when both are empty.

    A box that is not a number, or one filled without the other, is a message in ``message``
    and leaves ``value`` as it was.
    """

    value = traitlets.Any(None, allow_none=True)

    def __init__(self):
        box = {"layout": w.Layout(width="170px"), "style": {"description_width": "24px"}, "continuous_update": False}
        self.params = w.Text(description="N", placeholder="parameters, e.g. 7e9", **box)
        self.tokens = w.Text(description="D", placeholder="tokens, e.g. 2e12", **box)
        self.message = message_box()
        self._syncing = False
        super().__init__(children=[w.HBox([self.params, self.tokens]), self.message])
        self.params.observe(self._on_box, "value")
        self.tokens.observe(self._on_box, "value")
        self.observe(lambda change: self._show(change["new"]), "value")

    def _show(self, value) -> None:
        self._syncing = True
        try:
            if value is None:
                self.params.value = self.tokens.value = ""
            else:
                for box, x in zip((self.params, self.tokens), value, strict=True):
                    if parse_number(box.value) != x:
                        box.value = fmt_exact(x)
        finally:
            self._syncing = False

    def _on_box(self, _change) -> None:
        if self._syncing:
            return
        texts = (self.params.value.strip(), self.tokens.value.strip())
        if not any(texts):
            self.message.value = ""
            self.value = None
            return
        numbers = []
        for what, text in zip(("N (parameters)", "D (tokens)"), texts, strict=True):
            number = parse_number(text) if text else None
            if number is None:
                problem = "is missing" if not text else f"{text} is not a number"
                self.message.value = error_html(f"mine: {what} {problem}; give both, e.g. N 7e9 and D 2e12 "
                                                "(empty both: none)")
                return
            numbers.append(number)
        self.value = tuple(numbers)


class MinePanel(Panel):
    """Your own model: N and D, its loss and status under the loss law, and a slide along its iso-FLOP line."""

    title = "Your model"

    def __init__(self, binder: Binder):
        super().__init__(binder)
        self.entry = PointEntry()
        self.message = self.entry.message
        binder.bind("mine", self.entry, message=self.message)
        self.readout = w.HTML()
        self.smaller = w.Button(description="◀ smaller N", tooltip="same FLOPs: fewer parameters, more tokens",
                                layout=w.Layout(width="auto"))
        self.larger = w.Button(description="larger N ▶", tooltip="same FLOPs: more parameters, fewer tokens",
                               layout=w.Layout(width="auto"))
        self.smaller.on_click(lambda _: self.slide(-SLIDE_DEX))
        self.larger.on_click(lambda _: self.slide(SLIDE_DEX))
        self.state.watch(self._show_readout, ignore=MONEY | FILTERS | EXTRAS | {"budget", "laws"})
        self._show_readout()

    def slide(self, dex: float) -> None:
        """Move the model ``dex`` decades in N along its iso-FLOP line (N·D fixed); at the range's end, a message."""
        def move():
            if self.state.scenario.mine is None:
                raise ValueError("mine: enter N and D first")
            N, D = self.state.scenario.mine
            factor = 10 ** dex
            # Three significant digits: the box and the link show 7.94e9, not 7943282347.242815.
            new = (float(f"{N * factor:.3g}"), float(f"{D / factor:.3g}"))
            low, high = choice("mine").range()
            if not all(low <= x <= high for x in new):
                raise ValueError(f"mine: N = {new[0]:g}, D = {new[1]:g} leaves the accepted range "
                                 f"({choice('mine').describe_range()}): not moved")
            self.state.update(mine=new)
        self.binder.errors.guard(self.message, move)

    def _show_readout(self, changed=None) -> None:
        s = self.state.scenario
        enabled = s.mine is not None
        self.smaller.disabled = self.larger.disabled = not enabled
        if not enabled:
            self.readout.value = readout_html("Enter N and D to place your own model on the plot.")
            return
        law = s.law(s.surface)
        try:
            p = placed(s)
        except Missing as exc:
            self.readout.value = readout_html(html.escape(str(exc)))
            return
        loss = "—" if p["loss"] is None else f"{p['loss']:.3f}"
        self.readout.value = readout_html(
            f"{fmt_count(p['params'])} parameters on {fmt_count(p['tokens'])} tokens "
            f"({p['tokens'] / p['params']:.3g} tokens/param), {fmt_flops(p['flops'])} FLOPs. "
            f"Under {html.escape(law.name)}: loss <b>{loss}</b> nats/token, "
            f"<b style='color:{STATUS_COLOR[p['status']]}'>{p['status']}</b> "
            f"(D / D<sub>opt</sub> = {p['d_over_d_opt']:.3g}).")

    def widget(self) -> w.Widget:
        return w.VBox([self.entry, self.readout, w.HBox([self.smaller, self.larger])])


class MineLayer(Layer):
    """Your model on the N-D plane and the loss panel, in its status's style, ringed (hidden with the models)."""

    name = "models"
    # It follows its point, the loss law and how it is counted; not the budget, the extras or the filters.
    ignores = MONEY | FILTERS | EXTRAS | {"budget", "laws"}

    def __init__(self, view):
        super().__init__(view)
        self.ring = view.ax.plot([], [], ls="none", marker="o", ms=17, mfc="none", mec="#222222", mew=1.6,
                                 zorder=7, visible=False)[0]
        self.point = view.ax.plot([], [], ls="none", marker="o", ms=9, zorder=8, visible=False)[0]
        self.loss_point = view.ax_loss.plot([], [], ls="none", marker="o", ms=9, mec="#222222", zorder=8,
                                            visible=False)[0]

    def artists(self):
        return [self.ring, self.point, self.loss_point]

    def update(self, readout, changed):
        s = readout.scenario
        try:
            p = placed(s)
        except Missing:
            p = ({"params": s.mine[0], "tokens": s.mine[1], "flops": math.nan, "loss": None, "status": None}
                 if s.mine else None)
        for artist in self.artists():
            artist.set_visible(p is not None)
        if p is None:
            return
        self.ring.set_data([p["params"]], [p["tokens"]])
        self.point.set_data([p["params"]], [p["tokens"]])
        if p["status"] is not None:
            (face,), (edge,), (width,) = status_style([p["status"]])
            self.point.set_markerfacecolor(face)
            self.point.set_markeredgecolor(edge)
            self.point.set_markeredgewidth(width)
            self.loss_point.set_markerfacecolor(STATUS_COLOR[p["status"]])
        self.loss_point.set_visible(p["loss"] is not None)
        if p["loss"] is not None:
            self.loss_point.set_data([p["flops"]], [p["loss"]])

    def legend(self, readout):
        if readout.scenario.mine is None:
            return []
        return [Line2D([], [], ls="none", marker="o", ms=9, mfc="none", mec="#222222", mew=1.6, label="your model")]
