"""Frontiers: closed forms against the numeric iso-FLOP search, and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_explorer.frontier import (
    allocation,
    band_edge,
    compute_for_loss,
    compute_for_loss_numeric,
    iso_flop_line,
    iso_flop_minimum,
    optimal_loss,
)
from scaling_explorer.laws import ParametricLaw, get_law

PARAMETRIC = ["hoffmann2022-approach3", "besiroglu2024"]
BUDGETS = np.geomspace(1e18, 1e27, 200)


@pytest.mark.parametrize("key", PARAMETRIC)
def test_closed_form_agrees_with_numeric_search(key):
    law = get_law(key)
    N_closed, D_closed = law.compute_optimal(BUDGETS)
    N_num, D_num = iso_flop_minimum(law, BUDGETS)
    np.testing.assert_allclose(N_num, N_closed, rtol=1e-6)
    np.testing.assert_allclose(D_num, D_closed, rtol=1e-6)


laws_strategy = st.builds(
    ParametricLaw,
    E=st.floats(0.5, 3), A=st.floats(10, 5000), B=st.floats(10, 5000),
    alpha=st.floats(0.1, 0.8), beta=st.floats(0.1, 0.8),
)


@settings(max_examples=40, deadline=None)
@given(law=laws_strategy, log_c=st.floats(18, 27))
def test_frontier_is_iso_flop_minimum_for_any_parametric_law(law, log_c):
    C = 10.0**log_c
    N_opt, D_opt = law.compute_optimal(C)
    assert 6 * N_opt * D_opt == pytest.approx(C, rel=1e-12)
    best = law.loss(N_opt, D_opt)
    for factor in (0.5, 0.9, 1.1, 2.0):  # moving along the iso-FLOP line only raises the loss
        assert law.loss(N_opt * factor, D_opt / factor) > best


@settings(max_examples=60, deadline=None)
@given(law=laws_strategy, n=st.floats(6, 13), d=st.floats(8, 14), factor=st.floats(1.01, 100))
def test_loss_decreases_in_n_and_in_d(law, n, d, factor):
    N, D = 10.0**n, 10.0**d
    assert law.loss(N * factor, D) < law.loss(N, D)
    assert law.loss(N, D * factor) < law.loss(N, D)


@settings(max_examples=60, deadline=None)
@given(n=st.floats(6, 13), d=st.floats(8, 14), factor=st.floats(1.01, 100))
def test_kaplan_loss_decreases_in_n_and_in_d(n, d, factor):
    law = get_law("kaplan2020")
    N, D = 10.0**n, 10.0**d
    assert law.loss(N * factor, D) < law.loss(N, D)
    assert law.loss(N, D * factor) < law.loss(N, D)


@settings(max_examples=60, deadline=None)
@given(log_c=st.floats(15, 30), key=st.sampled_from(["kaplan2020", "hoffmann2022-approach1",
                                                     "hoffmann2022-approach2", *PARAMETRIC]))
def test_every_frontier_spends_exactly_its_budget(log_c, key):
    N, D = get_law(key).compute_optimal(10.0**log_c)
    assert 6 * N * D == pytest.approx(10.0**log_c, rel=1e-12)


def test_optimal_loss_closed_form():
    # Along the Chinchilla frontier L*(C) = E + K (C/6)**(-alpha*beta/(alpha+beta)) with K from eq. 4.
    law = get_law("besiroglu2024")
    G = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    K = law.A * G**-law.alpha + law.B * G**law.beta
    expected = law.E + K * (BUDGETS / 6) ** (-law.alpha * law.beta / (law.alpha + law.beta))
    np.testing.assert_allclose(optimal_loss(law, BUDGETS), expected, rtol=1e-12)
    # ... and compute_for_loss inverts it.
    np.testing.assert_allclose(compute_for_loss(law, expected), BUDGETS, rtol=1e-8)


@pytest.mark.parametrize("key", PARAMETRIC)
def test_compute_for_loss_closed_form_agrees_with_numeric_root(key):
    law = get_law(key)
    # losses from the budgets' optima out past both ends of the searched 1e3..1e40 FLOPs, and below E
    L = np.concatenate([optimal_loss(law, np.geomspace(1e2, 1e42, 300)), [law.E, law.E * 0.99]])
    closed, numeric = compute_for_loss(law, L), compute_for_loss_numeric(law, L)
    np.testing.assert_array_equal(np.isnan(closed), np.isnan(numeric))
    assert np.isnan(closed).sum() > 4  # some really were out of reach
    np.testing.assert_allclose(closed, numeric, rtol=1e-9)


def test_compute_for_loss_out_of_reach_is_nan():
    law = get_law("besiroglu2024")
    assert np.isnan(compute_for_loss(law, law.E * 0.99))


def test_allocation_of_a_compute_optimal_model_is_efficient():
    law = get_law("besiroglu2024")
    N, D = law.compute_optimal(5.76e23)
    a = allocation(law, N, D)
    assert a.d_over_d_opt == pytest.approx(1)
    assert a.efficiency == pytest.approx(1, rel=1e-6)


def test_gopher_vs_chinchilla():
    # Same budget (Hoffmann §4): Gopher 280B on 300B tokens is undertrained, Chinchilla is not,
    # and Gopher's loss is reachable with a fraction of the compute.
    law = get_law("besiroglu2024")
    a = allocation(law, [280e9, 70e9], [300e9, 1.4e12])
    gopher, chinchilla = a.d_over_d_opt
    assert gopher < 0.3 < 0.8 < chinchilla < 1.25
    assert a.efficiency[0] < 0.6 and a.efficiency[1] > 0.99
    assert a.loss[0] > a.loss[1]


def test_allocation_law_has_no_efficiency():
    a = allocation(get_law("hoffmann2022-approach1"), 70e9, 1.4e12)
    assert a.d_over_d_opt == pytest.approx(1.0, rel=0.05)
    assert np.isnan(a.efficiency)


def test_iso_flop_line():
    N, D = iso_flop_line(1e21, np.geomspace(1e6, 1e12, 13))
    np.testing.assert_allclose(6 * N * D, 1e21)


def test_numeric_search_rejects_allocation_laws():
    with pytest.raises(TypeError, match="allocation"):
        iso_flop_minimum(get_law("hoffmann2022-approach1"), 1e21)


@pytest.mark.parametrize("ratio", [0.5, 2.0])
def test_band_edge_is_where_classification_switches(ratio):
    law = get_law("besiroglu2024")
    N, D = band_edge(law, BUDGETS, ratio)
    np.testing.assert_allclose(6 * N * D, BUDGETS)
    np.testing.assert_allclose(allocation(law, N, D).d_over_d_opt, ratio)


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(PARAMETRIC), n=st.floats(7, 12.5), d=st.floats(9, 14))
def test_efficiency_never_exceeds_one_for_a_true_minimum(key, n, d):
    a = allocation(get_law(key), 10.0**n, 10.0**d)
    assert 0 < a.efficiency <= 1 + 1e-9


def test_kaplan_efficiency_is_not_defined():
    # Kaplan's frontier is fitted to early-stopped runs, not the minimum of eq. 1.5: the ratio would
    # exceed 1 for most models and mean nothing, so it is not reported.
    a = allocation(get_law("kaplan2020"), [280e9, 70e9], [300e9, 1.4e12])
    assert np.isnan(a.efficiency).all() and np.isfinite(a.loss).all()


def test_iso_flop_minimum_refuses_budgets_it_cannot_resolve():
    with pytest.raises(ValueError, match="iso-FLOP minimum"):
        iso_flop_minimum(get_law("besiroglu2024"), 1e300)


def test_band_edge_rejects_bad_ratio():
    with pytest.raises(ValueError, match="ratio"):
        band_edge(get_law("besiroglu2024"), 1e21, 0)
