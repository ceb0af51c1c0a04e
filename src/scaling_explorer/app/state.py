"""The app's one observable: the current Scenario and its Readout.

Controls write through :meth:`AppState.update` (replace and validate in one call, one
notification). Views and the controls' read-back subscribe with :meth:`AppState.watch`: to every
change by default, declaring only the fields they may ignore; ``watch`` returns a disposer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from .. import laws
from ..readout import Readout, evaluate
from ..scenario import EXTRA_FIELDS, JUDGING_FIELDS, VIEW_FIELDS, Scenario

FIT_KEY = "fit"  # key of the law fitted to the user's uploaded runs
# Pseudo-field announced when the law behind a key changed without the scenario's text changing
# (a new fit registered under the same key): everything that draws a law must redraw.
LAWS_CHANGED = "law_definitions"

Watcher = Callable[[frozenset[str]], None]


def view_preferences() -> frozenset[str]:
    """Scenario fields that are how the page is viewed, not what it computes (``present``, ``hide``).

    Read from the fields' declarations (:data:`scaling_explorer.scenario.VIEW_FIELDS`).
    """
    return frozenset(VIEW_FIELDS)


# Groups of fields a view may declare it ignores (a new field is in none, so every view sees it).
#: What the budget costs in money and time.
MONEY = frozenset({"hardware", "mfu", "price"})
#: Which published models show, and which one is selected.
FILTERS = frozenset({"years", "weights", "architecture", "model"})
#: What asks for results beside the training-optimal ones (the Readout's extras), from the fields' declarations.
EXTRAS = frozenset(EXTRA_FIELDS)
#: What the published models' status depends on besides the surface law and the band (declared by the fields):
#: a view of the models ignores ``EXTRAS - JUDGING``.
JUDGING = frozenset(JUDGING_FIELDS)
#: How the page is viewed.
VIEW = view_preferences()


class AppState:
    """The current :class:`Scenario`, its :class:`Readout`, and the user's fit.

    Attributes
    ----------
    scenario : Scenario
    readout : Readout
        ``evaluate(scenario)``, recomputed once per change.
    fit_result : Approach3Fit or None
        The fit to the user's uploaded runs; its law is registered as ``"fit"``.
    """

    def __init__(self, scenario: Scenario | None = None):
        self.scenario = scenario if scenario is not None else Scenario()
        self.readout: Readout = evaluate(self.scenario)
        self.fit_result = None
        self._watchers: list[tuple[frozenset[str], Watcher]] = []

    def watch(self, callback: Watcher, ignore: Iterable[str] = ()) -> Callable[[], None]:
        """Call ``callback(changed_fields)`` after every change, except one touching only ``ignore``.

        Returns
        -------
        callable
            Calling it unsubscribes ``callback`` (calling it again does nothing).
        """
        entry = (frozenset(ignore), callback)
        self._watchers.append(entry)

        def dispose() -> None:
            if entry in self._watchers:
                self._watchers.remove(entry)

        return dispose

    def update(self, **changes) -> None:
        """Replace some fields; raises ``ScenarioError`` (and changes nothing) if the result is invalid."""
        self.set(self.scenario.replace(**changes))

    def set(self, scenario: Scenario, extra_changed: Iterable[str] = ()) -> None:
        """Make ``scenario`` current and notify the watchers of what changed."""
        changed = scenario.changed_fields(self.scenario) | frozenset(extra_changed)
        if not changed:
            return
        self.scenario = scenario
        self.readout = evaluate(scenario)
        for ignore, callback in list(self._watchers):
            if changed - ignore:
                callback(changed)

    def set_fit(self, result) -> None:
        """Register ``result.law`` as the ``"fit"`` law, show it, and drop edits made to an earlier fit."""
        laws.register_law(FIT_KEY, result.law, replace=True)
        self.fit_result = result
        s = self.scenario
        shown = s.laws if FIT_KEY in s.laws else (*s.laws, FIT_KEY)
        edits = tuple(e for e in s.edits if e[0] != FIT_KEY)
        # A new Scenario object even when no field changes, so no law cached for the old fit survives.
        self.set(dataclasses.replace(s, laws=shown, edits=edits), extra_changed={LAWS_CHANGED})

    def available(self) -> tuple[str, ...]:
        """Keys the user can choose from: the presets and registered laws (``"fit"`` once a fit exists)."""
        return tuple(k for k in laws.law_keys() if k != FIT_KEY or self.fit_result is not None)
