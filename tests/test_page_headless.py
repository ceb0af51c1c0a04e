"""The lecture-hall page without a browser: budget entry, URL state, export, layout and type size, hover."""

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

from scaling_explorer import Scenario, evaluate
from scaling_explorer.app import Explorer
from scaling_explorer.app.plot import WIDE


@pytest.fixture
def app():
    return Explorer(raise_errors=False)


def test_typed_budget_is_exact_and_bad_entries_are_messages(app):
    app.controls.budget.exact.value = "3.14e23"  # GPT-3's budget: no snapping to the slider's grid
    assert app.state.scenario.budget == 3.14e23
    assert "3.14e+23 FLOPs" in app.numbers.widget.value
    app.controls.budget.exact.value = "1e40"
    assert "budget" in app.controls.budget.message.value and app.state.scenario.budget == 3.14e23
    app.controls.budget.exact.value = "lots"
    assert "not a number" in app.controls.budget.message.value and app.state.scenario.budget == 3.14e23
    app.controls.budget.slider.value = 1e24  # a slider step after a bad entry
    assert app.controls.budget.message.value == "" and app.state.scenario.budget == pytest.approx(1e24)
    app.controls.budget.exact.value = "5.76e23"
    assert app.controls.budget.message.value == "" and app.state.scenario.budget == 5.76e23


def test_mfu_is_entered_as_a_percentage(app):
    app.controls.mfu.value = 40
    assert app.state.scenario.mfu == pytest.approx(0.40)
    app.controls.mfu.value = 55
    assert app.state.scenario.mfu == pytest.approx(0.55)
    assert "55% MFU" in app.numbers.widget.value


def test_budget_from_gpus_days_and_dollars(app):
    app.controls.gpus.value, app.controls.days.value = 2048, 50
    app.controls.from_gpus.click()
    # 2,048 H100s (989 TFLOP/s dense BF16) for 50 days at 40% MFU.
    assert app.state.scenario.budget == pytest.approx(2048 * 50 * 86400 * 989e12 * 0.4, rel=1e-12)
    app.controls.dollars.value = 1e6
    app.controls.from_dollars.click()
    assert app.state.readout.budget.cost_usd == pytest.approx(1e6, rel=1e-12)


def test_opening_a_link_reproduces_its_view_and_bad_links_open_the_defaults():
    query = "budget=3.14e23&laws=kaplan2020,besiroglu2024&surface=hoffmann2022-approach3&model=GPT-3+175B"
    app = Explorer()
    app.open_query(query)
    assert app.state.scenario == Scenario.from_query(query)
    assert app.controls.surface.value == "hoffmann2022-approach3" and app.controls.model.value == "GPT-3 175B"
    row = evaluate(Scenario.from_query(query)).row("besiroglu2024")
    assert f"{row.tokens_per_param:.3g}" in app.numbers.widget.value
    # The link it shows reproduces the same scenario.
    href = re.search(r'href="\?([^"]*)"', app.share.link.value).group(1)
    assert Scenario.from_query(href.replace("&amp;", "&")) == app.state.scenario
    assert app.bridge.query == app.state.scenario.to_query()

    bad = Explorer()
    bad.open_query("budget=abc&laws=kaplan2020")
    assert "budget" in bad.open_message.value and bad.state.scenario == Scenario()
    bad.open_query("colour=red")
    assert "colour" in bad.open_message.value


def test_a_lecture_link_opens_its_step_and_the_step_follows_into_the_link():
    from scaling_explorer import lecture as lec

    app = Explorer()
    app.open_query("lecture=scaling-laws&step=3")
    lecture = lec.load_lecture("scaling-laws")
    assert app.lecture.step == 2 and app.state.scenario == lec.question_scenario(lecture, 2)
    assert app.share.query().endswith("lecture=scaling-laws&step=3") and "step=3" in app.bridge.query
    app.lecture.next_button.click()
    assert app.lecture.step == 3 and app.bridge.query.endswith("step=4")
    assert app.state.scenario == lec.question_scenario(lecture, 3)
    # A link taken after changing a step's view reopens the changed view at that step.
    changed = Explorer()
    changed.open_query("budget=1e22&lecture=scaling-laws&step=3")
    assert changed.lecture.step == 2 and changed.state.scenario.budget == 1e22
    bad = Explorer()
    bad.open_query("lecture=no-such-lecture")
    assert "could not be opened" in bad.open_message.value and bad.lecture is None


def test_the_lecture_starts_from_its_button():
    app = Explorer()
    app.lecture_start.click()
    assert app.lecture is not None and app.lecture.step == 0 and app.lecture_box.children


