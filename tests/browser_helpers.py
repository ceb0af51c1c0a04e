"""Helpers of the browser tests: polls instead of sleeps, and screenshots only when asked for.

Set ``SE_SCREENSHOTS=1`` to save the screenshots the tests take (under each test's output path).
"""

from __future__ import annotations

import os
import time

CANVAS = ".jupyter-matplotlib-canvas-div canvas"
WANTED = os.environ.get("SE_SCREENSHOTS", "") not in ("", "0")


def poll(check, timeout: float = 30.0, interval: float = 0.1, what: str = "a condition"):
    """Call ``check()`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def canvas_png(page) -> bytes:
    """The figure as the browser shows it now."""
    return page.locator(CANVAS).first.screenshot()


def drawn(png: bytes) -> bool:
    """Whether a picture of the canvas shows a frame (more than one colour), not the blank canvas."""
    from io import BytesIO

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    return bool((pixels != pixels[0, 0]).any())


def settled_png(page, timeout: float = 30.0) -> bytes:
    """The figure once it shows a frame and stopped changing (the same picture twice in a row)."""
    last = [None]

    def same_twice():
        now = canvas_png(page)
        settled = now == last[0] and drawn(now)
        last[0] = now
        return now if settled else None

    return poll(same_twice, timeout=timeout, interval=0.2, what="the figure to settle")


def changed_png(page, before: bytes, what: str, timeout: float = 10.0) -> bytes:
    """The figure once it differs from ``before`` (fails naming ``what`` if it never does)."""
    return poll(lambda: (lambda now: now if now != before else None)(canvas_png(page)), timeout=timeout,
                what=f"the figure to change after {what}")


def shoot(target, path, **kwargs) -> None:
    """Save a screenshot of ``target`` (a page or locator) when ``SE_SCREENSHOTS`` asks for them."""
    if WANTED:
        page = getattr(target, "page", target)
        if hasattr(page, "locator") and page.locator(CANVAS).count():
            settled_png(page)
        target.screenshot(path=str(path), **kwargs)
