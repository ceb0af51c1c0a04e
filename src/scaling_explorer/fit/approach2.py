"""Hoffmann et al. 2022 Approach 2: iso-FLOP parabolas, then power laws in C."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..compute import tokens_for
from ..laws import AllocationLaw
from .runs import RunsError, as_runs


@dataclass(frozen=True)
class Approach2Fit:
    """Result of :func:`fit_approach2` (Hoffmann et al. 2022, §3.2).

    Attributes
    ----------
    budgets, n_opt, d_opt : numpy.ndarray
        Per iso-FLOP group: budget C (geometric mean of its runs' FLOPs), and the parabola's optimum
        N_opt and D_opt = C / (6 N_opt).
    n_runs_per_budget : numpy.ndarray
        Runs in each group used.
    a, b : float
        Exponents of N_opt = k_N C^a and D_opt = k_D C^b (least squares in log space; b = 1 - a
        because D_opt = C / 6 N_opt).
    a_se, b_se : float
        Standard errors of the slopes.
    a_ci, b_ci : tuple of float
        95% intervals (Student t with groups - 2 degrees of freedom).
    k_N, k_D : float
        Prefactors.
    skipped : tuple of str
        Groups left out and why (fewer than 3 runs, or a parabola that opens downwards).
    """

    budgets: np.ndarray
    n_opt: np.ndarray
    d_opt: np.ndarray
    n_runs_per_budget: np.ndarray
    a: float
    a_se: float
    a_ci: tuple
    k_N: float
    b: float
    b_se: float
    b_ci: tuple
    k_D: float
    skipped: tuple = ()

    @property
    def law(self) -> AllocationLaw:
        """The fitted allocation N_opt = k_N C^a, usable wherever a preset is."""
        return AllocationLaw(k=self.k_N, a_exponent=self.a, name=f"Approach 2 fit to {len(self.budgets)} budgets",
                             citation="iso-FLOP fit (Hoffmann et al. 2022, §3.2) by scaling_explorer")

    def report(self) -> str:
        """Printable summary."""
        lines = [f"Approach 2 (iso-FLOP parabolas, Hoffmann et al. 2022 §3.2): {len(self.budgets)} budgets",
                 f"  a = {self.a:.4f} ± {self.a_se:.4f} (95%: {self.a_ci[0]:.4f} – {self.a_ci[1]:.4f}),"
                 f" N_opt = {self.k_N:.4g} C^a",
                 f"  b = {self.b:.4f} ± {self.b_se:.4f} (95%: {self.b_ci[0]:.4f} – {self.b_ci[1]:.4f}),"
                 f" D_opt = {self.k_D:.4g} C^b"]
        lines += [f"  skipped: {s}" for s in self.skipped]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"a": self.a, "a_se": self.a_se, "a_ci": list(self.a_ci), "k_N": self.k_N,
                "b": self.b, "b_se": self.b_se, "b_ci": list(self.b_ci), "k_D": self.k_D,
                "budgets": self.budgets.tolist(), "n_opt": self.n_opt.tolist(), "d_opt": self.d_opt.tolist(),
                "skipped": list(self.skipped)}


def _group_budgets(flops: np.ndarray, rel_tol: float) -> np.ndarray:
    """Group labels: sorted by FLOPs, a run joins the current group while within rel_tol of its first run."""
    order = np.argsort(flops)
    labels = np.empty(len(flops), int)
    label, start = -1, None
    for i in order:
        if start is None or flops[i] > start * (1.0 + rel_tol):
            label, start = label + 1, flops[i]
        labels[i] = label
    return labels


def _loglog_fit(x: np.ndarray, y: np.ndarray):
    """OLS of y on x: slope, its standard error, 95% t interval, intercept."""
    res = stats.linregress(x, y)
    dof = len(x) - 2
    se = float(res.stderr) if dof > 0 else float("nan")
    half = stats.t.ppf(0.975, dof) * se if dof > 0 else float("nan")
    return float(res.slope), se, (float(res.slope - half), float(res.slope + half)), float(res.intercept)


def fit_approach2(runs, *, budget_column: str = "flops", rel_tol: float = 0.05) -> Approach2Fit:
    """Hoffmann et al. 2022 Approach 2: a parabola in log N per iso-FLOP budget, then power laws.

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        Columns params, tokens, loss (see :func:`read_runs`); for a DataFrame, a ``budget`` column
        (any label per iso-FLOP group) may be named by ``budget_column``.
    budget_column : str
        ``"flops"`` groups runs whose FLOPs agree within ``rel_tol``; any other name is a column
        of group labels.
    rel_tol : float
        Relative FLOP tolerance for one group.

    Returns
    -------
    Approach2Fit
        Needs at least 2 groups with >= 3 runs and an upward parabola (3 for standard errors).
    """
    labels_given = isinstance(runs, pd.DataFrame) and budget_column != "flops"
    if labels_given and budget_column not in runs.columns:
        raise RunsError([f"missing column: {budget_column!r} (the iso-FLOP group of each run)"])
    table = as_runs(runs)
    labels = (pd.factorize(runs[budget_column].to_numpy())[0] if labels_given
              else _group_budgets(table["flops"].to_numpy(), rel_tol))
    budgets, n_opt, counts, skipped = [], [], [], []
    for label in np.unique(labels):
        g = table[labels == label]
        C = float(np.exp(np.log(g["flops"]).mean()))
        if len(g) < 3:
            skipped.append(f"budget {C:.3g} FLOPs: {len(g)} run(s), need at least 3")
            continue
        x = np.log(g["params"].to_numpy())
        c2, c1, _ = np.polyfit(x, g["loss"].to_numpy(), 2)
        if not c2 > 0:
            skipped.append(f"budget {C:.3g} FLOPs: loss is not convex in log N (no minimum)")
            continue
        budgets.append(C)
        n_opt.append(float(np.exp(-c1 / (2.0 * c2))))
        counts.append(len(g))
    if len(budgets) < 2:
        raise RunsError([f"need at least 2 iso-FLOP budgets with >= 3 runs and a minimum, found {len(budgets)}"]
                        + skipped)
    budgets, n_opt = np.array(budgets), np.array(n_opt)
    d_opt = tokens_for(budgets, n_opt)
    logC = np.log(budgets)
    a, a_se, a_ci, log_kN = _loglog_fit(logC, np.log(n_opt))
    b, b_se, b_ci, log_kD = _loglog_fit(logC, np.log(d_opt))
    return Approach2Fit(budgets, n_opt, d_opt, np.array(counts), a, a_se, a_ci, math.exp(log_kN),
                        b, b_se, b_ci, math.exp(log_kD), tuple(skipped))
