"""The page's parts for issues 21 and 23, headless: the predicted-error and distillation-region layers, the
controls bound to the new fields, the extras' lines and notes in the numbers table, observed scores on the card.

Reference numbers: Gadre et al. 2024 RedPajama 17-task error law k 2.206, γ 0.7146, ε 0.8570
(reference.md A6.3); Busbridge et al. 2025, a 1B student on 20B tokens gains 2.3747 − 2.2773 nats from a
7.75B teacher on 155B tokens (A6.5); Pearce & Song 2024, N_total = N + 47491 N^(1/3).
"""

import math

import numpy as np
import pytest

from scaling_explorer import Scenario
from scaling_explorer.app import Explorer
from scaling_explorer.app.format import fmt_count
from scaling_explorer.app.layers import ERROR_LABEL, ERROR_LEVELS
from scaling_explorer.downstream import TRUST_NOTE


def labels(app):
    return [h.get_label() for h in app.plots.legend_handles()]


def test_the_error_layer_is_drawn_only_under_a_law_with_a_downstream_map():
    app = Explorer(raise_errors=True)
    layer = app.plots.layer_of("error")
    assert not any(a.get_visible() for a in layer.artists()) and ERROR_LABEL not in labels(app)
    app.state.update(surface="gadre2024-rpj")
    assert all(line.get_visible() for line in layer.lines) and ERROR_LABEL in labels(app)
    assert ERROR_LABEL.replace("\n", " ") == "average top-1 error, 17 tasks (Gadre et al. 2024; C4-eval loss)"
    law = app.state.scenario.law("gadre2024-rpj")
    for level, line in zip(ERROR_LEVELS, layer.lines, strict=True):  # each line is at its error, by A6.3's law
        N, D = line.get_data()
        finite = np.flatnonzero(np.isfinite(D))
        i = finite[len(finite) // 2]
        error = 0.8570 - 2.206 * math.exp(-0.7146 * float(law.loss(N[i], D[i])))
        assert error == pytest.approx(level, abs=2e-3)
    assert {t.get_text() for t in layer.texts} >= {"0.35", "0.50"}
    app.state.update(hide=("error",))
    assert not any(a.get_visible() for a in layer.artists())
    app.state.update(hide=(), surface="besiroglu2024")  # back to a law without a map: gone again
    assert not any(a.get_visible() for a in layer.artists()) and ERROR_LABEL not in labels(app)


def test_the_distillation_region_follows_the_teacher_and_the_accounting():
    app = Explorer(raise_errors=True)
    layer = app.plots.layer_of("distillation")
    assert layer.region is None and not layer.artists() and not any("distilling" in t for t in labels(app))
    app.state.update(teacher="7.75e9:1.55e11")
    assert all(a.get_visible() for a in layer.artists()) and len(layer.artists()) == 2
    assert "distilling from 7.75e9:1.55e11 wins\n(teacher free; Busbridge et al. 2025)" in labels(app)
    # The 1B (non-embedding) student on 20B tokens gains about 0.097 nats: inside. On the plane N is the
    # surface law's count (total parameters for Epoch's refit).
    N_total = 1e9 + 47491 * 1e9 ** (1 / 3)
    shown = layer.region
    i = np.searchsorted(layer.students[1][:, 0], 20e9)
    j = np.searchsorted(layer.students[0][0], N_total)
    assert shown[i, j] and 0 < shown.mean() < 1
    app.state.update(hide=("distillation",))
    assert not any(a.get_visible() for a in layer.artists())
    app.state.update(hide=(), accounting="teacher-pretraining-and-inference")  # the teacher's 6.5e21 FLOPs count
    assert layer.region.sum() < shown.sum()
    app.state.update(teacher="2.0036")  # a bare loss: its costs cannot be counted (the table says why)
    assert not layer.artists() and not any("distilling" in t for t in labels(app))
    assert "counts the teacher&#x27;s FLOPs" in app.numbers.widget.value


def test_controls_are_bound_to_the_new_fields_and_bad_input_shows_beside_them():
    app = Explorer()
    c = app.controls
    c.teacher.value = "Llama 3 70B"
    c.accounting.value = "teacher-inference"
    c.size_ratio.value = 20.0
    c.hyperparameters.value = True
    s = app.state.scenario
    assert (s.teacher, s.accounting, s.size_ratio, s.hyperparameters) == ("Llama 3 70B", "teacher-inference", 20.0,
                                                                          True)
    c.teacher.value = "GPT-17"
    assert app.state.scenario.teacher == "Llama 3 70B" and "not a catalog model" in c.distill_message.value
    c.size_ratio.value = 0.5
    assert app.state.scenario.size_ratio == 20.0 and "from 1 to 10000" in c.size_message.value
    assert "Llama 3 70B" in c.teacher.options and c.accounting.options[0][1] == "best-case"
    app.state.update(teacher="")  # read back
    assert c.teacher.value == ""


def test_numbers_table_shows_each_extra_and_its_note_once():
    app = Explorer(raise_errors=True, scenario=Scenario(laws=("gadre2024-rpj", "besiroglu2024"),
                                                        teacher="Llama 3 70B", inference_tokens=1e13,
                                                        hyperparameters=True))
    html = app.numbers.widget.value
    for label in ("predicted average top-1 error over 17 and 46 tasks", "distilled from the teacher",
                  "test-time compute against an M-times larger model", "hyperparameters:"):
        assert label in html
    assert html.count(TRUST_NOTE[:40]) == 1  # the trust note once, beside the downstream numbers
    assert "has no downstream map" in html  # the law that cannot give one says why


def test_model_card_shows_observed_scores_with_their_source():
    app = Explorer(raise_errors=True, scenario=Scenario(model="Llama 2 7B"))
    card = app.card.widget.value
    assert "Observed benchmark scores" in card and "<td>74.0%</td>" in card  # Winogrande 0.7403
    assert "Ruan, Maddison &amp; Hashimoto 2024" in card
    app.state.update(model="Chinchilla")  # not in their table
    assert "Observed benchmark scores" not in app.card.widget.value


def test_a_new_extra_reaches_the_numbers_table_as_it_declares_itself():
    # A feature adds an allocation row and range columns by registering an extra: the page needs no edit.
    import ipywidgets as w

    from scaling_explorer.app.state import AppState
    from scaling_explorer.app.views import NumbersView
    from scaling_explorer.readout import register_extra, unregister_extra

    def halved(law, s, row):  # half the compute-optimal N on the same budget's iso-FLOP line (6ND)
        N = row.params / 2
        D = s.budget / (6 * N)
        return {"params": N, "tokens": D, "tokens_per_param": D / N, "loss": float(law.loss(N, D)),
                "training_flops": s.budget, "total_flops": s.budget}

    def spread(law, s, row):
        return {"low": row.params / s.mfu, "high": row.params * s.mfu * 10}

    register_extra("halved", label="half size", applies=lambda s: s.mfu != 0.4, compute=halved,
                   values=("params", "tokens", "tokens_per_param", "loss", "training_flops", "total_flops"),
                   shown_as="allocation", caption="half N at MFU {mfu:.0%}", title="half the optimal N",
                   columns=("training_flops",))
    register_extra("spread", label="spread", applies=lambda s: s.mfu != 0.4, compute=spread, values=("low", "high"),
                   shown_as="range", ranges=(("N spread at {budget:count} FLOPs", "low", "high"),))
    try:
        state = AppState(Scenario(laws=("besiroglu2024",), budget=1e24))
        view = NumbersView(state, w.HTML())
        assert "half N" not in view.widget.value and "spread" not in view.widget.value
        state.update(mfu=0.5)
        table = view.widget.value
        row = state.readout.row("besiroglu2024")
        assert '<tr class="se-sub" title="half the optimal N"><td>&#8627; half N at MFU 50%</td>' in table
        assert "<th>N spread at 1e24 FLOPs</th>" in table and "<th>training FLOPs</th>" in table
        assert table.count("<th>") == 7  # law, N, D, D/N, loss, the range, training FLOPs
        N = row.params
        assert f"<td>{fmt_count(N / 2)}</td>" in table
        assert f"<td>{fmt_count(N / 0.5)} – {fmt_count(N * 5)}</td>" in table
    finally:
        unregister_extra("halved")
        unregister_extra("spread")
