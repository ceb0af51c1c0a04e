"""Hoffmann et al. 2022 Approach 2: iso-FLOP parabolas, then power laws in C."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..compute import tokens_for
from ..laws import AllocationLaw
from .runs import NotIdentifiedError, RunsError, as_runs


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
        Groups left out and why (not one budget, too few sizes, minimum not spanned, no convex minimum).
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

    def optimum_interval(self, C: float, level: float = 95.0):
        """Predicted N_opt and D_opt at ``C`` FLOPs with a ``level``% interval.

        The interval is the confidence interval of the fitted line log N_opt = log k_N + a log C at
        log C (ordinary least squares over the budgets, Student t with groups - 2 degrees of
        freedom: se = s sqrt(1/n + (x - mean x)**2 / Sxx)); D = C / (6 N) maps its ends across.

        Returns
        -------
        N, (N_low, N_high), D, (D_low, D_high) : float
        """
        from scipy import stats

        C = float(C)
        x, y = np.log(self.budgets), np.log(self.n_opt)
        n = len(x)
        x0 = math.log(C)
        y0 = math.log(self.k_N) + self.a * x0
        if n > 2:
            s = math.sqrt(float(np.sum((y - (math.log(self.k_N) + self.a * x)) ** 2)) / (n - 2))
            se = s * math.sqrt(1.0 / n + (x0 - x.mean()) ** 2 / float(np.sum((x - x.mean()) ** 2)))
            half = float(stats.t.ppf(0.5 + level / 200.0, n - 2)) * se
        else:
            half = math.nan
        N, N_low, N_high = math.exp(y0), math.exp(y0 - half), math.exp(y0 + half)
        D = float(tokens_for(C, N))
        D_low, D_high = float(tokens_for(C, N_high)), float(tokens_for(C, N_low))
        return N, (N_low, N_high), D, (D_low, D_high)

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


MIN_BUDGETS = 3  # iso-FLOP budgets needed: a slope with a standard error (Hoffmann et al. 2022 used 9)
MIN_SIZES = 3  # distinct model sizes per budget: the fewest that determine a parabola


def _group_budgets(flops: np.ndarray, rel_tol: float) -> np.ndarray:
    """Group labels: runs sorted by FLOPs, a new group wherever consecutive FLOPs differ by more than rel_tol.

    A group can chain runs whose FLOPs drift further apart than rel_tol; :func:`fit_approach2`
    refuses such a group as not one budget.
    """
    order = np.argsort(flops)
    logC = np.log(flops[order])
    labels = np.empty(len(flops), int)
    labels[order] = np.concatenate([[0], np.cumsum(np.diff(logC) > np.log1p(rel_tol))])
    return labels


def _profile(C: float, g: pd.DataFrame, rel_tol: float, check_spread: bool):
    """The parabola's optimum N for one iso-FLOP group, or the reason the group is not usable."""
    where = f"budget {C:.3g} FLOPs ({len(g)} runs)"
    if check_spread and g["flops"].max() > g["flops"].min() * (1 + rel_tol):
        return None, (f"{where}: FLOPs range over {g['flops'].min():.3g}-{g['flops'].max():.3g}, not one budget "
                      f"(runs must agree within {rel_tol:.0%})")
    sizes = g["params"].nunique()
    if sizes < MIN_SIZES:
        return None, f"{where}: {sizes} distinct model size(s), need at least {MIN_SIZES}"
    best = g["params"].iloc[int(np.argmin(g["loss"].to_numpy()))]
    if not g["params"].min() < best < g["params"].max():
        return None, f"{where}: the lowest loss is at the {'smallest' if best == g['params'].min() else 'largest'} " \
                     "model size, so the sizes do not span the minimum"
    x = np.log(g["params"].to_numpy())
    c2, c1, _ = np.polyfit(x, g["loss"].to_numpy(), 2)
    if not c2 > 0:
        return None, f"{where}: loss is not convex in log N (no minimum)"
    vertex = -c1 / (2.0 * c2)
    if not x.min() < vertex < x.max():
        return None, f"{where}: the parabola's minimum lies outside the sizes tried"
    return float(np.exp(vertex)), None


def _loglog_fit(x: np.ndarray, y: np.ndarray):
    """OLS of y on x: slope, its standard error, 95% t interval, intercept."""
    from scipy import stats  # here, not at import: every page kernel imports this package, few fit Approach 2

    res = stats.linregress(x, y)
    dof = len(x) - 2
    se = float(res.stderr) if dof > 0 else float("nan")
    half = stats.t.ppf(0.975, dof) * se if dof > 0 else float("nan")
    return float(res.slope), se, (float(res.slope - half), float(res.slope + half)), float(res.intercept)


def fit_approach2(runs, *, budget_column: str = "flops", rel_tol: float = 0.01) -> Approach2Fit:
    """Hoffmann et al. 2022 Approach 2: a parabola in log N per iso-FLOP budget, then power laws.

    Runs are grouped by budget; a group is used only if its runs share one budget (FLOPs within
    ``rel_tol`` of each other), it has at least :data:`MIN_SIZES` distinct model sizes, and they
    span the minimum (the lowest-loss run is neither the smallest nor the largest model, and the
    parabola's vertex lies inside the sizes tried). Data without :data:`MIN_BUDGETS` such groups are
    refused: FLOPs that vary continuously (as in Epoch's reconstruction of Hoffmann's Figure 4)
    are not iso-FLOP profiles, and fitting parabolas to slices of them gives an arbitrary exponent.

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        Columns params, tokens, loss (see :func:`read_runs`); for a DataFrame, a column of group
        labels may be named by ``budget_column``.
    budget_column : str
        ``"flops"`` groups runs whose FLOPs = 6ND agree within ``rel_tol``; any other name is a
        column of group labels.
    rel_tol : float
        Relative FLOP tolerance within one budget (default 1%).

    Returns
    -------
    Approach2Fit

    Raises
    ------
    NotIdentifiedError
        Fewer than :data:`MIN_BUDGETS` usable iso-FLOP groups; the message says why groups failed.
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
        N, why = _profile(C, g, rel_tol, check_spread=not labels_given)
        if why:
            skipped.append(why)
            continue
        budgets.append(C)
        n_opt.append(N)
        counts.append(len(g))
    if len(budgets) < MIN_BUDGETS:
        groups = len(np.unique(labels))
        raise NotIdentifiedError([
            f"Approach 2 needs at least {MIN_BUDGETS} iso-FLOP budgets of at least {MIN_SIZES} model sizes each "
            f"spanning the loss minimum; found {len(budgets)} among {groups} FLOP group(s)"
            + (f" (FLOPs within {rel_tol:.0%})" if not labels_given else "")
            + (f", e.g. {skipped[0]}" if skipped else "")])
    budgets, n_opt = np.array(budgets), np.array(n_opt)
    d_opt = tokens_for(budgets, n_opt)
    logC = np.log(budgets)
    a, a_se, a_ci, log_kN = _loglog_fit(logC, np.log(n_opt))
    b, b_se, b_ci, log_kD = _loglog_fit(logC, np.log(d_opt))
    return Approach2Fit(budgets, n_opt, d_opt, np.array(counts), a, a_se, a_ci, math.exp(log_kN),
                        b, b_se, b_ci, math.exp(log_kD), tuple(skipped))
