"""The CLI, run as a user runs it: a subprocess, stdout/stderr and the exit status."""

import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "scaling_explorer", *args], capture_output=True, text=True)


def test_optimal_json_matches_reference():
    out = run("optimal", "--law", "besiroglu2024", "--flops", "5.76e23", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert set(record) == {"law", "flops", "params", "tokens", "tokens_per_param", "loss", "params_meaning",
                           "extrapolated", "fitted_flops"}
    assert record["extrapolated"] is True and record["fitted_flops"] == [1.4e18, 1.3e22]  # Epoch's Figure 4 span
    assert record["params"] == pytest.approx(7.23e10, rel=5e-3)  # reference A2 derived table
    assert record["tokens"] == pytest.approx(1.33e12, rel=5e-3)
    assert record["tokens_per_param"] == pytest.approx(18.4, rel=0.01)


def test_optimal_allocation_law_has_null_loss():
    record = json.loads(run("optimal", "--law", "hoffmann2022-approach1", "--flops", "1.21e20", "--json").stdout)
    assert record["loss"] is None
    assert record["params"] == pytest.approx(1e9, rel=0.025)  # Table 3 row: 1B at 1.21e20 FLOPs


def test_loss_json():
    record = json.loads(run("loss", "--law", "hoffmann2022-approach3", "--params", "70e9", "--tokens",
                            "1.4e12", "--json").stdout)
    assert record["flops"] == pytest.approx(5.88e23)
    assert record["loss"] == pytest.approx(1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28)


def test_laws_lists_presets_with_citations():
    described = json.loads(run("laws", "--json").stdout)
    assert [d["key"] for d in described] == [
        "kaplan2020", "hoffmann2022-approach1", "hoffmann2022-approach2", "hoffmann2022-approach3",
        "hoffmann2022-approach3-unrounded", "besiroglu2024", "sardana2024", "muennighoff2023", "llama3-2024",
        "deepseek2024", "krajewski2024",
        "busbridge2025", "deepseek2024-early-data", "deepseek2024-current-data", "deepseek2024-openwebtext2",
        "gadre2024-c4", "gadre2024-rpj", "gadre2024-rw"]
    assert all("arXiv" in d["citation"] for d in described)
    assert run("laws").returncode == 0


@pytest.mark.parametrize("args", [
    ["optimal", "--law", "gpt5", "--flops", "1e21"],
    ["optimal", "--law", "besiroglu2024", "--flops", "0"],
    ["optimal", "--law", "besiroglu2024", "--flops", "-1e21"],
    ["optimal", "--law", "besiroglu2024", "--flops", "nan"],
    ["optimal", "--law", "besiroglu2024", "--flops", "lots"],
    ["optimal", "--law", "besiroglu2024"],
    ["loss", "--law", "hoffmann2022-approach1", "--params", "1e9", "--tokens", "1e10"],
    ["loss", "--law", "kaplan2020", "--params", "inf", "--tokens", "1e10"],
    ["frobnicate"],
    [],
])
def test_bad_input_exits_2_with_one_line(args):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaling-explorer: error:"), out.stderr
    assert "Traceback" not in out.stderr


def _synthetic_runs(path, seed=0):
    """Runs from a known law with 1% noise on five iso-FLOP budgets, written as a user's CSV."""
    from scaling_explorer.fit import synthetic_runs
    from scaling_explorer.laws import ParametricLaw

    law = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    synthetic_runs(law, np.geomspace(1e18, 1e21, 5), span=10, seed=seed)[["params", "tokens", "loss"]].to_csv(
        path, index=False)
    return law


def test_fit_json_has_coefficients_and_intervals(tmp_path):
    truth = _synthetic_runs(tmp_path / "runs.csv")
    out = run("fit", str(tmp_path / "runs.csv"), "--bootstrap", "50", "--seed", "1", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert {"E", "A", "B", "alpha", "beta", "ci"} <= set(record)
    assert record["E"] == pytest.approx(truth.E, rel=0.05)
    assert record["alpha"] == pytest.approx(truth.alpha, abs=0.05)
    for key in ("E", "A", "B", "alpha", "beta"):
        low, high = record["ci"][key]
        assert low <= record[key] <= high


@pytest.mark.parametrize("content", ["params,loss\n1,2\n", "not,a\x00csv\xff", ""])
def test_fit_bad_file_exits_2(tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("latin-1"))
    out = run("fit", str(path))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_fit_negative_bootstrap_exits_2(tmp_path):
    _synthetic_runs(tmp_path / "runs.csv")
    assert run("fit", str(tmp_path / "runs.csv"), "--bootstrap", "-5").returncode == 2


def _one_line_refusal(out, *needles):
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_fit_constant_loss_is_refused(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("params,tokens,loss\n" + "\n".join(f"{n:g},{20 * n:g},2.5" for n in np.geomspace(1e8, 1e10, 9)))
    _one_line_refusal(run("fit", str(path), "--bootstrap", "100"), "cannot determine", "the same (2.5)")


def test_fit_approach2_recovers_exponent_from_iso_flop_runs(tmp_path):
    from scaling_explorer.fit import synthetic_runs
    from scaling_explorer.laws import ParametricLaw

    law = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    synthetic_runs(law, np.geomspace(6e18, 3e21, 6), per_budget=9, span=4.0, sigma=0.002, seed=1)[
        ["params", "tokens", "loss"]].to_csv(tmp_path / "iso.csv", index=False, sep=";")
    out = run("fit", str(tmp_path / "iso.csv"), "--approach", "2", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["a"] == pytest.approx(law.a, abs=0.01) and len(record["budgets"]) == 6


def test_fit_approach2_refuses_runs_without_budgets(tmp_path):
    _synthetic_runs(tmp_path / "runs.csv")  # five budgets of nine sizes: fine for Approach 3
    rng = np.random.default_rng(0)
    n = rng.uniform(1e8, 1e10, 40)
    d = rng.uniform(1e9, 1e12, 40)  # continuous FLOPs, no iso-FLOP groups
    (tmp_path / "scatter.csv").write_text("params,tokens,loss\n" + "\n".join(
        f"{a:.6g},{b:.6g},{1.8 + 400 / a ** 0.34 + 2000 / b ** 0.37:.6g}" for a, b in zip(n, d, strict=True)))
    _one_line_refusal(run("fit", str(tmp_path / "scatter.csv"), "--approach", "2"), "iso-FLOP budgets")
    _one_line_refusal(run("fit", str(tmp_path / "runs.csv"), "--approach", "4"), "invalid choice")
    _one_line_refusal(run("fit", str(tmp_path / "runs.csv"), "--approach", "2", "--bootstrap", "10"),
                      "--approach 3 only")


def test_optimal_text_notes_an_extrapolation_and_not_inside_the_range():
    assert "extrapolation" in run("optimal", "--law", "besiroglu2024", "--flops", "5.76e23").stdout
    assert "extrapolation" not in run("optimal", "--law", "besiroglu2024", "--flops", "1e20").stdout


@pytest.mark.parametrize("query", ["budget=1e24&laws=besiroglu2024,kaplan2020",
                                   "budget=3.14e23&laws=hoffmann2022-approach1,hoffmann2022-approach3-unrounded",
                                   "laws=besiroglu2024&edit=besiroglu2024:alpha:0.4&budget=1e21"])
def test_show_json_equals_optimal_for_each_law(query):
    shown = json.loads(run("show", "--scenario", query, "--json").stdout)
    edited = "edit=" in query
    for row in shown["rows"]:
        assert set(row) >= {"law", "params", "tokens", "tokens_per_param", "loss", "extrapolated"}
        if edited:  # optimal knows no edits: the edited law's N must differ from the preset's
            alone = json.loads(run("optimal", "--law", row["law"], "--flops", str(row["flops"]), "--json").stdout)
            assert alone["params"] != pytest.approx(row["params"], rel=1e-3)
            continue
        alone = json.loads(run("optimal", "--law", row["law"], "--flops", str(row["flops"]), "--json").stdout)
        assert alone == row


def test_show_csv_has_one_line_per_law():
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run("show", "--scenario", "laws=kaplan2020,besiroglu2024", "--csv").stdout)))
    assert [r["key"] for r in rows] == ["kaplan2020", "besiroglu2024"]


@pytest.mark.parametrize("query, key", [("budget=abc", "budget"), ("colour=red", "colour"), ("laws=gpt5", "laws"),
                                        ("mfu=40", "mfu")])
def test_show_bad_query_is_one_line_naming_the_key(query, key):
    out = run("show", "--scenario", query)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and f"{key}:" in out.stderr and "Traceback" not in out.stderr


def test_optimal_param_count_flop_model_and_flatness():
    from scaling_explorer.frontier import flat_optimum
    from scaling_explorer.laws import get_law
    from scaling_explorer.reexpress import reexpress

    out = run("optimal", "--law", "besiroglu2024", "--flops", "5.76e23", "--param-count", "non-embedding",
              "--flatness", "0.01", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["params_meaning"] == "non-embedding"
    law = reexpress(get_law("besiroglu2024"), "non-embedding")
    flat = flat_optimum(law, 5.76e23, 0.01)
    assert record["params_range"] == pytest.approx([float(flat.params_low), float(flat.params_high)])
    assert record["tokens_range"] == pytest.approx([float(flat.tokens_low), float(flat.tokens_high)])
    assert 6 * record["params"] * record["tokens"] == pytest.approx(5.76e23)  # Kaplan's 6 N_nonemb D
    kaplan = json.loads(run("optimal", "--law", "kaplan2020", "--flops", "1e21", "--param-count", "total",
                            "--flop-model", "chinchilla", "--json").stdout)
    assert kaplan["params_meaning"] == "total" and kaplan["flop_model"] == "chinchilla"
    assert "params_range" not in kaplan
    text = run("optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flatness", "0.01")
    assert text.returncode == 0 and "within 1.00% of the optimal loss" in text.stdout


def test_exponent_reproduces_a_kaplan_like_slope_from_epochs_law():
    out = run("exponent", "--law", "besiroglu2024", "--from", "8.91e12", "--to", "5.01e20",
              "--param-count", "non-embedding", "--json")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert 0.74 <= record["exponent"] <= 0.78  # reference.md A5: Kaplan's 0.73 from a Chinchilla-form law
    native = json.loads(run("exponent", "--law", "besiroglu2024", "--from", "1e18", "--to", "1e22", "--json").stdout)
    assert native["exponent"] == pytest.approx(0.3658 / (0.3478 + 0.3658), rel=1e-6)
    assert "N_opt" in run("exponent", "--law", "kaplan2020", "--from", "1e18", "--to", "1e20").stdout


@pytest.mark.parametrize("args, message", [
    (["exponent", "--law", "besiroglu2024", "--from", "1e20", "--to", "1e19"], "--to"),
    (["exponent", "--law", "besiroglu2024", "--from", "1e20"], "--to"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flatness", "3"], "flat"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flop-model", "7ND"], "--flop-model"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--param-count", "some"], "--param-count"),
])
def test_convention_options_reject_bad_input_in_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
