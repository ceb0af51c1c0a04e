"""CLI for inference demand, unique-token budgets, target loss and MoE granularity (subprocess, as users run it)."""

import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "scaling_explorer", *args], capture_output=True, text=True)


def ok_json(*args):
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_target_reproduces_sardanas_worked_example():
    # README, compute_optimal.py --loss 1.947 --inference_tokens 2e12: N 2.418e10, D 2.657e12, at
    # 95.22% of the equal-loss Chinchilla model's FLOPs (N 3.408e10, D 1.810e12).
    record = ok_json("target", "--law", "sardana2024", "--loss", "1.947", "--inference-tokens", "2e12")
    assert record["params"] == pytest.approx(3.408e10, rel=5e-4)
    assert record["tokens"] == pytest.approx(1.810e12, rel=5e-4)
    ia = record["inference_aware"]
    assert ia["params"] == pytest.approx(2.418e10, rel=5e-4) and ia["tokens"] == pytest.approx(2.657e12, rel=5e-4)
    assert ia["total_flops"] / record["total_flops"] == pytest.approx(0.9522, abs=1e-4)
    assert record["inference_tokens"] == 2e12
    plain = ok_json("target", "--law", "sardana2024", "--loss", "1.947")
    assert "inference_aware" not in plain and plain["flops"] == pytest.approx(6 * plain["params"] * plain["tokens"])


def test_optimal_with_inference_and_unique_tokens():
    record = ok_json("optimal", "--law", "muennighoff2023", "--flops", "1e22", "--unique-tokens", "25e9",
                     "--inference-tokens", "1e12")
    assert {"inference_tokens", "unique_tokens", "epochs", "total_flops", "inference_aware",
            "data_constrained"} <= set(record)
    # datablations README: 1e22 FLOPs on 25B unique tokens -> 237.3B tokens (9.49 epochs), 7.02B parameters.
    dc = record["data_constrained"]
    assert dc["tokens"] == pytest.approx(237336955477.55, rel=3e-3) and dc["epochs"] == pytest.approx(9.49, abs=0.03)
    assert record["total_flops"] == pytest.approx(1e22 + 2 * record["params"] * 1e12)
    assert record["inference_aware"]["loss"] == pytest.approx(record["loss"], rel=1e-12)
    # Without the new options the record is today's.
    assert set(ok_json("optimal", "--law", "besiroglu2024", "--flops", "1e22")) == {
        "law", "flops", "params", "tokens", "tokens_per_param", "loss", "params_meaning", "extrapolated",
        "fitted_flops"}


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
    (["target", "--law", "sardana2024"], "--loss"),
    (["models", "--law", "kaplan2020", "--inference-tokens", "1e13"], "Chinchilla-form"),
])
def test_options_a_law_cannot_use_exit_2_with_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and message in out.stderr and "Traceback" not in out.stderr
