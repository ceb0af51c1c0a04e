"""The widget application (ipywidgets + ipympl). Imported on demand: the library never needs it."""

try:  # the widget stack is the `app` extra: say what to install, not a bare ModuleNotFoundError
    import ipywidgets  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as exc:
    raise ImportError(f"the explorer page needs the widget stack ({exc}); install it with "
                      "pip install 'scaling-explorer[app]'") from exc

from .explorer import Explorer, explorer

__all__ = ["Explorer", "explorer"]
