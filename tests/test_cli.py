"""The CLI in-process (``main(argv)``: stdout, stderr, exit status), with a few subprocess smoke tests."""

import contextlib
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from scaling_explorer.cli import main


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return SimpleNamespace(returncode=status, stdout=out.getvalue(), stderr=err.getvalue())


def run_process(*args):
    return subprocess.run([sys.executable, "-m", "scaling_explorer", *args], capture_output=True, text=True)


def row_of(*args):
    """The one law's row of a readout command's JSON."""
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)["rows"]
    return row


def test_smoke_as_a_user_runs_it():
    out = run_process("optimal", "--law", "besiroglu2024", "--flops", "5.76e23", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["rows"][0]["key"] == "besiroglu2024"
    bad = run_process("optimal", "--law", "gpt5", "--flops", "1e21")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    assert run_process("--help").returncode == 0


def test_optimal_json_matches_reference():
    out = run("optimal", "--law", "besiroglu2024", "--flops", "5.76e23", "--json")
    out.stdout = json.dumps(json.loads(out.stdout)["rows"][0])
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["extrapolated"] is True and record["fitted_flops"] == [1.4e18, 1.3e22]  # Epoch's Figure 4 span
    assert record["params"] == pytest.approx(7.23e10, rel=5e-3)  # reference A2 derived table
    assert record["tokens"] == pytest.approx(1.33e12, rel=5e-3)
    assert record["tokens_per_param"] == pytest.approx(18.4, rel=0.01)


def test_optimal_allocation_law_has_null_loss():
    record = row_of("optimal", "--law", "hoffmann2022-approach1", "--flops", "1.21e20")
    assert record["loss"] is None
    assert record["params"] == pytest.approx(1e9, rel=0.025)  # Table 3 row: 1B at 1.21e20 FLOPs


def test_loss_json():
    # reference.md A5: Sardana et al.'s code, L(70e9, 1e12) = 1.9473; 6 x 70e9 x 1e12 = 4.2e23 FLOPs.
    record = json.loads(run("loss", "--law", "sardana2024", "--params", "70e9", "--tokens", "1e12", "--json").stdout)
    assert record["flops"] == pytest.approx(4.2e23, rel=1e-12)
    assert record["loss"] == pytest.approx(1.9473, abs=5e-5)


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
    ["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--budget", "1e22"],
    ["target", "--law", "besiroglu2024"],
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
    for row in shown["rows"]:
        assert set(row) >= {"key", "params", "tokens", "tokens_per_param", "loss", "extrapolated", "warnings"}
        # optimal takes the same flags: the edit reaches it too
        edit = ["--edit", "besiroglu2024:alpha:0.4"] if "edit=" in query else []
        alone = row_of("optimal", "--law", row["key"], "--flops", str(shown["budget"]["flops"]), *edit)
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

    record = row_of("optimal", "--law", "besiroglu2024", "--flops", "5.76e23", "--param-count", "non-embedding",
                    "--flatness", "0.01")
    assert record["params_meaning"] == "non-embedding"
    law = reexpress(get_law("besiroglu2024"), "non-embedding")
    flat = flat_optimum(law, 5.76e23, 0.01)
    extra = record["extras"]["flat_range"]
    assert [extra["params_low"], extra["params_high"]] == pytest.approx([float(flat.params_low),
                                                                         float(flat.params_high)])
    assert [extra["tokens_low"], extra["tokens_high"]] == pytest.approx([float(flat.tokens_low),
                                                                         float(flat.tokens_high)])
    assert 6 * record["params"] * record["tokens"] == pytest.approx(5.76e23)  # Kaplan's 6 N_nonemb D
    kaplan = row_of("optimal", "--law", "kaplan2020", "--flops", "1e21", "--param-count", "total",
                    "--flop-model", "chinchilla")
    assert kaplan["params_meaning"] == "total" and kaplan["flop_model"] == "chinchilla"
    assert "flat_range" not in kaplan["extras"]
    text = run("optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flatness", "0.01")
    assert text.returncode == 0 and "near-optimal range: tolerance 0.01" in text.stdout
    assert "counted as 6ND" in text.stdout


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
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flatness", "3"], "--flatness"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flat", "3"], "--flat:"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--flop-model", "7ND"], "--flop-model"),
    (["optimal", "--law", "besiroglu2024", "--flops", "1e21", "--param-count", "some"], "--param-count"),
])
def test_convention_options_reject_bad_input_in_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr


