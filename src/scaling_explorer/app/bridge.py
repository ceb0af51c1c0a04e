"""A small browser bridge (anywidget): the width the page gives the figure, and the address bar.

ipympl draws at a fixed size and the kernel cannot see the browser, so this widget tells the
kernel how wide its column is (a ResizeObserver, throttled to one message per animation frame)
and keeps the address bar's query equal to the current view (``history.replaceState``), so the
URL a student copies is always the view on the projector. No network access; nothing executes
that the page did not ship.
"""

from __future__ import annotations

import anywidget
import traitlets as t

_ESM = """
function render({ model, el }) {
  el.classList.add("se-bridge");
  let pending = false;
  const report = () => {
    pending = false;
    const w = Math.round(el.getBoundingClientRect().width);
    const h = Math.round(window.innerHeight);
    if (w > 0 && (w !== model.get("width") || h !== model.get("viewport_height"))) {
      model.set("width", w);
      model.set("viewport_height", h);
      model.save_changes();
    }
  };
  const observer = new ResizeObserver(() => {
    if (!pending) { pending = true; requestAnimationFrame(report); }
  });
  observer.observe(el);
  window.addEventListener("resize", () => { if (!pending) { pending = true; requestAnimationFrame(report); } });
  const showQuery = () => {
    const q = model.get("query");
    if (q === null || q === undefined) return;
    const url = new URL(window.location.href);
    url.search = q ? "?" + q : "";
    if (url.href !== window.location.href) window.history.replaceState(null, "", url.href);
  };
  model.on("change:query", showQuery);
  model.set("page", window.location.origin + window.location.pathname);
  model.save_changes();
  report();
  showQuery();
  return () => observer.disconnect();
}
export default { render };
"""

_CSS = ".se-bridge { width: 100%; height: 0; overflow: hidden; }"


class PageBridge(anywidget.AnyWidget):
    """Zero-height, full-width widget.

    Attributes
    ----------
    width : int
        Width in CSS pixels of the column the bridge sits in (0 until the browser reports).
    viewport_height : int
        The browser window's inner height in CSS pixels.
    query : str
        The query string the address bar should show (without ``?``).
    page : str
        The page's address without its query, as the browser reports it ('' until then).
    """

    _esm = t.Unicode(_ESM).tag(sync=True)
    _css = t.Unicode(_CSS).tag(sync=True)
    width = t.Int(0).tag(sync=True)
    viewport_height = t.Int(0).tag(sync=True)
    query = t.Unicode("").tag(sync=True)
    page = t.Unicode("").tag(sync=True)
