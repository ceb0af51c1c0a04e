"""Approach 3 and its bootstrap against independent numbers: known synthetic laws and Epoch's refit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fit_reference import (
    EPOCH_CI,
    EPOCH_ESTIMATE,
    EPOCH_SE,
    TRUE,
    log_params,
    require_epoch,
    summed_huber,
    synthetic_108,
)
from scipy import optimize

from scaling_explorer import fit as F


@pytest.fixture(scope="module")
def epoch_runs():
    return F.read_runs(require_epoch())


@pytest.fixture(scope="module")
def epoch_fit(epoch_runs):
    return F.fit_approach3(epoch_runs, exclude_highest_loss=5)


@pytest.fixture(scope="module")
def synthetic_runs():
    return synthetic_108()


@pytest.fixture(scope="module")
def synthetic_fit(synthetic_runs):
    return F.fit_approach3(synthetic_runs)


def test_recovers_known_coefficients(synthetic_fit):
    law = synthetic_fit.law
    assert synthetic_fit.converged
    assert law.E == pytest.approx(1.8, rel=0.01)
    assert law.alpha == pytest.approx(0.34, abs=0.01)
    assert law.beta == pytest.approx(0.37, abs=0.01)
    assert law.A == pytest.approx(400, rel=0.1)  # A and B are poorly determined (STYLE.md)
    assert law.B == pytest.approx(2000, rel=0.1)
    assert law.a == pytest.approx(TRUE.a, abs=0.005)
    assert synthetic_fit.n_runs == 108 and synthetic_fit.n_starts == 4500


def test_objective_and_residuals_match_independent_formula(synthetic_fit, synthetic_runs):
    assert synthetic_fit.objective == pytest.approx(summed_huber(log_params(synthetic_fit.law), synthetic_runs),
                                                    rel=1e-12)
    expected = np.log(synthetic_fit.law.loss(synthetic_runs.params, synthetic_runs.tokens) / synthetic_runs.loss)
    np.testing.assert_allclose(synthetic_fit.residuals, expected, atol=1e-12)
    np.testing.assert_allclose(synthetic_fit.predict(1e9, 2e10), TRUE.loss(1e9, 2e10), rtol=0.01)


def test_result_object(synthetic_fit):
    d = synthetic_fit.to_dict()
    assert {"E", "A", "B", "alpha", "beta", "objective", "converged", "n_runs"} <= set(d)
    assert "ci" not in d
    assert d["converged"] is True and d["n_runs"] == 108
    text = synthetic_fit.report()
    assert "108 runs" in text and "alpha" in text
    assert synthetic_fit.law.name == "fit to 108 runs"
    N, D = synthetic_fit.law.compute_optimal(5.76e23)  # usable as a preset
    assert 6 * N * D == pytest.approx(5.76e23)


def test_epoch_refit_reproduced(epoch_fit, epoch_runs):
    law = epoch_fit.law
    assert epoch_fit.converged and epoch_fit.n_runs == 240
    for k, (lo, hi) in EPOCH_CI.items():
        assert lo <= getattr(law, k) <= hi, k
    for k in ("E", "alpha", "beta"):
        assert getattr(law, k) == pytest.approx(EPOCH_ESTIMATE[k], rel=5e-3), k
    assert law.A == pytest.approx(EPOCH_ESTIMATE["A"], rel=2e-2)
    # B moves most (B's 95% interval spans a factor 5); our optimum is 2,143 against Epoch's 2,085,
    # and it is a lower objective than Epoch's printed point (next assertion), so Epoch stopped short.
    assert law.B == pytest.approx(EPOCH_ESTIMATE["B"], rel=5e-2)
    kept = epoch_runs.nsmallest(240, "loss")
    epoch_point = [math.log(EPOCH_ESTIMATE[k]) for k in ("A", "B", "E")] + [0.3478, 0.3658]
    assert epoch_fit.objective < summed_huber(epoch_point, kept)
    assert epoch_fit.objective == pytest.approx(summed_huber(log_params(law), kept), rel=1e-12)


def test_all_245_runs_move_the_optimum(epoch_runs):
    fit = F.fit_approach3(epoch_runs)
    assert fit.n_runs == 245 and fit.converged
    assert fit.law.B > 10_000 and fit.law.beta == pytest.approx(0.45, abs=0.02)


def test_lbfgsb_default_tolerance_trap(epoch_fit, epoch_runs):
    """scipy's L-BFGS-B with default tolerances stops far short on the summed Huber (size ~1e-3)."""
    kept = epoch_runs.nsmallest(240, "loss")
    for x0 in [(5, 5, 0.5, 0.5, 0.5), (10, 10, 0, 0.5, 0.5), (0, 0, 0.5, 0, 0)]:  # Hoffmann grid points
        res = optimize.minimize(summed_huber, x0, args=(kept,), method="L-BFGS-B")
        assert res.success  # scipy believes it converged ...
        assert res.fun > epoch_fit.objective * 1.02  # ... at an objective >2% above the optimum
        assert np.max(np.abs(res.x[3:] - [epoch_fit.law.alpha, epoch_fit.law.beta])) > 0.02
    assert epoch_fit.converged and epoch_fit.grad_norm <= 1e-5
    # Our optimum is stationary for the independent objective too (central differences).
    p = np.array(log_params(epoch_fit.law))
    h = 1e-7
    grad = [(summed_huber(p + h * e, kept) - summed_huber(p - h * e, kept)) / (2 * h) for e in np.eye(5)]
    assert np.max(np.abs(grad)) < 1e-6  # raw objective; its gradient at a grid start is ~1e-1


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_seeded_and_contains_estimate(synthetic_runs, synthetic_fit):
    b1 = F.bootstrap_approach3(synthetic_runs, n_resamples=50, seed=1, fit=synthetic_fit)
    b2 = F.bootstrap_approach3(synthetic_runs, n_resamples=50, seed=1, fit=synthetic_fit)
    b3 = F.bootstrap_approach3(synthetic_runs, n_resamples=50, seed=2, fit=synthetic_fit)
    for k in b1.samples:
        np.testing.assert_array_equal(b1.samples[k], b2.samples[k])
    assert not np.array_equal(b1.samples["alpha"], b3.samples["alpha"])
    assert b1.n_converged == 50
    for k, (lo, hi) in b1.ci.items():
        assert lo <= b1.estimate[k] <= hi, k
        assert b1.se[k] > 0
    assert b1.estimate["a"] == pytest.approx(synthetic_fit.law.a)
    N, D = synthetic_fit.law.compute_optimal(5.76e23)
    assert b1.estimate["tokens_per_param"] == pytest.approx(D / N)


def test_fit_with_bootstrap_to_dict(synthetic_runs):
    fit = F.fit_approach3(synthetic_runs, n_bootstrap=20, seed=0)
    d = fit.to_dict()
    assert set(d["ci"]) >= {"E", "A", "B", "alpha", "beta", "a", "N_opt", "D_opt", "tokens_per_param"}
    assert "95% interval" in fit.report()


def test_bootstrap_matches_epoch_uncertainty(epoch_runs, epoch_fit):
    b = F.bootstrap_approach3(epoch_runs, n_resamples=300, seed=0, exclude_highest_loss=5, fit=epoch_fit)
    assert b.n_converged == 300
    for k, se in EPOCH_SE.items():
        assert b.se[k] == pytest.approx(se, rel=0.25), k
    # Besiroglu et al.: a = 0.513 with SE 0.020; ~18 tokens per parameter at Gopher's budget (reference A2).
    assert b.estimate["a"] == pytest.approx(0.513, abs=0.005)
    assert b.se["a"] == pytest.approx(0.020, rel=0.3)
    assert b.estimate["tokens_per_param"] == pytest.approx(18, rel=0.05)
