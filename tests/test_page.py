"""The explorer page in a real browser: Voila on 127.0.0.1, headless Chromium via Playwright."""

import re

import numpy as np
import pytest
from browser_helpers import CANVAS, changed_png, settled_png, shoot
from playwright.sync_api import expect

from scaling_explorer.app.format import fmt_count
from scaling_explorer.laws import get_law

pytestmark = pytest.mark.browser

ERROR_TEXT = re.compile(r"Traceback|Error|Exception")


def _within_one_percent(law, C: float) -> tuple[float, float]:
    """N at both ends of the stretch of the iso-FLOP line C = 6ND whose loss is within 1% of its minimum.

    The minimum in closed form (Hoffmann et al. 2022, eq. 4: N_opt = G (C/6)^(beta/(alpha+beta)),
    G = (alpha A / (beta B))^(1/(alpha+beta))); each end by bisection in ln N (a second method beside
    the library's vectorised root finder).
    """
    a, b = law.alpha, law.beta
    N_opt = (a * law.A / (b * law.B)) ** (1 / (a + b)) * (C / 6) ** (b / (a + b))

    def loss(N):
        return law.E + law.A / N ** a + law.B / (C / (6 * N)) ** b

    target = 1.01 * loss(N_opt)
    ends = []
    for far in (N_opt / 1e4, N_opt * 1e4):
        lo, hi = np.log(far), np.log(N_opt)
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if loss(np.exp(mid)) > target else (lo, mid)
        ends.append(float(np.exp((lo + hi) / 2)))
    return ends[0], ends[1]


def _budget_row(page):
    return page.locator(".se-table").first.locator("tr", has_text="Epoch refit")


