"""The widget app headless: controls write the state, views follow, bad input becomes a message."""

import datetime
import json
import os
import threading

import numpy as np
import pytest
from websockets.sync.server import serve

from scaling_explorer.app import Explorer
from scaling_explorer.app.explorer import voila_query
from scaling_explorer.laws import get_law


@pytest.fixture(scope="module")
def app():
    return Explorer(raise_errors=False)


def test_opens_on_chinchilla_budget_with_three_laws(app):
    assert app.state.scenario.budget == pytest.approx(5.76e23, rel=1e-9)
    assert app.controls.budget.value == pytest.approx(5.76e23, rel=1e-9)
    assert app.state.scenario.laws == ("kaplan2020", "hoffmann2022-approach1", "besiroglu2024")
    assert all(app.plots.frontiers[k].get_visible() for k in app.state.scenario.laws)
    assert not app.plots.frontiers["hoffmann2022-approach3"].get_visible()


def test_slider_moves_iso_flop_line_and_optimum(app):
    app.controls.budget.value = 1e24
    N, D = app.plots.iso_flop.get_data()
    np.testing.assert_allclose(6 * np.asarray(N) * np.asarray(D), 1e24)
    # Epoch's refit at 1e24 FLOPs: N_opt 9.59e10, D_opt 1.74e12 (reference A2, derived table).
    star_N, star_D = app.plots.optimum["besiroglu2024"].get_data()
    assert star_N[0] == pytest.approx(9.59e10, rel=5e-3) and star_D[0] == pytest.approx(1.74e12, rel=5e-3)
    assert "1e24 FLOPs" in app.numbers.widget.value and "95.9 B" in app.numbers.widget.value
    app.controls.budget.value = 5.76e23


def test_ticking_a_law_shows_its_frontier_and_row(app):
    app.controls.law_boxes["hoffmann2022-approach3"].value = True
    assert app.plots.frontiers["hoffmann2022-approach3"].get_visible()
    assert "Approach 3" in app.numbers.widget.value
    labels = [t.get_text() for t in app.plots.legend.get_texts()]
    assert any("Approach 3" in label for label in labels)
    app.controls.law_boxes["hoffmann2022-approach3"].value = False


def test_invalid_coefficient_shows_message_and_keeps_last_state(app):
    app.controls.coef["alpha"].value = 0.0
    assert "alpha" in app.controls.coef_message.value
    assert app.state.scenario.edits == ()
    before = np.asarray(app.plots.frontiers["besiroglu2024"].get_xdata()).copy()
    app.controls.coef["alpha"].value = 0.5  # a valid edit moves the frontier ...
    assert app.controls.coef_message.value == ""
    assert app.state.scenario.edits == (("besiroglu2024", "alpha", 0.5),)
    assert not np.allclose(app.plots.frontiers["besiroglu2024"].get_xdata(), before)
    app.controls.coefficients.reset.click()  # ... and reset restores the published law
    assert app.state.scenario.edits == ()
    np.testing.assert_allclose(app.plots.frontiers["besiroglu2024"].get_xdata(), before)
    assert app.controls.coef["alpha"].value == pytest.approx(0.3478)


def test_filters_and_band_change_points(app):
    n_all = sum(len(p.get_offsets()) for p in app.plots.points.values())
    app.controls.architecture.value = "moe"
    moe = sum(len(p.get_offsets()) for p in app.plots.points.values())
    assert 0 < moe < n_all
    app.controls.architecture.value = "all"
    app.controls.band.value = 10
    colours = app.plots.points["dense"].get_facecolors()
    assert len(colours) == len(app.plots.points["dense"].get_offsets())
    app.controls.band.value = 2


def test_model_card_shows_source_and_undisclosed_reason(app):
    app.controls.model.value = "Gopher"
    assert "undertrained" in app.card.widget.value and "arxiv.org" in app.card.widget.value
    app.controls.model.value = "GPT-4"
    assert "undisclosed" in app.card.widget.value
    app.controls.model.value = "Chinchilla"