# -- one JSON shape, every key a flag, extrapolation flagged ------------------------------------------
SCHEMA = json.loads((__import__("pathlib").Path(__file__).parents[1] / "docs" / "readout.schema.json").read_text())


@pytest.mark.parametrize("args", [
    ["show", "--json"],
    ["show", "--json", "--serve", "1e13", "--unique", "2e11", "--target", "2.0", "--flat", "0.01",
     "--laws", "besiroglu2024,kaplan2020,hoffmann2022-approach1,muennighoff2023"],
    ["optimal", "--law", "muennighoff2023", "--flops", "1e22", "--unique-tokens", "25e9", "--json"],
    ["target", "--law", "sardana2024", "--loss", "1.947", "--inference-tokens", "2e12", "--json"],
])
def test_readout_json_follows_the_schema(args):
    import jsonschema  # comes with nbformat (the test extra); no new dependency

    from scaling_explorer import Scenario, evaluate

    out = run(*args)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    jsonschema.validate(record, SCHEMA)
    # show --json, Readout.to_dict() and target --json are one shape
    assert record == json.loads(json.dumps(evaluate(Scenario.from_query(record["scenario"])).to_dict()))


def test_every_query_key_is_a_flag_of_every_computing_command():
    from scaling_explorer.cli import build_parser
    from scaling_explorer.scenario import FIELDS

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("show", "optimal", "target", "exponent", "loss", "models"):
        options = sub.choices[name]._option_string_actions
        assert {f"--{c.key}" for c in FIELDS.values()} <= set(options), name


def test_optimal_with_demand_keeps_param_count_flop_model_and_flatness():
    # Issue 18: with --inference-tokens these three were dropped silently.
    row = row_of("show", "--law", "besiroglu2024", "--flops", "1e24", "--inference-tokens", "1e12",
                 "--param-count", "non-embedding", "--flop-model", "chinchilla", "--flatness", "0.01")
    assert row["params_meaning"] == "non-embedding" and row["flop_model"] == "chinchilla"
    assert "flat_range" in row["extras"]
    plain = row_of("optimal", "--law", "besiroglu2024", "--flops", "1e24", "--inference-tokens", "1e12")
    assert plain["params_meaning"] == "total" and plain["flop_model"] == "6ND" and plain["total_flops"] > 1e24


def test_flags_override_the_scenario_and_errors_name_the_flag_as_typed():
    row = row_of("show", "--scenario", "budget=1e22&laws=besiroglu2024", "--budget", "1e23")
    assert row["training_flops"] == pytest.approx(1e23)
    out = run("show", "--serve", "lots")
    assert out.returncode == 2 and out.stderr.startswith("scaling-explorer: error: --serve:")
    out = run("show", "--inference-tokens", "-5")
    assert out.returncode == 2 and "--inference-tokens:" in out.stderr
    out = run("show", "--law", "kaplan2020", "--laws", "besiroglu2024")  # never one silently over the other
    assert out.returncode == 2 and "--law and --laws" in out.stderr


def test_loss_flags_extrapolation_past_the_fitted_span():
    # Issue 20: 1e12 parameters is ~60x past the largest model Epoch fitted on (16B, Hoffmann abstract).
    far = json.loads(run("loss", "--law", "besiroglu2024", "--params", "1e12", "--tokens", "1e14", "--json").stdout)
    assert far["extrapolated"] is True and 1e12 / far["fitted_params"][1] > 50
    near = json.loads(run("loss", "--law", "besiroglu2024", "--params", "1e9", "--tokens", "2e10", "--json").stdout)
    assert near["extrapolated"] is False
    assert "extrapolation" in run("loss", "--law", "besiroglu2024", "--params", "1e12", "--tokens", "1e14").stdout


@pytest.mark.parametrize("args", [
    ["show"], ["optimal", "--law", "besiroglu2024", "--flops", "1e21"],
    ["target", "--law", "besiroglu2024", "--loss", "2.1"],
    ["exponent", "--law", "besiroglu2024", "--from", "1e18", "--to", "1e22"],
    ["loss", "--law", "kaplan2020", "--params", "1e9", "--tokens", "2e10"],
    ["models", "--law", "besiroglu2024"],
])
def test_every_computing_commands_json_carries_extrapolated(args):
    record = json.loads(run(*args, "--json").stdout)
    for item in record["rows"] if isinstance(record, dict) and "rows" in record else (
            record if isinstance(record, list) else [record]):
        assert isinstance(item["extrapolated"], bool)
    if "rows" in record:
        for row in record["rows"]:
            assert isinstance(row.get("compute_optimal", row)["extrapolated"], bool)
