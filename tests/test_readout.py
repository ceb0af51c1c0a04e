"""The Readout: one status per model under the whole scenario, warnings and reasons, and extras registered once."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from scaling_explorer import Scenario, evaluate, get_law
from scaling_explorer.readout import (
    EXTRAS,
    Missing,
    budget_readout,
    numbers_table,
    register_extra,
    unregister_extra,
)
from scaling_explorer.wrappers import break_even_inference_tokens


def test_one_status_per_model_under_the_demand_with_the_training_status_beside_it():
    # Llama 3 8B (8B on 15T tokens) is over-trained for training cost alone (Epoch's refit) but, at its
    # break-even demand (closed form, Sardana et al.'s Lagrange condition), optimal for the demand.
    law = get_law("besiroglu2024")
    T = float(break_even_inference_tokens(law, 8e9, 15e12))
    r = evaluate(Scenario(inference_tokens=T, model="Llama 3 8B"))
    llama = r.all_models.set_index("name").loc["Llama 3 8B"]
    # today's tree: "status" stayed the training-only verdict while the plot read status_at_demand
    assert llama["status"] == "near-optimal" and llama["status_training"] == "overtrained"
    assert {st.key: st.status for st in r.selected.statuses}["besiroglu2024"] == "near-optimal"
    assert {st.key: st.status_training for st in r.selected.statuses}["besiroglu2024"] == "overtrained"
    without = evaluate(Scenario()).all_models.set_index("name").loc["Llama 3 8B"]
    assert without["status"] == without["status_training"] == "overtrained"


def test_a_missing_break_even_demand_says_why():
    table = evaluate(Scenario()).all_models.set_index("name")
    # Gopher, 280B on 300B tokens, is trained short of its Chinchilla point (Hoffmann §1).
    assert np.isnan(table.loc["Gopher", "break_even_inference_tokens"])
    assert "trained short of its Chinchilla point" in table.loc["Gopher", "break_even_reason"]
    assert table.loc["Llama 3 8B", "break_even_reason"] == ""
    kaplan = evaluate(Scenario(surface="kaplan2020")).all_models.set_index("name")
    assert kaplan.loc["Llama 3 8B", "break_even_reason"] == "needs a Chinchilla-form law"


def test_rows_warn_of_extrapolation_and_implausible_coefficients():
    r = evaluate(Scenario(budget=1e25, edits=(("besiroglu2024", "alpha", 2.0),)))
    warnings = r.row("besiroglu2024").warnings
    assert any("extrapolation" in w for w in warnings)  # Epoch's data reach 1.3e22 FLOPs
    assert any(w.startswith("alpha = 2 is far outside published fits") for w in warnings)
    assert evaluate(Scenario(budget=1e20)).row("besiroglu2024").warnings == ()


def test_every_result_carries_extrapolated_and_the_answer_is_judged_by_its_own_flops():
    # A target reached with ~1e20 FLOPs lies inside Epoch's span (1.4e18 to 1.3e22 FLOPs) although the
    # budget (5.76e23) does not.
    r = evaluate(Scenario(laws=("besiroglu2024",), target_loss=2.5))
    record = r.to_dict()["rows"][0]
    assert record["answer"] == "target" and record["training_flops"] < 1.3e22
    assert record["extrapolated"] is False and record["compute_optimal"]["extrapolated"] is True


def test_an_extra_registered_once_reaches_frame_csv_json_text_and_table():
    from test_cli import run

    def tokens_per_dollar(law, scenario, row):
        if row.loss is None:
            raise Missing("needs a loss law")
        return {"tokens_per_usd": row.tokens / budget_readout(scenario).cost_usd}

    register_extra("affordability", label="tokens per dollar", applies=lambda s: s.price != 2.0,
                   compute=tokens_per_dollar, values=("tokens_per_usd",), units={"tokens_per_usd": "tokens/$"})
    try:
        s = Scenario(price=4.0, laws=("besiroglu2024", "hoffmann2022-approach1"))
        r = evaluate(s)
        expected = r.row("besiroglu2024").tokens / r.budget.cost_usd
        assert r.row("besiroglu2024").extra("affordability")["tokens_per_usd"] == pytest.approx(expected)
        assert r.row("hoffmann2022-approach1").reasons == {"affordability": "needs a loss law"}
        frame = pd.read_csv(io.StringIO(r.to_csv()))
        assert frame.loc[0, "affordability_tokens_per_usd"] == pytest.approx(expected)
        assert frame.loc[1, "reasons"] == "needs a loss law"
        shown = json.loads(run("show", "--price", "4", "--laws", "besiroglu2024,hoffmann2022-approach1",
                               "--json").stdout)
        assert shown["rows"][0]["extras"]["affordability"]["tokens_per_usd"] == pytest.approx(expected)
        text = run("show", "--price", "4", "--laws", "besiroglu2024,hoffmann2022-approach1").stdout
        assert "tokens per dollar: tokens per usd" in text and "not given: needs a loss law" in text
        columns, rows = numbers_table(r)
        assert ("affordability_tokens_per_usd", "tokens per dollar: tokens per usd (tokens/$)") in columns
        assert rows[0]["affordability_tokens_per_usd"] == pytest.approx(expected)
        # Not asked for: no column, no key.
        assert "affordability_tokens_per_usd" not in evaluate(Scenario()).to_frame()
        with pytest.raises(ValueError, match="already registered"):
            register_extra("affordability", label="x", applies=bool, compute=tokens_per_dollar, values=())
    finally:
        unregister_extra("affordability")
    assert "affordability" not in EXTRAS


def test_numbers_table_lists_the_answer_then_each_extra():
    r = evaluate(Scenario(inference_tokens=1e13, flatness=0.01))
    columns, rows = numbers_table(r)
    names = [c for c, _ in columns]
    assert names[:4] == ["label", "params", "tokens", "tokens_per_param"] and "total_flops" in names
    assert "inference_aware_params" in names and "flat_range_params_low" in names
    assert len(rows) == len(r.rows) and rows[0]["params"] == r.rows[0].params


@pytest.mark.parametrize("demand", [0.0, 1e13])
def test_the_shading_edges_and_the_models_status_agree(demand):
    # The defect: the plot drew a model as near-optimal while the table called it over-trained. Both now
    # come from the Readout: a placed model is over-trained exactly when it lies above the high edge (and
    # undertrained below the low one), at the demand when one is set.
    r = evaluate(Scenario(inference_tokens=demand))
    assert (r.status_condition is None) == (demand == 0) and (demand == 0 or r.status_condition.applies)
    N_low, D_low, N_high, D_high = r.band_edges(np.geomspace(1e8, 1e36, 400))
    models = r.plotted[r.plotted["status"] != "not described"]
    logN, logD = np.log(models["compute_params"].to_numpy(float)), np.log(models["tokens"].to_numpy(float))
    checked = 0
    for N_edge, D_edge, status, above in ((N_high, D_high, "overtrained", True),
                                          (N_low, D_low, "undertrained", False)):
        order = np.argsort(N_edge)
        inside = (logN > np.log(N_edge.min())) & (logN < np.log(N_edge.max()))
        edge = np.interp(logN, np.log(N_edge[order]), np.log(D_edge[order]))
        clear = inside & (np.abs(logD - edge) > 0.02)  # off the edge by more than 2% in D
        is_status = (models["status"] == status).to_numpy()
        np.testing.assert_array_equal(is_status[clear], ((logD > edge) if above else (logD < edge))[clear])
        checked += int(clear.sum())
    assert checked > 100  # both edges checked against most of the catalog


def test_the_status_condition_names_what_a_law_cannot_take():
    r = evaluate(Scenario(inference_tokens=1e13, surface="kaplan2020"))
    condition = r.status_condition
    assert not condition.applies and "Chinchilla-form" in condition.unmet
    assert condition.text() == "T = 1e+13 tokens of demand"
    assert condition.ratio_column not in r.all_models.columns
    # The shading falls back to the training-only band, as the status does.
    trained = evaluate(Scenario(surface="kaplan2020")).band_edges(np.geomspace(1e18, 1e26, 5))
    for a, b in zip(r.band_edges(np.geomspace(1e18, 1e26, 5)), trained, strict=True):
        np.testing.assert_array_equal(a, b)
