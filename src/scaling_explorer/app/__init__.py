"""The widget application (ipywidgets + ipympl). Imported on demand: the library never needs it.

Seams for a page (issue 18):

- :class:`~.state.AppState`: the Scenario and its Readout; ``watch(callback, ignore=...)`` returns a disposer.
- :class:`~.bind.Binder`: ``bind(field, widget, to_widget=, from_widget=, message=, options=)``; one read-back
  loop under one guard for every panel of a page. :class:`~.bind.LogQuantity` is the log-scale composite.
- :mod:`.panels`: ``BudgetPanel``, ``LawsPanel``, ``ModelsPanel``, ``BeyondPanel``, ``ConventionsPanel``,
  each ``Panel(binder)`` with ``.widget()`` and ``.section()``.
- :mod:`.layers`: the figure's ``Layer`` classes (``name``, ``ignores``, ``animated``, ``update``, ``legend``);
  :class:`~.plot.PlotsView` iterates ``LAYERS_IN_ORDER``.
"""

try:  # the widget stack is the `app` extra: say what to install, not a bare ModuleNotFoundError
    import ipywidgets  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as exc:
    raise ImportError(f"the explorer page needs the widget stack ({exc}); install it with "
                      "pip install 'scaling-explorer[app]'") from exc

from .explorer import Explorer, explorer

__all__ = ["Explorer", "explorer"]
