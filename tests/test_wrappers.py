"""Wrappers (inference demand, unique-token budgets, fine-grained MoE) and the newer presets,
against the authors' worked examples (../shared/reference.md A4-A5), closed forms, a second
method and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from scaling_explorer.conventions import ParamCount
from scaling_explorer.frontier import compute_for_loss
from scaling_explorer.laws import ParametricLaw, get_law
from scaling_explorer.wrappers import (
    DataConstrained,
    InferenceAware,
    NotApplicable,
    ServingCost,
    break_even_inference_tokens,
    cost_optimum_for_loss,
    effective_data,
    for_loss,
    lifetime_flops,
    optimum_for_budget,
    optimum_for_loss,
    repeated_data_value,
)

SARDANA = get_law("sardana2024")
MUENNIGHOFF = get_law("muennighoff2023")
KRAJEWSKI = get_law("krajewski2024")


# -- inference-aware (Sardana et al. 2024) ---------------------------------------------------
def test_sardana_constants_reproduce_their_model_calculator():
    # README: `model_calculator.py --model 70e9 --data 1e12` gives loss 1.947 (reference A5: 1.9473).
    assert SARDANA.loss(70e9, 1e12) == pytest.approx(1.9473, abs=5e-5)


def test_sardana_compute_optimal_worked_example():
    # README, compute_optimal.py --loss 1.947 --inference_tokens 2e12: N 2.418e10, D 2.657e12,
    # 70.96% of the parameters, 146.77% of the tokens and 95.22% of the FLOPs of the equal-loss
    # Chinchilla model (N 3.408e10, D 1.810e12, reference A5).
    N, D = optimum_for_loss(SARDANA, 1.947, 2e12)
    assert float(N) == pytest.approx(2.418e10, rel=5e-4) and float(D) == pytest.approx(2.657e12, rel=5e-4)
    N0, D0 = optimum_for_loss(SARDANA, 1.947, 0.0)
    assert float(N0) == pytest.approx(3.408e10, rel=5e-4) and float(D0) == pytest.approx(1.810e12, rel=5e-4)
    assert float(N / N0) == pytest.approx(0.7096, abs=1e-4) and float(D / D0) == pytest.approx(1.4677, abs=1e-4)
    ratio = lifetime_flops(SARDANA, N, D, 2e12) / lifetime_flops(SARDANA, N0, D0, 2e12)
    assert float(ratio) == pytest.approx(0.9522, abs=1e-4)
    assert float(SARDANA.loss(N, D)) == pytest.approx(1.947, rel=1e-12)


def test_sardana_cost_optimal_worked_example():
    # README, cost_optimal.py: 1e10 requests of 1000 input + 250 output tokens; training on A100-80GB
    # at $1.40/h, bf16 peak 3.12e14, MFU 0.5; serving on A100-40GB at $0.60/h in int8 (6.24e14),
    # MFU 0.4 prefill and 0.2 decode -> N 2.053e10, D 3.302e12, 60.23% of the parameters and 88.76%
    # of the cost of the equal-loss Chinchilla model.
    cost = ServingCost(train_peak_flops=3.12e14, train_usd_per_gpu_hour=1.40, train_mfu=0.5,
                       inference_peak_flops=6.24e14, inference_usd_per_gpu_hour=0.60, prefill_mfu=0.4,
                       decode_mfu=0.2)
    N, D = cost_optimum_for_loss(SARDANA, 1.947, 1e13, 2.5e12, cost)
    assert float(N) == pytest.approx(2.053e10, rel=5e-4) and float(D) == pytest.approx(3.302e12, rel=5e-4)
    N0, D0 = optimum_for_loss(SARDANA, 1.947, 0.0)
    assert float(N / N0) == pytest.approx(0.6023, abs=1e-4)
    saving = cost.lifetime_usd(SARDANA, N, D, 1e13, 2.5e12) / cost.lifetime_usd(SARDANA, N0, D0, 1e13, 2.5e12)
    assert float(saving) == pytest.approx(0.8876, abs=1e-4)


def test_from_hardware_uses_the_presets_dense_peaks():
    cost = ServingCost.from_hardware("A100", "A100", train_usd_per_gpu_hour=1.4, inference_usd_per_gpu_hour=0.6,
                                     inference_peak_flops=6.24e14)
    assert cost.train_peak_flops == 312e12 and cost.inference_peak_flops == 6.24e14
    assert cost.usd_per_train_flop == pytest.approx(1.4 / 3600 / 312e12 / 0.5)
    with pytest.raises(ValueError, match="decode_mfu"):
        ServingCost(1e15, 1, 0.5, 1e15, 1, 0.5, 1.5)


@pytest.mark.parametrize("key", ["besiroglu2024", "hoffmann2022-approach3-unrounded", "sardana2024"])
def test_zero_demand_is_the_base_law_exactly(key):
    law = get_law(key)
    C = np.geomspace(1e19, 1e26, 9)
    N, D = law.compute_optimal(C)
    N_t, D_t = optimum_for_budget(law, C, 0.0)
    assert np.array_equal(N_t, N) and np.array_equal(D_t, D)
    wrapped = InferenceAware(law, 0.0)
    assert np.array_equal(wrapped.compute_optimal(C)[0], N)
    # ... and the equal-loss optimum at T = 0 is the frontier point of that loss (numeric second method).
    L = law.frontier_loss(C)
    N_l, D_l = optimum_for_loss(law, L, 0.0)
    np.testing.assert_allclose(N_l, N, rtol=1e-9)
    np.testing.assert_allclose(D_l, D, rtol=1e-9)
    np.testing.assert_allclose(compute_for_loss(law, L), C, rtol=1e-9)


def test_both_problems_agree_and_match_a_direct_minimisation():
    # (a) cheapest model of a loss and (b) best loss for its lifetime budget are the same point;
    # a bounded scalar minimisation of lifetime FLOPs along the iso-loss curve is the second method.
    T = 5e12
    N, D = (float(x) for x in optimum_for_loss(SARDANA, 2.0, T))
    total = float(lifetime_flops(SARDANA, N, D, T))
    N_b, D_b = (float(x) for x in optimum_for_budget(SARDANA, total, T))
    assert N_b == pytest.approx(N, rel=1e-8) and D_b == pytest.approx(D, rel=1e-8)

    def lifetime(log_d):
        d = np.exp(log_d)
        n = (SARDANA.A / (2.0 - SARDANA.E - SARDANA.B / d**SARDANA.beta)) ** (1 / SARDANA.alpha)
        return 6 * n * d + 2 * n * T

    res = minimize_scalar(lifetime, bounds=(np.log(1e11), np.log(1e15)), method="bounded",
                          options=dict(xatol=1e-10))
    assert np.exp(res.x) == pytest.approx(D, rel=1e-4)


def test_vectorised_over_demand_and_loss():
    T = np.array([0.0, 1e11, 1e12, 1e13, 1e14])
    N, D = optimum_for_loss(SARDANA, 1.947, T)
    assert N.shape == (5,) and np.all(np.diff(N) < 0) and np.all(np.diff(D) > 0)
    N2, _ = optimum_for_loss(SARDANA, np.array([[1.9], [2.1]]), T)
    assert N2.shape == (2, 5)
    for i, t in enumerate(T):
        assert N[i] == pytest.approx(float(optimum_for_loss(SARDANA, 1.947, t)[0]), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(loss=st.floats(1.8, 3.0), t_low=st.floats(0, 1e15), factor=st.floats(1.0, 100.0))
def test_more_inference_demand_never_makes_the_optimal_model_larger(loss, t_low, factor):
    N_low, D_low = optimum_for_loss(SARDANA, loss, t_low)
    N_high, D_high = optimum_for_loss(SARDANA, loss, t_low * factor)
    assert float(N_high) <= float(N_low) * (1 + 1e-12)
    assert float(D_high) >= float(D_low) * (1 - 1e-12)


@settings(max_examples=40, deadline=None)
@given(log_n=st.floats(8, 12), tokens_per_param=st.floats(150, 10_000))
def test_break_even_demand_is_the_numeric_optimum(log_n, tokens_per_param):
    # The closed form from the Lagrange condition against the numeric optimum at that demand.
    N = 10.0**log_n
    D = N * tokens_per_param
    T = float(break_even_inference_tokens(SARDANA, N, D))
    assert T > 0  # past Sardana's Chinchilla point (18 to 105 tokens per parameter over 1e18 to 1e27 FLOPs)
    N_opt, D_opt = optimum_for_loss(SARDANA, SARDANA.loss(N, D), T)
    assert float(N_opt) == pytest.approx(N, rel=1e-6) and float(D_opt) == pytest.approx(D, rel=1e-6)


def test_break_even_is_none_for_undertrained_models_and_zero_on_the_frontier():
    # Gopher, 280B on 300B tokens, is undertrained (Hoffmann §1): no demand makes it optimal.
    assert np.isnan(break_even_inference_tokens(SARDANA, 280e9, 300e9))
    N, D = SARDANA.compute_optimal(1e24)
    assert float(break_even_inference_tokens(SARDANA, N, D)) == pytest.approx(0.0, abs=1e-6 * float(D))
    # Llama 3 8B on 15T tokens (1,875 tokens per parameter) pays off only after trillions of tokens served.
    assert float(break_even_inference_tokens(SARDANA, 8e9, 15e12)) > 1e13


def test_inference_demand_needs_a_chinchilla_form_law():
    for key in ("kaplan2020", "hoffmann2022-approach1", "llama3-2024", "krajewski2024"):
        with pytest.raises(NotApplicable, match="Chinchilla-form"):
            optimum_for_loss(get_law(key), 2.5, 1e12)
    assert issubclass(NotApplicable, ValueError)
    with pytest.raises(ValueError, match="irreducible"):
        optimum_for_loss(SARDANA, 1.5, 1e12)
    with pytest.raises(ValueError, match="inference tokens"):
        optimum_for_loss(SARDANA, 2.0, -1.0)


def test_inference_aware_law_satisfies_the_protocol():
    from scaling_explorer.laws import Law

    law = InferenceAware(SARDANA, 1e13)
    assert isinstance(law, Law) and law.params_meaning is ParamCount.TOTAL
    C = 1e24
    N, D = law.compute_optimal(C)
    assert float(law.lifetime_flops(N, D)) == pytest.approx(C, rel=1e-12)
    assert float(N) < float(SARDANA.compute_optimal(C)[0])


# -- target-loss mode -------------------------------------------------------------------------
def test_target_loss_with_and_without_demand():
    plain = for_loss(SARDANA, 1.947)
    assert plain.params == pytest.approx(3.408e10, rel=5e-4) and plain.total_flops == plain.training_flops
    served = for_loss(SARDANA, 1.947, 2e12)
    assert served.params == pytest.approx(2.418e10, rel=5e-4)
    assert served.total_flops == pytest.approx(served.training_flops + 2 * served.params * 2e12)
    # Kaplan has no closed form: its frontier loss L(C_min) is inverted numerically.
    kaplan = get_law("kaplan2020")
    k = for_loss(kaplan, 2.5)
    assert float(kaplan.frontier_loss(k.training_flops)) == pytest.approx(2.5, rel=1e-9)
    with pytest.raises(NotApplicable):
        for_loss(kaplan, 2.5, 1e12)
    with pytest.raises(NotApplicable, match="allocation"):
        for_loss(get_law("llama3-2024"), 2.0)


# -- data-constrained (Muennighoff et al. 2023) ---------------------------------------------------
def test_datablations_worked_example():
    # README, Parametric Fit: scaling_law(6.34e9, 242e9, 25e9) = 2.2256440889984477 and
    # scaling_law(8.67e9, 178e9, 25e9) = 2.2269634075087867.
    law = DataConstrained(MUENNIGHOFF, 25e9)
    assert float(law.loss(6.34e9, 242e9)) == pytest.approx(2.2256440889984477, rel=1e-12)
    assert float(law.loss(8.67e9, 178e9)) == pytest.approx(2.2269634075087867, rel=1e-12)


def test_datablations_optimal_allocation():
    # README: optimal_allocation(1e22, 25e9) by a 500-point grid -> 237336955477.55 tokens (9.49
    # epochs), 7022364735.88 parameters. Our bounded search must agree to the grid's resolution
    # and be at least as good.
    law = DataConstrained(MUENNIGHOFF, 25e9)
    N, D = law.compute_optimal(1e22)
    assert float(D) == pytest.approx(237336955477.55, rel=3e-3)
    assert float(N) == pytest.approx(7022364735.88, rel=3e-3)
    assert float(law.epochs(D)) == pytest.approx(9.49, abs=0.03)
    assert float(law.loss(N, D)) <= float(law.loss(7022364735.879969, 237336955477.55075))


def test_value_of_repeated_data():
    # Reference A5 (D): D'/D for U = 100B is 0.984 at 2 epochs, 0.931 at 4, 0.828 at 8, 0.661 at 16.
    np.testing.assert_allclose(repeated_data_value([2, 4, 8, 16]), [0.984, 0.931, 0.828, 0.661], atol=6e-4)
    U = 100e9
    np.testing.assert_allclose(effective_data(np.array([2, 4, 8, 16]) * U, U) / (np.array([2, 4, 8, 16]) * U),
                               repeated_data_value([2, 4, 8, 16]), rtol=1e-14)
    assert repeated_data_value(1.0) == 1.0


def test_a_run_shorter_than_its_unique_budget_ignores_the_data_it_never_saw():
    # datablations README: scaling_law(N, D, U) asserts U <= D and the grid search passes
    # U = min(U_BASE, D), so at D = 40B the loss is scaling_law(6.34e9, 40e9, 40e9) = 2.330737847636267
    # (the README's formula evaluated here; the old U_N = min(N, N_opt(U)) gave 2.32571 at U = 60B).
    N, D = 6.34e9, 40e9
    for U in (40e9, 60e9, 1e12, 1e30):
        assert float(DataConstrained(MUENNIGHOFF, U).loss(N, D)) == pytest.approx(2.330737847636267, rel=1e-12)
    # The excess-parameter decay still applies: N = 6.34e9 is above N_opt(40B) = 2.04e9, so the
    # loss is above the base law's; a model below N_opt(D) gets the base law exactly.
    assert float(DataConstrained(MUENNIGHOFF, 60e9).loss(N, D)) > float(MUENNIGHOFF.loss(N, D)) + 4e-3
    assert float(DataConstrained(MUENNIGHOFF, 60e9).loss(1e9, D)) == pytest.approx(
        float(MUENNIGHOFF.loss(1e9, D)), rel=1e-15)


@pytest.mark.parametrize("key", ["muennighoff2023", "besiroglu2024", "sardana2024"])
def test_unlimited_unique_data_is_the_base_law_at_or_past_the_optimal_tokens(key):
    base = get_law(key)
    law = DataConstrained(base, 1e30)
    N = np.geomspace(1e8, 1e11, 7)
    D = 1.01 * _tokens_supporting(base, N)
    # Unique tokens at least D and N at most N_opt(D): no repetition, no excess parameters, same loss.
    np.testing.assert_array_equal(law.loss(N, D), base.loss(N, D))
    # On the iso-FLOP line the wrapped loss is never below the base law and equals it at the base
    # optimum (N_opt(D_opt) = N_opt), so the frontier is the base law's.
    N_opt, D_opt = law.compute_optimal(np.array([1e20, 1e23]))
    N0, D0 = base.compute_optimal(np.array([1e20, 1e23]))
    np.testing.assert_allclose(N_opt, N0, rtol=1e-6)
    np.testing.assert_allclose(D_opt, D0, rtol=1e-6)


def _tokens_supporting(base, N):
    """Tokens D whose compute-optimal model is N: N = G (D G)**(beta/alpha) solved for D (Hoffmann eq. 4)."""
    G = (base.alpha * base.A / (base.beta * base.B)) ** (1.0 / (base.alpha + base.beta))
    return (N / G) ** (base.alpha / base.beta) / G


@settings(max_examples=40, deadline=None)
@given(log_u=st.floats(9, 12), factor=st.floats(1.0, 50.0), log_c=st.floats(20, 24))
def test_more_unique_data_never_raises_the_loss(log_u, factor, log_c):
    C = 10.0**log_c
    little, more = DataConstrained(MUENNIGHOFF, 10.0**log_u), DataConstrained(MUENNIGHOFF, 10.0**log_u * factor)
    assert float(more.frontier_loss(C)) <= float(little.frontier_loss(C)) + 1e-12
    N, D = 3e9, 3e11
    assert float(more.loss(N, D)) <= float(little.loss(N, D))


def test_tokens_for_loss_inverts_the_data_constrained_loss():
    law = DataConstrained(MUENNIGHOFF, 25e9)
    D = law.tokens_for_loss(6.34e9, 2.2256440889984477)
    assert float(D) == pytest.approx(242e9, rel=1e-8)
    # With 25B unique tokens, repetition cannot take a 6B model below its infinite-repetition floor.
    assert np.isnan(law.tokens_for_loss(6.34e9, 2.0))


def test_unique_budget_needs_a_chinchilla_form_law():
    with pytest.raises(NotApplicable):
        DataConstrained(get_law("kaplan2020"), 1e11)
    with pytest.raises(ValueError, match="unique_tokens"):
        DataConstrained(MUENNIGHOFF, 0.0)


# -- fine-grained MoE (Krajewski et al. 2024) --------------------------------------------------
def test_krajewski_table2_flops_and_loss():
    # Table 2 row (reference A5): 64 x 7B experts, G = 32, D = 137.6B -> 6.46e21 FLOPs and loss
    # 2.076; the rounded Table 1 coefficients give 0.01-0.02 lower. "7B" is the active (dense-
    # equivalent) size: N_total = 7e9 (8E + 4) / 12.
    law = KRAJEWSKI.at_granularity(32)
    N = law.total_params_for_active(7e9)
    assert float(law.active_params(N)) == pytest.approx(7e9)
    assert float(law.flop_model.flops(N, 137.6e9)) == pytest.approx(6.46e21, rel=4e-3)
    assert 0.01 <= 2.076 - float(law.loss(N, 137.6e9)) <= 0.02


def test_moe_flop_model_round_trips_and_reduces_to_six_active_nd_without_router():
    fm = KRAJEWSKI.at_granularity(8).flop_model
    N, D = np.geomspace(1e9, 1e12, 5), 1e11
    np.testing.assert_allclose(fm.params(fm.flops(N, D), D), N, rtol=1e-12)
    np.testing.assert_allclose(fm.tokens(fm.flops(N, D), N), D, rtol=1e-12)
    # The dense part is 6 FLOPs per active parameter per token (c_f = 6); the router adds the rest.
    dense_part = 6 * KRAJEWSKI.active_params(N) * D
    assert np.all(fm.flops(N, D) > dense_part)
    from dataclasses import replace

    np.testing.assert_allclose(replace(fm, c_r=1e-300).flops(N, D), dense_part, rtol=1e-12)


def test_moe_frontier_is_the_iso_flop_minimum_and_finer_experts_help():
    C = np.array([1e20, 1e22, 1e24])
    N, D = KRAJEWSKI.compute_optimal(C)
    fm = KRAJEWSKI.flop_model
    np.testing.assert_allclose(fm.flops(N, D), C, rtol=1e-12)
    for n, c in zip(N, C, strict=True):
        for step in (0.97, 1.03):
            assert float(KRAJEWSKI.loss(n * step, fm.tokens(c, n * step))) > float(KRAJEWSKI.loss(n, fm.tokens(c, n)))
    # At 1e22 FLOPs granularity 8 beats G = 1 (the paper: experts as wide as the FFN are suboptimal).
    assert float(KRAJEWSKI.at_granularity(8).frontier_loss(1e22)) < float(KRAJEWSKI.frontier_loss(1e22))


# -- newer presets ------------------------------------------------------------------------------
def test_llama3_anchor():
    # §3.2.1: 402B parameters on 16.55T tokens at 3.8e25 FLOPs. The law is for tokens; N = C / 6D
    # comes out 383B, 4.8% below the stated 402B (6 x 402e9 x 16.55e12 = 3.99e25, not 3.8e25).
    law = get_law("llama3-2024")
    N, D = (float(x) for x in law.compute_optimal(3.8e25))
    assert D == pytest.approx(16.55e12, rel=1e-9)
    assert N == pytest.approx(402e9, rel=0.05) and N == pytest.approx(3.8e25 / (6 * 16.55e12), rel=1e-9)
    # The printed exponent 0.53 is kept to two digits: the anchored one rounds to 0.54, within the
    # refit of the digitised isoFLOP points (0.298 C^0.537) by 2% over 6e18-1e22 FLOPs.
    C = np.geomspace(6e18, 1e22, 5)
    np.testing.assert_allclose(law.compute_optimal(C)[1], 0.298 * C**0.537, rtol=0.02)


def test_deepseek_allocation_in_flops_per_token():
    # arXiv 2401.02954: M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757 with C = M D; N = M / 6.
    law = get_law("deepseek2024")
    C = np.geomspace(1e20, 1e25, 6)
    N, D = law.compute_optimal(C)
    np.testing.assert_allclose(6 * N, 0.1715 * C**0.5243, rtol=1e-12)
    np.testing.assert_allclose(D, 5.8316 * C**0.4757, rtol=2e-4)  # 0.1715 x 5.8316 = 1.00012
    assert law.params_meaning is ParamCount.NON_EMBEDDING


def test_muennighoff_constants_are_the_exponentiated_fit():
    law = get_law("muennighoff2023")
    assert law.A == pytest.approx(520.8, abs=0.05) and law.B == pytest.approx(1487.7, abs=0.05)
    assert law.E == pytest.approx(1.869, abs=5e-4) and law.alpha == law.beta == 0.3526596


def test_every_new_preset_has_a_style():
    from scaling_explorer.style import LAW_STYLE

    keys = ["sardana2024", "muennighoff2023", "llama3-2024", "deepseek2024", "krajewski2024"]
    styles = [(LAW_STYLE[k]["color"], LAW_STYLE[k]["ls"]) for k in LAW_STYLE]
    assert all(k in LAW_STYLE for k in keys) and len(set(styles)) == len(styles)
    assert len({LAW_STYLE[k]["color"] for k in keys}) == len(keys)


def test_a_users_chinchilla_form_law_wraps_too():
    law = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    N, D = optimum_for_loss(law, 2.2, 1e13)
    assert float(law.loss(N, D)) == pytest.approx(2.2, rel=1e-12)
    assert float(DataConstrained(law, 1e11).loss(1e9, 1e12)) > float(law.loss(1e9, 1e12))


def test_a_model_is_exactly_optimal_at_its_break_even_demand():
    # catalog.classify_at_demand measures D against the cheapest model of the same loss under T;
    # at T = the model's own break-even demand that ratio is 1 (closed form against the solver).
    from scaling_explorer.catalog import classify, classify_at_demand, load_models

    table = classify(load_models(), SARDANA).set_index("name")
    row = table.loc["Llama 3 8B"]
    T = float(break_even_inference_tokens(SARDANA, row["compute_params"], row["tokens"]))
    at = classify_at_demand(table.reset_index(), SARDANA, T).set_index("name")
    assert at.loc["Llama 3 8B", "d_over_d_opt_at_demand"] == pytest.approx(1.0, rel=1e-6)
    assert at.loc["Llama 3 8B", "status_at_demand"] == "near-optimal"
    assert table.loc["Llama 3 8B", "status"] == "overtrained"  # for training cost alone
    assert classify_at_demand(table.reset_index(), SARDANA, T / 100).set_index("name").loc[
        "Llama 3 8B", "status_at_demand"] == "overtrained"
