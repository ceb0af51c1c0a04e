"""CLI for inference demand, unique-token budgets, target loss and MoE granularity (in-process, ``main(argv)``)."""

import json

import pytest
from test_cli import run


def ok_json(*args):
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_target_reproduces_sardanas_worked_example():
    # README, compute_optimal.py --loss 1.947 --inference_tokens 2e12: N 2.418e10, D 2.657e12, at
    # 95.22% of the equal-loss Chinchilla model's FLOPs (N 3.408e10, D 1.810e12).
    (row,) = ok_json("target", "--law", "sardana2024", "--loss", "1.947", "--inference-tokens", "2e12")["rows"]
    # Issue 20: the answer to the question asked (cheapest over the lifetime) is the top level.
    assert row["answer"] == "target_inference_aware"
    assert row["params"] == pytest.approx(2.418e10, rel=5e-4) and row["tokens"] == pytest.approx(2.657e12, rel=5e-4)
    plain = row["extras"]["target"]  # the training-only model of that loss, named as such
    assert plain["params"] == pytest.approx(3.408e10, rel=5e-4)
    assert plain["tokens"] == pytest.approx(1.810e12, rel=5e-4)
    assert row["total_flops"] / plain["total_flops"] == pytest.approx(0.9522, abs=1e-4)
    (alone,) = ok_json("target", "--law", "sardana2024", "--loss", "1.947")["rows"]
    assert alone["answer"] == "target" and "target_inference_aware" not in alone["extras"]
    assert alone["params"] == pytest.approx(3.408e10, rel=5e-4)
    text = run("target", "--law", "sardana2024", "--loss", "1.947", "--inference-tokens", "2e12").stdout
    assert "target_inference_aware" in text.splitlines()[2] and "2.418e+10" in text.splitlines()[2].replace(
        "2.42e+10", "2.418e+10")
    assert "counted as 6ND" in text.splitlines()[0]


def test_optimal_with_inference_and_unique_tokens():
    (row,) = ok_json("optimal", "--law", "muennighoff2023", "--flops", "1e22", "--unique-tokens", "25e9",
                     "--inference-tokens", "1e12")["rows"]
    # Issue 20: the data-constrained optimum answers the question, at top level; the unconstrained one is named.
    # datablations README: 1e22 FLOPs on 25B unique tokens -> 237.3B tokens (9.49 epochs), 7.02B parameters.
    assert row["answer"] == "data_constrained"
    assert row["tokens"] == pytest.approx(237336955477.55, rel=3e-3) and row["epochs"] == pytest.approx(9.49, abs=0.03)
    unconstrained = row["compute_optimal"]
    assert unconstrained["params"] > row["params"] and unconstrained["loss"] < row["loss"]
    assert row["total_flops"] == pytest.approx(1e22 + 2 * row["params"] * 1e12)
    assert row["extras"]["inference_aware"]["loss"] == pytest.approx(unconstrained["loss"], rel=1e-12)
    text = run("optimal", "--law", "muennighoff2023", "--flops", "1e22", "--unique-tokens", "25e9").stdout
    assert "data_constrained" in text.splitlines()[2] and "compute-optimal (training only, unconstrained)" in text
    # Without the new options the answer is the compute-optimal one and nothing else is added.
    (plain,) = ok_json("optimal", "--law", "besiroglu2024", "--flops", "1e22")["rows"]
    assert plain["answer"] == "compute_optimal" and plain["extras"] == {} and "compute_optimal" not in plain


def test_loss_with_unique_tokens_and_granularity():
    # datablations README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256440889984477.
    record = ok_json("loss", "--law", "muennighoff2023", "--params", "6.34e9", "--tokens", "242e9",
                     "--unique-tokens", "25e9")
    assert record["loss"] == pytest.approx(2.2256440889984477, rel=1e-12) and record["epochs"] == pytest.approx(9.68)
    # Krajewski Table 2: 64 x 7B (N_total = 7e9 x 516 / 12), G = 32, D = 137.6B -> 6.46e21 FLOPs.
    moe = ok_json("loss", "--law", "krajewski2024", "--params", str(7e9 * 516 / 12), "--tokens", "137.6e9",
                  "--granularity", "32")
    assert moe["flops"] == pytest.approx(6.46e21, rel=4e-3) and moe["active_params"] == pytest.approx(7e9)


def test_models_with_inference_demand_adds_break_even():
    records = {r["name"]: r for r in ok_json("models", "--law", "sardana2024", "--inference-tokens", "1e13")}
    assert records["Gopher"]["break_even_inference_tokens"] is None  # undertrained: no demand makes it optimal
    assert records["Llama 3 8B"]["break_even_inference_tokens"] > 1e13
    # one status under the whole scenario, the training-only one beside it
    assert records["Llama 3 8B"]["status_training"] == "overtrained"
    assert "break_even_inference_tokens" not in ok_json("models", "--law", "sardana2024")[0]


@pytest.mark.parametrize("args, message", [
    (["optimal", "--law", "kaplan2020", "--flops", "1e22", "--unique-tokens", "1e10"], "Chinchilla-form"),
    (["optimal", "--law", "hoffmann2022-approach1", "--flops", "1e22", "--inference-tokens", "1e12"], "allocation"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e22", "--inference-tokens", "-5"], "inference-tokens"),
    (["loss", "--law", "kaplan2020", "--params", "1e9", "--tokens", "1e10", "--unique-tokens", "1e9"],
     "Chinchilla-form"),
    (["loss", "--law", "besiroglu2024", "--params", "1e9", "--tokens", "1e10", "--granularity", "8"], "MoE"),
    (["target", "--law", "kaplan2020", "--loss", "2.5", "--inference-tokens", "1e12"], "Chinchilla-form"),
    (["target", "--law", "llama3-2024", "--loss", "2.0"], "allocation"),
    (["target", "--law", "sardana2024", "--loss", "1.5"], "irreducible"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e22", "--unique", "1e16"], "Villalobos"),
    (["target", "--law", "sardana2024"], "--loss"),
    (["models", "--law", "kaplan2020", "--inference-tokens", "1e13"], "Chinchilla-form"),
])
def test_options_a_law_cannot_use_exit_2_with_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
