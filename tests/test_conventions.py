"""Parameter-count conventions, FLOP models, re-expressed laws, flatness, Porian's steps.

Independent numbers: Hoffmann et al. 2022 Table A9 shapes (as listed in Pearce & Song's script)
and Table A4 ratios; GPT-3 Table D.1; hand counts written out term by term; Pearce & Song's
analytic frontier (their eq. 16, from the authors' script); Porian et al.'s released exponents;
closed forms and dense scans.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_explorer.conventions import (
    CHINCHILLA_FLOPS,
    CHINCHILLA_SHAPES,
    DEEPSEEK_FLOPS,
    FLOP_MODELS,
    KAPLAN_FLOPS,
    SIX_ND,
    Architecture,
    ParamCount,
    ShapeFamily,
    chinchilla_flops_per_token,
    compare_reported_flops,
    convert_params,
    deepseek_flops_per_token,
    get_flop_model,
    kaplan_flops_per_token,
    load_porian_steps,
    non_embedding_from_total,
    six_n_flops_per_token,
    total_from_non_embedding,
)
from scaling_explorer.frontier import (
    flat_optimum,
    frontier_exponent,
    local_exponent,
    size_overhead,
    size_overhead_closed_form,
)
from scaling_explorer.laws import get_law
from scaling_explorer.reexpress import ReexpressedLaw, reexpress

# Hoffmann et al. 2022 Table A9: parameters (millions) and d_model of all 50 model shapes, as listed
# in Pearce & Song's script (TeaPearce/Reconciling_Kaplan_Chinchilla_Scaling_Laws). Vocabulary 32k.
A9_PARAMS_M = [44, 57, 74, 90, 106, 117, 140, 163, 175, 196, 217, 251, 278, 306, 425, 489, 509, 552, 587, 632,
               664, 724, 816, 893, 1018, 1143, 1266, 1424, 1429, 1593, 1609, 1731, 1794, 2007, 2283, 2298, 2639,
               2980, 3530, 3802, 4084, 4516, 6796, 9293, 11452, 12295, 12569, 13735, 14494, 16183]
A9_D_MODEL = [512, 576, 640, 640, 640, 768, 768, 768, 896, 896, 896, 1024, 1024, 1024, 1280, 1280, 1408, 1280, 1408,
              1536, 1408, 1536, 1536, 1792, 1792, 1792, 2048, 2176, 2048, 2048, 2176, 2304, 2176, 2304, 2304, 2560,
              2560, 2560, 2688, 2816, 2944, 3072, 3584, 4096, 4352, 4608, 4608, 4864, 4992, 5120]

EPOCH = get_law("besiroglu2024")
KAPLAN_RANGE = (10**12.95, 10**20.7)  # non-embedding compute of Kaplan's runs (Pearce & Song's script)

CHINCHILLA_70B = Architecture(n_layers=80, d_model=8192, vocab_size=32_000, seq_len=2048, n_heads=64, kv_size=128)
GPT3_175B = Architecture(n_layers=96, d_model=12288, vocab_size=50257, seq_len=2048, n_heads=96, kv_size=128)


# -- parameter counts -------------------------------------------------------------------------

def test_pearce_song_fit_reproduces_chinchilla_table_a9_shapes():
    params = np.array(A9_PARAMS_M) * 1e6
    non_embedding = params - 32_000 * np.array(A9_D_MODEL)  # Table A9 shapes, one 32k x d_model embedding
    error = CHINCHILLA_SHAPES.to_total(non_embedding) / params - 1
    # Pearce & Song's Fig. 2: the fit runs through the 50 configurations; within 5%, typically <1%.
    assert np.max(np.abs(error)) < 0.05 and np.median(np.abs(error)) < 0.01
    assert np.max(np.abs(CHINCHILLA_SHAPES.to_non_embedding(params) / non_embedding - 1)) < 0.07
    assert CHINCHILLA_SHAPES.gamma == pytest.approx(47491, rel=1e-12)
    assert CHINCHILLA_SHAPES.aspect_ratio == pytest.approx(39.2, abs=0.05)  # their d_model / n_layer


@settings(max_examples=200, deadline=None)
@given(st.floats(1e2, 1e14))
def test_total_to_non_embedding_to_total_round_trips(N):
    n = CHINCHILLA_SHAPES.to_non_embedding(N)
    assert 0 < n < N
    assert CHINCHILLA_SHAPES.to_total(n) == pytest.approx(N, rel=1e-12)
    back = convert_params(convert_params(N, "total", "non-embedding"), "non-embedding", "total")
    assert back == pytest.approx(N, rel=1e-12)


def test_the_fit_is_the_shape_family_it_comes_from():
    # d_model = (aspect N / 12)**(1/3) and 12 n_layer d_model**2 = N: the family's own architecture
    # has exactly the fit's embedding count.
    for n in (1e6, 1e9, 1e12):
        arch = CHINCHILLA_SHAPES.architecture(n)
        assert arch.non_embedding_params() == pytest.approx(n, rel=1e-12)
        assert arch.total_params() == pytest.approx(CHINCHILLA_SHAPES.to_total(n), rel=1e-12)
    untied = ShapeFamily(tied_embeddings=False)
    assert untied.gamma == pytest.approx(2 * 47491)


def test_exact_counts_from_architecture_gpt3_175b():
    # GPT-3 Table D.1: 174.6B parameters; 96 layers, d_model 12288, 50257 tokens, learned 2048 positions.
    blocks = 12 * 96 * 12288**2
    assert GPT3_175B.non_embedding_params() == blocks
    total = blocks + 50257 * 12288 + 2048 * 12288
    assert total == pytest.approx(174.6e9, rel=1e-3)
    assert non_embedding_from_total(total, 50257, 12288) == pytest.approx(blocks + 2048 * 12288)
    assert total_from_non_embedding(blocks, 50257, 12288, tied_embeddings=False) == blocks + 2 * 50257 * 12288
    with pytest.raises(ValueError, match="embeddings"):
        non_embedding_from_total(1e6, 50257, 12288)


# -- FLOP models: hand counts -----------------------------------------------------------------

def test_flop_counts_against_a_hand_count_for_chinchilla_70b():
    d, L, S, V, h, k = 8192, 80, 2048, 32_000, 64, 128
    # Hoffmann App. F, term by term (per token, forward): embeddings 2Vd; per layer QKV 2*3*d*hk,
    # logits 2*S*hk, softmax 3*h*S, values 2*S*hk, output 2*hk*d, dense 2*(d*4d + d*4d); logits 2dV.
    per_layer = 2 * 3 * d * h * k + 2 * S * h * k + 3 * h * S + 2 * S * h * k + 2 * h * k * d + 2 * (2 * d * 4 * d)
    forward = 2 * V * d + L * per_layer + 2 * d * V
    assert chinchilla_flops_per_token(CHINCHILLA_70B) == 3 * forward
    assert 3 * forward == 405_893_283_840  # 405.9 GFLOPs per token
    assert kaplan_flops_per_token(CHINCHILLA_70B) == 6 * 12 * L * d**2
    assert six_n_flops_per_token(CHINCHILLA_70B) == 6 * (12 * L * d**2 + V * d)
    assert deepseek_flops_per_token(CHINCHILLA_70B) == 72 * L * d**2 + 12 * L * d * S
    # On Chinchilla's 1.4T tokens the App. F count gives 5.68e23, 1.3% below the 5.76e23 Hoffmann report.
    assert chinchilla_flops_per_token(CHINCHILLA_70B) * 1.4e12 == pytest.approx(5.76e23, rel=0.02)


def test_flop_counts_against_a_hand_count_for_gpt3_175b():
    d, L, S, V = 12288, 96, 2048, 50257
    assert kaplan_flops_per_token(GPT3_175B) * 300e9 == pytest.approx(6 * 12 * L * d**2 * 300e9)
    # GPT-3 Table D.1 counts 6ND with N = 174.6B: 3.14e23 FLOPs. Without position embeddings
    # (Architecture counts vocabulary embeddings only) 6ND lands within 0.1% of it.
    assert six_n_flops_per_token(GPT3_175B) * 300e9 == pytest.approx(3.14e23, rel=2e-3)
    M = 72 * L * d**2 + 12 * L * d * S  # 1.0726e12 FLOPs per token
    assert deepseek_flops_per_token(GPT3_175B) == M and M == pytest.approx(1.0726e12, rel=1e-4)
    per_layer = 6 * d * d + 2 * S * d + 3 * 96 * S + 2 * S * d + 2 * d * d + 16 * d * d
    assert chinchilla_flops_per_token(GPT3_175B) == 3 * (4 * V * d + L * per_layer)


def test_chinchilla_table_a4_ratios_are_reproduced_by_the_per_layer_terms():
    # Table A4: (their FLOPs) / 6ND for six models; architectures from Table A9 (layers, d_model,
    # heads, kv size; ffw = 4 d_model; 2048-token context), N = Table A9's parameter count.
    rows = [(73.7e6, 10, 640, 10, 64, 1.03), (306e6, 20, 1024, 16, 64, 1.10), (552e6, 24, 1280, 10, 128, 1.08),
            (1143e6, 26, 1792, 14, 128, 1.04), (1593e6, 28, 2048, 16, 128, 1.03), (6796e6, 40, 3584, 28, 128, 0.99)]
    for N, L, d, h, k, ratio in rows:
        arch = Architecture(n_layers=L, d_model=d, vocab_size=32_000, n_heads=h, kv_size=k)
        # Per-layer terms only: the printed two decimals, all six.
        assert chinchilla_flops_per_token(arch, include_embeddings=False) / (6 * N) == pytest.approx(ratio, abs=0.006)
        # The full count, with the embedding and logit terms App. F describes, does not reproduce it.
        assert chinchilla_flops_per_token(arch) / (6 * N) > ratio + 0.02


def test_shaped_flop_models_invert_and_depend_on_the_count():
    C, D = 1e22, np.array([1e10, 1e11, 1e12])
    for model in (KAPLAN_FLOPS, CHINCHILLA_FLOPS, DEEPSEEK_FLOPS):
        N = model.params(C, D)
        assert model.flops(N, D) == pytest.approx(np.full(3, C), rel=1e-10)
        assert model.tokens(C, N) == pytest.approx(D, rel=1e-10)
    # Kaplan's count of a total-N law is 6 N_nonemb D; of a non-embedding-N law it is 6ND.
    N = 1e9
    assert KAPLAN_FLOPS.flops(N, 1e10) == pytest.approx(6 * CHINCHILLA_SHAPES.to_non_embedding(N) * 1e10)
    assert KAPLAN_FLOPS.for_params("non-embedding").flops(N, 1e10) == pytest.approx(6 * N * 1e10)
    assert SIX_ND.for_params("non-embedding") is SIX_ND
    assert get_flop_model("deepseek") is DEEPSEEK_FLOPS
    assert set(FLOP_MODELS) == {"6ND", "kaplan", "chinchilla", "deepseek"}
    with pytest.raises(ValueError, match="unknown FLOP model"):
        get_flop_model("7ND")


def test_a_law_under_another_flop_count_is_the_minimum_on_that_counts_iso_flop_line():
    law = dataclasses.replace(EPOCH, flop_model=CHINCHILLA_FLOPS)
    C = np.array([1e20, 5.76e23])
    N, D = law.compute_optimal(C)
    assert CHINCHILLA_FLOPS.flops(N, D) == pytest.approx(C, rel=1e-10)
    for factor in (0.98, 1.02):  # the loss rises on both sides along the same count's line
        assert np.all(law.loss(N * factor, CHINCHILLA_FLOPS.tokens(C, N * factor)) > law.loss(N, D))
    # Counting embeddings and attention makes each parameter dearer than 6 FLOPs at Chinchilla scale,
    # so the optimum moves to fewer parameters than under 6ND (1.3% at 5.76e23).
    assert N[1] < EPOCH.compute_optimal(5.76e23)[0]


# -- catalog comparison -----------------------------------------------------------------------

def test_reported_flops_compared_with_each_count():
    models = pd.DataFrame([
        {"name": "GPT-3 175B", "tokens": 3e11, "flops_reported": 3.14e23, "vocab_size": 50257, "d_model": 12288,
         "n_layers": 96, "tied_embeddings": True},
        {"name": "Chinchilla", "tokens": 1.4e12, "flops_reported": 5.76e23, "vocab_size": 32_000, "d_model": 8192,
         "n_layers": 80, "tied_embeddings": "true"},
        {"name": "no architecture", "tokens": 1e12, "flops_reported": 1e23, "vocab_size": None, "d_model": None,
         "n_layers": None, "tied_embeddings": None},
    ])
    table = compare_reported_flops(models).set_index("name")
    assert list(table.index) == ["GPT-3 175B", "Chinchilla"]
    assert table.loc["GPT-3 175B", "ratio_6ND"] == pytest.approx(1.0, abs=2e-3)  # GPT-3 counts 6ND
    # Chinchilla: App. F count 5.68e23 vs 5.76e23 reported (heads default to d_model / 128 = 64).
    assert table.loc["Chinchilla", "ratio_chinchilla"] == pytest.approx(5.76e23 / (3 * (
        4 * 32_000 * 8192 + 80 * (8 * 8192**2 + 4 * 2048 * 8192 + 3 * 64 * 2048 + 16 * 8192**2))) / 1.4e12, rel=1e-12)


# -- re-expressed laws ------------------------------------------------------------------------

def _pearce_song_budget(n, law, gamma=47491.0):
    """Pearce & Song's eq. 16 (authors' script): the non-embedding budget at which n is optimal."""
    a, b, A, B = law.alpha, law.beta, law.A, law.B
    return 6 * n * (n + gamma / 3 * n ** (1 / 3)) ** (-1 / b) * (n + gamma * n ** (1 / 3)) ** ((1 + a) / b) * (
        b / a * B / A) ** (1 / b)


def test_epoch_law_in_non_embedding_parameters_matches_pearce_and_songs_analytic_frontier():
    law = reexpress(EPOCH, ParamCount.NON_EMBEDDING)
    assert law.params_meaning is ParamCount.NON_EMBEDDING and law.has_loss
    n = np.geomspace(1e4, 1e10, 7)
    C = _pearce_song_budget(n, EPOCH)
    N_opt, D_opt = law.compute_optimal(C)
    np.testing.assert_allclose(N_opt, n, rtol=1e-7)
    np.testing.assert_allclose(6 * N_opt * D_opt, C, rtol=1e-10)  # Kaplan's budget: 6 N_nonemb D


def test_non_embedding_counting_bends_the_epoch_law_into_kaplans_exponent():
    law = reexpress(EPOCH, "non-embedding")
    e = frontier_exponent(law, *KAPLAN_RANGE)
    # reference.md A5: over Kaplan's range the secant or regression reads 0.74-0.78, near 0.73.
    assert 0.74 <= e.secant <= 0.78 and 0.74 <= e.regression <= 0.78
    assert e.local_min < 0.6 < 0.9 < e.local_max  # not a power law
    # ... and it tends to beta / (alpha + beta) = 0.513 once embeddings are negligible.
    assert local_exponent(law, np.array([1e30, 1e34])) == pytest.approx(np.full(2, EPOCH.a), abs=1e-3)
    # In its own convention the law is a power law: every reading gives a.
    e0 = frontier_exponent(EPOCH, *KAPLAN_RANGE)
    assert e0.secant == pytest.approx(EPOCH.a, rel=1e-9) and e0.local_max == pytest.approx(EPOCH.a, rel=1e-5)


def test_kaplan_in_total_parameters_keeps_its_points_recounted():
    kaplan = get_law("kaplan2020")
    total = reexpress(kaplan, "total")
    assert total.params_meaning is ParamCount.TOTAL and not total.frontier_minimises_loss
    C = np.array([1e19, 1e21, 1e24])
    N, D = total.compute_optimal(C)
    np.testing.assert_allclose(6 * N * D, C, rtol=1e-10)  # budget counted 6 N_total D
    C_base = total.base_budget(C)
    N_b, D_b = kaplan.compute_optimal(C_base)
    np.testing.assert_allclose(N, CHINCHILLA_SHAPES.to_total(N_b), rtol=1e-12)
    np.testing.assert_allclose(D, D_b, rtol=1e-12)
    assert np.all(N > N_b) and np.all(C_base < C)
    assert total.frontier_loss(C) == pytest.approx(kaplan.frontier_loss(C_base))


def test_reexpress_round_trips_and_is_a_frozen_law():
    law = reexpress(EPOCH, "non-embedding")
    assert reexpress(law, "total") is EPOCH and reexpress(EPOCH, "total") is EPOCH
    assert isinstance(law, ReexpressedLaw) and hash(law) == hash(reexpress(EPOCH, "non-embedding"))
    other = dataclasses.replace(law, shape=ShapeFamily(vocab_size=50257))
    assert other.compute_optimal(1e20)[0] != law.compute_optimal(1e20)[0]
    with pytest.raises(ValueError, match="convert"):
        reexpress(EPOCH, "active-per-token")


# -- flatness ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key, C", [("besiroglu2024", 5.76e23), ("hoffmann2022-approach3", 1e21), ("kaplan2020", 1e21)])
def test_flat_range_matches_a_dense_scan(key, C):
    law = get_law(key)
    flat = flat_optimum(law, C, tolerance=0.01)
    log_n = np.linspace(np.log(flat.params_opt) - 6, np.log(flat.params_opt) + 6, 400_001)
    N = np.exp(log_n)
    loss = law.loss(N, C / (6 * N))
    inside = N[loss <= 1.01 * loss.min()]
    step = log_n[1] - log_n[0]
    assert np.log(flat.params_low) == pytest.approx(np.log(inside.min()), abs=2 * step)
    assert np.log(flat.params_high) == pytest.approx(np.log(inside.max()), abs=2 * step)
    assert flat.tokens_high == pytest.approx(C / (6 * flat.params_low), rel=1e-10)
    assert flat.loss_opt == pytest.approx(loss.min(), rel=1e-9)


def test_flat_range_widens_with_tolerance_and_rejects_bad_input():
    narrow, wide = flat_optimum(EPOCH, 1e22, 0.005), flat_optimum(EPOCH, 1e22, 0.02)
    assert wide.params_low < narrow.params_low < narrow.params_opt < narrow.params_high < wide.params_high
    with pytest.raises(ValueError, match="tolerance"):
        flat_optimum(EPOCH, 1e22, 1.5)
    with pytest.raises(TypeError, match="allocation law"):
        flat_optimum(get_law("hoffmann2022-approach1"), 1e22)


def test_size_overhead_matches_de_vries_closed_form():
    k = np.array([0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0])
    for key in ("besiroglu2024", "hoffmann2022-approach3"):
        law = get_law(key)
        for C in (1e20, 5.76e23):
            np.testing.assert_allclose(size_overhead(law, C, k), size_overhead_closed_form(law.alpha, law.beta, k),
                                       atol=1e-9)
    # Worked numbers (alpha 0.34, beta 0.28): 2x the optimal size costs 13.1% more compute,
    # half the size 20.8% more; too small a model never reaches the loss.
    assert size_overhead_closed_form(0.34, 0.28, 2.0) == pytest.approx(0.131, abs=1e-3)
    assert size_overhead_closed_form(0.34, 0.28, 0.5) == pytest.approx(0.208, abs=1e-3)
    assert np.isnan(size_overhead(EPOCH, 1e22, 0.1))


# -- Porian et al. ----------------------------------------------------------------------------

def test_porian_steps_are_the_published_sequence():
    steps = load_porian_steps()
    # reference.md A5 (RefinedWeb): 0.835 -> 0.706 -> 0.602 -> 0.571 -> 0.497.
    np.testing.assert_allclose(steps["exponent"], [0.835, 0.706, 0.602, 0.571, 0.497], atol=5e-4)
    assert list(steps["step"]) == [0, 1, 2, 3, 4]
    assert (steps["ci_low"] <= steps["exponent"]).all() and (steps["exponent"] <= steps["ci_high"]).all()
    assert steps["source_url"].str.startswith("https://github.com/formll/").all()
    attention = load_porian_steps(sequence="attention")
    assert attention["exponent"].iloc[0] == steps["exponent"].iloc[0] and len(attention) == 5
    assert attention["exponent"].iloc[-1] == pytest.approx(0.505, abs=1e-3)
    assert set(load_porian_steps(dataset=None, sequence=None)["dataset"]) == {"RefinedWeb", "OpenWebText2"}
    with pytest.raises(ValueError, match="dataset"):
        load_porian_steps(dataset="C4")


def test_conventions_is_the_three_modules_by_idea():
    from scaling_explorer import conventions, counting, flops, porian

    assert conventions.ParamCount is counting.ParamCount
    assert conventions.non_embedding_counts is counting.non_embedding_counts
    assert conventions.FLOP_MODELS is flops.FLOP_MODELS and conventions.SIX_ND is flops.SIX_ND
    assert conventions.load_porian_steps is porian.load_porian_steps