def test_exports_are_data_urls_that_parse(app):
    app.share.panel().selected_index = 0  # open the export section
    app.state.update(budget=1e24)
    links = dict(re.findall(r'download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', app.share.downloads.value))
    numbers = pd.read_csv(io.BytesIO(base64.b64decode(links["numbers.csv"])))
    assert list(numbers["key"]) == list(app.state.scenario.laws)
    np.testing.assert_allclose(numbers["params"], [r.params for r in app.state.readout.rows], rtol=1e-12)
    models = pd.read_csv(io.BytesIO(base64.b64decode(links["models.csv"])))
    assert len(models) == len(app.state.readout.models)
    code = base64.b64decode(links["scenario.py"]).decode()
    assert code == app.state.scenario.to_code()
    app.share.png_button.click()
    png = re.search(r'href="data:image/png;base64,([^"]+)"', app.share.png.value).group(1)
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("width, wide", [(600, False), (740, False), (780, True), (1500, True)])
def test_figure_fills_the_width_it_is_given_and_stacks_when_narrow(app, width, wide):
    app.bridge.width, app.bridge.viewport_height = width + 4, 900
    assert app.figure.canvas.get_width_height()[0] == width
    assert app.plots.wide is wide and wide is (width >= WIDE)
    app.figure.canvas.draw()
    nd, loss = app.plots.ax.get_window_extent(), app.plots.ax_loss.get_window_extent()
    if wide:
        assert nd.x1 < loss.x0  # side by side
    else:
        assert loss.y1 < nd.y0  # stacked: loss below
    fig = app.figure.bbox
    for box in (nd, loss, app.plots.legend.get_window_extent()):
        assert fig.x0 <= box.x0 and box.x1 <= fig.x1 and fig.y0 <= box.y0 and box.y1 <= fig.y1
    assert min(app.plots.text_sizes_px()) >= 12


def test_presentation_mode_has_large_type_and_folds_the_controls(app):
    app.bridge.width, app.bridge.viewport_height = 1900, 1000
    app.present.value = True
    assert app.state.scenario.present and app.controls_panel.layout.display == "none"
    app.figure.canvas.draw()
    assert min(app.plots.text_sizes_px()) >= 18
    app.present.value = False
    assert app.controls_panel.layout.display == "flex" and min(app.plots.text_sizes_px()) < 18


def test_hover_names_a_model_and_its_status(app):
    from matplotlib.backend_bases import MouseEvent

    app.figure.canvas.draw()
    models = app.state.readout.plotted.set_index("name")
    x, y = app.plots.ax.transData.transform((models.loc["Gopher", "compute_params"], models.loc["Gopher", "tokens"]))
    MouseEvent("motion_notify_event", app.figure.canvas, x + 2, y - 2)._process()
    assert app.plots.hover_note.get_visible()
    assert app.plots.hover_note.get_text().startswith("Gopher: undertrained")
    MouseEvent("motion_notify_event", app.figure.canvas, x + 200, y + 200)._process()
    assert not app.plots.hover_note.get_visible() or "Gopher" not in app.plots.hover_note.get_text()


def test_status_reads_without_colour():
    from scaling_explorer.app.plot import status_style

    face, edge, width = status_style(["undertrained", "near-optimal", "overtrained"])
    assert face[0] == "none" and face[1] != "none" and face[2] != "none"  # hollow, filled, filled
    assert edge[2] != edge[1] and width[2] > width[1]  # over-trained: a dark rim


def test_labels_do_not_overlap_each_other(app):
    app.bridge.width, app.bridge.viewport_height = 1280 - 380, 800
    app.figure.canvas.draw()
    renderer = app.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in app.plots.labels if hasattr(t, "get_text")]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert len(boxes) >= 10 and overlaps == 0


def test_moe_points_link_active_to_total_parameters(app):
    moe = app.state.readout.plotted
    moe = moe[(moe["architecture"] == "moe") & moe["params"].notna()].set_index("name")
    segments = {(round(s[0][0]), round(s[1][0])) for s in app.plots.moe_totals.get_segments()}
    # DeepSeek-V3: 37B active, 671B total (DeepSeek-V3 technical report, Table 1 / abstract).
    v3 = moe.loc["DeepSeek-V3"]
    assert (round(v3["compute_params"]), round(v3["params"])) in segments
    assert v3["compute_params"] == pytest.approx(37e9, rel=0.02) and v3["params"] == pytest.approx(671e9, rel=0.01)
    assert len(segments) == len(moe)


def test_fit_panel_offers_a_template_that_it_accepts():
    from scaling_explorer.app.fitpanel import template_link
    from scaling_explorer.fit import read_runs

    payload = re.search(r'href="data:text/csv;base64,([^"]+)"', template_link()).group(1)
    runs = read_runs(base64.b64decode(payload))
    assert len(runs) > 10 and set(runs.columns) >= {"params", "tokens", "loss"}
