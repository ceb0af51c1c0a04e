"""Hoffmann et al. 2022 Approach 3: fit L = E + A/N^alpha + B/D^beta to training runs, and bootstrap it.

Approach 3 follows Hoffmann et al. 2022, §3.3 and App. D.2: minimise the **summed** Huber loss
(delta = 1e-3) of log-space residuals LSE(a - alpha log N, b - beta log D, e) - log L over
(a, b, e, alpha, beta), with A = e^a, B = e^b, E = e^e, from their grid of 4,500 initialisations.
Besiroglu et al. 2024 (Epoch's replication) showed that the published fit stopped early because of
the loss scale; here the objective is divided by delta (so each run contributes a gradient of
order one), the grid is searched with a vectorised L-BFGS (:mod:`.lbfgs`) and the best few
results are finished with a vectorised Newton method on the exact piecewise Hessian
(:mod:`.newton`). ``converged`` is a gradient or Newton-step check, not an optimiser's say-so.

Data that cannot determine the law raise :class:`NotIdentifiedError` (a ``ValueError``): constant
loss, fewer than two distinct sizes or token counts, an exponent or E pinned at zero, a term that
contributes nothing, or a Hessian at the optimum that is not positive definite.

Cost and limits. Time grows with runs x (grid starts + resamples). The grid is searched on at most
:data:`SCREEN_RUNS` runs (a fixed cost, about 1 s), the few best candidates are finished on all
runs, and each bootstrap resample costs a few Newton iterations on n runs: at most
``1 + NEWTON_MAXITER * (1 + MAX_HALVINGS) = 221`` evaluations of its objective and Hessian, about
35 ns per run each. Inputs are limited to :data:`MAX_RUNS` runs and :data:`MAX_BOOTSTRAP_TERMS`
runs x resamples, so the bootstrap of the worst accepted input (20,000 runs with 500 resamples, or
2,500 runs with 4,000) is bounded by about 1e7 x 221 x 35 ns = 80 s on the 2-core machine of
``benchmarks/bench_fit.py --worst``, and measured there it takes about 2 s (resamples converge in
3-11 iterations); 2,000 runs with 1,000 resamples take about 1 s, against 31 s before.

Units: N in parameters, D in tokens, C = 6ND in FLOPs, loss in nats per token.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..laws import FittedRange, ParametricLaw, parametric_optimum
from .lbfgs import batched_lbfgs
from .newton import batched_newton
from .objective import HUBER_DELTA, Design, hoffmann_grid, objective, objective_hessian
from .results import Approach3Fit, Bootstrap
from .runs import N_PARAMETERS, FitCancelled, NotIdentifiedError, RunsError, as_runs, drop_highest_loss

GOPHER_FLOPS = 5.76e23  # Hoffmann et al. 2022, Table 3 (Gopher / Chinchilla budget)

# (iteration, starts kept): after 3 vectorised L-BFGS steps keep the best 450 starts, and so on.
PRUNE_SCHEDULE = ((3, 450), (8, 90), (15, 24))
# Convergence: max |gradient| of objective/delta (O(1) per run) in the standardised coordinates at
# most GRAD_CHECK, or a positive definite Hessian whose Newton step is at most STEP_CHECK (in the
# standardised coordinates, where standard errors are 1e-3 or more: 1e-4 of one): with thousands of
# runs the objective's rounding keeps |gradient| near 1e-5 at the optimum itself. scipy's
# default-tolerance L-BFGS-B on the raw summed objective (~1e-3) stops short of both (the trap;
# tests/test_fit_approach3.py).
GRAD_CHECK = 1e-5
STEP_CHECK = 1e-7
GRID_MAXITER = 150
NEWTON_MAXITER = 20  # on Epoch's data resamples take 3-11
LBFGS_FALLBACK_MAXITER = 300

SCREEN_RUNS = 256  # the start grid is searched on at most this many runs (deterministic subsample)
MAX_RUNS = 20_000  # runs accepted by the fit (about 1.1 MB of CSV)
MAX_RESAMPLES = 4_000  # Besiroglu et al. 2024 use 4,000
MAX_BOOTSTRAP_TERMS = 10_000_000  # runs x resamples accepted by the bootstrap
BOOTSTRAP_BLOCK = 50  # resamples solved together between progress reports and cancellation checks

# Identification: what counts as "pinned at a bound" or a singular Hessian.
EXPONENT_FLOOR = 1e-3  # alpha or beta below this: the term is a constant over any real range of N or D
TERM_FLOOR = 1e-4  # E, or A/N^alpha or B/D^beta in every run, below this fraction of the loss: undetermined
HESSIAN_RCOND = 1e-9  # smallest / largest Hessian eigenvalue (standardised coordinates)


def _stop(should_stop) -> None:
    if should_stop is not None and should_stop():
        raise FitCancelled("the fit was cancelled")


def _check_runs(runs: pd.DataFrame) -> None:
    """Refuse, before fitting, runs that cannot determine the five parameters."""
    n = len(runs)
    if n < N_PARAMETERS:
        raise RunsError([f"too few runs: {n}, need at least {N_PARAMETERS}"])
    if n > MAX_RUNS:
        raise RunsError([f"too many runs: {n:,}, the limit is {MAX_RUNS:,} (the fit's time grows with the runs)"])
    problems = []
    loss = runs["loss"].to_numpy()
    if loss.max() <= loss.min() * (1 + 1e-12):
        problems.append(f"the loss is the same ({loss[0]:.6g}) in all {n} runs, so nothing depends on N or D")
    for column, what in (("params", "model size"), ("tokens", "token count")):
        if runs[column].nunique() < 2:
            problems.append(f"every run has the same {what} ({runs[column].iloc[0]:.4g}): need at least two "
                            f"distinct values to fit its exponent")
    if problems:
        raise NotIdentifiedError(problems)


def _check_resamples(n_runs: int, n_resamples: int) -> None:
    if n_resamples != int(n_resamples) or n_resamples < 0:
        raise RunsError([f"bootstrap resamples must be a whole number >= 0, got {n_resamples!r}"])
    if n_resamples > MAX_RESAMPLES:
        raise RunsError([f"too many bootstrap resamples: {n_resamples:,}, the limit is {MAX_RESAMPLES:,}"])
    if n_runs * n_resamples > MAX_BOOTSTRAP_TERMS:
        raise RunsError([f"{n_runs:,} runs x {n_resamples:,} resamples is too much work: the limit is "
                         f"{MAX_BOOTSTRAP_TERMS:,} (at most {MAX_BOOTSTRAP_TERMS // n_runs:,} resamples "
                         f"for {n_runs:,} runs)"])


def _check_identified(p: np.ndarray, H: np.ndarray, runs: pd.DataFrame) -> None:
    """Refuse an optimum that does not determine the law (a parameter at a bound, a flat direction)."""
    a, b, e, alpha, beta = map(float, p)
    problems = []
    for name, value, what in (("alpha", alpha, "model size"), ("beta", beta, "tokens")):
        if not value > EXPONENT_FLOOR:
            problems.append(f"the exponent {name} = {value:.3g} is pinned at 0: the loss does not fall with {what} "
                            "in these runs")
    loss = runs["loss"].to_numpy()
    if problems == []:
        N, D = runs["params"].to_numpy(), runs["tokens"].to_numpy()
        with np.errstate(over="ignore", under="ignore"):
            terms = {"E": np.full_like(loss, math.exp(e)), "A/N^alpha": np.exp(a - alpha * np.log(N)),
                     "B/D^beta": np.exp(b - beta * np.log(D))}
        for name, term in terms.items():
            if not (term / loss).max() > TERM_FLOOR:
                problems.append(f"the fitted {name} is below {TERM_FLOOR:g} of the loss in every run (pinned at 0), "
                                "so its coefficients are not determined")
    if problems == []:
        w = np.linalg.eigvalsh(H)
        if not w[0] > HESSIAN_RCOND * abs(w[-1]):
            problems.append(f"the Hessian of the objective at the optimum is not positive definite (eigenvalues "
                            f"{w[0]:.3g} to {w[-1]:.3g}): some combination of the parameters is not determined")
    if problems:
        raise NotIdentifiedError(problems)


def _law_from(p: np.ndarray, runs: pd.DataFrame, name: str, citation: str) -> ParametricLaw:
    a, b, e, alpha, beta = map(float, p)
    rng = FittedRange(
        (float(runs.params.min()), float(runs.params.max())),
        (float(runs.tokens.min()), float(runs.tokens.max())),
        (float(runs.flops.min()), float(runs.flops.max())),
        "runs the law was fitted on",
    )
    return ParametricLaw(math.exp(e), math.exp(a), math.exp(b), alpha, beta, name=name, citation=citation,
                         fitted_range=rng)


def _screening_rows(runs: pd.DataFrame) -> np.ndarray:
    """At most SCREEN_RUNS rows spread evenly over the runs sorted by FLOPs, then size (deterministic)."""
    n = len(runs)
    if n <= SCREEN_RUNS:
        return np.arange(n)
    order = np.lexsort((runs["params"].to_numpy(), runs["flops"].to_numpy()))
    return np.unique(order[np.linspace(0, n - 1, SCREEN_RUNS).round().astype(int)])


def _grid_search(design: Design, delta: float, starts: np.ndarray, n_best: int):
    """Vectorised L-BFGS over all starts with successive pruning; returns the best distinct internal points."""
    theta0 = design.to_internal(starts)

    def fg(t, rows):
        f, g, _ = objective(t, design, delta)
        return f, g

    def prune(it, f):
        # Successive pruning on the current objective. On Epoch's data 1,195 of the 4,500 starts end
        # at the global optimum and 29 of them are already in the best 1% of starting values.
        keep = np.ones(f.shape, bool)
        for at, count in PRUNE_SCHEDULE:
            if it >= at:
                keep &= f <= np.partition(f, min(count, f.size) - 1)[min(count, f.size) - 1]
        return keep

    theta, f, g, _ = batched_lbfgs(theta0, fg, maxiter=GRID_MAXITER, gtol=GRAD_CHECK, prune=prune)
    order = np.argsort(f)
    picked = []
    for i in order:  # distinct candidates only
        if all(np.max(np.abs(theta[i] - theta[j])) > 1e-3 for j in picked):
            picked.append(i)
        if len(picked) >= n_best:
            break
    return theta[picked], np.array(picked)


def _solve(theta0: np.ndarray, design: Design, delta: float, weights=None, fallback: bool = True):
    """Newton from each row of theta0; with ``fallback``, L-BFGS then Newton again where Newton stalls.

    Returns theta, f, g, H, converged, Newton iterations.
    """
    def fgh(t, rows):
        return objective_hessian(t, design, delta, None if weights is None else weights[rows])

    def fg(t, rows):
        f, g, _ = objective(t, design, delta, None if weights is None else weights[rows])
        return f, g

    theta, f, g, H, ok, iters = batched_newton(theta0, fgh, maxiter=NEWTON_MAXITER, gtol=GRAD_CHECK,
                                               xtol=STEP_CHECK)
    rest = np.flatnonzero(~ok)
    if fallback and rest.size:  # rare: Newton stalled where the Hessian jumps; L-BFGS does not use it
        t2, _, _, _ = batched_lbfgs(theta[rest], lambda t, r: fg(t, rest[r]), maxiter=LBFGS_FALLBACK_MAXITER,
                                    gtol=GRAD_CHECK)
        t3, f3, g3, H3, ok3, it3 = batched_newton(t2, lambda t, r: fgh(t, rest[r]), maxiter=min(5, NEWTON_MAXITER),
                                                  gtol=GRAD_CHECK,
                                                  xtol=STEP_CHECK)
        theta[rest], f[rest], g[rest], H[rest], ok[rest] = t3, f3, g3, H3, ok3
        iters[rest] += it3
    return theta, f, g, H, ok, iters


def fit_approach3(
    runs,
    *,
    exclude_highest_loss: int = 0,
    delta: float = HUBER_DELTA,
    starts: np.ndarray | None = None,
    n_polish: int = 5,
    n_bootstrap: int = 0,
    seed: int = 0,
    at_flops: float = GOPHER_FLOPS,
    progress=None,
    should_stop=None,
) -> Approach3Fit:
    """Fit L = E + A/N^alpha + B/D^beta by Hoffmann et al. 2022 Approach 3 (§3.3, App. D.2).

    Minimises sum_i Huber_delta(LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i) over
    (a, b, e, alpha, beta) from Hoffmann's 4,500-point grid (App. D.2), the Huber loss summed
    as in Besiroglu et al. 2024. On Epoch's reconstructed Figure-4 data with the 5 highest-loss
    runs dropped (``exclude_highest_loss=5``, as Epoch did) it gives E 1.817, A 478, B 2143,
    alpha 0.347, beta 0.367: inside Epoch's 95% intervals and at a slightly lower objective than
    Epoch's printed point (Besiroglu et al. 2024: E 1.8172, A 482.01, B 2085.43, alpha 0.3478,
    beta 0.3658). With all 245 runs the optimum moves far (B about 12,800, beta about 0.45):
    the few high-loss runs pull on the data term.

    With more than :data:`SCREEN_RUNS` runs the grid is searched on an evenly spread subsample of
    that many runs (the grid only has to find the basin); its best ``n_polish`` distinct results
    are then refitted on all runs, and the lowest objective wins.

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        Columns params, tokens, loss (see :func:`read_runs`); at most :data:`MAX_RUNS` runs.
    exclude_highest_loss : int
        Drop this many highest-loss runs before fitting.
    delta : float
        Huber threshold in log-loss units; 1e-3 is Hoffmann's (App. D.2).
    starts : array of shape (S, 5), optional
        Initialisations (a, b, e, alpha, beta); default :func:`hoffmann_grid`.
    n_polish : int
        How many of the best distinct grid results are refitted on all runs.
    n_bootstrap, seed, at_flops
        If ``n_bootstrap > 0`` and the fit converged, attach :func:`bootstrap_approach3` results.
    progress, should_stop : callable, optional
        Passed to :func:`bootstrap_approach3`; ``should_stop`` is also checked between the fit's stages.

    Returns
    -------
    Approach3Fit
        ``converged`` False means the numbers are not an optimum: report them, do not draw them.

    Raises
    ------
    NotIdentifiedError
        The runs cannot determine the law (see the module docstring).
    RunsError
        Bad input, or more runs or resamples than the limits allow.
    FitCancelled
        ``should_stop()`` returned True.
    """
    runs = drop_highest_loss(as_runs(runs), exclude_highest_loss)
    _check_runs(runs)
    if n_bootstrap:
        _check_resamples(len(runs), n_bootstrap)
    _stop(should_stop)
    design = Design.from_runs(runs)
    starts = hoffmann_grid() if starts is None else np.atleast_2d(np.asarray(starts, float))
    screen = _screening_rows(runs)
    screen_design = design if len(screen) == len(runs) else Design.from_runs(runs.iloc[screen])
    candidates, start_index = _grid_search(screen_design, delta, starts, n_polish)
    _stop(should_stop)
    theta0 = design.to_internal(screen_design.to_original(candidates))
    theta, f, g, H, ok, iters = _solve(theta0, design, delta)
    best = int(np.argmin(np.where(ok, f, np.inf))) if ok.any() else int(np.argmin(f))
    _, _, resid = objective(theta[best][None, :], design, delta)
    grad_norm = float(np.abs(g[best]).max())
    converged = bool(ok[best])
    p = design.to_original(theta[best])[0]
    if converged:
        _check_identified(p, H[best], runs)
    elif not (p[3] > 0 and p[4] > 0):
        _check_identified(p, H[best], runs)  # a non-positive exponent is refused, converged or not
    message = (f"Newton {int(iters[best])} iterations, max |gradient "
               f"of objective/delta| = {grad_norm:.2g} (check <= {GRAD_CHECK:g}, or Newton step <= {STEP_CHECK:g})")
    n = len(runs)
    law = _law_from(p, runs, f"fit to {n} runs", "Approach 3 fit (Hoffmann et al. 2022, App. D.2) by scaling_explorer")
    fit = Approach3Fit(
        law=law, objective=float(f[best] * delta), residuals=resid[0], converged=converged, message=message,
        n_runs=n, n_starts=len(starts), delta=delta, grad_norm=grad_norm, n_excluded=int(exclude_highest_loss),
        best_start=tuple(float(v) for v in starts[start_index[best]]),
    )
    if n_bootstrap and converged:
        boot = bootstrap_approach3(runs, n_resamples=n_bootstrap, seed=seed, at_flops=at_flops, fit=fit,
                                   progress=progress, should_stop=should_stop)
        fit = dataclasses.replace(fit, bootstrap=boot)
    return fit


def _derived(E, A, B, alpha, beta, at_flops):
    """a, N_opt, D_opt, D/N at ``at_flops`` for arrays of coefficients (Hoffmann et al. 2022, eq. 4)."""
    N, D = parametric_optimum(at_flops, A, B, alpha, beta)
    return {"a": beta / (alpha + beta), "N_opt": N, "D_opt": D, "tokens_per_param": D / N}


def bootstrap_approach3(
    runs,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    exclude_highest_loss: int = 0,
    at_flops: float = GOPHER_FLOPS,
    delta: float = HUBER_DELTA,
    fit: Approach3Fit | None = None,
    progress=None,
    should_stop=None,
) -> Bootstrap:
    """Nonparametric bootstrap of the Approach-3 fit (Besiroglu et al. 2024 use 4,000 resamples).

    Runs are resampled with replacement (``numpy.random.default_rng(seed)``, n draws per resample)
    and every resample is refitted from the full fit's optimum (a warm start, as is standard for
    the bootstrap, not the full grid) with the vectorised Newton method, :data:`BOOTSTRAP_BLOCK`
    resamples at a time. A resample counts as converged by the same check as the full fit; the
    intervals, standard errors and :meth:`Bootstrap.frontier_interval` use converged resamples
    only, and ``n_converged`` says how many. Deterministic for a given seed.

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        As for :func:`fit_approach3`; ``exclude_highest_loss`` is applied before resampling.
    n_resamples : int
        Number of bootstrap resamples; at most :data:`MAX_RESAMPLES` and
        :data:`MAX_BOOTSTRAP_TERMS` / runs.
    at_flops : float
        Budget for the derived N_opt, D_opt and tokens per parameter (default Gopher's, 5.76e23).
    fit : Approach3Fit, optional
        The full fit, if already done on the same runs; it must have converged.
    progress : callable, optional
        ``progress(done, total)`` after each block of resamples (``done`` resamples of ``total``),
        called from the thread running the bootstrap.
    should_stop : callable, optional
        Checked before each block; when it returns True the bootstrap raises :class:`FitCancelled`.

    Returns
    -------
    Bootstrap
    """
    runs = drop_highest_loss(as_runs(runs), exclude_highest_loss)
    _check_runs(runs)
    _check_resamples(len(runs), n_resamples)
    if fit is None:
        fit = fit_approach3(runs, delta=delta, should_stop=should_stop)
    if not fit.converged:
        raise RunsError(["the full fit did not converge, so there is no optimum to bootstrap around"])
    design = Design.from_runs(runs)
    n, R = len(runs), int(n_resamples)
    rng = np.random.default_rng(seed)
    law = fit.law
    p0 = design.to_internal(np.array([math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta]))
    theta = np.empty((R, 5))
    ok = np.zeros(R, bool)
    if progress is not None:
        progress(0, R)
    for start in range(0, R, BOOTSTRAP_BLOCK):
        _stop(should_stop)
        k = min(BOOTSTRAP_BLOCK, R - start)
        idx = rng.integers(0, n, size=(k, n))  # the same stream as one (R, n) draw
        weights = np.bincount((idx + n * np.arange(k)[:, None]).ravel(), minlength=k * n).reshape(k, n)
        # No L-BFGS fallback here, so that a resample's cost is bounded by Newton's (module docstring).
        t, _, _, _, good, _ = _solve(np.repeat(p0, k, axis=0), design, delta, weights.astype(float), fallback=False)
        theta[start:start + k], ok[start:start + k] = t, good
        if progress is not None:
            progress(start + k, R)
    a, b, e, alpha, beta = design.to_original(theta).T
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        samples = {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}
        samples.update(_derived(samples["E"], samples["A"], samples["B"], alpha, beta, at_flops))
    N_opt, D_opt = law.compute_optimal(at_flops)
    estimate = dict(fit.params, a=law.a, N_opt=float(N_opt), D_opt=float(D_opt),
                    tokens_per_param=float(D_opt / N_opt))
    kept = {k: np.asarray(v)[ok] for k, v in samples.items()}
    se = {k: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan") for k, v in kept.items()}
    ci = {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if len(v) else (float("nan"),) * 2
          for k, v in kept.items()}
    return Bootstrap(samples=samples, estimate=estimate, se=se, ci=ci, n_resamples=R, seed=int(seed),
                     at_flops=float(at_flops), n_converged=int(ok.sum()), converged=ok)
