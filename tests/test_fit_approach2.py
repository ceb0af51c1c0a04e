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
