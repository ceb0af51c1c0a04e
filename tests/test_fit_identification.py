"""Runs that cannot determine the law are refused with a reason, never fitted into a confident answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fit_reference import TRUE

from scaling_explorer import fit as F
from scaling_explorer.fit import approach3 as A3

RNG = np.random.default_rng(0)
N = np.geomspace(1e8, 1e10, 40)
D = np.geomspace(1e9, 1e12, 40)[RNG.permutation(40)]  # sizes and tokens uncorrelated
NOISE = np.exp(0.005 * RNG.standard_normal(40))


def refusal(runs) -> str:
    with pytest.raises(F.NotIdentifiedError) as info:
        F.fit_approach3(runs)
    assert isinstance(info.value, ValueError) and info.value.problems
    return str(info.value)


def test_constant_loss():
    # Before this check the fit said "converged: True" with alpha = 1.7e-19 and zero-width intervals.
    assert "the same (2.5) in all 40 runs" in refusal(pd.DataFrame({"params": N, "tokens": D, "loss": 2.5}))


@pytest.mark.parametrize("column, what", [("params", "model size"), ("tokens", "token count")])
def test_a_single_size_or_token_count(column, what):
    runs = pd.DataFrame({"params": N, "tokens": D, "loss": TRUE.loss(N, D) * NOISE})
    runs[column] = 1e9
    assert f"every run has the same {what}" in refusal(runs)


def test_loss_that_does_not_depend_on_model_size():
    """L = E + B/D^beta exactly (A = 0): the fit pins alpha, or the A term, at zero."""
    msg = refusal(pd.DataFrame({"params": N, "tokens": D, "loss": (1.8 + 2000 / D ** 0.37) * NOISE}))
    assert "alpha" in msg and "pinned at 0" in msg


def test_no_irreducible_loss():
    """L = A/N^alpha + B/D^beta (E = 0): E is pinned at its bound, zero."""
    msg = refusal(pd.DataFrame({"params": N, "tokens": D, "loss": (400 / N ** 0.3 + 2000 / D ** 0.3) * NOISE}))
    assert "E is below" in msg and "pinned at 0" in msg


def test_loss_unrelated_to_size_and_tokens():
    loss = np.exp(RNG.uniform(0.7, 1.2, 40))
    assert "pinned at 0" in refusal(pd.DataFrame({"params": N, "tokens": D, "loss": loss}))


def test_singular_hessian_is_refused():
    """A Hessian whose smallest eigenvalue is zero (a flat direction) is refused, whatever the point."""
    runs = F.synthetic_runs(TRUE, np.geomspace(1e18, 1e21, 4), per_budget=6, span=8.0, sigma=0.0)
    p = np.log([TRUE.A, TRUE.B, TRUE.E]).tolist() + [TRUE.alpha, TRUE.beta]
    H = np.diag([1.0, 2.0, 3.0, 4.0, 0.0])
    with pytest.raises(F.NotIdentifiedError, match="Hessian .* not positive definite"):
        A3._check_identified(np.array(p), H, runs)
    A3._check_identified(np.array(p), np.diag([1.0, 2.0, 3.0, 4.0, 5.0]), runs)  # positive definite: accepted


def test_tokens_proportional_to_size_and_equal_exponents():
    """D = 20 N for every run and alpha = beta: A/N^a and B/D^b are one term, A and B are not separable."""
    runs = pd.DataFrame({"params": N, "tokens": 20 * N, "loss": 1.8 + 400 / N ** 0.35 + 2000 / (20 * N) ** 0.35})
    refusal(runs)


def test_identified_data_pass_with_a_clear_hessian(monkeypatch):
    """Well-designed runs are not refused: the Hessian's condition is far from the threshold."""
    seen = {}
    check = A3._check_identified

    def spy(p, H, runs):
        w = np.linalg.eigvalsh(H)
        seen["rcond"] = w[0] / w[-1]
        return check(p, H, runs)

    monkeypatch.setattr(A3, "_check_identified", spy)
    fit = F.fit_approach3(F.synthetic_runs(TRUE, [1e19, 1e20, 1e21], per_budget=6, span=8.0, sigma=0.01))
    assert fit.converged and seen["rcond"] > 1e3 * A3.HESSIAN_RCOND


def test_non_converged_fit_is_reported_and_not_drawable(monkeypatch):
    """With the iteration limits at (almost) zero nothing converges: the fit says so."""
    monkeypatch.setattr(A3, "GRID_MAXITER", 2)
    monkeypatch.setattr(A3, "NEWTON_MAXITER", 0)
    monkeypatch.setattr(A3, "LBFGS_FALLBACK_MAXITER", 0)
    runs = F.synthetic_runs(TRUE, [1e19, 1e20, 1e21], per_budget=6, span=8.0, sigma=0.01)
    fit = F.fit_approach3(runs, starts=[[0.0, 0.0, 0.0, 0.5, 0.5]], n_bootstrap=20)
    assert not fit.converged and not fit.drawable
    assert fit.bootstrap is None  # no band around a point that is not an optimum
    assert fit.report().startswith("NOT CONVERGED")
    with pytest.raises(F.RunsError, match="did not converge"):
        F.bootstrap_approach3(runs, n_resamples=10, fit=fit)


def test_limits_bound_the_work():
    runs = F.synthetic_runs(TRUE, [1e19, 1e20], per_budget=5, sigma=0.01)
    with pytest.raises(F.RunsError, match="too many bootstrap resamples"):
        F.bootstrap_approach3(runs, n_resamples=A3.MAX_RESAMPLES + 1)
    big = pd.concat([runs] * (A3.MAX_RUNS // len(runs) + 1), ignore_index=True)
    with pytest.raises(F.RunsError, match="too many runs"):
        F.fit_approach3(big)
    many = pd.concat([runs] * 300, ignore_index=True)  # 3,000 runs: at most 3,333 resamples
    with pytest.raises(F.RunsError, match="at most 3,333 resamples"):
        F.fit_approach3(many, n_bootstrap=4_000)
