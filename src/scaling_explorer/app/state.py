"""The app's one observable: the current Scenario and its Readout.

Controls write through :meth:`AppState.update` (replace and validate in one call, one
notification); views and the controls' read-back subscribe with :meth:`AppState.watch` and are
told which fields changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from .. import laws
from ..readout import Readout, evaluate
from ..scenario import Scenario

FIT_KEY = "fit"  # key of the law fitted to the user's uploaded runs
# Pseudo-field announced when the law behind a key changed without the scenario's text changing
# (a new fit registered under the same key): everything that draws a law must redraw.
LAWS_CHANGED = "law_definitions"


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
        self._watchers: list[tuple[frozenset[str] | None, Callable[[frozenset[str]], None]]] = []

    def watch(self, callback: Callable[[frozenset[str]], None], fields: Iterable[str] | None = None) -> None:
        """Call ``callback(changed_fields)`` after every change touching ``fields`` (None: any)."""
        self._watchers.append((None if fields is None else frozenset(fields), callback))

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
        for fields, callback in list(self._watchers):
            if fields is None or fields & changed:
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
