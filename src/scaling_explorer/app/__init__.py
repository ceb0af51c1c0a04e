"""The widget application (ipywidgets + ipympl). Imported on demand: the library never needs it."""

from .explorer import Explorer, explorer

__all__ = ["Explorer", "explorer"]
