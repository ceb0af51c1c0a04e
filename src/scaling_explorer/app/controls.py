"""The explorer's controls column: the panels of :mod:`.panels` over one shared :class:`~.bind.Binder`.

Every control is bound to one Scenario field (``Binder.bind``); the way back (state -> widgets)
is the binder's one read-back loop under its one guard, shared by every panel.
"""

from __future__ import annotations

import ipywidgets as w

from .bind import Binder, ErrorSink, message_box
from .panels import PANELS, BeyondPanel, BudgetPanel, ConventionsPanel, LawsPanel, ModelsPanel, Panel
from .state import AppState

__all__ = ["Controls", "ErrorSink", "message_box"]


class Controls:
    """The explorer's panels (budget, laws, models, beyond Chinchilla, conventions) in one column.

    Attributes
    ----------
    binder : Binder
    panels : tuple of Panel
    budget_panel, laws_panel, models_panel, beyond_panel, conventions_panel : Panel
        The same panels by name. Their controls are also reachable on this object
        (``controls.band`` is ``controls.laws_panel.band``), as tests and benchmarks drive them.
    """

    def __init__(self, state: AppState, errors: ErrorSink, binder: Binder | None = None):
        self.state = state
        self.binder = binder if binder is not None else Binder(state, errors)
        self.panels: tuple[Panel, ...] = tuple(panel(self.binder) for panel in PANELS)
        by_type = {type(p): p for p in self.panels}
        self.budget_panel: BudgetPanel = by_type[BudgetPanel]
        self.laws_panel: LawsPanel = by_type[LawsPanel]
        self.models_panel: ModelsPanel = by_type[ModelsPanel]
        self.beyond_panel: BeyondPanel = by_type[BeyondPanel]
        self.conventions_panel: ConventionsPanel = by_type[ConventionsPanel]

    def __getattr__(self, name: str):
        # Only reached for names this object lacks: a control of one of its panels.
        for panel in self.__dict__.get("panels", ()):
            if name in vars(panel):
                return getattr(panel, name)
        raise AttributeError(name)

    @property
    def law_boxes(self) -> dict:
        """The law checkboxes by key."""
        return self.laws_panel.laws.boxes

    @property
    def coef(self) -> dict:
        """The coefficient boxes by name."""
        return self.laws_panel.coefficients.boxes

    def panel(self) -> w.Widget:
        """The controls column."""
        return w.VBox([p.section() for p in self.panels],
                      layout=w.Layout(width="360px", min_width="320px", padding="0 12px 0 0"))
