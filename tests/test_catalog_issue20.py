"""Issue 20: catalog corrections, non-embedding placement and the models to December 2026.

Every expected number is the developer's own, cited next to it; none is read back from the CSV.
"""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scaling_explorer.catalog import (
    NOT_PLOTTED,
    REQUIRED_COLUMNS,
    classify,
    load_models,
    non_embedding_placement,
)
from scaling_explorer.conventions import CHINCHILLA_SHAPES, NON_EMBEDDING_ROUTES
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


# -- corrections ------------------------------------------------------------------------------

def test_granite_3_0_2b_is_its_cards_2_5b(row):
    # ibm-granite/granite-3.0-2b-base card, Model Architecture table: "# Parameters | 2.5B", "# Training tokens | 12T".
    assert row.loc["Granite 3.0 2B", "params"] == 2.5e9
    assert row.loc["Granite 3.0 2B", "tokens"] == 10e12 + 2e12


def test_qwen3_30b_a3b_is_30_5b_total_3_3b_active(row, besiroglu):
    # Qwen/Qwen3-30B-A3B card: "Number of Parameters: 30.5B in total and 3.3B activated".
    r = row.loc["Qwen3-30B-A3B"]
    assert (r["params"], r["active_params"]) == (30.5e9, 3.3e9)
    # The verdict uses the active count: 36T tokens (report §3.1) over 3.3B.
    assert besiroglu.loc["Qwen3-30B-A3B", "tokens_per_param"] == pytest.approx(36e12 / 3.3e9, rel=1e-12)


def test_phi4_carries_the_repeated_data_caveat(row, besiroglu):
    # Phi-4 report (arXiv 2412.08905) Table 5: (fraction of training, unique tokens, epochs) per source.
    table5 = [(0.15, 1.3e12, 1.2), (0.15, 290e9, 5.2), (0.40, 290e9, 13.8), (0.20, 820e9, 2.4), (0.10, 580e9, 1.7)]
    # The table is self-consistent with the report's "approximately 10T" tokens: epochs = fraction x 10T / unique.
    for fraction, unique, epochs in table5:
        assert fraction * 10e12 / unique == pytest.approx(epochs, abs=0.06)
    unique_total = sum(u for _, u, _ in table5)
    assert row.loc["Phi-4", "unique_tokens"] == pytest.approx(unique_total, rel=1e-12)  # 3.28T
    assert f"~{9.8e12 / unique_total:.2g} epochs of repeated data counted as fresh tokens" in besiroglu.loc[
        "Phi-4", "caveats"]
    assert "Prioritizing more epochs over our synthetic data" in row.loc["Phi-4", "source_detail"]


def test_gemma3_270m_published_split_and_no_unsourced_distillation(row, besiroglu):
    # Google, "Introducing Gemma 3 270M": "170 million embedding parameters ... and 100 million for our
    # transformer blocks". No primary source states distillation for the 270M (data README's rule).
    r = row.loc["Gemma 3 270M"]
    assert r["non_embedding_params"] == 100e6 and r["params"] == 170e6 + 100e6
    assert r["distilled_from"] == "" and r["non_embedding_route"] == "published"
    assert not any(c.startswith("distilled") for c in besiroglu.loc["Gemma 3 270M", "caveats"])
    assert any(c.startswith("distilled") for c in besiroglu.loc["Gemma 3 1B", "caveats"])  # Gemma 3 report §2.2


def test_olmo3_32b_cites_its_own_card(row):
    # allenai/Olmo-3-1125-32B card, Model Details: "OLMo 3 32B | 5.50 Trillion | 64 | 5120".
    r = row.loc["Olmo 3 32B"]
    assert r["source"] == "https://huggingface.co/allenai/Olmo-3-1125-32B"
    assert (r["tokens"], r["n_layers"], r["d_model"]) == (5.5e12, 64, 5120)


