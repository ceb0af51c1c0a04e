"""Issue 19's inputs, links and user features, headless: every bad input is a message beside its control
that changes nothing else, a link opens with its good keys, numbers read one way, your own model, Reset all."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest

from scaling_explorer import Scenario
from scaling_explorer.app import Explorer
from scaling_explorer.app.format import fmt_count
from scaling_explorer.fit import synthetic_runs
from scaling_explorer.laws import ParametricLaw

# Besiroglu et al. 2024 (arXiv:2404.10102), their refit of L = E + A/N^alpha + B/D^beta (reference.md A3).
EPOCH = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)


@pytest.fixture(scope="module")
def app():
    return Explorer()


def _unchanged(app, before, *messages):
    assert app.state.scenario == before
    for message in messages:
        assert "se-error" in message.value


# -- links -------------------------------------------------------------------------------------------
def test_a_link_with_a_bad_key_opens_with_its_good_keys_and_names_the_bad_one():
    app = Explorer()
    app.open_query("mfu=40&budget=1e22&laws=kaplan2020&colour=red")
    assert app.state.scenario == Scenario(budget=1e22, laws=("kaplan2020",))
    message = app.open_message.value
    assert "<b>mfu</b>" in message and "<b>colour</b>" in message and "<b>budget</b>" not in message


def test_the_default_view_links_to_the_plain_page_address():
    app = Explorer()
    assert "Link to this view: ?" not in app.share.link.value.replace('href="?"', "")
    assert "the default view" in app.share.link.value
    app.bridge.page = "http://host/voila/render/explorer.ipynb"  # as the browser reports it
    assert '>http://host/voila/render/explorer.ipynb</a>' in app.share.link.value
    app.state.update(budget=1e22)
    assert "http://host/voila/render/explorer.ipynb?budget=1e22" in app.share.link.value


def test_after_a_fit_the_link_opens_and_says_the_fit_is_not_included():
    app = Explorer(raise_errors=True)
    runs = synthetic_runs(ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37),
                          np.geomspace(1e18, 1e21, 5), span=10, seed=0)
    content = runs[["params", "tokens", "loss"]].to_csv(index=False).encode()
    app.fit_panel.resamples.value = 20
    app.fit_panel.upload.value = ({"name": "runs.csv", "type": "text/csv", "size": len(content),
                                   "last_modified": datetime.datetime(2026, 1, 1), "content": memoryview(content)},)
    assert "fit" in app.state.scenario.laws
    app.state.update(surface="fit", budget=1e22)
    for query in (app.bridge.query, app.share.query()):
        assert "fit" not in query.split("&laws=")[-1] and "surface=fit" not in query
        opened = Scenario.from_query(query)  # opens, and keeps the rest of the view
        assert opened.budget == 1e22 and opened.laws == Scenario().laws
    assert "the fit is not included" in app.share.link.value


# -- no silent clamps ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("control", "value", "message"), [
    ("target", "1e9", "target_message"),            # would give 4.7e-18 parameters
    ("price", 1e300, "hw_message"),
    ("mfu", 400, "hw_message"),                      # a percent box: above 100% is no utilisation
    ("mfu", -5, "hw_message"),
])
def test_a_bad_value_is_a_message_beside_its_control_and_changes_nothing(app, control, value, message):
    before = app.state.scenario
    getattr(app.controls, control).value = value
    _unchanged(app, before, getattr(app.controls, message))
    assert control in getattr(app.controls, message).value
    app.state.set(Scenario())


@pytest.mark.parametrize(("quantity", "text"), [("unique", "1e30"), ("demand", "1e31"), ("budget", "1e31")])
def test_a_typed_quantity_out_of_range_is_refused_with_a_message(app, quantity, text):
    before = app.state.scenario
    getattr(app.controls, quantity).exact.value = text
    _unchanged(app, before, getattr(app.controls, quantity).message)
    app.controls.budget.exact.value = "5.76e23"


def test_budget_from_gpus_days_or_dollars_out_of_range_names_what_was_typed(app):
    c = app.controls
    before = app.state.scenario
    c.gpus.value, c.days.value = 1e7, 1e4
    c.from_gpus.click()
    _unchanged(app, before, c.from_message)
    assert "1e7 GPUs × 1e4 days" in c.from_message.value  # what the user typed, and the FLOPs it gives
    c.gpus.value = -3
    c.from_gpus.click()
    _unchanged(app, before, c.from_message)
    assert "GPUs" in c.from_message.value
    c.dollars.value = 0
    c.from_dollars.click()
    _unchanged(app, before, c.from_message)
    c.gpus.value, c.days.value = 1e7, 30  # no clamp on the box: 10 million GPUs is taken as typed
    c.from_gpus.click()
    assert c.from_message.value == "" and app.state.scenario.budget > 1e27
    app.state.set(Scenario())


def test_requests_times_tokens_past_the_demand_range_is_refused_not_clamped(app):
    c = app.controls
    before = app.state.scenario
    c.requests.value, c.tokens_per_request.value = 1e20, 1e12
    c.from_requests.click()
    _unchanged(app, before, c.demand.message)
    assert "1e32 tokens" in c.demand.message.value
    c.requests.value, c.tokens_per_request.value = 1e17, 2e4  # 2e21 tokens: past the old boxes' bounds, in range
    c.from_requests.click()
    assert app.state.scenario.inference_tokens == 2e21
    assert "1.81e+08 T" not in app.numbers.widget.value and " T" not in fmt_count(2e21)
    app.state.set(Scenario())


def test_mfu_typed_as_a_fraction_is_read_as_one_and_says_so(app):
    app.controls.mfu.value = 0.4
    assert app.state.scenario.mfu == 0.4 and "40% MFU" in app.controls.mfu_note.value
    app.controls.mfu.value = 55
    assert app.state.scenario.mfu == 0.55 and app.controls.mfu_note.value == ""
    app.state.set(Scenario())


def test_kaplans_target_row_explains_why_its_loss_is_not_the_target():
    app = Explorer(scenario=Scenario(target_loss=2.0))
    html = app.numbers.widget.value
    kaplan = app.state.readout.row("kaplan2020").target
    assert not math.isclose(kaplan.loss, 2.0, rel_tol=1e-3)  # its L(N, D) at its L(C) allocation
    assert f"predicts {kaplan.loss:.3f}" in html and "early-stopped" in html
    assert html.count("early-stopped") == 1  # Epoch's row reaches 2.0 itself: no note


# -- numbers one way -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("x", "text"), [(7.21e10, "72.1 B"), (1.34e12, "1.34 T"), (999.7e9, "1 T"),
                                         (1.81e20, "1.81e20"), (3.2e6, "3.2 M"), (512, "512")])
def test_counts_read_with_three_digits_and_si_words(x, text):
    assert fmt_count(x) == text


def test_a_slider_step_shows_short_numbers_in_the_box_and_the_link():
    app = Explorer()
    app.controls.budget.slider.value = app.controls.budget.slider.value * 10 ** 0.05  # one grid step up
    step = 5.76e23 * 10 ** 0.05
    assert app.controls.budget.exact.value == f"{step:.4g}".replace("e+", "e")
    assert app.share.query() == f"budget={step:.4g}".replace("e+", "e")
    assert app.state.scenario.budget == pytest.approx(step, rel=1e-3)


# -- your own model ------------------------------------------------------------------------------------
def test_your_model_shows_its_loss_and_status_and_slides_along_its_iso_flop_line():
    app = Explorer()
    panel = app.controls.mine_panel
    panel.entry.params.value = "7e9"
    assert "both" in panel.message.value and app.state.scenario.mine is None  # D missing: nothing placed
    panel.entry.tokens.value = "2e12"
    assert app.state.scenario.mine == (7e9, 2e12) and panel.message.value == ""
    N, D = 7e9, 2e12
    e = EPOCH
    loss = e["E"] + e["A"] / N ** e["alpha"] + e["B"] / D ** e["beta"]
    # Chinchilla's closed form (Hoffmann et al. eq. 4): D_opt = G^-1 (C/6)^(alpha/(alpha+beta)).
    G = (e["alpha"] * e["A"] / (e["beta"] * e["B"])) ** (1 / (e["alpha"] + e["beta"]))
    d_opt = (6 * N * D / 6) ** (e["alpha"] / (e["alpha"] + e["beta"])) / G
    text = panel.readout.value
    assert f"loss <b>{loss:.3f}</b>" in text and f"{D / d_opt:.3g}" in text and "overtrained" in text
    layer = next(layer for layer in app.plots.layers if type(layer).__name__ == "MineLayer")
    assert layer.point.get_visible() and layer.point.get_data() == ([N], [D])
    assert "mine=7e9:2e12" in app.share.query()
    panel.larger.click()
    N2, D2 = app.state.scenario.mine
    assert N2 == pytest.approx(N * 10 ** 0.1, rel=5e-3) and N2 * D2 == pytest.approx(N * D, rel=1e-2)
    before = app.state.scenario
    panel.entry.params.value = "1e20"  # past the declared range: a message, nothing moves
    assert app.state.scenario == before and "mine" in panel.message.value
    panel.entry.params.value = panel.entry.tokens.value = ""
    assert app.state.scenario.mine is None and not layer.point.get_visible()


def test_reset_all_goes_back_to_the_default_view_and_keeps_view_preferences():
    app = Explorer(scenario=Scenario(budget=1e22, laws=("kaplan2020",), mine=(7e9, 2e12), present=True,
                                     hide=("labels",), target_loss=2.5))
    app.controls.reset_all.click()
    assert app.state.scenario == Scenario(present=True, hide=("labels",))
    assert app.controls.budget.exact.value == "5.76e23" and app.controls.mine_panel.entry.params.value == ""


# -- Approach 2 on the page ----------------------------------------------------------------------------
def _fit(app, runs):
    content = runs[["params", "tokens", "loss"]].to_csv(index=False).encode()
    app.fit_panel.upload.value = ({"name": "runs.csv", "type": "text/csv", "size": len(content),
                                   "last_modified": datetime.datetime(2026, 1, 1), "content": memoryview(content)},)


def test_runs_in_iso_flop_groups_get_an_approach_2_fit_beside_approach_3():
    truth = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    app = Explorer(raise_errors=True)
    app.fit_panel.resamples.value = 0
    _fit(app, synthetic_runs(truth, np.geomspace(1e18, 1e21, 5), span=10, seed=0))
    fit = app.fit_panel.approach2
    # Chinchilla form: N_opt grows as C^(beta / (alpha + beta)) (Hoffmann et al. eq. 4).
    assert fit is not None and fit.a == pytest.approx(0.37 / (0.34 + 0.37), abs=0.03)
    assert "Approach 2 (iso-FLOP parabolas" in app.fit_panel.report.value and "5 budgets" in app.fit_panel.report.value


def test_runs_without_iso_flop_groups_say_why_there_is_no_approach_2():
    truth = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    rng = np.random.default_rng(1)
    N, D = 10 ** rng.uniform(7, 9, 60), 10 ** rng.uniform(9, 11, 60)  # every run its own budget
    import pandas as pd

    runs = pd.DataFrame({"params": N, "tokens": D, "loss": truth.loss(N, D) * np.exp(rng.normal(0, 0.005, 60))})
    app = Explorer(raise_errors=True)
    app.fit_panel.resamples.value = 0
    _fit(app, runs)
    assert app.fit_panel.approach2 is None
    assert "Approach 2 (iso-FLOP parabolas, Hoffmann et al. 2022 §3.2): not fitted" in app.fit_panel.report.value
