"""Share and export: a link to the current view, the numbers and models as CSV, the code, the figure.

Downloads are data URLs built in the kernel from the Readout and ``Scenario.to_code()``: the
browser saves them directly, nothing is written to the server's disk. They are rebuilt only
while the panel is open (a budget step with the panel closed costs nothing here).
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as w

from ..scenario import Scenario, ScenarioError
from .state import FIT_KEY, AppState

#: Beside the link when the view holds a fitted law, which a link cannot carry.
FIT_NOT_INCLUDED = ("the fit is not included: the link shows the published laws; whoever opens it uploads the "
                    "runs again to see the fit")


def page_query(scenario_query: str, extra: str = "") -> str:
    """The page's query: the Scenario's, then the page's own keys (a lecture step), if any."""
    return "&".join(p for p in (scenario_query, extra) if p)


def link_problems_html(problems: dict[str, str]) -> str:
    """The message at the top of a page opened from a link whose keys ``problems`` were not applied."""
    if not problems:
        return ""
    items = "; ".join(f"<b>{html.escape(key)}</b>: {html.escape(text)}" for key, text in problems.items())
    return (f'<div class="se-error se-link-problems">Part of this link could not be opened ({items}); '
            "its other keys are shown.</div>")


def shareable(scenario: Scenario) -> tuple[Scenario, bool]:
    """``scenario`` without the user's fitted law (which no link can carry), and whether it held one.

    The fit leaves the shown laws, the edits and, if it shaded, the shading law (back to the
    default); a target loss the default law cannot reach is dropped too.
    """
    uses_fit = (FIT_KEY in scenario.laws or scenario.surface == FIT_KEY
                or any(k == FIT_KEY for k, _, _ in scenario.edits))
    if not uses_fit:
        return scenario, False
    changes = {"laws": tuple(k for k in scenario.laws if k != FIT_KEY),
               "edits": tuple(e for e in scenario.edits if e[0] != FIT_KEY)}
    if scenario.surface == FIT_KEY:
        changes["surface"] = Scenario().surface
    try:
        return scenario.replace(**changes), True
    except ScenarioError:  # the target loss is below the default law's irreducible loss
        return scenario.replace(**changes, target_loss=None), True


def data_link(filename: str, mime: str, payload: bytes, label: str) -> str:
    """An ``<a download>`` whose href carries ``payload`` (base64)."""
    href = f"data:{mime};base64,{base64.b64encode(payload).decode()}"
    return f'<a class="se-download" download="{html.escape(filename)}" href="{href}">{html.escape(label)}</a>'


class SharePanel:
    """The "link to this view" line and the export links."""

    def __init__(self, state: AppState, figure, extra_query=lambda: ""):
        self.state = state
        self.figure = figure
        self.extra_query = extra_query  # the page's own keys (a lecture step), for the link
        self.link = w.HTML()
        self.page = ""  # the page's address without the query, once the browser reports it (PageBridge.page)
        self.downloads = w.HTML()
        self.png_button = w.Button(description="Prepare figure PNG", icon="image",
                                   tooltip="render the figure as it is now, for a slide")
        self.png_button.on_click(self._prepare_png)
        self.png = w.HTML()
        self.open = False
        state.watch(self.refresh)
        self.refresh()

    def query(self) -> str:
        """The page query reproducing the current view."""
        return page_query(shareable(self.state.scenario)[0].to_query(), self.extra_query())

    def refresh(self, changed=None) -> None:
        query = self.query()
        href = f"{self.page}?{query}" if query else (self.page or "?")
        shown = href if query or self.page else "this page's own address (the default view)"
        note = (f' <span class="se-note se-fit-note">({html.escape(FIT_NOT_INCLUDED)})</span>'
                if shareable(self.state.scenario)[1] else "")
        self.link.value = (f'<div class="se-share">Link to this view: <a class="se-link" href="{html.escape(href)}" '
                           f'target="_blank">{html.escape(shown if len(shown) < 90 else shown[:87] + "...")}</a>'
                           f"{note}</div>")
        if not self.open:  # links are built only while they can be seen, so none is ever stale
            self.downloads.value = ""
            self.png.value = ""
            return
        readout = self.state.readout
        self.downloads.value = " · ".join([
            data_link("numbers.csv", "text/csv", readout.to_csv().encode(), "numbers (CSV)"),
            data_link("models.csv", "text/csv", readout.models_to_csv().encode(), "classified models (CSV)"),
            data_link("scenario.py", "text/x-python", self.state.scenario.to_code().encode(), "code cell (Python)"),
        ])
        self.png.value = ""  # a prepared PNG is of the old view

    def _prepare_png(self, _button=None) -> None:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=144)
        self.png.value = data_link("scaling-explorer.png", "image/png", buffer.getvalue(), "figure (PNG)")

    def panel(self) -> w.Widget:
        """The export section (downloads are rebuilt only while it is open)."""
        box = w.VBox([self.downloads, w.HBox([self.png_button, self.png])])
        section = w.Accordion(children=[box])
        section.set_title(0, "Export: numbers, models, code, figure")
        section.selected_index = None

        def on_open(change):
            self.open = change["new"] is not None
            self.refresh()

        section.observe(on_open, "selected_index")
        return section
