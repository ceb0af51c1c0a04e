"""Approach 2 (iso-FLOP parabolas) on synthetic laws with a known allocation exponent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fit_reference import TRUE

from scaling_explorer import fit as F


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


def test_epoch_figure4_data_are_refused(tmp_path):
    """Epoch's reconstruction has continuous FLOPs, not iso-FLOP groups (reference.md §A5, "Approach 2 is
    biased"): before this check it invented 28 budgets and returned an arbitrary exponent."""
    from fit_reference import require_epoch

    runs = F.read_runs(require_epoch())
    with pytest.raises(F.NotIdentifiedError, match="at least 3 iso-FLOP budgets"):
        F.fit_approach2(runs)


def test_groups_that_do_not_span_the_minimum_are_skipped():
    """Sizes all above N_opt: the loss falls towards the smallest model, the parabola's vertex is outside."""
    good = F.synthetic_runs(TRUE, np.geomspace(6e18, 3e21, 3), per_budget=7, span=4.0, sigma=0.0)
    C = 1e22
    N_opt = TRUE.compute_optimal(C)[0]
    N = N_opt * np.geomspace(2, 16, 5)
    one_sided = pd.DataFrame({"params": N, "tokens": C / (6 * N), "loss": TRUE.loss(N, C / (6 * N))})
    fit = F.fit_approach2(pd.concat([good, one_sided], ignore_index=True))
    assert len(fit.budgets) == 3
    assert any("smallest model size" in s for s in fit.skipped)
    with pytest.raises(F.NotIdentifiedError):
        F.fit_approach2(pd.concat([good.iloc[:14], one_sided], ignore_index=True))  # two good budgets only


def test_chained_flops_are_not_one_budget():
    """Runs whose FLOPs creep up 0.5% at a time chain into one group spanning 10%: refused as a budget."""
    N = np.geomspace(1e8, 1e9, 21)
    C = 1e19 * 1.005 ** np.arange(21)
    runs = pd.DataFrame({"params": N, "tokens": C / (6 * N), "loss": TRUE.loss(N, C / (6 * N))})
    with pytest.raises(F.NotIdentifiedError, match="not one budget"):
        F.fit_approach2(runs)
