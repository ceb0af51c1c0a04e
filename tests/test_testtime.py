"""Test-time compute against a bigger model (Snell et al. 2024, arXiv:2408.03314 §7).

Reference numbers: M = 14 (their ~14x larger model) gives 53 at D_inf = D_pre; their three
inference loads R = 0.16, 0.79 and 22 (Fig. 9) give 257.75, 63.37 and 15.77.
"""

import numpy as np
import pytest

from scaling_explorer.testtime import SNELL_FINDING, inference_multiplier


def test_worked_example_and_the_papers_three_loads():
    assert inference_multiplier(14, 1) == pytest.approx(53.0)
    assert inference_multiplier(14, [0.16, 0.79, 22]) == pytest.approx([257.75, 63.367, 15.773], abs=1e-3)


def test_agrees_with_counting_the_flops_directly():
    # X = 6 N D_pre and Y = 2 N D_inf; the larger model costs M (X + Y); the small model may spend
    # what is left after its own pre-training on inference: (M (X + Y) - X) / Y times Y.
    N, D_pre = 1e9, 1e12
    for M in (2.0, 14.0, 100.0):
        for D_inf in (1e9, 1e12, 5e13):
            X, Y = 6 * N * D_pre, 2 * N * D_inf
            assert inference_multiplier(M, D_inf / D_pre) == pytest.approx((M * (X + Y) - X) / Y)


def test_tends_to_m_as_inference_comes_to_dominate():
    R = np.logspace(-2, 8, 50)
    m = inference_multiplier(14, R)
    assert np.all(np.diff(m) < 0) and np.all(m > 14)
    assert m[-1] == pytest.approx(14, rel=1e-6)
    assert inference_multiplier(1, R) == pytest.approx(np.ones_like(R))  # same size: nothing to exchange


def test_bad_input():
    with pytest.raises(ValueError, match="at least 1"):
        inference_multiplier(0.5, 1)
    with pytest.raises(ValueError, match="inference ratio"):
        inference_multiplier(14, 0)


def test_finding_is_stated_without_numbers_invented():
    assert "easy and medium" in SNELL_FINDING and "hard" in SNELL_FINDING and "%" not in SNELL_FINDING