def test_models_json_carries_total_and_active_parameters():
    out = subprocess.run([sys.executable, "-m", "scaling_explorer", "models", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    records = {r["name"]: r for r in json.loads(out.stdout)}
    # DeepSeek-V3 README: 671B total, 37B activated, 14.8T tokens.
    v3 = records["DeepSeek-V3"]
    assert (v3["params"], v3["active_params"]) == (671e9, 37e9)
    assert v3["tokens_per_param"] == pytest.approx(14.8e12 / 37e9, rel=1e-12)
    assert records["Chinchilla"]["active_params"] is None and records["Chinchilla"]["params"] == 70e9


# -- non-embedding placement ------------------------------------------------------------------

def test_llama_3_2_1b_is_placed_by_vocab_times_d_model(row):
    # Meta's SKU list: dim 2048, vocab 128,256; card: shared embeddings, 1.23B.
    exact = 1.23e9 - 128_256 * 2048
    r = row.loc["Llama 3.2 1B"]
    assert r["non_embedding_route"] == "vocab x d_model"
    counts = non_embedding_placement(row.reset_index())
    assert counts.set_index(row.index).loc["Llama 3.2 1B", "non_embedding_count"] == pytest.approx(exact, rel=1e-12)
    # The figure: Pearce & Song's 32k-vocabulary fit overstated it 1.22x.
    assert CHINCHILLA_SHAPES.to_non_embedding(1.23e9) / exact == pytest.approx(1.22, abs=0.01)
    assert "128,256 x 2,048" in r["non_embedding_placement"]


def test_gemma3_270m_fit_would_overstate_2_4x():
    # Issue 20: the 32k fit puts Gemma 3 270M's non-embedding count at 2.4x the published 100M.
    assert CHINCHILLA_SHAPES.to_non_embedding(270e6) / 100e6 == pytest.approx(2.4, abs=0.05)


def test_untied_embeddings_count_twice(row):
    # Llama 3 8B: dim 4096, vocab 128,256 (SKU list); separate input and output matrices.
    counts = non_embedding_placement(row.reset_index()).set_index(row.index)
    assert counts.loc["Llama 3 8B", "non_embedding_count"] == pytest.approx(8e9 - 2 * 128_256 * 4096, rel=1e-12)
    assert "x 2 (untied" in row.loc["Llama 3 8B", "non_embedding_placement"]


def test_every_row_names_its_route(models):
    routes = models["non_embedding_route"]
    assert set(routes) <= set(NON_EMBEDDING_ROUTES) | {""}
    moe = models["architecture"] == "moe"
    assert (routes[moe] == "").all()
    assert models.loc[moe, "non_embedding_placement"].str.contains("active parameters").all()
    dense = (models["architecture"] == "dense") & models["params"].notna()
    assert (routes[dense] != "").all()
    published = models["non_embedding_params"].notna() & dense
    assert (routes[published] == "published").all()
    # Every dense row with a published vocabulary has its d_model too, so none falls back to the 32k fit.
    has_vocab = dense & models["vocab_size"].notna()
    assert models.loc[has_vocab, "d_model"].notna().all()
    assert (routes[has_vocab] != "Pearce & Song fit").all()
    # Meta's SKU list gives every Llama 2 / 3.x text model's dim and vocabulary.
    llama = models["family"].str.startswith("Llama") & models["name"].str.match(r"Llama [23]")
    assert llama.sum() >= 11 and (routes[llama] == "vocab x d_model").all()


def test_a_users_file_is_placed_too(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(",".join(REQUIRED_COLUMNS) + "\n"
                    "A,F,Org,2023-01-01,1e9,,,2e10,,true,dense,https://example.org,T1,\n"
                    "B,F,Org,2023-01-01,8e9,1e9,,2e10,,true,moe,https://example.org,T1,\n")
    m = load_models(path).set_index("name")
    assert m.loc["A", "non_embedding_route"] == "Pearce & Song fit" and m.loc["B", "non_embedding_route"] == ""


# -- the models to December 2026 --------------------------------------------------------------

@pytest.mark.parametrize("name, params, active, tokens", [
    ("DeepSeek-V4-Pro", 1.6e12, 49e9, 32e12),    # card: "1.6T parameters (49B activated)", "more than 32T" tokens
    ("DeepSeek-V4-Flash", 284e9, 13e9, 32e12),   # card: "284B parameters (13B activated)"
    ("GLM-5", 744e9, 40e9, 28.5e12),             # zai-org/GLM-5 README: "744B parameters (40B active) ... 28.5T"
    ("Qwen3-Next-80B-A3B", 80e9, 3e9, 15e12),    # card: "Pretraining (15T tokens)", "80B in total and 3B activated"
    ("Nemotron 3 Super", 120.6e9, 12.7e9, 25e12),  # NVIDIA-NeMo/Nemotron super3 README
    ("Apertus 70B", 70e9, None, 15e12),          # swiss-ai card: "pretrained on 15T tokens"
    ("Seed-OSS-36B", 36e9, None, 12e12),         # ByteDance-Seed/seed-oss README: "trained with only 12T tokens"
])
def test_new_rows_against_their_sources(row, besiroglu, name, params, active, tokens):
    r = row.loc[name]
    assert r["params"] == params and r["tokens"] == tokens
    if active is None:
        assert np.isnan(r["active_params"]) and r["architecture"] == "dense"
    else:
        assert r["active_params"] == active and r["architecture"] == "moe"
    assert besiroglu.loc[name, "status"] != NOT_PLOTTED
    assert r["release_date"] >= pd.Timestamp("2025-06-01")


def test_continued_2026_runs_point_at_their_base(row, besiroglu):
    # DeepSeek-V3.1 card: V3.1-Base "built upon the original V3 base checkpoint", 630B + 209B extension tokens.
    assert row.loc["DeepSeek-V3.1", "continued_from"] == "DeepSeek-V3"
    assert row.loc["DeepSeek-V3.1", "tokens"] == 630e9 + 209e9
    # Kimi K2.5 README: "continual pretraining on approximately 15 trillion ... tokens atop Kimi-K2-Base".
    assert row.loc["Kimi K2.5", "continued_from"] == "Kimi K2" and row.loc["Kimi K2.5", "tokens"] == 15e12
    for name in ["DeepSeek-V3.1", "Kimi K2.5"]:
        assert besiroglu.loc[name, "status"] == NOT_PLOTTED


def test_undisclosed_2026_tokens_are_listed_not_plotted(row, besiroglu):
    # Qwen3.5 README ("trillions of multimodal tokens"), Mistral Large 3 and Gemma 4 cards and the MiniMax-M2
    # README give sizes but no token counts.
    for name in ["Qwen3.5-397B-A17B", "Qwen3.5-27B", "Mistral Large 3", "Gemma 4 31B", "Gemma 4 26B A4B",
                 "MiniMax-M2", "Nemotron 3 Ultra"]:
        assert np.isnan(row.loc[name, "tokens"]), name
        assert besiroglu.loc[name, "not_plotted"] == "training tokens undisclosed", name
    # Gemma 4 card: 26B A4B "Total Parameters 25.2B", "Active Parameters 3.8B"; Qwen3.5 card: 397B / 17B.
    assert (row.loc["Gemma 4 26B A4B", "params"], row.loc["Gemma 4 26B A4B", "active_params"]) == (25.2e9, 3.8e9)
    assert (row.loc["Qwen3.5-397B-A17B", "params"], row.loc["Qwen3.5-397B-A17B", "active_params"]) == (397e9, 17e9)


def test_catalog_reaches_december_2026_with_sources(models):
    assert len(models) >= 135
    assert models["source"].str.startswith("http").all() and (models["source_detail"] != "").all()
    assert models["release_date"].max().year == 2026
    for family in ["DeepSeek", "Qwen3.5", "Gemma 4", "Apertus", "Nemotron 3", "Kimi", "Mistral"]:
        assert (models["family"] == family).any(), family


def test_the_model_card_carries_the_route():
    from scaling_explorer.readout import evaluate
    from scaling_explorer.scenario import Scenario

    card = evaluate(Scenario(model="Llama 3.2 1B")).selected
    assert card.model["non_embedding_route"] == "vocab x d_model"
    assert "128,256 x 2,048" in card.model["non_embedding_placement"]
