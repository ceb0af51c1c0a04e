"""Issue 15: the catalog to 2026, its caveat columns and how they flag a verdict.

Every expected number is the developer's own, cited next to it; none is read back from the CSV.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from scaling_explorer.catalog import (
    ARCH_INTEGER_COLUMNS,
    MOE_CAVEAT,
    NOT_PLOTTED,
    OVERTRAINED,
    REQUIRED_COLUMNS,
    CatalogError,
    classify,
    load_models,
    year_span,
)
from scaling_explorer.laws import get_law


@pytest.fixture(scope="module")
def models():
    return load_models()


@pytest.fixture(scope="module")
def row(models):
    return models.set_index("name")


@pytest.fixture(scope="module")
def besiroglu(models):
    return classify(models, get_law("besiroglu2024")).set_index("name")


@pytest.mark.parametrize("name, params, active, tokens", [
    ("Kimi K2", 1e12, 32e9, 15.5e12),          # MoonshotAI/Kimi-K2 README: 1T total, 32B activated, 15.5T tokens
    ("GLM-4.5", 355e9, 32e9, 23e12),           # arXiv 2508.06471 abstract
    ("Olmo 3 7B", 7e9, None, 5.93e12),         # allenai/Olmo-3-1025-7B card: "5.93 Trillion"
    ("SmolLM3-3B", 3e9, None, 11.2e12),        # HuggingFaceTB/SmolLM3-3B card: "pretrained on 11.2T tokens"
    ("Qwen3-235B-A22B", 235e9, 22e9, 36e12),   # Qwen3 report §3.1: all Qwen3 models on 36T tokens
    ("Llama 3.2 1B", 1.23e9, None, 9e12),      # llama3_2 MODEL_CARD: "1B (1.23B)", "Up to 9T tokens"
    ("Llama 3.2 3B", 3.21e9, None, 9e12),      # same card: "3B (3.21B)"
])
def test_published_2024_2026_facts(row, name, params, active, tokens):
    r = row.loc[name]
    assert r["params"] == params
    assert r["tokens"] == tokens
    if active is None:
        assert np.isnan(r["active_params"]) and r["architecture"] == "dense"
    else:
        assert r["active_params"] == active and r["architecture"] == "moe"


def test_gemma3_counts_are_the_tech_reports(row):
    # Gemma 3 report (arXiv 2503.19786) Table 1, in millions: embedding + non-embedding, vision encoder excluded.
    for name, emb, non_emb in [("Gemma 3 1B", 302, 698), ("Gemma 3 4B", 675, 3209), ("Gemma 3 12B", 1012, 10759),
                               ("Gemma 3 27B", 1416, 25600)]:
        assert row.loc[name, "params"] == (emb + non_emb) * 1e6
        assert row.loc[name, "non_embedding_params"] == non_emb * 1e6
        assert row.loc[name, "params_precision"] == "rounded"
    assert row.loc["Llama 3.2 1B", "params_precision"] == "rounded"
    assert row.loc["Pythia-70M", "params_precision"] == "exact"  # 70,426,624 on the Pythia card
    assert row.loc["Llama 2 7B", "params_precision"] == "nominal"


def test_catalog_is_sourced_and_reaches_the_newest_model(models):
    assert len(models) >= 110
    assert models["source"].str.startswith("http").all() and (models["source_detail"] != "").all()
    has_params = models["params"].notna()
    assert models.loc[has_params, "params_precision"].isin(["exact", "rounded", "nominal"]).all()
    has_arch = models[ARCH_INTEGER_COLUMNS].notna().any(axis=1) | models["tied_embeddings"].notna()
    assert has_arch.sum() >= 15 and (models.loc[has_arch, "arch_source"].str.contains("http")).all()
    first, last = year_span(models)
    assert first == 2019  # GPT-2 (Radford et al. 2019)
    assert last >= 2025 and last == models["release_date"].max().year
    for name in ["Qwen3-8B", "Kimi K2", "GLM-4.5", "gpt-oss-120b", "Olmo 3 32B", "SmolLM3-3B", "Phi-4", "Gemma 3 270M",
                 "Gemma 3 1B", "DeepSeek-R1", "Llama 3.3 70B", "MiniMax-Text-01"]:
        assert name in set(models["name"]), name


def test_lamda_reported_flops_against_6nd(besiroglu):
    # LaMDA §10: 56.5% x 123 TFLOPS/s x 1024 chips x 57.7 days = 3.55e23; Chinchilla Table 1: 137B on 168B tokens.
    hardware = 0.565 * 123e12 * 1024 * 57.7 * 86400
    assert hardware == pytest.approx(3.55e23, rel=0.005)
    r = besiroglu.loc["LaMDA"]
    assert r["flops_reported"] / r["flops"] == pytest.approx(3.55e23 / (6 * 137e9 * 168e9), rel=1e-9)
    assert "2.57x" in r["notes"] and "hardware" in r["notes"]


def test_undisclosed_tokens_stay_empty(besiroglu):
    # OpenAI's gpt-oss README and MiniMax-01's README give sizes but no training-token counts.
    for name in ["gpt-oss-120b", "gpt-oss-20b", "MiniMax-Text-01"]:
        assert np.isnan(besiroglu.loc[name, "tokens"]), name
        assert besiroglu.loc[name, "status"] == NOT_PLOTTED
        assert besiroglu.loc[name, "not_plotted"] == "training tokens undisclosed"


def test_continued_runs_are_listed_not_plotted(besiroglu):
    # DeepSeek-R1 README: "trained based on DeepSeek-V3-Base"; Llama 3.3 70B reuses 3.1 70B's pretraining.
    for name, base in [("DeepSeek-R1", "DeepSeek-V3"), ("Llama 3.3 70B", "Llama 3.1 70B"),
                       ("Falcon3-10B", "Falcon3-7B")]:
        r = besiroglu.loc[name]
        assert r["status"] == NOT_PLOTTED and np.isnan(r["flops"])
        assert base in r["not_plotted"] and "not a new pretraining run" in r["not_plotted"]
        assert any(c.startswith(f"continued from {base}") for c in r["caveats"])
        assert besiroglu.loc[base, "status"] != NOT_PLOTTED  # the base run is the point on the plane


def test_small_dense_2025_models_are_overtrained_under_besiroglu(besiroglu):
    # Qwen3 report §3.1 (36T tokens for every model) and the SmolLM3 card (11.2T): D/N of 1,000+ tokens per
    # parameter, over 40x the ~20-30 that the Besiroglu et al. (2024) refit calls optimal at these budgets.
    for name in ["SmolLM3-3B", "Qwen3-0.6B", "Qwen3-1.7B", "Qwen3-4B", "Qwen3-8B"]:
        r = besiroglu.loc[name]
        assert r["tokens"] / r["params"] > 1000
        assert r["status"] == OVERTRAINED, name
        assert r["d_over_d_opt"] > 2


def test_caveats_flag_without_changing_the_verdict(models, besiroglu):
    cav = besiroglu["caveats"]
    assert MOE_CAVEAT in cav["Kimi K2"] and MOE_CAVEAT in cav["DeepSeek-V3"] and MOE_CAVEAT not in cav["Qwen3-8B"]
    # Llama 3.2 card: logits of Llama 3.1 8B and 70B as pretraining targets; Gemma 2 report: 2B/9B distilled,
    # 27B trained from scratch; Gemma 3 §2.2: pre-trained with distillation.
    assert any(c.startswith("distilled from Llama 3.1 8B and 70B") for c in cav["Llama 3.2 1B"])
    for name in ["Gemma 2 2B", "Gemma 2 9B", "Gemma 3 27B"]:
        assert any(c.startswith("distilled") for c in cav[name]), name
    assert not any(c.startswith("distilled") for c in cav["Gemma 2 27B"])
    # TinyLlama paper abstract: ~1T tokens for ~3 epochs; Phi-2 card: 1.4T tokens over a 250B-token dataset.
    assert "~3 epochs of repeated data counted as fresh tokens" in cav["TinyLlama 1.1B"]
    assert f"~{1.4e12 / 250e9:.2g} epochs of repeated data counted as fresh tokens" in cav["Phi-2"]
    assert cav["Chinchilla"] == [] and cav["Gopher"] == []
    # Flag, not hide: the verdict is what the law says without the caveat columns.
    bare = classify(models.drop(columns=["epochs", "unique_tokens", "distilled_from"]), get_law("besiroglu2024"))
    same = bare.set_index("name")["status"]
    for name in ["TinyLlama 1.1B", "Phi-2", "Llama 3.2 1B", "Gemma 3 27B", "Kimi K2"]:
        assert besiroglu.loc[name, "status"] == same[name] != NOT_PLOTTED


HEADER = ",".join(REQUIRED_COLUMNS)
EXTRA = "params_precision,epochs,unique_tokens,distilled_from,continued_from,vocab_size,d_model,n_layers," \
        "tied_embeddings,arch_source"
BASE = "M1,F,Org,2023-01-01,1e9,,,2e10,,true,dense,https://example.org,Table 1,"
GOOD_EXTRA = "exact,2,1e10,,,32000,2048,24,true,https://example.org/config"


def _load(tmp_path, header, *rows):
    path = tmp_path / "m.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return load_models(path)


def test_new_columns_load_and_old_files_still_work(tmp_path):
    m = _load(tmp_path, HEADER + "," + EXTRA, BASE + "," + GOOD_EXTRA).iloc[0]
    assert (m["epochs"], m["unique_tokens"], m["vocab_size"], m["n_layers"]) == (2, 1e10, 32000, 24)
    assert m["tied_embeddings"] is True and m["params_precision"] == "exact"
    old = _load(tmp_path, HEADER, BASE)  # a file in the schema before issue 15
    assert old["epochs"].isna().all() and (old["continued_from"] == "").all()
    assert classify(old, get_law("besiroglu2024"))["caveats"].iloc[0] == []


@pytest.mark.parametrize("extra, expected", [
    ("approx,,,,,,,,,", "column params_precision: 'approx' is not exact, rounded or nominal"),
    (",0.5,,,,,,,,", "column epochs: 0.5 is below 1"),
    (",two,,,,,,,,", "column epochs: 'two' is not a number"),
    (",,3e10,,,,,,,", "column unique_tokens: more than tokens"),
    (",,,,M1,,,,,", "column continued_from: names the model itself"),
    (",,,,Nope 7B,,,,,", "column continued_from: 'Nope 7B' is not a model in this file"),
    (",,,M1,,,,,,", "column distilled_from: names the model itself"),
    (",,,,,,,24.5,,https://x", "column n_layers: 24.5 is not a whole number"),
    (",,,,,-1,,,,https://x", "column vocab_size: -1 must be positive"),
    (",,,,,,,,yes,https://x", "column tied_embeddings: 'yes' is not true/false"),
    (",,,,,,2048,,,", "column arch_source: architecture numbers need a source"),
])
def test_malformed_new_columns_give_the_listed_error(tmp_path, extra, expected):
    with pytest.raises(CatalogError) as info:
        _load(tmp_path, HEADER + "," + EXTRA, BASE + "," + extra)
    assert f"line 2 (M1), {expected}" in str(info.value)


def test_bad_new_columns_are_listed_together_with_old_ones(tmp_path):
    rows = [BASE.replace("M1", "A").replace("1e9", "-5") + ",,,,,,,,,,",
            BASE.replace("M1", "B") + ",,0.1,,,,,,,,",
            BASE.replace("M1", "C") + ",wrong,,,,,,,,maybe,https://x"]
    with pytest.raises(CatalogError) as info:
        _load(tmp_path, HEADER + "," + EXTRA, *rows)
    text = str(info.value)
    assert len(info.value.problems) == 4
    assert "line 2 (A), column params" in text and "line 3 (B), column epochs" in text
    assert "line 4 (C), column params_precision" in text and "line 4 (C), column tied_embeddings" in text


def test_cli_models_json_carries_caveats():
    out = subprocess.run([sys.executable, "-m", "scaling_explorer", "models", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    records = {r["name"]: r for r in json.loads(out.stdout)}
    assert records["DeepSeek-R1"]["status"] == NOT_PLOTTED
    assert any("continued from DeepSeek-V3" in c for c in records["DeepSeek-R1"]["caveats"])
    assert records["Kimi K2"]["caveats"] == [MOE_CAVEAT]
    text = subprocess.run([sys.executable, "-m", "scaling_explorer", "models"], capture_output=True, text=True)
    assert text.returncode == 0 and "continued from DeepSeek-V3" in text.stdout
