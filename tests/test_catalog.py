"""The published-model catalog: data validity, facts the papers state, and malformed files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from scaling_explorer.catalog import (
    NEAR_OPTIMAL,
    NOT_DESCRIBED,
    NOT_PLOTTED,
    OVERTRAINED,
    REQUIRED_COLUMNS,
    UNDERTRAINED,
    CatalogError,
    classify,
    load_models,
)
from scaling_explorer.laws import get_law


@pytest.fixture(scope="module")
def models():
    return load_models()


def test_shipped_catalog_is_large_sourced_and_spans_years(models):
    assert len(models) >= 110  # issue 15's target: the catalog to 2026
    assert models["name"].is_unique
    assert models["source"].str.startswith("http").all()
    years = models["release_date"].dt.year
    assert years.min() <= 2019 and years.max() >= 2025
    assert {"dense", "moe"} <= set(models["architecture"])
    assert models["open_weights"].any() and not models["open_weights"].all()
    for name in ["GPT-3 175B", "Gopher", "Chinchilla", "MT-NLG", "PaLM 540B", "LLaMA-65B", "Llama 3 8B",
                 "Llama 3.1 405B", "DeepSeek-V3", "TinyLlama 1.1B", "OPT-175B", "BLOOM", "GLM-130B"]:
        assert name in set(models["name"]), name


def test_published_sizes(models):
    # Hoffmann Table 1 and §4.1: Chinchilla 70B on 1.4T tokens; Gopher 280B on 300B.
    row = models.set_index("name")
    assert row.loc["Chinchilla", ["params", "tokens"]].tolist() == [70e9, 1.4e12]
    assert row.loc["Gopher", ["params", "tokens"]].tolist() == [280e9, 300e9]


@pytest.mark.parametrize("key", ["besiroglu2024", "hoffmann2022-approach1"])
def test_who_is_undertrained(models, key):
    status = classify(models, get_law(key)).set_index("name")["status"]
    for name in ["GPT-3 175B", "Gopher", "MT-NLG", "PaLM 540B"]:
        assert status[name] == UNDERTRAINED, name
    assert status["Chinchilla"] == NEAR_OPTIMAL
    assert status["LLaMA-65B"] == NEAR_OPTIMAL
    assert status["Llama 3 8B"] == OVERTRAINED


def test_undisclosed_models_are_listed_not_placed(models):
    table = classify(models, get_law("besiroglu2024")).set_index("name")
    for name in ["GPT-4", "Mistral 7B", "Mixtral 8x7B"]:
        assert table.loc[name, "status"] == NOT_PLOTTED
        assert "undisclosed" in table.loc[name, "not_plotted"]
        assert np.isnan(table.loc[name, "flops"])


def test_moe_uses_active_params(models):
    row = classify(models, get_law("besiroglu2024")).set_index("name").loc["DeepSeek-V3"]
    assert row["flops"] == pytest.approx(6 * 37e9 * 14.8e12)  # 6·N_active·D (reference B #55)


def test_six_nd_against_reported_flops(models):
    """6ND against developer-reported FLOPs, within the factor each source explains."""
    t = classify(models, get_law("besiroglu2024")).set_index("name")
    ratio = t["flops_reported"] / t["flops"]
    # GPT-3 Table D.1 and Llama 3 §3.2.1 count 6 FLOPs per parameter per token themselves.
    gpt3 = ratio[t["family"] == "GPT-3"]
    assert len(gpt3) == 8 and np.allclose(gpt3, 1, atol=0.005)
    assert ratio["Llama 3.1 405B"] == pytest.approx(1, abs=0.01)
    # Hoffmann App. F counts attention and embeddings too: Table A4 gives 0.99-1.10 of 6ND; Gopher's
    # 5.76e23 against 6ND = 5.04e23 is 1.14.
    assert 0.97 < ratio["Chinchilla"] < 1.15 and 0.97 < ratio["Gopher"] < 1.15
    # Cerebras-GPT counts attention FLOPs (~2·n_layer·n_ctx·d_model per token, Kaplan eq. 2.2), a larger
    # share of a smaller model: the ratio exceeds 1 and falls with size.
    cerebras = t[t["family"] == "Cerebras-GPT"].sort_values("params")
    assert (ratio[cerebras.index] > 1).all() and np.all(np.diff(ratio[cerebras.index]) < 0)


def test_band_is_configurable(models):
    law = get_law("besiroglu2024")
    wide = classify(models, law, near_optimal_band=(0.1, 20)).set_index("name")["status"]
    assert wide["GPT-3 175B"] == NEAR_OPTIMAL
    with pytest.raises(ValueError, match="near_optimal_band"):
        classify(models, law, near_optimal_band=(2, 3))


def test_own_csv_keeps_extra_columns(tmp_path, models):
    path = tmp_path / "mine.csv"
    mine = models.head(3).assign(my_score=[1, 2, 3])
    mine.assign(release_date=mine["release_date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    loaded = load_models(path)
    assert list(loaded["my_score"]) == ["1", "2", "3"]  # extra columns are kept as text


GOOD_ROW = "M1,F,Org,2023-01-01,1e9,,,2e10,,true,dense,https://example.org,Table 1,"
HEADER = ",".join(REQUIRED_COLUMNS)


@pytest.mark.parametrize("text, expected", [
    ("", "empty"),
    (HEADER + "\n", "no models"),
    (HEADER.replace(",tokens", "") + "\n" + GOOD_ROW, "missing column(s): tokens"),
    (HEADER + "\n" + GOOD_ROW.replace("1e9", "-1e9"), "line 2 (M1), column params: -1e9 must be positive"),
    (HEADER + "\n" + GOOD_ROW.replace("2e10", "lots"), "line 2 (M1), column tokens: 'lots' is not a number"),
    (HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW, "line 3 (M1), column name: duplicate"),
    (HEADER + "\n" + GOOD_ROW.replace("2023-01-01", "Jan 2023"), "release_date"),
    (HEADER + "\n" + GOOD_ROW.replace("https://example.org", ""), "every number needs a source"),
    (HEADER + "\n" + GOOD_ROW.replace("dense", "moe"), "active_params: required for a moe model"),
    ("\x00\x01binary\xff", "problem"),
])
def test_malformed_files_give_a_listed_error(tmp_path, text, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CatalogError) as info:
        load_models(path)
    assert expected in str(info.value)


def test_all_problems_listed_at_once(tmp_path):
    rows = [GOOD_ROW.replace("M1", "A").replace("1e9", "-5"), GOOD_ROW.replace("M1", "B").replace("2e10", "x")]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows))
    with pytest.raises(CatalogError) as info:
        load_models(path)
    assert len(info.value.problems) == 2
    assert "line 2 (A)" in str(info.value) and "line 3 (B)" in str(info.value)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "scaling_explorer", *args], capture_output=True, text=True)


def test_cli_models_json():
    out = run_cli("models", "--law", "hoffmann2022-approach1", "--json")
    assert out.returncode == 0, out.stderr
    records = {r["name"]: r for r in json.loads(out.stdout)}
    assert set(records["Gopher"]) == {"name", "params", "active_params", "tokens", "flops", "tokens_per_param",
                                      "d_over_d_opt", "efficiency", "status", "not_plotted", "extrapolated",
                                      "caveats", "source", "benchmarks"}
    assert records["Gopher"]["benchmarks"] is None  # not in Ruan et al.'s table (issue 21)
    assert records["Gopher"]["status"] == UNDERTRAINED
    assert records["Gopher"]["caveats"] == []  # dense, trained from scratch, one pass (Rae et al. 2021)
    assert records["GPT-4"]["status"] == NOT_PLOTTED


def test_cli_models_bad_file_names_rows(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + GOOD_ROW.replace("1e9", "-1"))
    out = run_cli("models", "--file", str(path))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "line 2 (M1)" in out.stderr and "Traceback" not in out.stderr


def test_kaplan_uses_published_non_embedding_counts(models):
    table = classify(models, get_law("kaplan2020")).set_index("name")
    pythia = table.loc["Pythia-70M"]
    assert pythia["params_basis"] == "non-embedding"
    assert pythia["compute_params"] == pythia["non_embedding_params"] < pythia["params"]
    assert table.loc["GPT-3 175B", "params_basis"] == "total"
    assert table.loc["DeepSeek-V3", "params_basis"] == "active"
    assert classify(models, get_law("besiroglu2024")).set_index("name").loc["Pythia-70M", "params_basis"] == "total"


def test_cli_models_kaplan_says_which_parameters(tmp_path):
    out = run_cli("models", "--law", "kaplan2020", "--json")
    assert out.returncode == 0 and "non-embedding" in out.stderr


# -- a law that cannot describe a model refuses it (issue 20) ---------------------------------------
def test_the_moe_law_refuses_dense_models():
    # Krajewski et al. 2024 fit fine-grained MoE models only. Read as 64 experts' worth of parameters,
    # Chinchilla (dense, 70B on 1.4T tokens) came out at 1.4e22 FLOPs instead of 6ND = 5.88e23.
    models = load_models()
    table = classify(models, get_law("krajewski2024")).set_index("name")
    chinchilla = table.loc["Chinchilla"]
    assert chinchilla["status"] == NOT_DESCRIBED
    assert "mixture-of-experts models only" in chinchilla["not_plotted"] and "dense" in chinchilla["not_plotted"]
    assert np.isnan(chinchilla["flops"]) and np.isnan(chinchilla["d_over_d_opt"])
    dense = table[table["architecture"] == "dense"]
    # No dense row is placed: those with a size and tokens are refused, the rest stay undisclosed.
    assert len(dense) > 50 and dense["status"].isin([NOT_DESCRIBED, NOT_PLOTTED]).all()
    assert (dense["status"] == NOT_DESCRIBED).sum() > 50
    # MoE rows with a size and tokens are placed, at their total parameters (the law's N counts every expert).
    moe = table[(table["architecture"] == "moe") & (table["not_plotted"] == "")]
    assert len(moe) and (moe["compute_params"] == moe["params"]).all()
    assert not (moe["status"] == NOT_DESCRIBED).any()
    # A dense law still places Chinchilla at 6ND: 6 x 70e9 x 1.4e12 = 5.88e23 (Hoffmann Table 1).
    dense_law = classify(models, get_law("hoffmann2022-approach1")).set_index("name").loc["Chinchilla"]
    assert dense_law["flops"] == pytest.approx(5.88e23, rel=1e-12)


def test_cli_models_under_the_moe_law_names_the_refusal_and_the_flop_model():
    out = run_cli("models", "--law", "krajewski2024")
    assert out.returncode == 0, out.stderr
    assert "flops = training FLOPs by krajewski2024-moe" in out.stdout and "6ND estimate" not in out.stdout
    assert "not described: Krajewski et al. 2024" in out.stdout
    records = {r["name"]: r for r in json.loads(run_cli("models", "--law", "krajewski2024", "--json").stdout)}
    assert records["Chinchilla"]["status"] == NOT_DESCRIBED and records["Chinchilla"]["flops"] is None
    assert "dense" in records["Chinchilla"]["not_plotted"]
