"""The explorer application: state + controls + views, returned as one widget."""

from __future__ import annotations

import ipywidgets as w
import matplotlib
from matplotlib.figure import Figure

from .controls import Controls, ErrorSink
from .disagree import DisagreementPanel
from .fitpanel import FitPanel
from .state import AppState
from .views import ModelCardView, NumbersView, PlotsView

STYLE = """
<style>
.se-app { font-size: 15px; }
.se-app h2 { margin: 4px 0 2px 0; font-size: 24px; }
.se-h { margin: 10px 0 2px 0; font-size: 15px; color: #222; }
.se-error { color: #b00020; font-weight: bold; }
.se-warn { color: #9a5b00; font-size: 12px; }
.se-note { color: #555; font-size: 12px; margin-top: 4px; }
.se-readout { color: #333; font-size: 13px; margin: 0 0 4px 4px; }
.se-budget { margin: 4px 0 6px 0; }
.se-table { border-collapse: collapse; margin-top: 4px; }
.se-table th, .se-table td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
.se-report { font-family: monospace; font-size: 12px; line-height: 1.35; white-space: pre; margin: 0; }
.se-table th:first-child, .se-table td:first-child { text-align: left; }
</style>
"""

EXPLANATION = """
<p><b>Left:</b> the plane of model size N (parameters) against training tokens D. Every point costs
C&nbsp;=&nbsp;6ND FLOPs, so the dashed line is every (N, D) your budget can buy. Grey curves are
iso-loss contours of the selected loss law, each touching one decade's iso-FLOP line where that
budget is best spent. Coloured lines are each law's compute-optimal path; stars mark the optimum at
your budget. Shaded regions are more than the chosen factor away from the optimal tokens for
a model's own compute: <span style="color:#D55E00">undertrained</span> below,
<span style="color:#0072B2">over-trained</span> above. Points are published models (MoE at their
active parameters, diamonds). <b>Right:</b> the loss each loss law predicts at its own
optimum, with the models at (6ND, predicted loss).</p>
<p>Kaplan et al. 2020 (arXiv:2001.08361) count <i>non-embedding</i> parameters and fit its frontier
to early-stopped runs: N<sub>opt</sub> = 1.3e9&middot;C<sub>min</sub><sup>0.73</sup> (C in PF-days).
Hoffmann et al. 2022 (Chinchilla, arXiv:2203.15556) count all parameters and find N and D
growing equally, about 20 tokens per parameter (Approaches 1 and 2). Their Approach-3 fit as
printed implies far more tokens per parameter; Besiroglu et al. 2024 (Epoch, arXiv:2404.10102)
refit the same data and agree with Approaches 1 and 2.</p>
<p>Efficiency is the compute the optimal allocation would need to reach the model's predicted loss,
divided by the model's own compute; it is shown for Chinchilla-form laws only, since Kaplan's frontier is a fit
to early-stopped runs rather than the minimum of its loss. Under Kaplan's law the points use published
non-embedding parameter counts where there are any. Over-training a small model can still be the right call
when it will serve many inference requests (Sardana &amp; Frankle 2023, arXiv:2401.00448).</p>
"""


def _canvas(figsize=(11.5, 6.4), dpi=80) -> Figure:
    """A figure on its own ipympl canvas, not registered with pyplot (so it is never shown twice)."""
    # Importing ipympl switches matplotlib's backend for the whole session; the app draws on its
    # own canvases, so give the user's backend (e.g. inline plots in a teaching notebook) back.
    backend = matplotlib.get_backend()
    from ipympl.backend_nbagg import Canvas, FigureManager

    matplotlib.use(backend)
    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    canvas.capture_scroll = False
    return fig


class Explorer:
    """The whole page. ``widget`` is what a notebook displays.

    Parameters
    ----------
    raise_errors : bool
        Re-raise errors from controls instead of showing them (for tests).
    scenario : Scenario, optional
        What the page opens on (default: ``Scenario()``).
    """

    def __init__(self, raise_errors: bool = False, scenario=None):
        self.state = AppState(scenario)
        self.errors = ErrorSink(raise_errors)
        self.controls = Controls(self.state, self.errors)
        with matplotlib.rc_context({"font.size": 11, "axes.titlesize": 11, "axes.labelsize": 12,
                                    "xtick.labelsize": 10.5, "ytick.labelsize": 10.5}):
            self.figure = _canvas()
            self.plots = PlotsView(self.state, self.figure)
            # Lay out text and ticks now (in a preheated kernel, before anyone visits): the first
            # draw the page asks for is then cheaper.
            self.figure.draw_without_rendering()
        self.numbers = NumbersView(self.state, w.HTML())
        self.card = ModelCardView(self.state, w.HTML(layout=w.Layout(max_width="640px")))
        self.fit_panel = FitPanel(self.state, self.errors, _canvas(figsize=(4.6, 3.6)))
        self.disagree = DisagreementPanel(self.state)
        explanation = w.Accordion(children=[w.HTML(EXPLANATION), self.fit_panel.panel(), self.disagree.panel()])
        explanation.set_title(0, "What am I looking at?")
        explanation.set_title(1, "Fit your own runs")
        explanation.set_title(2, "Why Kaplan and Chinchilla disagree")
        explanation.selected_index = None
        readouts = w.HBox([self.numbers.widget, self.card.widget],
                          layout=w.Layout(flex_flow="row wrap", justify_content="space-between"))
        main = w.VBox([self.figure.canvas, readouts, explanation], layout=w.Layout(flex="1 1 auto"))
        header = w.HTML(STYLE + "<h2>Scaling Explorer</h2><div>How big a model, on how many tokens, for this "
                        "compute, and who got it wrong? Kaplan 2020 vs Chinchilla 2022 vs Epoch 2024.</div>")
        self.widget = w.VBox([header, w.HBox([self.controls.panel(), main])])
        self.widget.add_class("se-app")


def explorer(raise_errors: bool = False) -> w.Widget:
    """Build the explorer and return its widget (display it, or end a notebook cell with it)."""
    return Explorer(raise_errors=raise_errors).widget
