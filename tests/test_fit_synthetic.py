"""synthetic_runs: an iso-FLOP layout around a known law's optimum, with seeded log-normal noise."""

from __future__ import annotations

import numpy as np
import pytest
from fit_reference import TRUE

from scaling_explorer.fit import synthetic_runs


def test_layout_and_noise_free_loss():
    budgets = [1e19, 1e20]
    runs = synthetic_runs(TRUE, budgets, per_budget=5, span=4.0, sigma=0.0)
    assert list(runs.columns) == ["params", "tokens", "loss", "flops"] and len(runs) == 10
    np.testing.assert_allclose(6 * runs.params * runs.tokens, runs.flops, rtol=1e-12)  # D = C / 6N
    np.testing.assert_allclose(runs.loss, TRUE.loss(runs.params, runs.tokens), rtol=1e-15)
    for C, group in runs.groupby("flops"):
        N_opt = TRUE.compute_optimal(C)[0]
        np.testing.assert_allclose(group.params, N_opt * np.geomspace(0.25, 4.0, 5), rtol=1e-12)


def test_noise_is_seeded_and_log_normal():
    a = synthetic_runs(TRUE, np.geomspace(1e18, 1e21, 50), per_budget=40, sigma=0.02, seed=5)
    b = synthetic_runs(TRUE, np.geomspace(1e18, 1e21, 50), per_budget=40, sigma=0.02, seed=5)
    c = synthetic_runs(TRUE, np.geomspace(1e18, 1e21, 50), per_budget=40, sigma=0.02, seed=6)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)
    log_ratio = np.log(a.loss / TRUE.loss(a.params, a.tokens))
    assert log_ratio.std() == pytest.approx(0.02, rel=0.05)  # 2,000 draws: standard error of the SD 1.6%
    assert abs(log_ratio.mean()) < 4 * 0.02 / np.sqrt(2000)