def test_page_renders_reacts_and_shows_no_errors(page, voila_url, output_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(voila_url, timeout=90_000, wait_until="domcontentloaded")
    app = page.locator(".se-app")
    expect(app).to_be_visible(timeout=90_000)
    expect(page.locator(CANVAS).first).to_be_visible(timeout=30_000)
    expect(page.locator(".noUi-handle").first).to_be_visible()
    # The "Starting your page" state that came with the first bytes (test_serve.py) has given way to the page.
    expect(page.locator("#se-starting")).to_be_hidden()
    assert page.locator("#se-starting").count() == 1

    # Opens on Chinchilla's budget; Epoch's refit gives N_opt = 72.3B, D_opt = 1.33T (reference A2).
    row = _budget_row(page)
    expect(row).to_contain_text(re.compile(r"72\.[23] B"), timeout=30_000)  # 7.225e10
    expect(row).to_contain_text("1.33 T")
    before = settled_png(page)  # the first frame has arrived and nothing is still drawing
    shoot(page, str(output_path) + "-initial.png", full_page=True)

    # One step of the compute slider moves the numbers and the picture.
    page.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    expect(row).not_to_contain_text(re.compile(r"72\.[23] B"), timeout=10_000)
    expect(page.locator(".se-budget")).to_contain_text("6.46e23")  # 10**(log10(5.76e23) + 0.05)
    changed_png(page, before, "a slider step")

    # Ticking a law adds its row to the numbers and its entry to the figure's legend.
    table = page.locator(".se-table").first
    expect(table).not_to_contain_text("Approach 3")
    before = settled_png(page)
    page.locator(".se-controls").get_by_text("Laws", exact=True).click()  # its side-column section (issue 19)
    page.get_by_label("Hoffmann et al. 2022, Approach 3 (as printed)").check()
    expect(table).to_contain_text("Approach 3", timeout=10_000)
    changed_png(page, before, "ticking a law")

    # An invalid coefficient gives a message beside the control, not a traceback.
    page.get_by_text("Advanced: edit the loss law's coefficients").click()
    alpha = page.locator(".widget-text", has_text="alpha").locator("input")
    alpha.fill("0")
    alpha.press("Enter")
    expect(page.locator(".se-error")).to_contain_text("alpha", timeout=10_000)

    shoot(page, str(output_path) + "-after.png", full_page=True)
    text = page.locator("body").inner_text()
    assert not ERROR_TEXT.search(text), "Python error text on the page"


def test_upload_runs_shows_fit_without_traceback(page, voila_url, output_path, tmp_path):
    from scaling_explorer.fit import synthetic_runs
    from scaling_explorer.laws import ParametricLaw

    law = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    runs = tmp_path / "runs.csv"
    synthetic_runs(law, [1e18, 1e19, 1e20, 1e21], sigma=0.0)[["params", "tokens", "loss"]].to_csv(runs, index=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("params,loss\n1,abc\n")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(voila_url, timeout=90_000, wait_until="domcontentloaded")
    expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
    page.get_by_text("Fit your own runs").click()
    button = page.get_by_role("button", name="Upload runs (CSV)")

    def upload(path):
        with page.expect_file_chooser() as chooser:
            button.click()
        chooser.value.set_files(str(path))

    upload(bad)
    expect(page.locator(".se-error")).to_contain_text("tokens", timeout=20_000)
    upload(runs)
    report = page.locator(".se-report")
    expect(report).to_contain_text("95% interval", timeout=60_000)
    expect(report).to_contain_text("alpha")
    expect(page.locator(".se-table").first).to_contain_text("fit to 36 runs")
    shoot(page, str(output_path) + "-fit.png", full_page=True)
    assert not ERROR_TEXT.search(page.locator("body").inner_text())


def test_count_switch_and_disagreement_panel_in_the_browser(page, voila_url, output_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(voila_url, timeout=90_000, wait_until="domcontentloaded")
    expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
    row = _budget_row(page)
    expect(row).to_contain_text(re.compile(r"72\.[23] B"), timeout=30_000)
    table = page.locator(".se-table").first

    # The flat optimum: its range joins the numbers table (Epoch's law at Chinchilla's 5.76e23 FLOPs).
    page.locator(".se-controls").get_by_text("Conventions", exact=True).click()  # its side-column section
    page.get_by_role("button", name="1%", exact=True).click()
    expect(table).to_contain_text("within 1.0% of the optimal loss", timeout=20_000)
    low, high = _within_one_percent(get_law("besiroglu2024"), 5.76e23)
    expect(row).to_contain_text(f"{fmt_count(low)} – {fmt_count(high)}")
    before = settled_png(page)

    # Count N as non-embedding: every law and model re-counted, the table says so, the figure changes.
    page.get_by_role("button", name="non-embedding", exact=True).click()
    expect(table).to_contain_text("(re-counted), non-embedding N", timeout=20_000)
    expect(page.locator(".se-numbers")).to_contain_text("N counted as non-embedding")
    expect(row).not_to_contain_text(f"{fmt_count(low)} – {fmt_count(high)}")  # the range is re-counted too
    changed_png(page, before, "switching the parameter count")
    shoot(page.locator(CANVAS).first, str(output_path) + "-figure.png")

    # The "why they disagree" panel steps through Porian's corrections and shows the live exponent.
    page.get_by_text("Why Kaplan and Chinchilla disagree").click()
    panel = page.locator(".se-app").get_by_text("Porian et al. 2024 (arXiv:2406.19146) reproduce")
    expect(panel).to_contain_text("0.835", timeout=10_000)  # Porian et al.'s Kaplan setup (reference)
    # Pearce & Song 2024: Epoch's law in non-embedding counts over Kaplan's range has N_opt ~ C^0.74-0.78.
    count = page.locator(".se-app").get_by_text("over Kaplan's compute range")
    expect(count).to_contain_text("non-embedding parameters and compute")
    exponent = float(re.search(r"N_?opt ∝ C\s*([0-9.]+)", count.inner_text().replace("\n", " ")).group(1))
    assert 0.74 <= exponent <= 0.78, exponent
    shoot(page, str(output_path) + "-non-embedding.png", full_page=True)
    shoot(page.locator(".se-app .widget-accordion").last, str(output_path) + "-panel.png")
    assert not ERROR_TEXT.search(page.locator("body").inner_text()), "Python error text on the page"
