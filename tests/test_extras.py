"""Issues 21 and 23 on the seams: the four extras against the papers' worked examples, their fields declared once.

Reference numbers (``reference.md`` A6.3, A6.5, A6.6, A6.7):
- Busbridge et al. 2025: a 1B student on 20B tokens from a 7.75B teacher on 155B tokens reaches 2.2773;
  trained directly 2.3747; the teacher 2.0036.
- Li et al. 2025 (Step Law): N = 7e9, D = 1.4e12 gives about 9.2e-4 and 5.0M tokens.
- Snell et al. 2024 §7: M = 14 gives 53.00 at D_inf = D_pre and 15.77 at D_inf = 22 D_pre.
- Gadre et al. 2024 (RedPajama law): the 6.9B model at M = 20 is predicted at C4-eval loss 2.4427;
  17-task error law k 2.206, γ 0.7146, ε 0.8570.
- Pearce & Song 2024: N_total = N_nonemb + 47491 N_nonemb^(1/3).
"""

import dataclasses
import io
import json
import math

import pandas as pd
import pytest
from hypothesis import find

from scaling_explorer import Scenario, ScenarioError, evaluate, presets
from scaling_explorer.laws import ParametricLaw
from scaling_explorer.readout import EXTRAS

FIXED = "test-fixed-allocation"


def fixed_ratio_law(tokens_per_param: float) -> ParametricLaw:
    """A non-embedding Chinchilla-form law whose optimum has D/N = ``tokens_per_param`` at every budget.

    With alpha = beta the optimum of C = 6ND is N = G (C/6)^(1/2), G = (A/B)^(1/(2 alpha)), so
    D/N = 1/G^2, and A/B = ratio^(-alpha) gives the ratio.
    """
    alpha, B = 0.3, 1000.0
    return ParametricLaw(E=1.5, A=B * tokens_per_param**-alpha, B=B, alpha=alpha, beta=alpha, name="fixed D/N",
                         params_meaning="non-embedding")


@pytest.fixture
def at(monkeypatch):
    """at(N, D, **fields): a Scenario showing one law whose optimum is N non-embedding parameters on D tokens."""

    def scenario(N, D, **fields):
        monkeypatch.setitem(presets._REGISTRY, FIXED, fixed_ratio_law(D / N))
        s = Scenario(laws=(FIXED,), budget=6 * N * D, **fields)
        row = evaluate(s).row(FIXED)
        assert (row.params, row.tokens) == pytest.approx((N, D), rel=1e-9)
        return s

    return scenario


# -- distillation ---------------------------------------------------------------------------------------
def test_distillation_worked_example_through_the_readout(at):
    r = evaluate(at(1e9, 20e9, teacher="7.75e9:1.55e11"))
    d = r.row(FIXED).extra("distillation")
    assert d["student_params"] == pytest.approx(1e9)  # a non-embedding law: no conversion
    assert (d["student_loss"], d["supervised_loss"], d["teacher_loss"]) == pytest.approx((2.2773, 2.3747, 2.0036),
                                                                                        abs=5e-5)
    # Best case: the teacher is free, so the same FLOPs train the student directly on the same tokens.
    assert d["advantage"] == pytest.approx(2.3747 - 2.2773, abs=1e-4)
    assert d["flops"] > 6 * 1e9 * 20e9  # Eq. 9 counts attention and the output layer on top of 6ND
    assert r.notes["distillation"].startswith("Busbridge et al. fitted these laws on their own models")


def test_distillation_accounting_counts_the_teacher_and_a_bare_loss_cannot_be_counted(at):
    best = evaluate(at(1e9, 20e9, teacher="7.75e9:1.55e11")).row(FIXED).extra("distillation")
    paid = evaluate(at(1e9, 20e9, teacher="7.75e9:1.55e11", accounting="teacher-inference")).row(FIXED)
    # The teacher's forward passes on the student's 20B tokens cost at least 2 N_T per token.
    assert paid.extra("distillation")["flops"] - best["flops"] > 2 * 7.75e9 * 20e9
    assert paid.extra("distillation")["advantage"] < best["advantage"]  # more FLOPs for the direct student
    bare = evaluate(at(1e9, 20e9, teacher="2.0036", accounting="teacher-inference")).row(FIXED)
    assert bare.extra("distillation") is None and "counts the teacher's FLOPs" in bare.reasons["distillation"]
    assert evaluate(at(1e9, 20e9, teacher="2.0036")).row(FIXED).extra("distillation")["student_loss"] == \
        pytest.approx(2.2773, abs=1e-4)  # the same teacher given by its loss


def test_a_total_count_optimum_is_converted_to_non_embedding_for_the_student():
    r = evaluate(Scenario(laws=("besiroglu2024",), teacher="Llama 3 8B", hyperparameters=True))
    row = r.row("besiroglu2024")
    n = row.extra("distillation")["student_params"]
    assert n + 47491 * n ** (1 / 3) == pytest.approx(row.params, rel=1e-9)  # Pearce & Song's fit, inverted
    assert row.extra("hyperparameters")["params_non_embedding"] == pytest.approx(n)
    moe = evaluate(Scenario(laws=("krajewski2024",), teacher="Llama 3 8B"))
    assert moe.row("krajewski2024").extra("distillation") is not None  # N counts every expert: not active-per-token


