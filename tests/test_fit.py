"""Tests of scaling_explorer.fit against independent numbers: known synthetic laws and Epoch's refit."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from scaling_explorer import fit as F
from scaling_explorer.laws import ParametricLaw

EPOCH_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "epoch-chinchilla-figure4.csv"

# Besiroglu et al. 2024 (epoch-research/analyzing-chinchilla data_analysis.ipynb, commit 9225883):
# point estimates and 95% bootstrap intervals of the refit on 240 of 245 runs.
EPOCH_ESTIMATE = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
EPOCH_CI = {"A": (285.2, 743.6), "B": (1042.4, 5810.3), "E": (1.769, 1.871), "alpha": (0.317, 0.373),
            "beta": (0.331, 0.415)}
EPOCH_SE = {"E": 0.0257, "alpha": 0.0154, "beta": 0.0206}  # same notebook

TRUE = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37, name="synthetic truth")


def summed_huber(p, runs, delta=1e-3):
    """Hoffmann App. D.2 objective written out independently of the package (scipy's logsumexp)."""
    a, b, e, alpha, beta = p
    logN, logD = np.log(runs["params"].to_numpy()), np.log(runs["tokens"].to_numpy())
    pred = special.logsumexp([a - alpha * logN, b - beta * logD, np.full_like(logN, e)], axis=0)
    r = pred - np.log(runs["loss"].to_numpy())
    return float(np.sum(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))))


def log_params(law):
    return [math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta]


@pytest.fixture(scope="module")
def epoch_runs():
    if not EPOCH_CSV.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{EPOCH_CSV} is missing but CI=true (the CI job provides it)")
        pytest.skip(f"Epoch's Chinchilla data not found at {EPOCH_CSV} (unlicensed, kept outside the repo)")
    return F.read_runs(EPOCH_CSV)


@pytest.fixture(scope="module")
def epoch_fit(epoch_runs):
    return F.fit_approach3(epoch_runs, exclude_highest_loss=5)


@pytest.fixture(scope="module")
def synthetic_runs():
    return F.synthetic_runs(TRUE, np.geomspace(1e18, 1e22, 9), per_budget=12, span=10.0, sigma=0.003, seed=0)


@pytest.fixture(scope="module")
def synthetic_fit(synthetic_runs):
    return F.fit_approach3(synthetic_runs)


# ---------------------------------------------------------------- Approach 3


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


# ---------------------------------------------------------------- Approach 2


def test_approach2_recovers_exponent():
    runs = F.synthetic_runs(TRUE, np.geomspace(6e18, 3e21, 9), per_budget=15, span=4.0, sigma=0.002, seed=1)
    fit = F.fit_approach2(runs)
    assert len(fit.budgets) == 9
    assert fit.a == pytest.approx(TRUE.a, abs=0.01)
    assert fit.a + fit.b == pytest.approx(1.0)
    assert fit.a_ci[0] < fit.a < fit.a_ci[1] and fit.a_se > 0
    N, _ = fit.law.compute_optimal(1e21)
    assert N == pytest.approx(TRUE.compute_optimal(1e21)[0], rel=0.1)


def test_approach2_budget_column_and_skips():
    runs = F.synthetic_runs(TRUE, np.geomspace(6e18, 3e21, 4), per_budget=7, span=4.0, sigma=0.0, seed=0)
    runs["budget"] = np.repeat(["b1", "b2", "b3", "b4"], 7)
    runs = pd.concat([runs, runs.iloc[:2].assign(budget="tiny")], ignore_index=True)
    fit = F.fit_approach2(runs, budget_column="budget")
    assert len(fit.budgets) == 4 and len(fit.skipped) == 1 and "need at least 3" in fit.skipped[0]
    with pytest.raises(F.RunsError, match="iso-FLOP budgets"):
        F.fit_approach2(runs.iloc[:9])


# ---------------------------------------------------------------- reading runs

GOOD = "params,tokens,loss\n" + "\n".join(f"{n:g},{20 * n:g},{2 + 1 / i}" for i, n in
                                          enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9], start=1))


def test_read_runs_sources_and_formats(tmp_path):
    from_bytes = F.read_runs(GOOD.encode())
    path = tmp_path / "runs.csv"
    path.write_text(GOOD)
    pd.testing.assert_frame_equal(from_bytes, F.read_runs(path))
    pd.testing.assert_frame_equal(from_bytes, F.read_runs(io.BytesIO(GOOD.encode())))
    assert list(from_bytes.columns) == ["params", "tokens", "loss", "flops"]
    np.testing.assert_allclose(from_bytes.flops, 6 * from_bytes.params * from_bytes.tokens)
    flops_csv = "PARAMS,FLOPs,Loss\n" + "\n".join(
        f"{n:g},{6 * n * 20 * n:g},{2 + 1 / i}" for i, n in enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9], start=1))
    np.testing.assert_allclose(F.read_runs(flops_csv.encode()).tokens, from_bytes.tokens, rtol=1e-12)


def test_read_epoch_file_as_is(epoch_runs):
    assert len(epoch_runs) == 245
    assert epoch_runs.params.min() == pytest.approx(5.73e7, rel=1e-3)  # reference A3 ranges
    assert epoch_runs.flops.max() == pytest.approx(1.30e22, rel=1e-2)
    assert epoch_runs.loss.max() == pytest.approx(5.006, rel=1e-3)


def _error(source, **kw) -> str:
    with pytest.raises(F.RunsError) as info:
        F.read_runs(source, **kw)
    return str(info.value)


def test_missing_column():
    msg = _error(b"params,loss\n1,2\n2,3\n3,4\n4,5\n5,6\n")
    assert "missing column" in msg and "tokens or flops" in msg


def test_text_in_number_column():
    msg = _error(GOOD.replace("2.5", "two point five").encode())
    assert "not a number" in msg and "row 2" in msg and "'loss'" in msg


def test_nan_and_empty():
    msg = _error(GOOD.replace(",2.5", ",").replace(",2.25", ",NaN").encode())
    assert "missing value" in msg and "rows 2, 4" in msg


def test_non_positive():
    msg = _error(GOOD.replace("1e+08,", "-1e+08,").encode())
    assert "must be positive" in msg and "'params'" in msg and "row 1" in msg


def test_every_problem_listed_at_once():
    bad = GOOD.replace("1e+08,", "-1e+08,").replace("2.5", "x")
    err = pytest.raises(F.RunsError, F.read_runs, bad.encode()).value
    assert len(err.problems) == 2
    assert "must be positive" in str(err) and "not a number" in str(err)


def test_too_few_runs():
    msg = _error("\n".join(GOOD.splitlines()[:4]).encode())
    assert "too few runs: 3" in msg and "5" in msg


def test_binary_and_not_csv():
    assert "binary" in _error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "UTF-8" in _error(b"params,tokens,loss\n\xff\xfe1,2,3\n")
    assert "not parseable as CSV" in _error(b'params,tokens,loss\n1,2,3\n4,5,6,7,8\n"9,1')
    assert "empty" in _error(b"")


def test_too_large(tmp_path):
    assert "limit is 100 bytes" in _error(GOOD.encode(), max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_text(GOOD)
    assert "too large" in _error(path, max_bytes=100)
    assert "too large" in _error(io.BytesIO(GOOD.encode()), max_bytes=100)
