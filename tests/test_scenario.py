"""Scenario: validation, lossless round trips (hypothesis), to_code; evaluate() against closed forms."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from scaling_explorer import PRESETS, Scenario, ScenarioError, evaluate, get_law
from scaling_explorer.conventions import FLOP_MODELS
from scaling_explorer.readout import catalog
from scaling_explorer.scenario import LAYERS

LOSS_LAWS = [k for k, law in PRESETS.items() if law.has_loss]
MODEL_NAMES = sorted(catalog()["name"])


from scenario_strategies import scenarios  # noqa: E402  (every field, from its declaration)

ROUND_TRIP = settings(max_examples=150, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@ROUND_TRIP
@given(scenarios)
def test_query_round_trip_is_lossless(s):
    assert Scenario.from_query(s.to_query()) == s
    assert Scenario.from_query("?" + s.to_query()) == s


@ROUND_TRIP
@given(scenarios)
def test_json_round_trip_is_lossless(s):
    assert Scenario.from_json(s.to_json()) == s
    assert json.loads(s.to_json())["budget"] == s.budget


def test_default_scenario_has_an_empty_query_and_opens_on_chinchillas_budget():
    assert Scenario().to_query() == ""
    assert Scenario.from_query("") == Scenario()
    assert Scenario().budget == 5.76e23


def test_documented_query_keys():
    s = Scenario.from_query(
        "budget=3.14e23&laws=besiroglu2024,kaplan2020&surface=hoffmann2022-approach3&model=GPT-3+175B")
    assert s.budget == 3.14e23  # exact: no snapping to a slider grid
    assert s.laws == ("besiroglu2024", "kaplan2020") and s.surface == "hoffmann2022-approach3"
    assert s.model == "GPT-3 175B"
    assert Scenario.from_query("laws=").laws == ()


@pytest.mark.parametrize("query, key", [
    ("budget=abc", "budget"),
    ("budget=1e40", "budget"),
    ("budget=nan", "budget"),
    ("laws=chinchilla", "laws"),
    ("surface=hoffmann2022-approach1", "surface"),  # an allocation law has no loss surface
    ("edit=besiroglu2024:gamma:1", "edit"),
    ("edit=besiroglu2024:alpha:0", "edit"),
    ("edit=besiroglu2024:alpha", "edit"),
    ("band=1", "band"),
    ("years=last", "years"),
    ("weights=some", "weights"),
    ("arch=sparse", "arch"),
    ("hw=TPU", "hw"),
    ("mfu=40", "mfu"),
    ("price=-1", "price"),
    ("model=GPT-7", "model"),
    ("hide=everything", "hide"),
    ("present=maybe", "present"),
    ("colour=red", "colour"),
    ("budget=1e23&budget=1e24", "budget"),
    ("serve=-1", "serve"),
    ("serve=lots", "serve"),
    ("serve=inf", "serve"),
    ("unique=0", "unique"),
    ("unique=1e40", "unique"),
    ("target=-2", "target"),
    ("target=nan", "target"),
    ("count=embedding", "count"),
    ("flop=7ND", "flop"),
    ("flat=2", "flat"),
    ("flat=abc", "flat"),
])
def test_bad_queries_raise_naming_the_key(query, key):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_query(query)
    assert info.value.field == key and str(info.value).startswith(f"{key}:")
    assert "\n" not in str(info.value)


def test_fields_validate_on_construction_and_replace():
    with pytest.raises(ScenarioError, match="^mfu:"):
        Scenario(mfu=0.0)
    with pytest.raises(ScenarioError, match="^budget:"):
        Scenario().replace(budget=-1.0)
    with pytest.raises(ScenarioError, match="^laws:"):
        Scenario(laws="kaplan2020")  # a string is not a tuple of keys


def test_edits_apply_to_the_law_and_are_data():
    s = Scenario(edits=(("besiroglu2024", "alpha", 0.4),))
    assert s.law("besiroglu2024").alpha == 0.4 and get_law("besiroglu2024").alpha == 0.3478
    assert evaluate(s).row("besiroglu2024").edited
    assert "(edited)" in evaluate(s).row("besiroglu2024").label


def test_readout_rows_match_closed_forms_and_reference_numbers():
    r = evaluate(Scenario(budget=5.76e23, laws=("besiroglu2024", "hoffmann2022-approach3-unrounded", "kaplan2020")))
    # Reference A2, derived table: Epoch's refit at 5.76e23 FLOPs gives 7.23e10 / 1.33e12.
    row = r.row("besiroglu2024")
    assert row.params == pytest.approx(7.23e10, rel=2e-3) and row.tokens == pytest.approx(1.33e12, rel=3e-3)
    assert row.tokens_per_param == pytest.approx(row.tokens / row.params)
    assert 6 * row.params * row.tokens == pytest.approx(5.76e23, rel=1e-12)
    assert row.extrapolated  # fitted on 1.4e18 to 1.3e22 FLOPs
    assert r.row("hoffmann2022-approach3-unrounded").params == pytest.approx(4.04e10, rel=5e-3)
    # Kaplan's frontier loss is its compute law (3.1e8 PF-days / C_min)**0.05, C = 2 C_min.
    assert r.row("kaplan2020").loss == pytest.approx((3.1e8 / (5.76e23 / 2 / 8.64e19)) ** 0.05, rel=1e-12)
    # Budget: 1 PF-day = 8.64e19 FLOPs; H100 at 989 TFLOP/s dense, 40% MFU, $2/GPU-hour.
    assert r.budget.pf_days == pytest.approx(5.76e23 / 8.64e19)
    assert r.budget.gpu_hours == pytest.approx(5.76e23 / (989e12 * 0.4) / 3600)
    assert r.budget.cost_usd == pytest.approx(2 * r.budget.gpu_hours)
    assert not evaluate(Scenario(budget=1e20)).row("besiroglu2024").extrapolated


def test_readout_models_follow_filters_and_card_follows_selection():
    base = evaluate(Scenario())
    moe = evaluate(Scenario(architecture="moe", years=(2024, 2024)))
    assert set(moe.models["architecture"]) == {"moe"}
    assert set(moe.models["release_date"].dt.year) == {2024}
    assert 0 < len(moe.models) < len(base.models)
    card = evaluate(Scenario(model="Gopher")).selected
    assert card.model["name"] == "Gopher" and len(card.statuses) == 3
    # Gopher, 280B on 300B tokens, is undertrained under Epoch's refit (Hoffmann §1, Fig. 1).
    assert {st.key: st.status for st in card.statuses}["besiroglu2024"] == "undertrained"
    assert evaluate(Scenario(model="")).selected is None


def test_exports_parse_and_carry_every_row():
    import io

    import pandas as pd

    r = evaluate(Scenario(budget=1e24))
    frame = pd.read_csv(io.StringIO(r.to_csv()))
    assert list(frame["key"]) == list(Scenario().laws)
    np.testing.assert_allclose(frame["params"], [row.params for row in r.rows], rtol=1e-12)
    models = pd.read_csv(io.StringIO(r.models_to_csv()))
    assert len(models) == len(r.models) and "status" in models


def test_to_code_recomputes_the_same_numbers_in_a_fresh_interpreter():
    from scaling_explorer import ParametricLaw, register_law

    register_law("test-fit", ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37, name="a fit"),
                 replace=True)
    s = Scenario(budget=3.14e23, laws=("kaplan2020", "test-fit"), edits=(("besiroglu2024", "beta", 0.3),),
                 model="GPT-3 175B")
    code = s.to_code()
    assert len(code.splitlines()) <= 10
    # Run it as printed, then dump the same readout as JSON to compare every number.
    code += "import json; print(json.dumps(readout.to_dict()))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Kaplan" in out.stdout
    assert json.loads(out.stdout.splitlines()[-1]) == json.loads(json.dumps(evaluate(s).to_dict()))


def test_beyond_chinchilla_query_keys_and_neutral_defaults():
    s = Scenario.from_query("serve=1e13&unique=2e11&target=2.0")
    assert (s.inference_tokens, s.unique_tokens, s.target_loss) == (1e13, 2e11, 2.0)
    assert Scenario.from_query("unique=&target=") == Scenario()
    default = Scenario()
    assert (default.inference_tokens, default.unique_tokens, default.target_loss) == (0.0, None, None)
    row = evaluate(default).row("besiroglu2024")
    assert (row.total_flops, row.inference_aware, row.data_constrained, row.target, row.notes) == (
        None, None, None, None, ())
    # The default export keeps today's columns.
    assert "total_flops" not in evaluate(default).to_frame()


def test_inference_demand_adds_the_equal_loss_inference_aware_row():
    from scaling_explorer.wrappers import lifetime_flops, optimum_for_loss

    T = 1e13
    r = evaluate(Scenario(inference_tokens=T, laws=("besiroglu2024", "kaplan2020", "hoffmann2022-approach1")))
    row, law = r.row("besiroglu2024"), get_law("besiroglu2024")
    # Same loss as the training-only optimum, and the cheapest way to it over the lifetime.
    N, D = optimum_for_loss(law, row.loss, T)
    assert row.inference_aware.params == pytest.approx(float(N), rel=1e-12)
    assert row.inference_aware.loss == pytest.approx(row.loss, rel=1e-12)
    assert row.total_flops == pytest.approx(5.76e23 + 2 * row.params * T)
    assert row.inference_aware.total_flops == pytest.approx(float(lifetime_flops(law, N, D, T)))
    assert row.inference_aware.total_flops < row.total_flops and row.inference_aware.params < row.params
    # Laws it cannot take say why instead of a number.
    assert r.row("kaplan2020").inference_aware is None and "Chinchilla-form" in r.row("kaplan2020").notes[0]
    assert r.row("hoffmann2022-approach1").total_flops == pytest.approx(5.76e23 + 2 * r.row(
        "hoffmann2022-approach1").params * T)
    frame = r.to_frame()
    assert frame.loc[0, "inference_aware_params"] == pytest.approx(row.inference_aware.params)
    assert frame.loc[0, "total_flops"] == pytest.approx(row.total_flops)


def test_unique_tokens_and_target_loss_rows():
    from scaling_explorer.wrappers import DataConstrained, for_loss

    r = evaluate(Scenario(budget=1e22, unique_tokens=25e9, target_loss=2.0, laws=("muennighoff2023",),
                          surface="muennighoff2023"))
    row = r.row("muennighoff2023")
    # datablations README: 1e22 FLOPs on 25B unique tokens -> 237.3B tokens, 7.02B parameters.
    assert row.data_constrained.tokens == pytest.approx(237336955477.55, rel=3e-3)
    assert row.data_constrained.epochs == pytest.approx(9.49, abs=0.03)
    assert row.data_constrained.loss == pytest.approx(float(DataConstrained(get_law("muennighoff2023"), 25e9).loss(
        row.data_constrained.params, row.data_constrained.tokens)))
    assert row.epochs == pytest.approx(row.tokens / 25e9)
    assert row.target.params == pytest.approx(for_loss(get_law("muennighoff2023"), 2.0).params)
    assert row.target_inference_aware is None  # no demand set


def test_models_carry_their_break_even_inference_demand():
    from scaling_explorer.wrappers import break_even_inference_tokens

    r = evaluate(Scenario(model="Llama 3 8B"))
    table = r.all_models.set_index("name")
    law = get_law("besiroglu2024")
    expected = float(break_even_inference_tokens(law, 8e9, table.loc["Llama 3 8B", "tokens"]))
    assert table.loc["Llama 3 8B", "break_even_inference_tokens"] == pytest.approx(expected)
    assert np.isnan(table.loc["Gopher", "break_even_inference_tokens"])  # undertrained: no demand makes it optimal
    card = {st.key: st.break_even_inference_tokens for st in r.selected.statuses}
    assert card["besiroglu2024"] == pytest.approx(expected) and card["kaplan2020"] is None
def test_param_count_flop_model_and_flatness_reach_every_row():
    from scaling_explorer.frontier import flat_optimum
    from scaling_explorer.reexpress import reexpress

    default = evaluate(Scenario())
    assert all(r.extra("flat_range") is None and r.flop_model == "6ND" for r in default.rows)
    s = Scenario.from_query("count=non-embedding&flat=0.01&laws=besiroglu2024,kaplan2020,hoffmann2022-approach1")
    assert s.to_query() == "laws=besiroglu2024,kaplan2020,hoffmann2022-approach1&count=non-embedding&flat=0.01"
    r = evaluate(s)
    epoch = r.row("besiroglu2024")
    assert epoch.params_meaning == "non-embedding" and "non-embedding N" in epoch.label
    law = reexpress(get_law("besiroglu2024"), "non-embedding")
    N, D = law.compute_optimal(s.budget)
    assert (epoch.params, epoch.tokens) == pytest.approx((float(N), float(D)), rel=1e-12)
    flat = flat_optimum(law, s.budget, 0.01)
    given = epoch.extra("flat_range")
    assert (given["params_low"], given["params_high"]) == pytest.approx((float(flat.params_low),
                                                                         float(flat.params_high)))
    assert given["tokens_low"] < epoch.tokens < given["tokens_high"]
    # Kaplan already counts non-embedding parameters: unchanged; an allocation law has no loss, no range.
    assert r.row("kaplan2020").params == default.row("kaplan2020").params
    assert r.row("hoffmann2022-approach1").extra("flat_range") is None
    total = evaluate(Scenario(param_count="total"))
    assert total.row("kaplan2020").params_meaning == "total" and ", total N" in total.row("kaplan2020").label
    assert total.row("kaplan2020").params > default.row("kaplan2020").params
    chin = evaluate(Scenario(flop_model="chinchilla", laws=("besiroglu2024",))).row("besiroglu2024")
    assert chin.flop_model == "chinchilla" and chin.params < default.row("besiroglu2024").params
    frame = r.to_frame()
    assert {"flop_model", "flat_range_params_low", "flat_range_params_high", "flat_range_tokens_low",
            "flat_range_tokens_high"} <= set(frame.columns)


def test_a_flop_model_a_law_cannot_take_is_refused_naming_the_key():
    with pytest.raises(ScenarioError, match="^flop:"):
        Scenario.from_query("laws=krajewski2024&flop=chinchilla")


# -- declarations: one per field, everything derived -------------------------------------------
def test_every_field_is_declared_with_a_unique_key_a_doc_and_a_valid_default():
    from scaling_explorer.scenario import FIELDS, KINDS, choice

    assert [f.name for f in dataclasses.fields(Scenario) if f.init] == list(FIELDS)
    keys = [c.key for c in FIELDS.values()]
    assert len(set(keys)) == len(keys)
    for name, c in FIELDS.items():
        assert c.kind in KINDS and c.doc and c.example, name
        assert choice(c.key) is c is choice(name)
        Scenario.from_query(f"{c.key}={c.example}")  # the documented example is accepted


def test_view_preferences_are_declared_and_carried_by_a_step():
    page = Scenario(present=True, hide=("labels",))
    step = Scenario(budget=1e22)
    assert page.view_preferences() == {"hide": ("labels",), "present": True}
    assert step.with_view_of(page, ("present",)) == Scenario(budget=1e22, present=True)
    assert step.with_view_of(page) == Scenario(budget=1e22, present=True, hide=("labels",))
    with pytest.raises(ScenarioError, match="^budget:"):
        step.with_view_of(page, ("budget",))


def test_lenient_query_names_each_bad_key_and_applies_the_good_ones():
    s, problems = Scenario.from_query_lenient("budget=1e22&colour=red&mfu=40&serve=1e13&present=1&price=abc")
    assert (s.budget, s.inference_tokens, s.present) == (1e22, 1e13, True)
    assert s.mfu == Scenario().mfu and s.price == Scenario().price
    assert set(problems) == {"colour", "mfu", "price"} and "unknown" in problems["colour"]
    # A key refused only with the others (a target below the surface law's E) is dropped, not the rest.
    s, problems = Scenario.from_query_lenient("target=1.0&budget=1e22")
    assert s.budget == 1e22 and s.target_loss is None and "irreducible" in problems["target"]
    assert Scenario.from_query_lenient("") == (Scenario(), {})


@pytest.mark.parametrize("query, key, reason", [
    # Epoch's refit: E = 1.8172 (Besiroglu et al. 2024, Table 1; reference A2): no model reaches 1.8.
    ("target=1.8", "target", "irreducible"),
    ("target=1.8172", "target", "irreducible"),
    ("target=50", "target", "262k vocabulary"),
    # Villalobos et al. 2024: the stock of public text is 1e14 to 1e15 tokens (90%).
    ("unique=3e15", "unique", "Villalobos"),
    ("price=5000", "price", "list price"),
    ("band=1000", "band", "outside"),
])
def test_nonsense_is_refused_with_a_reason_not_clamped(query, key, reason):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_query(query)
    assert info.value.field == key and reason in str(info.value)


def test_ranges_for_controls_come_from_the_declarations():
    from scaling_explorer.scenario import BUDGET_RANGE, choice

    assert choice("budget").range() == BUDGET_RANGE
    assert choice("unique").range() == (0.0, 1e15)
    assert choice("flop").choices() == tuple(FLOP_MODELS)
    assert choice("hide").choices() == LAYERS and choice("hide").view


def test_the_docs_key_table_is_generated_from_the_declarations():
    from pathlib import Path

    from scaling_explorer.scenario import FIELDS, docs_with_key_table

    text = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    assert docs_with_key_table(text) == text, "regenerate: python -m scaling_explorer.scenario docs/api.md"
    for c in FIELDS.values():
        assert f"| `{c.key}` |" in text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios, scenarios)
def test_replace_equals_a_fresh_build_for_every_field(a, b):
    """replace() checks only what changed; it must accept and refuse exactly what the constructor does."""
    for f in dataclasses.fields(Scenario):
        if not f.init:
            continue
        value = getattr(b, f.name)
        fields = {g.name: getattr(a, g.name) for g in dataclasses.fields(Scenario) if g.init} | {f.name: value}
        try:
            fresh = Scenario(**fields)
        except ScenarioError as exc:
            with pytest.raises(ScenarioError) as info:
                a.replace(**{f.name: value})
            assert info.value.field == exc.field
            continue
        moved = a.replace(**{f.name: value})
        assert moved == fresh
        for key in fresh.laws:
            assert moved.law(key) == fresh.law(key)
