"""Result objects of the Approach-3 fit and its bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..laws import ParametricLaw, parametric_optimum
from .objective import HUBER_DELTA

_NAMES = ("E", "A", "B", "alpha", "beta")
_DERIVED = ("a", "N_opt", "D_opt", "tokens_per_param")


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap of an Approach-3 fit: resampled estimates, standard errors, percentile intervals.

    Attributes
    ----------
    samples : dict of str to numpy.ndarray
        One value per resample for E, A, B, alpha, beta, a = beta/(alpha+beta), and N_opt, D_opt,
        tokens_per_param at ``at_flops``.
    estimate : dict of str to float
        The same quantities for the full fit.
    se : dict of str to float
        Standard deviation across resamples (ddof=1).
    ci : dict of str to tuple of float
        2.5 and 97.5 percentiles.
    n_converged : int
        Resamples whose refit converged; ``se``, ``ci`` and the band use those only.
    converged : numpy.ndarray of bool, optional
        Which resamples converged (all, if not given).
    """

    samples: dict
    estimate: dict
    se: dict
    ci: dict
    n_resamples: int
    seed: int
    at_flops: float
    n_converged: int
    converged: np.ndarray | None = field(default=None, repr=False)

    def frontier_interval(self, C, level: float = 95.0):
        """Percentile band of the compute-optimal (N, D) across resamples, for budgets ``C`` (FLOPs).

        Returns
        -------
        N_low, N_high, D_low, D_high : ndarray
            Along each iso-FLOP line a larger N_opt means a smaller D_opt, so (N_low, D_high)
            and (N_high, D_low) trace the two edges of the band.
        """
        C = np.asarray(C, dtype=float)[None, :]
        s = {k: np.asarray(v)[:, None] for k, v in self.samples.items()}
        ok = np.all([np.isfinite(s[k][:, 0]) & (s[k][:, 0] > 0) for k in _NAMES], axis=0)
        if self.converged is not None:
            ok &= np.asarray(self.converged, bool)  # the same resamples as the printed intervals
        if not ok.any():
            raise ValueError("no converged bootstrap resample: there is no band to draw")
        N, D = parametric_optimum(C, s["A"][ok], s["B"][ok], s["alpha"][ok], s["beta"][ok])
        tail = (100.0 - level) / 2
        N_low, N_high = np.percentile(N, [tail, 100 - tail], axis=0)
        D_low, D_high = np.percentile(D, [tail, 100 - tail], axis=0)
        return N_low, N_high, D_low, D_high

    def to_dict(self) -> dict:
        """JSON-ready: {name: {"estimate", "se", "low", "high"}} plus counts."""
        out = {k: {"estimate": self.estimate[k], "se": self.se[k], "low": self.ci[k][0], "high": self.ci[k][1]}
               for k in self.estimate}
        return {"quantities": out, "n_resamples": self.n_resamples, "n_converged": self.n_converged,
                "seed": self.seed, "at_flops": self.at_flops}


@dataclass(frozen=True)
class Approach3Fit:
    """Result of :func:`fit_approach3` (shape of a scipy / lmfit result).

    Attributes
    ----------
    law : ParametricLaw
        The fitted law, usable wherever a preset is.
    objective : float
        Summed Huber loss (delta as given, **not** divided by delta) at the optimum.
    residuals : numpy.ndarray
        log(predicted loss) - log(observed loss), one per run used.
    converged : bool
        Optimiser reported success and the final max |gradient| (objective / delta, internal
        coordinates) is below ``grad_norm``'s tolerance.
    message : str
        Optimiser message and the gradient check.
    n_runs, n_starts : int
        Runs used and initialisations tried.
    grad_norm : float
        Final max |gradient| of objective / delta in the solver's standardised coordinates.
    n_excluded : int
        Highest-loss runs dropped before fitting.
    best_start : tuple of float
        A grid initialisation (a, b, e, alpha, beta) from which the vectorised search reached the
        optimum (on Epoch's data about a quarter of the 4,500 starts do).
    bootstrap : Bootstrap or None
        Set when ``n_bootstrap > 0`` and the fit converged.
    """

    law: ParametricLaw
    objective: float
    residuals: np.ndarray = field(repr=False)
    converged: bool
    message: str
    n_runs: int
    n_starts: int
    delta: float = HUBER_DELTA
    grad_norm: float = float("nan")
    n_excluded: int = 0
    best_start: tuple = ()
    bootstrap: Bootstrap | None = None

    @property
    def drawable(self) -> bool:
        """Whether the fit may be drawn as a frontier: it converged (unidentified fits raise instead)."""
        return bool(self.converged)

    @property
    def params(self) -> dict:
        """{E, A, B, alpha, beta} as floats."""
        return {k: float(getattr(self.law, k)) for k in _NAMES}

    def predict(self, N, D):
        """Predicted loss for N parameters and D tokens (same as ``law.loss``)."""
        return self.law.loss(N, D)

    def report(self) -> str:
        """Printable summary with intervals when a bootstrap was done."""
        lines = [] if self.converged else [
            "NOT CONVERGED: the numbers below are where the optimiser stopped, not a fit; they are not drawn."]
        lines += [f"Approach 3 fit (Hoffmann et al. 2022, App. D.2) to {self.n_runs} runs"
                 + (f" ({self.n_excluded} highest-loss runs excluded)" if self.n_excluded else ""),
                 f"  starts: {self.n_starts}   Huber delta: {self.delta:g} (summed)   "
                 f"objective: {self.objective:.6g}   converged: {self.converged}",
                 f"  {self.message}"]
        b = self.bootstrap
        header = "  {:<17}{:>12}".format("parameter", "estimate")
        if b is not None:
            header += "{:>12}   95% interval ({} resamples)".format("std err", b.n_converged)
        lines.append(header)
        values = dict(self.params, a=self.law.a)
        if b is not None:
            values.update({k: b.estimate[k] for k in _DERIVED})
        for k, v in values.items():
            name = k if k not in _DERIVED[1:] else f"{k} @ {b.at_flops:.3g}"
            row = f"  {name:<17}{v:>12.4g}"
            if b is not None:
                row += f"{b.se[k]:>12.3g}   {b.ci[k][0]:.4g} – {b.ci[k][1]:.4g}"
            lines.append(row)
        if b is not None and b.n_converged < b.n_resamples:
            lines.append(f"  {b.n_resamples - b.n_converged} of {b.n_resamples} resamples did not converge; "
                         f"the intervals and the band use the other {b.n_converged}")
        if b is None and self.converged:
            lines.append("  (no bootstrap: A and B are poorly determined; run with n_bootstrap>0 for intervals)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready: E, A, B, alpha, beta, objective, converged, n_runs (and ``ci`` after a bootstrap)."""
        out = dict(self.params, objective=float(self.objective), converged=bool(self.converged),
                   n_runs=int(self.n_runs), n_starts=int(self.n_starts), message=self.message)
        if self.bootstrap is not None:
            b = self.bootstrap
            out["ci"] = {k: [float(b.ci[k][0]), float(b.ci[k][1])] for k in b.ci}
            out["se"] = {k: float(b.se[k]) for k in b.se}
            out["n_resamples"] = b.n_resamples
            out["n_converged"] = b.n_converged
        return out