# -- hyperparameters --------------------------------------------------------------------------------------
def test_hyperparameters_worked_example_side_by_side(at):
    s = at(7e9, 1.4e12, hyperparameters=True)
    h = evaluate(s).row(FIXED).extra("hyperparameters")
    assert h["step_law_learning_rate"] == pytest.approx(9.2e-4, rel=5e-3)  # Li et al.'s worked example
    assert h["step_law_batch_tokens"] == pytest.approx(5.0e6, rel=1e-2)
    C = 6 * 7e9 * 1.4e12  # DeepSeek LLM eq. 1 at C = M D with M = 6N
    assert h["deepseek_learning_rate"] == pytest.approx(0.3118 * C**-0.1250, rel=1e-9)
    assert h["deepseek_batch_tokens"] == pytest.approx(0.2920 * C**0.3271, rel=1e-9)
    assert "hyperparameters" not in evaluate(s.replace(hyperparameters=False)).row(FIXED).extras


# -- test-time compute --------------------------------------------------------------------------------------
@pytest.mark.parametrize("inference_over_training, multiplier", [(1.0, 53.00), (22.0, 15.77)])
def test_test_time_exchange_worked_examples(at, inference_over_training, multiplier):
    r = evaluate(at(1e9, 20e9, inference_tokens=20e9 * inference_over_training))
    t = r.row(FIXED).extra("test_time")
    assert t["size_ratio"] == 14.0 and t["inference_ratio"] == pytest.approx(inference_over_training)
    assert t["inference_multiplier"] == pytest.approx(multiplier, abs=5e-3)
    assert r.notes["test_time"].startswith("Test-time and pre-training compute are not 1-to-1 exchangeable")


def test_test_time_exchange_tends_to_m_as_inference_dominates_and_needs_demand(at):
    s = at(1e9, 20e9, inference_tokens=1e30, size_ratio=20.0)
    assert evaluate(s).row(FIXED).extra("test_time")["inference_multiplier"] == pytest.approx(20.0, rel=1e-9)
    assert evaluate(s.replace(size_ratio=1.0)).row(FIXED).extra("test_time")["inference_multiplier"] == 1.0
    assert "test_time" not in evaluate(s.replace(inference_tokens=0.0)).row(FIXED).extras


# -- downstream error ----------------------------------------------------------------------------------------
def test_downstream_worked_example_the_6_9b_model_at_m_20():
    from scaling_explorer.downstream import load_runs

    runs = load_runs()
    big7 = runs[runs["run"] == "rpj-open_lm_7b-1.0"].iloc[0]
    s = Scenario(laws=("gadre2024-rpj",))
    law, row = s.law("gadre2024-rpj"), evaluate(s).row("gadre2024-rpj")
    N, D = float(big7["params"]), float(big7["tokens"])
    assert D / N == pytest.approx(20, rel=0.01)
    moved = dataclasses.replace(row, params=N, tokens=D, tokens_per_param=D / N, loss=None)
    d = EXTRAS["downstream"].compute(law, s, moved)
    assert d["loss"] == pytest.approx(2.4427, abs=5e-5)  # reference.md A6.3, their re-run
    assert d["error_17"] == pytest.approx(0.8570 - 2.206 * math.exp(-0.7146 * 2.4427), abs=2e-3)
    assert d["extrapolated"] is True  # 6.9B is outside the 11M-411M runs the loss law was fitted on


def test_downstream_error_is_mapped_from_the_answer_and_carries_the_trust_note():
    # With a target the answer reaches that loss; the error is the error law's at that loss (A6.3 constants).
    r = evaluate(Scenario(laws=("gadre2024-rpj", "besiroglu2024"), target_loss=2.4427))
    d = r.row("gadre2024-rpj").extra("downstream")
    assert d["loss"] == pytest.approx(2.4427, abs=1e-6)
    assert d["error_17"] == pytest.approx(0.8570 - 2.206 * math.exp(-0.7146 * 2.4427), abs=2e-3)
    assert 0 < d["error_17"] < d["error_46"] < 1  # their 46 tasks include harder ones
    assert "has no downstream map" in r.row("besiroglu2024").reasons["downstream"]
    assert r.notes["downstream"].startswith("How far to trust this")
    # No shown law with a map: nothing asked, nothing missing.
    plain = evaluate(Scenario())
    assert all("downstream" not in row.extras and "downstream" not in row.reasons for row in plain.rows)
    assert "downstream" not in plain.notes
    recounted = evaluate(Scenario(laws=("gadre2024-rpj",), param_count="non-embedding")).row("gadre2024-rpj")
    assert "count=native" in recounted.reasons["downstream"]


# -- the fields: declared once, everything derived --------------------------------------------------------------
NEW = {"teacher": "teacher", "accounting": "accounting", "size_ratio": "size-ratio", "hyperparameters": "hyper"}