def test_model_card_shows_the_moe_laws_refusal_of_a_dense_model(app):
    # Krajewski et al.'s MoE law cannot describe Chinchilla (dense): its row says why, with no numbers;
    # the dense law beside it still places the model.
    app.state.update(laws=("besiroglu2024", "krajewski2024"), model="Chinchilla")
    card = app.card.widget.value
    assert "not described" in card and "mixture-of-experts models only" in card
    assert "FLOPs (6ND count) = 5.88e23" in card
    # With the MoE law as the surface, the plot's title says how many models it leaves off.
    app.state.update(surface="krajewski2024")
    refused = int((app.state.readout.models["status"] == "not described").sum())
    title = " ".join(app.plots.nd_title.get_text().split())
    assert refused > 50 and f"({refused} models not described: see the table)" in title


def test_bad_mfu_and_price_are_messages(app):
    app.controls.price.value = -3
    assert "price" in app.controls.hw_message.value
    assert app.state.scenario.price == 2.0
    app.controls.price.value = 2.5
    assert app.controls.hw_message.value == ""


def test_raise_errors_switch_lets_tests_see_errors():
    strict = Explorer(raise_errors=True)
    with pytest.raises(ValueError, match="alpha"):
        strict.controls.coef["alpha"].value = -1.0


def _runs_csv(law, seed=0) -> bytes:
    from scaling_explorer.fit import synthetic_runs

    runs = synthetic_runs(law, np.geomspace(1e18, 1e21, 5), span=10, seed=seed)
    return runs[["params", "tokens", "loss"]].to_csv(index=False).encode()


def _upload(app, name: str, content: bytes):
    """What the browser sends when a user picks a file."""
    app.fit_panel.upload.value = ({"name": name, "type": "text/csv", "size": len(content),
                                   "last_modified": datetime.datetime(2026, 1, 1), "content": memoryview(content)},)


def test_upload_fits_and_adds_the_law_with_its_band():
    from scaling_explorer.laws import ParametricLaw

    app = Explorer(raise_errors=True)
    truth = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    app.fit_panel.resamples.value = 100
    _upload(app, "runs.csv", _runs_csv(truth))
    assert app.fit_panel.upload.value == ()  # the bytes are not kept in the widget
    fitted = app.state.scenario.law("fit")
    assert fitted.alpha == pytest.approx(truth.alpha, abs=0.05)
    assert "fit" in app.state.scenario.laws and app.controls.law_boxes["fit"].value
    assert app.plots.fit_band.get_visible()
    assert "95% interval" in app.fit_panel.report.value
    assert len(app.plots.fit_band.get_xy()) > 10
    assert len(app.fit_panel.points.get_offsets()) == 45


def test_bad_upload_lists_problems_without_raising():
    app = Explorer(raise_errors=False)
    _upload(app, "bad.csv", b"params,loss\n1,-2\n")
    assert "tokens" in app.fit_panel.message.value
    assert app.state.fit_result is None


def test_clicking_a_point_selects_its_model():
    from matplotlib.backend_bases import MouseEvent

    app = Explorer(raise_errors=True)
    app.figure.canvas.draw()
    names = app.plots.point_names["dense"]
    i = names.index("Gopher")
    x, y = app.plots.ax.transData.transform(app.plots.points["dense"].get_offsets()[i])
    MouseEvent("button_press_event", app.figure.canvas, x, y, button=1)._process()
    assert app.state.scenario.model == "Gopher"
    assert "Gopher" in app.card.widget.value and app.controls.model.value == "Gopher"


def test_building_the_app_keeps_the_users_matplotlib_backend():
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('agg'); import matplotlib.pyplot; "
            "from scaling_explorer.app import Explorer; Explorer(); print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "agg", out.stderr


def test_upload_changes_no_other_choice():
    """Uploading runs adds the fit; the shading law, the budget and every other choice stay as the user set them."""
    from scaling_explorer.laws import ParametricLaw

    app = Explorer(raise_errors=True)
    app.controls.surface.value = "hoffmann2022-approach3"
    app.controls.budget.value = 1e22
    app.controls.band.value = 3.0
    app.controls.architecture.value = "dense"
    app.controls.model.value = "Gopher"
    app.controls.law_boxes["kaplan2020"].value = False
    before = app.state.scenario
    statuses = app.state.readout.models["status"].tolist()
    app.fit_panel.resamples.value = 0
    _upload(app, "runs.csv", _runs_csv(ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)))
    after = app.state.scenario
    assert after.laws == (*before.laws, "fit")
    assert after.replace(laws=before.laws) == before  # nothing else changed
    assert app.controls.surface.value == "hoffmann2022-approach3"
    assert app.state.readout.models["status"].tolist() == statuses
    # Every control that rebuilds its options keeps its selection, in the state and in the widget.
    assert ("Fit" in app.controls.surface.options[-1][0] or "fit" in app.controls.surface.options[-1][1])
    assert app.controls.model.value == "Gopher" and app.controls.band.value == 3.0


