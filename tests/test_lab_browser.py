"""The lab page in headless Chromium: a link opens a lab, runs bought by typing (and clicking) reproduce
in a fresh page, and the hidden law reaches the browser only after Reveal."""

import math
import os
import re
from pathlib import Path

import pytest
from browser_helpers import WANTED, poll, shoot
from playwright.sync_api import expect

from scaling_explorer.lab import load_lab

pytestmark = pytest.mark.browser

LAB, SEED = "chinchilla-like", 5
CANVAS = ".jupyter-matplotlib-canvas-div canvas"
SHOTS = Path(os.environ.get("LAB_SCREENSHOTS", "/tmp/lab-screenshots"))


def plan():
    """Three iso-FLOP budgets of five sizes each (a student's plan inside the 2e18 budget)."""
    out = []
    for C in (2.5e16, 8e16, 2.5e17):
        centre = math.sqrt(C / 120)
        for f in (1 / 4, 1 / 2, 1, 2, 4):
            N = float(f"{centre * f:.3g}")
            out.append((N, float(f"{C / (6 * N):.3g}")))
    return out


def hidden_strings():
    """Text that would give the hidden law away: its coefficients, its name, the lecturer's note."""
    spec = load_lab(LAB)
    law = spec.lab(SEED).reveal().law
    out = {"Besiroglu", "besiroglu", spec.lecturer_note[:40]}
    for k in law.coefficients:
        value = getattr(law, k)
        out |= {repr(value), f"{value:.4g}", f"{value:.5g}"}
    return out


def found(secrets, text):
    """The secrets that occur in ``text`` as whole numbers or words (not inside 1.84363 or a hex id)."""
    hits = {}
    for s in secrets:
        m = re.search(rf"(?<![\w.]){re.escape(s)}(?![\w])", text)
        if m:
            hits[s] = text[max(m.start() - 80, 0):m.end() + 40]
    return hits


def open_lab(browser, viewport, frames):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))))
    return context, page


def train(page, runs):
    table = page.locator(".se-lab-table")
    for i, (N, D) in enumerate(runs):
        page.locator(".se-lab-n input").fill(f"{N:g}")
        page.locator(".se-lab-d input").fill(f"{D:g}")
        page.locator(".se-lab-train button, button.se-lab-train").first.click()
        expect(table.locator("tr")).to_have_count(i + 2, timeout=30_000)  # header + i+1 runs


def table_losses(page):
    cells = page.locator(".se-lab-table tr td:nth-child(5)").all_inner_texts()
    return [float(c) for c in cells]


def settle(page):
    last = None
    for _ in range(40):
        box = page.locator(CANVAS).first.bounding_box()
        if box and last and abs(box["width"] - last) < 1:
            break
        last = box["width"] if box else None
        page.wait_for_timeout(250)


def test_a_lab_link_hides_the_law_until_reveal_and_reproduces_its_runs(browser, voila_url):
    runs = plan()
    expected = [load_lab(LAB).lab(SEED).train(N, D) for N, D in runs]
    secrets = hidden_strings()
    if WANTED:
        SHOTS.mkdir(parents=True, exist_ok=True)
    frames: list[str] = []
    context, page = open_lab(browser, {"width": 1024, "height": 768}, frames)
    try:
        page.goto(f"{voila_url}?lab={LAB}&seed={SEED}", timeout=90_000, wait_until="domcontentloaded")
        expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
        expect(page.locator(".se-lab-n input")).to_be_visible(timeout=30_000)
        assert f"lab={LAB}&seed={SEED}" in page.url

        # Clicking on the N-D plane fills N and D (ipympl sends the click to the kernel).
        canvas = page.locator(CANVAS).first
        settle(page)  # the figure takes the page's size first: a click before lands elsewhere

        def click_fills_n():
            # ipympl stacks an event canvas over the image: click the page at the left plot's middle,
            # again until the kernel has answered (a click while its canvas was still wiring is lost).
            box = canvas.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
            try:
                expect(page.locator(".se-lab-n input")).not_to_have_value("", timeout=5_000)
            except AssertionError:
                return False
            return True

        poll(click_fills_n, timeout=60, interval=0, what="a click on the N-D plane to fill N and D")
        assert float(page.locator(".se-lab-n input").input_value()) > 0

        # A bad size gets a message beside the control, not a traceback.
        page.locator(".se-lab-n input").fill("1e3")
        page.locator(".se-lab-d input").fill("1e9")
        page.locator(".se-lab-train button, button.se-lab-train").first.click()
        expect(page.locator(".se-lab-train-message")).to_contain_text("outside this lab's range", timeout=15_000)

        train(page, runs)
        assert table_losses(page) == pytest.approx(expected, abs=6e-5)  # the table shows 4 decimals
        page.locator(".se-lab-fit button, button.se-lab-fit").first.click()
        expect(page.locator(".se-lab-fit-box")).to_contain_text("N_opt", timeout=60_000)

        # Before Reveal: nothing in the page, its HTML or any message from the kernel gives the law away.
        seen = page.inner_text("body") + page.content() + "".join(frames)
        leaked = found(secrets, seen)
        assert not leaked, f"the hidden law reached the browser before Reveal: {leaked}"

        page.locator(".se-lab-guess-params input").fill("2.5e8")
        page.locator(".se-lab-guess-loss input").fill("2.9")
        page.locator(".se-lab-reveal button, button.se-lab-reveal").first.click()
        expect(page.locator(".se-lab-truth-box")).to_contain_text("The truth at", timeout=30_000)
        truth = load_lab(LAB).lab(SEED).reveal()
        expect(page.locator(".se-lab-truth-box")).to_contain_text(f"{truth.loss:.4g}")
        # ... and after it, the law is there: the check above could fail.
        after = page.inner_text("body") + "".join(frames)
        assert found(secrets, after)
        for width, height in ((1024, 768), (1920, 1080)) if WANTED else ():  # screenshots when asked for
            page.set_viewport_size({"width": width, "height": height})
            settle(page)
            page.locator(".se-app h2").first.scroll_into_view_if_needed()
            shoot(page, SHOTS / f"lab-{width}x{height}.png")  # once the redrawn frame has arrived
            page.locator(".se-lab-truth-box").scroll_into_view_if_needed()
            shoot(page, SHOTS / f"lab-{width}x{height}-reveal.png")
    finally:
        context.close()

    # A fresh page from the same link: the same runs return the same losses.
    context, page = open_lab(browser, {"width": 1280, "height": 800}, [])
    try:
        page.goto(f"{voila_url}?lab={LAB}&seed={SEED}", timeout=90_000, wait_until="domcontentloaded")
        expect(page.locator(".se-lab-n input")).to_be_visible(timeout=90_000)
        train(page, runs[:4])
        assert table_losses(page) == pytest.approx(expected[:4], abs=6e-5)
    finally:
        context.close()


def test_a_bad_lab_link_shows_a_message(browser, voila_url):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        page.goto(f"{voila_url}?lab=/etc/passwd&seed=1", timeout=90_000, wait_until="domcontentloaded")
        expect(page.locator(".se-error")).to_contain_text("no shipped lab by that name", timeout=90_000)
        assert "passwd" not in page.inner_text(".se-error") and "Traceback" not in page.inner_text("body")
    finally:
        context.close()