@pytest.mark.parametrize("s", [
    Scenario(teacher="7.75e9:1.55e11", accounting="teacher-pretraining-and-inference", size_ratio=20.0,
             hyperparameters=True, inference_tokens=1e13),
    Scenario(teacher="Llama 3 8B", accounting="teacher-inference"),
    Scenario(teacher="2.0036"),
])
def test_new_fields_round_trip_through_the_query_and_json(s):
    assert Scenario.from_query(s.to_query()) == s
    assert Scenario.from_json(s.to_json()) == s
    assert Scenario.from_query(evaluate(s).to_dict()["scenario"]) == s


@pytest.mark.parametrize("query, reason", [
    ("teacher=GPT-17", "not a catalog model with a published size and tokens"),
    ("teacher=1.0", "above their irreducible loss E = 1.22"),
    ("teacher=7e9:lots", "NT:DT"),
    ("teacher=0:1e9", "teacher: parameters must be positive"),
    ("accounting=free", "best-case"),
    ("size-ratio=0.5", "from 1 to 10000"),
])
def test_bad_values_are_refused_naming_the_key(query, reason):
    key = query.partition("=")[0]
    with pytest.raises(ScenarioError) as info:
        Scenario.from_query(query)
    assert info.value.field == key and reason in str(info.value)


def test_the_hypothesis_strategy_covers_the_new_fields_from_their_declarations():
    from scenario_strategies import field_strategy

    fields = {f.name: f for f in dataclasses.fields(Scenario) if f.init}
    for name in NEW:
        default = fields[name].default
        value = find(field_strategy(fields[name]), lambda v, d=default: v not in (d, "", None))
        assert Scenario(**{name: value}).to_query().startswith(NEW[name] + "=")


def test_every_new_field_is_a_flag_and_documented():
    from pathlib import Path

    from scaling_explorer.scenario import choice

    api = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    for name, key in NEW.items():
        assert choice(name).key == key and f"| `{key}` |" in api
    assert choice("accounting").choices() == ("best-case", "teacher-inference", "teacher-pretraining",
                                               "teacher-pretraining-and-inference")  # Busbridge et al. Table 2
    assert "Llama 3 8B" in choice("teacher").choices()


# -- the exports and the CLI get them without an edit -------------------------------------------------------------
def test_show_json_validates_with_every_new_extra_and_the_csv_and_table_carry_them():
    import jsonschema
    from test_cli import SCHEMA, run

    from scaling_explorer.readout import numbers_table

    args = ["show", "--laws", "gadre2024-rpj,besiroglu2024", "--teacher", "Llama 3 8B", "--accounting",
            "teacher-pretraining", "--serve", "1e13", "--size-ratio", "20", "--hyper", "1"]
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    jsonschema.validate(record, SCHEMA)
    assert set(record["rows"][0]["extras"]) >= {"downstream", "hyperparameters", "distillation", "test_time"}
    assert list(record["notes"]) == ["downstream", "hyperparameters", "distillation", "test_time"]
    readout = evaluate(Scenario.from_query(record["scenario"]))
    assert record == json.loads(json.dumps(readout.to_dict()))
    frame = pd.read_csv(io.StringIO(readout.to_csv()))
    assert frame.loc[0, "test_time_size_ratio"] == 20.0 and "distillation_student_loss" in frame
    columns = dict(numbers_table(readout)[0])
    assert columns["downstream_error_17"] == ("predicted average top-1 error over 17 and 46 tasks "
                                              "(Gadre et al. 2024): error 17 (fraction)")
    text = run(*args).stdout
    assert text.count("note on test-time compute") == 1 and "distilled from the teacher" in text


def test_cli_refuses_a_bad_teacher_in_one_line():
    from test_cli import run

    out = run("show", "--teacher", "GPT-17")
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "--teacher" in out.stderr and "not a catalog model" in out.stderr


# -- the model card ---------------------------------------------------------------------------------------------------
def test_model_card_shows_observed_scores_with_their_source():
    card = evaluate(Scenario(model="Llama 2 7B")).selected
    # Open LLM Leaderboard's WinoGrande for Llama-2-7B, as Ruan et al. collect it.
    assert card.benchmarks.scores["winogrande"] == pytest.approx(0.7403, abs=5e-5)
    assert card.benchmarks.model_id == "meta-llama/Llama-2-7b-hf" and card.benchmarks.family == "Llama-2"
    assert card.benchmarks.source.startswith("Ruan, Maddison & Hashimoto 2024")
    assert list(card.benchmarks.labelled())[:4] == ["MMLU", "ARC-C", "HellaSwag", "Winogrande"]
    assert evaluate(Scenario(model="Chinchilla")).selected.benchmarks is None  # not in their table


def test_dense_non_embedding_inverts_pearce_and_song_and_refuses_an_active_count():
    from scaling_explorer.counting import dense_non_embedding

    n = float(dense_non_embedding(70e9, "total"))
    assert n + 47491 * n ** (1 / 3) == pytest.approx(70e9, rel=1e-12)
    assert float(dense_non_embedding(7e9, "non-embedding")) == 7e9
    with pytest.raises(ValueError, match="active per token"):
        dense_non_embedding(37e9, "active-per-token")
