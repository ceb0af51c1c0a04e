"""The page beyond Chinchilla in headless Chromium: a link with inference demand opens its view."""

import pytest
from browser_helpers import CANVAS, shoot
from playwright.sync_api import expect

from scaling_explorer import Scenario, evaluate
from scaling_explorer.app.format import fmt_count

pytestmark = pytest.mark.browser


def test_a_demand_link_shows_the_inference_aware_row(browser, voila_url, output_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(voila_url + "?serve=1e13", timeout=90_000, wait_until="domcontentloaded")
        expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
        expect(page.locator(CANVAS).first).to_be_visible(timeout=30_000)
        aware = evaluate(Scenario(inference_tokens=1e13)).row("besiroglu2024").inference_aware
        table = page.locator(".se-table").first
        expect(table).to_contain_text(f"inference-aware, T = {fmt_count(1e13)} tokens", timeout=30_000)
        expect(table).to_contain_text(fmt_count(aware.params))
        expect(table).to_contain_text("total FLOPs (training + inference)")
        shoot(page, str(output_path) + "-serve-1e13.png")  # waits for the figure to settle, when asked for
        if page.locator(".se-table").count():
            page.locator(".se-table").first.scroll_into_view_if_needed()
            shoot(page, str(output_path) + "-serve-1e13-table.png")
    finally:
        context.close()