def test_a_registered_law_with_an_unknown_key_is_drawn_in_a_fallback_colour():
    from scaling_explorer import Scenario
    from scaling_explorer.laws import ParametricLaw, register_law
    from scaling_explorer.style import LAW_STYLE, law_style

    register_law("my-lab-2026", ParametricLaw(E=1.9, A=300.0, B=900.0, alpha=0.3, beta=0.32, name="My lab 2026"),
                 replace=True)
    assert "my-lab-2026" not in LAW_STYLE
    app = Explorer(raise_errors=True, scenario=Scenario(laws=("besiroglu2024", "my-lab-2026")))
    line = app.plots.frontiers["my-lab-2026"]
    assert line.get_visible() and line.get_color() == law_style("my-lab-2026")["color"]
    assert "My lab 2026" in app.numbers.widget.value
    app.controls.law_boxes["my-lab-2026"].value = False
    assert not line.get_visible() and app.state.scenario.laws == ("besiroglu2024",)


def _parse_count(text: str) -> float:
    scale = {"T": 1e12, "B": 1e9, "M": 1e6, "k": 1e3}
    number, _, suffix = text.strip().partition(" ")
    return float(number) * scale.get(suffix.strip(), 1.0)


@pytest.mark.parametrize("query", ["budget=1e24", "budget=3.14e23&laws=hoffmann2022-approach3-unrounded,kaplan2020",
                                   "laws=besiroglu2024,hoffmann2022-approach1&edit=besiroglu2024:alpha:0.4"])
