"""The explorer page: one AppState, panels that return widgets, composed by :class:`Explorer`.

The page reads its Scenario from the URL when it opens (:func:`voila_query`), keeps the address
bar equal to the current view (a PageBridge), and fits its figure to the width the browser gives it.
"""

from __future__ import annotations

import json
import os
import warnings

import ipywidgets as w
import matplotlib
from matplotlib.figure import Figure

from .. import lecture as lectures
from ..scenario import Scenario, ScenarioError
from .bind import ErrorSink
from .bridge import PageBridge
from .canvas import canvas_class
from .controls import Controls
from .disagree import DisagreementPanel
from .fitpanel import FitPanel
from .layers import LAYERS_IN_ORDER
from .lecture import LecturePanel
from .mine import MineLayer
from .plot import DPI, PlotsView
from .share import SharePanel, link_problems_html
from .state import AppState, view_preferences
from .table import ModelTable
from .views import ModelCardView, NumbersView

# Page CSS. The figure is the stage: a compact side column (lecture, then the controls as an
# accordion, the budget open) beside the figure, which is sized to the first screen. Presentation
# mode (``.se-present``) sets every text on the page to at least 18 px and shows a slim bar with
# the budget and the lecture's Previous/Next above the figure.
STYLE = """
<style>
.se-app { font-size: 15px; }
.se-header { margin: 0 0 4px 0; }
.se-app h2 { margin: 0; font-size: 22px; line-height: 1.2; }
/* One line at every width (the rest on hover): the header keeps the height ABOVE_FIGURE counts. */
.se-subtitle { font-size: 13px; color: #444; line-height: 1.3; white-space: nowrap; overflow: hidden;
               text-overflow: ellipsis; }
.se-header > .widget-html { min-width: 0; overflow: hidden; }
.se-h { margin: 10px 0 2px 0; font-size: 15px; color: #222; }
.se-error { color: #b00020; font-weight: bold; }
.se-warn { color: #9a5b00; font-size: 13px; }
.se-note { color: #555; font-size: 13px; margin-top: 4px; }
.se-readout { color: #333; font-size: 13px; margin: 0 0 4px 4px; }
.se-budget { margin: 4px 0 6px 0; }
.se-share { font-size: 13px; margin: 2px 0; word-break: break-all; }
.se-download { margin-right: 4px; }
.se-table { border-collapse: collapse; margin-top: 4px; }
.se-table th, .se-table td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
.se-report { font-family: monospace; font-size: 12px; line-height: 1.35; white-space: pre; margin: 0; }
.se-table th:first-child, .se-table td:first-child { text-align: left; }
.se-main { min-width: 0; overflow: hidden; }
.se-side { min-width: 0; overflow-x: hidden; overflow-y: auto; max-height: calc(100vh - 70px); }
.se-side .widget-accordion { width: 100%; }
/* The side column scrolls as one: a long lecture step keeps its height (squeezed, its text was cut off). */
.se-side > *, .se-side .se-lecture-box > * { flex-shrink: 0 !important; }
/* Narrow (a small window, or 150% zoom at 1280x800: 853 CSS px): the figure takes the width and the side
   column follows it, so the figure and its legends stay in the first screen (a side column there would
   leave the figure ~550 px, stacked and taller than the screen). */
@media (max-width: 900px) {
  .se-body { flex-wrap: wrap !important; }
  .se-body > .se-main { order: 1; flex: 1 1 100% !important; }
  .se-body > .se-side { order: 2; flex: 1 1 100% !important; width: 100% !important; max-height: none !important;
                        padding: 0 !important; }
}
.se-side .jupyter-widget-Collapse-contents, .se-side .p-Collapse-contents { padding: 6px 4px; }
.se-main .jupyter-matplotlib-canvas-div canvas { cursor: default; }
.se-lecture { border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; margin: 0 0 6px 0; }
.se-lecture-text p { margin: 4px 0; line-height: 1.4; }
.se-lecture-sources { font-size: 12px; color: #555; }
.se-lecture-sources ul { margin: 2px 0; padding-left: 18px; }
.se-predict { background: #f4f8ff; padding: 6px; margin: 4px 0; }
/* The guess box gives way to Reveal in a narrow column (presented: 18 px type in the side column). */
.se-predict .widget-hbox { flex-wrap: wrap; gap: 4px; }
.se-predict .widget-text { flex: 1 1 10em !important; min-width: 0; width: auto !important; }
.se-bar { align-items: center; gap: 8px; padding: 2px 0 4px 0; border-bottom: 1px solid #ddd; margin-bottom: 4px; }
.se-table-header { font-family: monospace; white-space: pre; font-size: 12px; padding-left: 4px; }
.se-model-table select { font-family: monospace; font-size: 12px; }
.se-empty { color: #9a5b00; }
.se-present { --jp-widgets-font-size: 18px; --jp-widgets-inline-height: 36px; --jp-ui-font-size1: 18px;
              --jp-widgets-inline-label-width: 110px; --jp-content-font-size1: 18px; }
.se-present *:not(h2) { font-size: 18px !important; line-height: 1.35; }
.se-present h2 { font-size: 26px !important; }
.se-present .se-lecture-title b { font-size: 22px !important; }
.se-present .se-side { max-height: calc(100vh - 120px); }
.se-present-lecture .se-side { max-height: calc(100vh - 8px); }
/* Presented, the page starts at the top of the screen (Voila's notebook and cell padding, 20 px, go). */
body:has(.se-present) #rendered_cells, body:has(.se-present) .jp-Cell,
body:has(.se-present) .jp-Cell-outputWrapper { padding-top: 0 !important; margin-top: 0 !important; }
.se-present .widget-button, .se-present .jupyter-button { height: auto; min-height: 36px; }
.se-present .widget-text input, .se-present input { height: 36px; }
.se-present .se-subtitle { display: none; }
.se-header .jupyter-button { width: auto; flex: 0 0 auto; padding: 0 12px; }
.se-bar .widget-slider { flex: 1 1 260px !important; width: auto !important; min-width: 200px; }
.se-bar .widget-text { flex: 0 0 auto !important; width: 150px !important; }
.se-bar .widget-label { width: auto !important; min-width: 0 !important; }
.se-bar .jupyter-button { width: auto; padding: 0 14px; }
</style>
"""

