"""The page beyond Chinchilla, headless: inference demand, unique tokens and a target loss on the page.

Reference numbers: Sardana et al. 2024 (arXiv:2401.00448), README of nikhilsardana/beyond-chinchilla:
loss 1.947 served for 2e12 tokens -> N 2.418e10, D 2.657e12 (../shared/reference.md §A4).
"""

import re

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from scaling_explorer import Scenario, evaluate
from scaling_explorer.app import Explorer
from scaling_explorer.app.format import fmt_count, fmt_flops
from scaling_explorer.catalog import NEAR_OPTIMAL, OVERTRAINED, UNDERTRAINED
from scaling_explorer.laws import get_law
from scaling_explorer.style import STATUS_COLOR
from scaling_explorer.wrappers import inference_tokens_from_requests

BASE_HEADS = ["law", "Nopt (params)", "Dopt (tokens)", "tokens / param", "predicted loss"]


@pytest.fixture
def app():
    return Explorer(raise_errors=False)


def _heads(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", html)]


def _body_rows(html: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", html.split("<tbody>")[1])


def test_controls_write_the_scenario_fields(app):
    c, s = app.controls, lambda: app.state.scenario
    assert s().inference_tokens == 0 and not c.demand.toggle.value  # the default: no demand
    c.demand.toggle.value = True
    assert s().inference_tokens == pytest.approx(1e13, rel=1e-12)  # the slider's starting point
    c.demand.exact.value = "2e12"
    assert s().inference_tokens == 2e12 and c.demand.toggle.value
    c.demand.value = 1e15
    assert s().inference_tokens == pytest.approx(1e15, rel=1e-12)
    c.demand.exact.value = "0"
    assert s().inference_tokens == 0 and not c.demand.toggle.value
    c.requests.value, c.tokens_per_request.value = 3e9, 1500
    c.from_requests.click()
    assert s().inference_tokens == 4.5e12  # 3e9 requests x 1,500 tokens
    c.demand.toggle.value = False
    assert s().inference_tokens == 0
    c.unique.toggle.value = True
    assert s().unique_tokens == pytest.approx(1e12, rel=1e-12)
    c.unique.exact.value = "2.5e11"
    assert s().unique_tokens == 2.5e11 and c.unique.toggle.value
    c.unique.exact.value = ""
    assert s().unique_tokens is None and not c.unique.toggle.value
    c.target.value = "1.947"
    assert s().target_loss == 1.947
    c.target.value = ""
    assert s().target_loss is None


def test_requests_times_tokens_is_validated():
    assert inference_tokens_from_requests(1e9, 2000) == 2e12
    assert inference_tokens_from_requests(0, 2000) == 0
    with pytest.raises(ValueError, match="requests"):
        inference_tokens_from_requests(-1, 2000)
    with pytest.raises(ValueError, match="tokens per request"):
        inference_tokens_from_requests(1e9, float("nan"))


def test_no_demand_shows_todays_table(app):
    html = app.numbers.widget.value
    assert _heads(html) == BASE_HEADS  # no new columns
    assert len(_body_rows(html)) == len(app.state.scenario.laws)  # one row per law, no sub-rows
    assert "inference" not in html and "training only" not in html
    app.controls.demand.exact.value = "1e13"
    assert app.numbers.widget.value != html
    app.controls.demand.toggle.value = False  # back to no demand: the very same table
    assert app.numbers.widget.value == html


def test_with_demand_the_table_shows_both_rows_and_a_smaller_model(app):
    app.controls.demand.exact.value = "1e13"
    html = app.numbers.widget.value
    assert _heads(html) == [*BASE_HEADS, "training FLOPs", "total FLOPs (training + inference)"]
    row = evaluate(Scenario(inference_tokens=1e13)).row("besiroglu2024")
    ia = row.inference_aware
    assert ia.params < row.params and ia.tokens > row.tokens  # train smaller and longer
    assert ia.loss == pytest.approx(row.loss, rel=1e-12)  # the same loss
    # Lifetime FLOPs 6ND + 2NT from the shown allocations, by hand.
    assert ia.total_flops == pytest.approx(6 * ia.params * ia.tokens + 2 * ia.params * 1e13, rel=1e-12)
    assert row.total_flops == pytest.approx(5.76e23 + 2 * row.params * 1e13, rel=1e-9)
    assert ia.total_flops < row.total_flops
    rows = _body_rows(html)
    i = next(i for i, r in enumerate(rows) if "Epoch refit" in r)
    assert "training only" in rows[i] and "inference-aware" in rows[i + 1]
    for text in (fmt_count(row.params), fmt_flops(row.total_flops)):
        assert text in rows[i]
    for text in (fmt_count(ia.params), fmt_count(ia.tokens), fmt_flops(ia.total_flops), fmt_flops(ia.training_flops)):
        assert text in rows[i + 1]
    # Kaplan's law has no Chinchilla-form loss to hold fixed: the row says why instead.
    assert "Kaplan et al. 2020: inference demand needs a Chinchilla-form law" in html


def test_sardana_reference_through_the_page():
    app = Explorer(scenario=Scenario.from_query("laws=sardana2024&surface=sardana2024&serve=2e12&target=1.947"))
    html = app.numbers.widget.value
    row = app.state.readout.row("sardana2024")
    # Sardana et al.'s README: loss 1.947 at 2e12 tokens of demand -> N 2.418e10, D 2.657e12.
    assert row.target_inference_aware.params == pytest.approx(2.418e10, rel=1e-3)
    assert row.target_inference_aware.tokens == pytest.approx(2.657e12, rel=1e-3)
    target_rows = [r for r in _body_rows(html) if "reaching loss 1.947, serving T" in r]
    assert len(target_rows) == 1 and "24.2 B" in target_rows[0] and "2.66 T" in target_rows[0]


def test_unique_tokens_show_the_data_constrained_row_and_epochs(app):
    app.controls.unique.exact.value = "2e11"
    html = app.numbers.widget.value
    assert _heads(html) == [*BASE_HEADS, "epochs (D / U)"]
    row = app.state.readout.row("besiroglu2024")
    assert row.epochs == pytest.approx(row.tokens / 2e11, rel=1e-12)
    dc = row.data_constrained
    assert 6 * dc.params * dc.tokens == pytest.approx(5.76e23, rel=1e-6)  # the same budget
    assert dc.loss >= row.loss  # repeating data never helps
    sub = next(r for r in _body_rows(html) if "with U = 200 B unique tokens" in r)
    assert fmt_count(dc.params) in sub and f"{dc.epochs:.3g}" in sub


def test_target_loss_rows_and_bad_entries_are_messages(app):
    c = app.controls
    c.target.value = "2.0"
    row = app.state.readout.row("besiroglu2024")
    law = get_law("besiroglu2024")
    assert law.loss(row.target.params, row.target.tokens) == pytest.approx(2.0, rel=1e-9)
    assert "reaching loss 2" in app.numbers.widget.value
    assert _heads(app.numbers.widget.value) == [*BASE_HEADS, "training FLOPs"]
    before = app.state.scenario
    for widget, text, message in ((c.demand.exact, "lots", c.demand.message), (c.demand.exact, "-5", c.demand.message),
                                  (c.unique.exact, "plenty", c.unique.message), (c.unique.exact, "0", c.unique.message),
                                  (c.target, "low", c.target_message), (c.target, "-1", c.target_message)):
        widget.value = text
        assert "se-error" in message.value, (text, message.value)
        assert app.state.scenario == before
    c.target.value = "1.9"  # a good entry clears the message
    assert c.target_message.value == "" and app.state.scenario.target_loss == 1.9
    c.target.value = "1.0"  # at or below the surface law's E (1.8172): refused beside the control, never computed
    assert "se-error" in c.target_message.value and "irreducible" in c.target_message.value
    assert app.state.scenario.target_loss == 1.9


def test_read_back_never_writes_the_state(app):
    calls = []
    app.state.watch(calls.append)
    app.state.update(inference_tokens=2e12, unique_tokens=2.5e11, target_loss=1.947)
    assert len(calls) == 1  # one notification: the widgets' read-back wrote nothing
    s = app.state.scenario
    # 2e12 lies between the slider's 0.1-dex grid points: the slider moved, the state did not snap.
    assert (s.inference_tokens, s.unique_tokens, s.target_loss) == (2e12, 2.5e11, 1.947)
    c = app.controls
    assert c.demand.toggle.value and c.unique.toggle.value
    assert c.demand.exact.value == "2e12" and c.unique.exact.value == "2.5e11" and c.target.value == "1.947"
    assert c.demand.slider.value == pytest.approx(10 ** 12.3, rel=1e-9)
    app.state.update(inference_tokens=0.0)
    assert len(calls) == 2 and app.state.scenario.inference_tokens == 0 and not c.demand.toggle.value


def test_markers_move_on_a_budget_step_by_the_fast_path(app, monkeypatch):
    app.controls.demand.exact.value = "1e13"
    app.controls.unique.exact.value = "2e11"
    full_redraws = []
    monkeypatch.setattr(app.plots, "_update_background", lambda: full_redraws.append(1))
    marks = app.plots.aware_optimum["besiroglu2024"], app.plots.constrained_optimum["besiroglu2024"]
    before = [np.array(m.get_data()).ravel() for m in marks]
    app.controls.budget.value = 1e24
    assert not full_redraws  # blitted
    row = app.state.readout.row("besiroglu2024")
    for mark, before_xy, opt in zip(marks, before, (row.inference_aware, row.data_constrained), strict=True):
        assert mark.get_visible()
        x, y = np.array(mark.get_data()).ravel()
        assert (x, y) == (opt.params, opt.tokens) and not np.allclose((x, y), before_xy)
    assert 6 * row.data_constrained.params * row.data_constrained.tokens == pytest.approx(1e24, rel=1e-6)
    # The unique-token slider moves the data-constrained marker by the same fast path.
    app.controls.unique.value = 1e12
    assert not full_redraws
    assert marks[1].get_data()[0][0] == app.state.readout.row("besiroglu2024").data_constrained.params
    # No marker for a law that cannot take the demand, and none once the demand is off.
    assert not app.plots.aware_optimum["kaplan2020"].get_visible()
    app.controls.demand.toggle.value = False
    assert full_redraws and not marks[0].get_visible()


def _face_of(app, name):
    points = app.plots.points["dense"]
    return tuple(points.get_facecolors()[app.plots.point_names["dense"].index(name)])


def test_status_and_shading_follow_the_demand(app):
    law = get_law("besiroglu2024")
    # Llama 3 8B: 8e9 parameters on 15e12 tokens, far past its Chinchilla point.
    row = app.state.readout.all_models.set_index("name").loc["Llama 3 8B"]
    N, D = row["compute_params"], row["tokens"]
    assert _face_of(app, "Llama 3 8B") == to_rgba(STATUS_COLOR[OVERTRAINED])
    shading = app.plots.over.get_paths()[0].vertices.copy()
    # The demand at which its own (N, D) is optimal, from Sardana et al.'s Lagrange condition
    # alpha A N^-alpha = beta B D^-beta (1 + 2T / (6D)), solved by hand.
    T = 3 * D * (law.alpha * law.A * N ** -law.alpha / (law.beta * law.B * D ** -law.beta) - 1)
    app.state.update(inference_tokens=float(T))
    assert _face_of(app, "Llama 3 8B") == to_rgba(STATUS_COLOR[NEAR_OPTIMAL])
    assert " ".join(app.plots.nd_title.get_text().split()).startswith(f"Status at T = {T:.3g} tokens of demand")
    assert not np.array_equal(app.plots.over.get_paths()[0].vertices, shading)  # the shading moved
    # Undertrained models stay undertrained under any demand (serving only favours more tokens).
    gopher = app.state.readout.all_models.set_index("name").loc["Gopher"]
    assert gopher["status"] == gopher["status_training"] == UNDERTRAINED
    labels = [t.get_text() for t in app.plots.legend.get_texts()]
    assert any(label.startswith("same loss, least FLOPs serving T") for label in labels)


def test_shading_is_the_status_at_demand(app):
    """Every point of a grid lies in the shaded region its own standing under the demand says."""
    from matplotlib.path import Path

    app.open_query("serve=1e13")
    law = get_law("besiroglu2024")
    N, D = (x.ravel() for x in np.meshgrid(np.geomspace(1e7, 1e14, 40), np.geomspace(1e9, 1e15, 40)))
    # The yardstick by hand: the cheapest model of the same loss over its lifetime, D_opt from the
    # Lagrange condition alpha A N^-alpha = beta B D^-beta (1 + 2T / (6D)) solved on the iso-loss curve
    # by bisection in log D (a second method beside the library's root finder).
    loss, T = law.loss(N, D), 1e13
    lo, hi = np.full_like(N, 1e6), np.full_like(N, 1e20)
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        rest = loss - law.E - law.B / mid ** law.beta
        n = np.where(rest > 0, (law.A / np.where(rest > 0, rest, 1)) ** (1 / law.alpha), np.inf)
        g = law.alpha * law.A * n ** -law.alpha - law.beta * law.B * mid ** -law.beta * (1 + 2 * T / (6 * mid))
        lo, hi = np.where(g > 0, lo, mid), np.where(g > 0, mid, hi)
    ratio = D / np.sqrt(lo * hi)
    points = np.log10(np.column_stack([N, D]))
    for region, expected in ((app.plots.under, ratio < 1 / 2.0), (app.plots.over, ratio > 2.0)):
        inside = Path(np.log10(region.get_paths()[0].vertices)).contains_points(points)
        near_edge = np.abs(np.log(ratio) - np.log(2.0) * np.sign(np.log(ratio))) < 0.02
        assert np.array_equal(inside[~near_edge], expected[~near_edge])


def test_model_card_shows_break_even_demand(app):
    app.controls.model.value = "Llama 3 8B"
    law = get_law("besiroglu2024")
    row = app.state.readout.all_models.set_index("name").loc["Llama 3 8B"]
    N, D = row["compute_params"], row["tokens"]
    T = 3 * D * (law.alpha * law.A * N ** -law.alpha / (law.beta * law.B * D ** -law.beta) - 1)
    card = app.card.widget.value
    assert f"{fmt_count(T)} tokens" in card and "break-even demand" in card
    assert "n/a for this law" in card  # Kaplan's law is not Chinchilla-form
    app.controls.model.value = "Gopher"  # undertrained: no demand makes it optimal
    assert re.search(r"Epoch refit\)</td>.*?<i [^>]*>none</i>", app.card.widget.value)
    app.controls.demand.exact.value = "1e13"
    assert "At T = 10 T tokens of demand" in app.card.widget.value