def test_numbers_table_agrees_with_show_and_optimal_json(query):
    """The page's table text, `show --json` and (for unedited laws) `optimal --json` give the same numbers."""
    import json
    import re

    from test_cli import run

    from scaling_explorer import Scenario

    def cli_json(*args):  # the CLI in-process (test_cli.py keeps the subprocess smoke tests)
        out = run(*args, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    app = Explorer(raise_errors=True, scenario=Scenario.from_query(query))
    cells = [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr><td>.*?</tr>", app.numbers.widget.value)]
    shown = cli_json("show", "--scenario", query)["rows"]
    assert len(cells) == len(shown)
    for row, (_, n, d, per, loss) in zip(shown, cells, strict=True):
        assert _parse_count(n) == pytest.approx(row["params"], rel=5e-3)
        assert _parse_count(d) == pytest.approx(row["tokens"], rel=5e-3)
        assert float(per) == pytest.approx(row["tokens_per_param"], rel=5e-3)
        assert (loss == "—") if row["loss"] is None else float(loss) == pytest.approx(row["loss"], abs=5e-4)
        if "edit=" not in query or row["key"] != "besiroglu2024":
            alone = cli_json("optimal", "--law", row["key"], "--flops", str(row["training_flops"]))["rows"]
            assert alone == [row]


def test_empty_law_selection_says_what_to_do():
    from scaling_explorer import Scenario

    app = Explorer(raise_errors=True, scenario=Scenario(laws=()))
    assert "No law ticked" in app.numbers.widget.value


def test_model_card_flags_caveats_and_continued_runs():
    from scaling_explorer import Scenario

    app = Explorer(raise_errors=True, scenario=Scenario(model="DeepSeek-V3"))
    assert "Caveats" in app.card.widget.value and "MoE" in app.card.widget.value
    app.controls.model.value = "DeepSeek-R1"
    assert "not a new pretraining run" in app.card.widget.value
    assert "DeepSeek-R1" not in app.plots.point_names["moe"]


def test_hidden_layers_are_hidden_and_come_back():
    from scaling_explorer import Scenario

    app = Explorer(raise_errors=True, scenario=Scenario(hide=("contours", "models", "optima")))
    layers = app.plots.layer_artists()
    assert not any(a.get_visible() for a in layers["contours"] + layers["models"] + layers["optima"])
    assert all(a.get_visible() for a in layers["shading"])
    app.state.update(hide=())
    assert all(a.get_visible() for a in app.plots.layer_artists()["contours"])
    assert app.plots.optimum["besiroglu2024"].get_visible()


def test_count_switch_reprojects_frontiers_points_and_says_which_count():
    from scaling_explorer.conventions import CHINCHILLA_SHAPES
    from scaling_explorer.reexpress import reexpress

    a = Explorer(raise_errors=True)
    epoch_before = np.asarray(a.plots.frontiers["besiroglu2024"].get_xdata()).copy()
    kaplan_before = np.asarray(a.plots.frontiers["kaplan2020"].get_xdata()).copy()
    gpt3 = lambda: a.state.readout.plotted.set_index("name").loc["GPT-3 175B", "compute_params"]  # noqa: E731
    assert gpt3() == 174.6e9  # published total under the surface law (Epoch, total N)
    a.controls.param_count.value = "non-embedding"
    assert a.state.scenario.param_count == "non-embedding"
    # Epoch's frontier is re-counted; Kaplan's already counts non-embedding parameters and stays.
    law = reexpress(get_law("besiroglu2024"), "non-embedding")
    np.testing.assert_allclose(a.plots.frontiers["besiroglu2024"].get_ydata(),
                               law.compute_optimal(np.geomspace(1e8, 1e36, 400))[1], rtol=1e-9)
    assert not np.allclose(a.plots.frontiers["besiroglu2024"].get_xdata(), epoch_before)
    np.testing.assert_allclose(a.plots.frontiers["kaplan2020"].get_xdata(), kaplan_before)
    # Every model is placed at a non-embedding count: GPT-3 publishes none, so Pearce & Song's fit.
    assert gpt3() == pytest.approx(float(CHINCHILLA_SHAPES.to_non_embedding(174.6e9)))
    a.controls.model.value = "GPT-3 175B"
    assert "N counted as: non-embedding (Pearce &amp; Song fit)" in a.card.widget.value
    assert "non-embedding" in a.plots.ax.get_xlabel() and "N counted as <b>non-embedding" in a.numbers.widget.value
    assert "0.77" in a.disagree.count_html.value  # Pearce & Song's exponent, live
    a.controls.param_count.value = "total"
    assert a.state.readout.row("kaplan2020").params_meaning == "total"
    assert not np.allclose(a.plots.frontiers["kaplan2020"].get_xdata(), kaplan_before)


def test_flop_model_and_flatness_band_follow_the_readout():
    a = Explorer(raise_errors=True)
    a.controls.flatness.value = 0.01
    row = a.state.readout.row("besiroglu2024")
    band = a.plots.flat_band["besiroglu2024"]
    flat = row.extra("flat_range")
    assert band.get_visible() and flat is not None
    N, D = (np.asarray(x) for x in band.get_data())
    assert (N[0], N[-1]) == pytest.approx((flat["params_low"], flat["params_high"]))
    np.testing.assert_allclose(6 * N * D, a.state.scenario.budget)  # on the budget's iso-FLOP line
    assert "within 1.0% of the optimal loss" in a.numbers.widget.value
    assert not a.plots.flat_band["hoffmann2022-approach1"].get_visible()  # no loss, no range
    a.controls.flop_model.value = "chinchilla"
    N_iso, D_iso = (np.asarray(x) for x in a.plots.iso_flop.get_data())
    flops = a.state.scenario.law("besiroglu2024").flop_model
    np.testing.assert_allclose(flops.flops(N_iso, D_iso), a.state.scenario.budget, rtol=1e-9)
    a.controls.flatness.value = 0.0
    assert a.state.scenario.flatness is None and not band.get_visible()


def test_disagreement_panel_steps_through_porians_corrections():
    a = Explorer(raise_errors=True)
    panel = a.disagree
    assert "C<sup>0.835</sup>" in panel.steps_html.value  # step 0: Kaplan's setup reproduced
    panel.step.value = 4
    assert "C<sup>0.497</sup>" in panel.steps_html.value
    panel.dataset.value = "OpenWebText2"
    assert "C<sup>0.518</sup>" in panel.steps_html.value
    assert "0.513" in panel.count_html.value  # Epoch's law in its own (total) count: a power law


def test_implausible_coefficients_get_a_warning_and_overflow_shows_a_dash():
    app = Explorer(raise_errors=False)
    app.controls.coef["alpha"].value = 10.0  # no published fit comes near: the example
    assert "far outside published fits" in app.controls.coef_warnings.value
    assert app.state.scenario.edits == (("besiroglu2024", "alpha", 10.0),)
    app.controls.coef["alpha"].value = 0.3478
    assert app.controls.coef_message.value == "" and app.controls.coef_warnings.value == ""
    from scaling_explorer import Scenario
    from scaling_explorer.laws import implausible_coefficients

    assert implausible_coefficients(Scenario().law("besiroglu2024")) == []


def test_a_preheated_page_reads_its_visitors_request_from_voilas_query_socket(monkeypatch):
    # Voila 0.5 (voila.utils.wait_for_request) hands a preheated kernel its visitor's request as one
    # JSON message on ws://VOILA_APP_IP:VOILA_APP_PORT<VOILA_SERVER_URL>voila/query/<VOILA_KERNEL_ID>.
    paths = []

    def handler(socket):
        paths.append(socket.request.path)
        socket.send(json.dumps({"QUERY_STRING": "budget=1e22&laws=besiroglu2024", "SERVER_NAME": "class.example"}))

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        port = str(server.socket.getsockname()[1])
        for key, value in {"VOILA_PREHEAT": "True", "VOILA_APP_IP": "127.0.0.1", "VOILA_APP_PORT": port,
                           "VOILA_SERVER_URL": "/base/", "VOILA_KERNEL_ID": "k-1", "QUERY_STRING": "",
                           "SERVER_NAME": ""}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("VOILA_WS_BASE_URL", raising=False)
        try:
            assert voila_query() == "budget=1e22&laws=besiroglu2024"
        finally:
            server.shutdown()
            thread.join()
    assert paths == ["/base/voila/query/k-1"]
    assert os.environ["SERVER_NAME"] == "class.example"


def test_a_preheated_kernel_builds_the_page_before_it_waits_for_its_visitor(monkeypatch):
    """The build is most of an arrival's CPU (bench_arrival.py): a pool kernel spends it before anyone
    comes, and the visitor's link is applied to the page already built (30 arrivals: p90 36 s -> 7 s)."""
    import importlib

    module = importlib.import_module("scaling_explorer.app.explorer")
    built, asked = [], []
    real_init = module.Explorer.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(module.Explorer, "__init__", counting_init)
    monkeypatch.setattr(module, "voila_query", lambda: asked.append(len(built)) or "budget=1e22")
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    widget = module.explorer(raise_errors=True)
    assert asked == [1] and len(built) == 1, "the page was not built before the visitor's request was awaited"
    assert widget is built[0].widget and built[0].state.scenario.budget == 1e22
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    module.explorer(raise_errors=True, query="budget=1e22")  # no pool: built once, for the request
    assert len(built) == 2


@pytest.mark.parametrize("x, text", [(1e23, "10\u00b2\u00b3"), (3e23, "3\u00d710\u00b2\u00b3"),
                                     (1e-5, "10\u207b\u2075"), (1.0, "10\u2070"), (2.5e7, "2.5\u00d710\u2077"),
                                     (0.0, ""), (float("nan"), "")])
def test_log_ticks_read_as_powers_of_ten(x, text):
    from scaling_explorer.app.format import fmt_power_of_ten

    assert fmt_power_of_ten(x) == text


def test_the_page_draws_without_mathtext(monkeypatch):
    """Tick labels are plain text: mathtext's parser cost every new kernel about 0.5 CPU-s."""
    import matplotlib.mathtext

    parsed = []
    parse = matplotlib.mathtext.MathTextParser.parse
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse",
                        lambda self, s, *a, **k: parsed.append(s) or parse(self, s, *a, **k))
    page = Explorer()
    page.figure.canvas.draw()
    labels = [t.get_text() for ax in page.figure.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert "10\u00b2\u2070" in labels, labels  # 1e20 FLOPs on the loss plot's axis
    assert parsed == [], parsed