EXPLANATION = """
<p><b>Left (or top):</b> the plane of model size N (parameters) against training tokens D. Every point costs
C&nbsp;=&nbsp;6ND FLOPs, so the dashed line is every (N, D) your budget can buy. Grey curves are
iso-loss contours of the selected loss law, each touching one decade's iso-FLOP line where that
budget is best spent. Coloured lines are each law's compute-optimal path; stars mark the optimum at
your budget. Shaded regions are more than the chosen factor away from the optimal tokens for
a model's own compute: <span style="color:#D55E00">undertrained</span> below,
<span style="color:#0072B2">over-trained</span> above. Points are published models (MoE at their
active parameters, diamonds; hollow = undertrained, filled = near-optimal, rimmed with a white dot =
over-trained). <b>Right (or below):</b> the loss each loss law predicts at its own
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
when it will serve many inference requests (Sardana, Portes, Doubov &amp; Frankle, ICML 2024, arXiv:2401.00448).</p>
"""


#: The figure's size in CSS px on a page in a 1280x800 window (the page bridge reports 4 px more width,
#: :meth:`PlotsView.resize`). The page is built at it (:class:`Explorer`); ``tests/test_page_layout.py``
#: checks that Chromium gives it, so a change of the page's CSS cannot leave it stale unnoticed.
FIRST_FIGURE_PX = (926, 481)


def _canvas(width_px: int = 1000, height_px: int = 560) -> Figure:
    """A figure on its own ipympl canvas, not registered with pyplot (so it is never shown twice)."""
    # Importing ipympl switches matplotlib's backend for the whole session; the app draws on its
    # own canvases, so give the user's backend (e.g. inline plots in a teaching notebook) back.
    backend = matplotlib.get_backend()
    from ipympl.backend_nbagg import FigureManager

    Canvas = canvas_class()
    matplotlib.use(backend)
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    canvas.capture_scroll = False
    canvas._cursor = "default"  # ipympl's default is the hand everywhere; the plot sets it over clickable points
    # ipympl keeps a PNG copy of every frame for static exports until the browser's view reports
    # in; the page never needs it, and a frame drawn before that moment otherwise reached the page
    # as a bare base64 string that the browser asked the server for (403 in Voila's log).
    canvas.syncing_data_url = False
    return fig


def voila_query() -> str:
    """The page's query string under Voila ('' elsewhere).

    With preheated kernels the notebook runs before anyone asks for the page, so this waits for
    the request first (:func:`_wait_for_voila_request`).
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "True":
        _wait_for_voila_request()
    return os.environ.get("QUERY_STRING", "")


def _wait_for_voila_request(timeout_s: float = 5.0) -> None:
    """Wait for a preheated kernel's visitor and put the request's variables in the environment.

    What ``voila.utils.get_query_string`` does (Voila 0.5's documented way: the kernel opens the
    server's ``voila/query/<kernel id>`` websocket and receives the request as one JSON message),
    without importing ``voila.utils``: that imports Voila's server stack (jupyter_server,
    nbconvert, jsonschema, ...), about 49 MiB in every kernel of the class, for one message.
    """
    from websockets.sync.client import connect

    env = os.environ
    base = env.get("VOILA_WS_BASE_URL", env.get("VOILA_SERVER_URL", "/"))
    url = (f"{env.get('VOILA_WS_PROTOCOL', 'ws')}://{env.get('VOILA_APP_IP', '127.0.0.1')}:"
           f"{env.get('VOILA_APP_PORT', '8866')}{base}voila/query/{env.get('VOILA_KERNEL_ID')}")
    try:
        with connect(url, open_timeout=timeout_s, max_size=None) as socket:
            request = socket.recv()
    except (TimeoutError, ConnectionRefusedError):  # as Voila: the page opens at its defaults
        warnings.warn(f"Failed to connect to {url}", stacklevel=2)
        return
    for key, value in json.loads(request).items():
        env[key] = value


class Explorer:
    """The whole page. ``widget`` is what a notebook displays.

    Parameters
    ----------
    raise_errors : bool
        Re-raise errors from controls instead of showing them (for tests).
    scenario : Scenario, optional
        What the page opens on (default: ``Scenario()``).
    """

    def __init__(self, raise_errors: bool = False, scenario: Scenario | None = None):
        self.state = AppState(scenario)
        self.errors = ErrorSink(raise_errors)
        self.lecture: LecturePanel | None = None
        self.controls = Controls(self.state, self.errors)
        # Built at the size the page gives it in a 1280x800 window: a preheated kernel then has the
        # labels placed for that size, and an arrival there costs no second placement.
        self.figure = _canvas(*FIRST_FIGURE_PX)
        self.plots = PlotsView(self.state, self.figure, layers=(*LAYERS_IN_ORDER, MineLayer))
        # Lay out text and ticks now (in a preheated kernel, before anyone visits): the first
        # draw the page asks for is then cheaper.
        self.figure.draw_without_rendering()
        self.numbers = NumbersView(self.state, w.HTML(layout=w.Layout(flex="1 1 420px")))
        self.card = ModelCardView(self.state, w.HTML(layout=w.Layout(flex="1 1 420px", max_width="680px")))
        self.share = SharePanel(self.state, self.figure,
                                extra_query=lambda: self.lecture.query() if self.lecture is not None else "")
        self.table = ModelTable(self.state, self.errors)
        self.lecture_box = w.VBox()
        self.lecture_box.add_class("se-lecture-box")
        self.lecture_choice = w.Dropdown(options=lectures.list_lectures(), description="Lecture",
                                         style={"description_width": "initial"})
        self.lecture_start = w.Button(description="Start the lecture", button_style="info")
        self.lecture_start.on_click(lambda _: self.errors.guard(self.open_message, self.start_lecture,
                                                                self.lecture_choice.value))
        self.fit_panel = FitPanel(self.state, self.errors, _canvas(420, 330))
        self.disagree = DisagreementPanel(self.state)
        self.open_message = w.HTML()
        self.bridge = PageBridge()
        self.bridge.query = self.share.query()  # a page opened at a view shows it in the address bar too
        self.bridge.observe(self._on_width, ["width", "viewport_height"])
        self.bridge.observe(lambda change: (setattr(self.share, "page", change["new"]), self.share.refresh()), "page")
        self.state.watch(self._on_present)
        self.state.watch(lambda changed: setattr(self.bridge, "query", self.share.query()))  # the address bar
        self.present = w.ToggleButton(description="Presentation mode", icon="desktop",
                                      tooltip="large type, controls folded away, figure full width")
        self.controls.binder.bind("present", self.present, message=self.open_message)
        # The same switch, icon only, at the end of the slim bar while the header is folded away.
        self.bar_present = w.ToggleButton(icon="desktop", tooltip="Presentation mode (click to leave it)",
                                          layout=w.Layout(width="48px", display="none"))
        self.controls.binder.bind("present", self.bar_present, message=self.open_message)
        self.widget = self._page()
        self._on_present(frozenset({"present"}))

    # -- composition ---------------------------------------------------------------------------
    #: The side column's sections, in order: (title, the Explorer attribute or panel that builds it).
    SIDE_SECTIONS = ("Compute budget", "Laws", "Published models", "Beyond Chinchilla", "Conventions",
                     "Export and share")

    def _side_panel(self) -> w.Accordion:
        """The controls as one accordion (progressive disclosure), the budget open."""
        # The fit panel (it has its own figure) stays below the figure: the page's first canvas and
        # first slider are then the figure's and the budget's, as links, keys and tests expect.
        sections = [p.widget() for p in self.controls.panels] + [self.share.panel()]
        titles = [p.title for p in self.controls.panels] + ["Export and share"]
        accordion = w.Accordion(children=sections, titles=tuple(titles), selected_index=0,
                                layout=w.Layout(width="100%"))
        accordion.add_class("se-controls")
        return accordion

    def _page(self) -> w.Widget:
        start = w.VBox([w.HTML("<div class='se-note'>A lecture is a sequence of views with short texts, some "
                               "asking you to predict a number before it is shown. Its step is in the page's "
                               "link.</div>"), w.HBox([self.lecture_choice, self.lecture_start])])
        explanation = w.Accordion(children=[w.HTML(EXPLANATION), start, self.table.panel(), self.fit_panel.panel(),
                                            self.disagree.panel()])
        explanation.set_title(0, "What am I looking at?")
        explanation.set_title(1, "Lectures")
        explanation.set_title(2, "All models: a table to sort, filter and select")
        explanation.set_title(3, "Fit your own runs")
        explanation.set_title(4, "Why Kaplan and Chinchilla disagree")
        explanation.selected_index = None
        readouts = w.HBox([self.numbers.widget, self.card.widget],
                          layout=w.Layout(flex_flow="row wrap", justify_content="space-between"))
        # The slim bar of presentation mode: the budget and the lecture's Previous/Next, in reach
        # while the controls are folded away (the same widgets as in the side column, shown twice).
        budget = self.controls.budget_panel.budget
        self.bar_steps = w.HBox()
        self.present_bar = w.HBox([budget.slider, budget.exact, self.bar_steps, self.bar_present],
                                  layout=w.Layout(flex_flow="row nowrap", display="none"))
        self.present_bar.add_class("se-bar")
        self.main = w.VBox([self.bridge, self.present_bar, self.figure.canvas, readouts, self.share.link,
                            explanation], layout=w.Layout(flex="1 1 480px", min_width="0"))
        self.main.add_class("se-main")
        self.controls_panel = self._side_panel()
        reset = w.HBox([self.controls.reset_all, self.controls.reset_message])
        self.side = w.VBox([self.lecture_box, reset, self.controls_panel],
                           layout=w.Layout(flex="0 0 320px", width="320px", padding="0 12px 0 0"))
        self.side.add_class("se-side")
        # (The page's CSS applies while the header is folded away: a hidden <style> still applies.)
        subtitle = ("How big a model, on how many tokens, for this compute, and who got it wrong? Kaplan 2020 vs "
                    "Chinchilla 2022 vs Epoch 2024.")
        self.title = w.HTML(f"{STYLE}<h2>Scaling Explorer</h2>"
                            f"<div class='se-subtitle' title='{subtitle}'>{subtitle}</div>",
                            layout=w.Layout(flex="1 1 auto"))
        self.header = w.HBox([self.title, self.present], layout=w.Layout(align_items="center"))
        self.header.add_class("se-header")
        body = w.HBox([self.side, self.main], layout=w.Layout(flex_flow="row nowrap", width="100%"))
        body.add_class("se-body")
        page = w.VBox([self.header, self.open_message, body])
        page.add_class("se-app")
        return page

    # -- browser -> page -----------------------------------------------------------------------
    def open_query(self, query: str) -> None:
        """Open the view a link describes: its good keys apply, each bad one is named at the top.

        A link with ``lecture=`` opens that lecture at its ``step=``; any other keys then describe
        how the viewer had changed that step's view, and are applied on top.
        """
        try:
            name, step, scenario_query = lectures.split_query(query or "")
        except lectures.LectureError as exc:
            self.open_message.value = link_problems_html({"lecture": " ".join(str(exc).split())})
            return
        scenario, problems = Scenario.from_query_lenient(scenario_query)
        self.open_message.value = link_problems_html(problems)
        if name is not None:
            try:
                # The link's view preferences (presentation mode) hold in the lecture; its other keys
                # change the step's view on top.
                views = scenario.changed_fields(Scenario()) & view_preferences()
                self.state.set(self.state.scenario.replace(**{k: getattr(scenario, k) for k in views}))
                self.start_lecture(name, step)
            except (ScenarioError, lectures.LectureError) as exc:
                problems["lecture"] = " ".join(str(exc).split())
                self.open_message.value = link_problems_html(problems)
                self.state.set(scenario)
                return
            if not scenario.changed_fields(Scenario()) - views:
                return
        self.state.set(scenario)

    def start_lecture(self, name: str, step: int = 0) -> None:
        """Open the shipped lecture ``name`` at ``step`` (0-based) beside the figure (closing any other)."""
        lecture = LecturePanel(self.state, self.errors, name, start=step)
        if self.lecture is not None:
            self.lecture.close()
        self.lecture = lecture
        self.lecture.on_step.append(lambda i: self._on_address())
        self.lecture_box.children = [self.lecture.panel()]
        self.bar_steps.children = [self.lecture.previous_button, self.lecture.next_button]
        self._on_present(frozenset({"present"}))
        self._on_address()

    def _on_address(self) -> None:
        self.share.refresh()
        self.bridge.query = self.share.query()

    #: CSS px above the figure that the page keeps, by :meth:`mode`: the header; presented, the header's
    #: title and the slim bar (which holds the presentation toggle); presenting a lecture, the bar alone
    #: (the lecture beside the figure names itself). The figure is sized to what is left of the first screen.
    ABOVE_FIGURE = {"normal": 84, "presented": 110, "presented-lecture": 64}

    def mode(self) -> str:
        """``normal``, ``presented`` or ``presented-lecture`` (presentation mode with a lecture open)."""
        if not self.state.scenario.present:
            return "normal"
        return "presented" if self.lecture is None else "presented-lecture"

    def _on_width(self, change=None) -> None:
        if self.bridge.width > 0:
            above = self.ABOVE_FIGURE[self.mode()]
            height = self.bridge.viewport_height - above if self.bridge.viewport_height else 0
            self.plots.resize(self.bridge.width - 4, max(0, height))

    def _on_present(self, changed) -> None:
        if "present" not in changed:
            return
        present = self.state.scenario.present
        self.controls_panel.layout.display = "none" if present else "flex"
        # Presented, the side column holds only the lecture (none: the figure takes the width).
        self.side.layout.display = "none" if present and self.lecture is None else "flex"
        self.present_bar.layout.display = "flex" if present else "none"
        # Presenting a lecture, the header row is folded away (the lecture beside the figure names
        # itself) and the bar ends in a compact presentation toggle: at 1024x768 the stacked figure
        # and its two legends then fit the first screen at every step.
        folded = self.mode() == "presented-lecture"
        self.header.layout.display = "none" if folded else "flex"
        self.bar_present.layout.display = "flex" if folded else "none"
        (self.widget.add_class if present else self.widget.remove_class)("se-present")
        (self.widget.add_class if folded else self.widget.remove_class)("se-present-lecture")
        self._on_width()


def explorer(raise_errors: bool = False, query: str | None = None) -> w.Widget:
    """Build the explorer and return its widget; ``query`` (default: the page's URL under Voila) opens a view.

    In a preheated kernel the default page is built before the visitor's request is awaited: the
    build (about 1.2 CPU-s, ``bench_arrival.py``) is then spent before anyone arrives, and an arrival
    only applies its link. A lab link gets the lab page instead (built on arrival).
    """
    prebuilt = None
    if query is None and os.environ.get("VOILA_PREHEAT", "False") == "True":
        prebuilt = Explorer(raise_errors=raise_errors)
    query = voila_query() if query is None else query
    from .lab import lab_page, lab_requested  # a ?lab= link opens the training-budget lab instead

    if lab_requested(query):  # the prebuilt page is never displayed: its widgets go with the kernel
        return lab_page(query, raise_errors=raise_errors)
    app = prebuilt if prebuilt is not None else Explorer(raise_errors=raise_errors)
    app.open_query(query)
    return app.widget
