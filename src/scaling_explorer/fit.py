"""Fit scaling laws to training runs: Hoffmann et al. 2022 Approach 3 (parametric) and Approach 2 (iso-FLOP).

Approach 3 follows Hoffmann et al. 2022, §3.3 and App. D.2: minimise the **summed** Huber loss
(delta = 1e-3) of log-space residuals LSE(a - alpha log N, b - beta log D, e) - log L over
(a, b, e, alpha, beta), with A = e^a, B = e^b, E = e^e, from their grid of 4,500 initialisations.
Besiroglu et al. 2024 (Epoch's replication) showed that the published fit stopped early because of
the loss scale; here the objective is divided by delta (so each run contributes a gradient of
order one), the grid is searched with a vectorised L-BFGS, and the best few starts are polished
with scipy's L-BFGS-B at tight tolerances. ``converged`` comes from the optimiser's status *and* a
final gradient-norm check.

Runs are read by :func:`read_runs` from a path, bytes or a file-like; nothing is written to disk.
Units: N in parameters, D in tokens, C = 6ND in FLOPs, loss in nats per token.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .compute import tokens_for, training_flops
from .laws import AllocationLaw, FittedRange, ParametricLaw, parametric_optimum

N_PARAMETERS = 5  # E, A, B, alpha, beta
HUBER_DELTA = 1e-3  # Hoffmann et al. 2022, App. D.2; Besiroglu et al. 2024 keep it (summed, not averaged)
GOPHER_FLOPS = 5.76e23  # Hoffmann et al. 2022, Table 3 (Gopher / Chinchilla budget)

# Hoffmann et al. 2022, App. D.2: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
# a, b in {0, 5, ..., 25}: 5 * 5 * 5 * 6 * 6 = 4,500 initialisations.
GRID_ALPHA = GRID_BETA = np.arange(0.0, 2.01, 0.5)
GRID_E = np.arange(-1.0, 1.01, 0.5)
GRID_A = GRID_B = np.arange(0.0, 25.1, 5.0)

_COLUMN_ALIASES = {
    "params": ("params", "model size", "parameters", "n", "n_params"),
    "tokens": ("tokens", "d", "n_tokens", "training tokens"),
    "flops": ("flops", "training flop", "training flops", "c", "compute"),
    "loss": ("loss", "final loss", "l"),
}
_MAX_LISTED = 8  # rows listed per problem in a RunsError


class RunsError(ValueError):
    """Bad runs table; ``problems`` lists every problem found, and the message shows them all."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("cannot use these runs:\n  - " + "\n  - ".join(self.problems))


# --------------------------------------------------------------------------------------------
# Reading runs
# --------------------------------------------------------------------------------------------


def _read_bytes(source, max_bytes: int) -> bytes:
    limit = f"{max_bytes:,} bytes"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        size = os.path.getsize(source)
        if size > max_bytes:
            raise RunsError([f"file is too large: {size:,} bytes, the limit is {limit}"])
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(f"source must be a path, bytes or a file-like object, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise RunsError([f"file is too large: more than {limit}, the limit is {limit}"])
    return data


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask) + 1  # 1-based data rows (the header is not counted)
    listed = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}"


def read_runs(source, *, max_bytes: int = 10_000_000) -> pd.DataFrame:
    """Read a table of training runs into columns ``params``, ``tokens``, ``loss``, ``flops``.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        CSV text with columns params, tokens, loss, or params, flops, loss (tokens = flops / 6N),
        case-insensitive; Epoch's ``svg_extracted_data.csv`` (``Model Size``, ``Training FLOP``,
        ``loss``) is accepted as is. Bytes are parsed in memory, never written or executed.
    max_bytes : int
        Size limit; larger input is refused.

    Returns
    -------
    pandas.DataFrame
        One row per run; ``flops = 6 * params * tokens``. If both tokens and flops are given,
        tokens are used.

    Raises
    ------
    RunsError
        Listing every problem found (row numbers count data rows from 1, header excluded).
    """
    data = _read_bytes(source, max_bytes)
    if b"\x00" in data:
        raise RunsError(["not a CSV text file: the input contains binary (NUL) bytes"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RunsError([f"not a CSV text file: not valid UTF-8 at byte {exc.start}"]) from None
    if not text.strip():
        raise RunsError(["the file is empty"])
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise RunsError([f"not parseable as CSV: {str(exc).strip()}"]) from None

    lower = {str(c).strip().lower(): c for c in raw.columns}
    found = {}
    for name, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[name] = lower[alias]
                break
    problems = []
    missing = [n for n in ("params", "loss") if n not in found]
    if "tokens" not in found and "flops" not in found:
        missing.append("tokens or flops")
    if missing:
        problems.append(
            f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(found: {', '.join(map(str, raw.columns)) or 'none'}; "
            "need params, tokens, loss or params, flops, loss)"
        )
        raise RunsError(problems)

    used = ["params", "tokens" if "tokens" in found else "flops", "loss"]
    values = {}
    for name in used:
        column = found[name]
        text_values = raw[column].astype(str).str.strip()
        numbers = pd.to_numeric(text_values, errors="coerce").to_numpy(dtype=float)
        empty = (text_values == "").to_numpy() | text_values.str.lower().isin(["nan", "na", "n/a", "null"]).to_numpy()
        non_numeric = np.isnan(numbers) & ~empty
        bad_sign = ~np.isnan(numbers) & ~(np.isfinite(numbers) & (numbers > 0))
        label = f"column {column!r}"
        if empty.any():
            problems.append(f"{label}: missing value (empty or NaN) in {_rows(empty)}")
        if non_numeric.any():
            first = text_values[non_numeric].iloc[0]
            problems.append(f"{label}: not a number in {_rows(non_numeric)} (e.g. {first!r})")
        if bad_sign.any():
            problems.append(f"{label}: must be positive and finite in {_rows(bad_sign)}")
        values[name] = numbers
    if len(raw) < N_PARAMETERS:
        problems.append(f"too few runs: {len(raw)}, need at least {N_PARAMETERS} (one per fitted parameter)")
    if problems:
        raise RunsError(problems)

    params = values["params"]
    if "tokens" in values:
        tokens = values["tokens"]
    else:
        tokens = tokens_for(values["flops"], params)  # Besiroglu et al. 2024: D = C / 6N
    return pd.DataFrame(
        {"params": params, "tokens": tokens, "loss": values["loss"], "flops": training_flops(params, tokens)}
    )


def _as_runs(runs) -> pd.DataFrame:
    if isinstance(runs, pd.DataFrame):
        missing = [c for c in ("params", "tokens", "loss") if c not in runs.columns]
        if missing:
            raise RunsError([f"missing columns: {', '.join(missing)} (use read_runs to load a CSV)"])
        try:
            out = runs[["params", "tokens", "loss"]].astype(float).reset_index(drop=True)
        except (TypeError, ValueError) as exc:
            raise RunsError([f"params, tokens and loss must be numbers ({exc})"]) from None
        bad = ~np.isfinite(out.to_numpy()) | (out.to_numpy() <= 0)
        if bad.any():
            raise RunsError([f"params, tokens and loss must be positive and finite ({_rows(bad.any(axis=1))})"])
        out["flops"] = training_flops(out["params"], out["tokens"])
        return out
    return read_runs(runs)


def synthetic_runs(law, budgets, *, per_budget: int = 9, span: float = 8.0, sigma: float = 0.01,
                   seed: int = 0) -> pd.DataFrame:
    """Simulated training runs from a known loss law, laid out like an iso-FLOP study.

    For each budget C (FLOPs), ``per_budget`` model sizes from N_opt/span to N_opt*span, D = C/6N,
    and loss = law.loss(N, D) * exp(sigma * standard normal) (seeded). For testing a fit or
    planning an experiment: the known law is what a fit should recover.

    Returns
    -------
    DataFrame
        Columns params, tokens, loss, flops, in the shape :func:`read_runs` returns.
    """
    budgets = np.atleast_1d(np.asarray(budgets, dtype=float))[:, None]
    N_opt, _ = law.compute_optimal(budgets)
    N = N_opt * np.geomspace(1 / span, span, per_budget)[None, :]
    D = tokens_for(budgets, N)
    noise = np.exp(sigma * np.random.default_rng(seed).standard_normal(N.shape))
    return pd.DataFrame({"params": N.ravel(), "tokens": D.ravel(), "loss": (law.loss(N, D) * noise).ravel(),
                         "flops": np.broadcast_to(budgets, N.shape).ravel()})


def drop_highest_loss(runs: pd.DataFrame, k: int) -> pd.DataFrame:
    """``runs`` without its ``k`` highest-loss rows (ties broken by order), as the fit uses them."""
    if k < 0 or k != int(k):
        raise ValueError(f"exclude_highest_loss must be a non-negative integer, got {k!r}")
    if k == 0:
        return runs
    keep = runs["loss"].rank(method="first", ascending=False) > k
    return runs[keep].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Approach 3 objective, vectorised over starts (rows) and runs (columns)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    """Standardised log N and log D, so the solver sees a well-conditioned problem.

    Internally theta = (a', b', e, alpha', beta') with a - alpha log N = a' - alpha' xN,
    xN = (log N - muN) / sN, alpha' = alpha sN, a' = a - alpha muN; same for D. The map is linear,
    so the optimum is the same point of the original problem.
    """

    xN: np.ndarray
    xD: np.ndarray
    logL: np.ndarray
    muN: float
    sN: float
    muD: float
    sD: float

    @classmethod
    def from_runs(cls, runs: pd.DataFrame) -> _Design:
        logN = np.log(runs["params"].to_numpy(float))
        logD = np.log(runs["tokens"].to_numpy(float))
        muN, muD = logN.mean(), logD.mean()
        sN, sD = logN.std() or 1.0, logD.std() or 1.0
        return cls((logN - muN) / sN, (logD - muD) / sD, np.log(runs["loss"].to_numpy(float)), muN, sN, muD, sD)

    def to_internal(self, p: np.ndarray) -> np.ndarray:
        """Hoffmann's (a, b, e, alpha, beta) -> internal coordinates; rows are points."""
        a, b, e, al, be = np.moveaxis(np.atleast_2d(p), -1, 0)
        return np.stack([a - al * self.muN, b - be * self.muD, e, al * self.sN, be * self.sD], axis=-1)

    def to_original(self, t: np.ndarray) -> np.ndarray:
        a, b, e, al, be = np.moveaxis(np.atleast_2d(t), -1, 0)
        alpha, beta = al / self.sN, be / self.sD
        return np.stack([a + alpha * self.muN, b + beta * self.muD, e, alpha, beta], axis=-1)


def _objective(theta: np.ndarray, design: _Design, delta: float, weights=None):
    """Summed Huber objective divided by delta, and its gradient; theta has shape (S, 5).

    Returns f of shape (S,), gradient (S, 5) and log-space residuals (S, n).
    """
    a, b, e, al, be = (theta[:, i : i + 1] for i in range(5))
    r1 = a - al * design.xN
    r2 = b - be * design.xD
    r3 = np.broadcast_to(e, r1.shape)
    m = np.maximum(np.maximum(r1, r2), r3)
    with np.errstate(over="ignore", under="ignore"):
        z1, z2, z3 = np.exp(r1 - m), np.exp(r2 - m), np.exp(r3 - m)
    s = z1 + z2 + z3
    res = m + np.log(s) - design.logL
    absr = np.abs(res)
    rc = np.clip(res, -delta, delta)
    h = 0.5 * rc * rc / delta + (absr - np.abs(rc))  # Huber_delta(res) / delta, no overflow
    psi = rc / delta
    if weights is not None:
        h = h * weights
        psi = psi * weights
    psi = psi / s
    g1, g2, g3 = psi * z1, psi * z2, psi * z3
    grad = np.stack(
        [g1.sum(1), g2.sum(1), g3.sum(1), -(g1 @ design.xN), -(g2 @ design.xD)], axis=1
    )
    return h.sum(1), grad, res


def _batched_lbfgs(theta, fg, *, maxiter: int, gtol: float, memory: int = 8, prune=None):
    """Vectorised L-BFGS with Armijo backtracking, one independent problem per row of ``theta``.

    ``fg(theta, rows)`` returns (f, g) for the given rows. ``prune(iteration, f)`` may return a
    boolean mask of rows to keep active (others are frozen where they stand).
    Returns theta, f, g and a boolean mask of rows whose max |g| <= gtol.
    """
    theta = theta.copy()
    S, P = theta.shape
    f, g = fg(theta, np.arange(S))
    s_hist = np.zeros((S, memory, P))
    y_hist = np.zeros((S, memory, P))
    rho = np.zeros((S, memory))
    active = np.ones(S, bool)
    for it in range(maxiter):
        active &= np.abs(g).max(1) > gtol
        if prune is not None:
            active &= prune(it, f)
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        q = g[rows].copy()
        sh, yh, rh = s_hist[rows], y_hist[rows], rho[rows]
        alphas = np.zeros((rows.size, memory))
        order = [(it - 1 - j) % memory for j in range(min(it, memory))]  # newest first
        for j in order:
            alphas[:, j] = rh[:, j] * np.einsum("ij,ij->i", sh[:, j], q)
            q -= alphas[:, j, None] * yh[:, j]
        if order:
            j = order[0]
            yy = np.einsum("ij,ij->i", yh[:, j], yh[:, j])
            sy = np.einsum("ij,ij->i", sh[:, j], yh[:, j])
            gamma = np.where((rh[:, j] > 0) & (yy > 0), sy / np.where(yy > 0, yy, 1.0), 0.0)
        else:
            gamma = np.zeros(rows.size)
        first = gamma <= 0
        gamma = np.where(first, 1.0 / np.maximum(np.abs(g[rows]).max(1), 1e-300), gamma)
        q *= gamma[:, None]
        for j in reversed(order):
            bj = rh[:, j] * np.einsum("ij,ij->i", yh[:, j], q)
            q += sh[:, j] * (alphas[:, j] - bj)[:, None]
        d = -q
        slope = np.einsum("ij,ij->i", d, g[rows])
        bad = ~(slope < 0)
        if bad.any():  # not a descent direction: steepest descent, unit max step
            d[bad] = -g[rows][bad] / np.maximum(np.abs(g[rows][bad]).max(1, keepdims=True), 1e-300)
            slope[bad] = np.einsum("ij,ij->i", d[bad], g[rows][bad])
        step = np.ones(rows.size)
        new_theta = theta[rows] + d
        new_f, new_g = fg(new_theta, rows)
        todo = ~(new_f <= f[rows] + 1e-4 * step * slope)
        for _ in range(40):
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            step[idx] *= 0.25
            new_theta[idx] = theta[rows[idx]] + step[idx, None] * d[idx]
            new_f[idx], new_g[idx] = fg(new_theta[idx], rows[idx])
            todo[idx] = ~(new_f[idx] <= f[rows[idx]] + 1e-4 * step[idx] * slope[idx])
        ok = ~todo
        slot = it % memory
        sv = new_theta - theta[rows]
        yv = new_g - g[rows]
        sy = np.einsum("ij,ij->i", sv, yv)
        # Keep a curvature pair only if s.y is clearly positive; an underflowing |s||y| would let a
        # subnormal s.y through, whose inverse overflows.
        good = ok & (sy > 1e-12 * np.sqrt(np.einsum("ij,ij->i", sv, sv) * np.einsum("ij,ij->i", yv, yv)))
        good &= sy > 1e-150
        s_hist[rows, slot] = np.where(good[:, None], sv, 0.0)
        y_hist[rows, slot] = np.where(good[:, None], yv, 0.0)
        rho[rows, slot] = np.where(good, 1.0 / np.where(good, sy, 1.0), 0.0)
        upd = rows[ok]
        theta[upd], f[upd], g[upd] = new_theta[ok], new_f[ok], new_g[ok]
        active[rows[~ok]] = False  # line search failed: stalled (converged to rounding, or stuck)
    return theta, f, g, np.abs(g).max(1) <= gtol


def hoffmann_grid() -> np.ndarray:
    """Hoffmann et al. 2022, App. D.2 initialisation grid as rows (a, b, e, alpha, beta); 4,500 rows."""
    a, b, e, al, be = np.meshgrid(GRID_A, GRID_B, GRID_E, GRID_ALPHA, GRID_BETA, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), e.ravel(), al.ravel(), be.ravel()], axis=1)


def _polish(theta0: np.ndarray, design: _Design, delta: float, weights=None):
    """scipy L-BFGS-B from one internal point, tolerances tight enough not to stop early.

    The objective is divided by delta, so it is O(n) and its gradient O(1) per run; with
    ftol = 1e-13 the final objective agrees with a tighter run to ~1e-14 relative on Epoch's data.
    """

    def fun(t):
        f, g, _ = _objective(t[None, :], design, delta, weights)
        return f[0], g[0]

    res = optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        options={"maxiter": 20_000, "maxfun": 40_000, "ftol": 1e-13, "gtol": 1e-7, "maxcor": 20},
    )
    return res


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

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
    """

    samples: dict
    estimate: dict
    se: dict
    ci: dict
    n_resamples: int
    seed: int
    at_flops: float
    n_converged: int

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
        Set when ``n_bootstrap > 0``.
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
    def params(self) -> dict:
        """{E, A, B, alpha, beta} as floats."""
        return {k: float(getattr(self.law, k)) for k in _NAMES}

    def predict(self, N, D):
        """Predicted loss for N parameters and D tokens (same as ``law.loss``)."""
        return self.law.loss(N, D)

    def report(self) -> str:
        """Printable summary with intervals when a bootstrap was done."""
        lines = [f"Approach 3 fit (Hoffmann et al. 2022, App. D.2) to {self.n_runs} runs"
                 + (f" ({self.n_excluded} highest-loss runs excluded)" if self.n_excluded else ""),
                 f"  starts: {self.n_starts}   Huber delta: {self.delta:g} (summed)   "
                 f"objective: {self.objective:.6g}   converged: {self.converged}",
                 f"  {self.message}"]
        b = self.bootstrap
        header = "  {:<17}{:>12}".format("parameter", "estimate")
        if b is not None:
            header += "{:>12}   95% interval ({} resamples)".format("std err", b.n_resamples)
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
        if b is None:
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
        return out


# --------------------------------------------------------------------------------------------
# Approach 3
# --------------------------------------------------------------------------------------------

# (iteration, starts kept): after 3 vectorised L-BFGS steps keep the best 450 starts, and so on.
PRUNE_SCHEDULE = ((3, 450), (8, 90), (15, 24))
# Convergence: max |gradient| of objective/delta (O(1) per run) in the standardised coordinates at
# most GRAD_CHECK. On Epoch's data, stopping there rather than at 1e-6 moves log A, log B by < 4e-6
# and is 30x faster for the vectorised solver (its last digits stall on the Huber kinks). scipy's
# default-tolerance L-BFGS-B on the raw summed objective (~1e-3) stops from Hoffmann grid starts at
# objectives 3-25% above the optimum (the trap; tests/test_fit.py).
GRAD_CHECK = 1e-5
_GTOL = GRAD_CHECK


def _law_from(p: np.ndarray, runs: pd.DataFrame, name: str, citation: str) -> ParametricLaw:
    a, b, e, alpha, beta = map(float, p)
    if not (alpha > 0 and beta > 0):
        raise ValueError(
            f"the fit gave a non-positive exponent (alpha={alpha:.3g}, beta={beta:.3g}): these runs do not "
            "determine a Chinchilla-form law (vary both model size and tokens)"
        )
    rng = FittedRange(
        (float(runs.params.min()), float(runs.params.max())),
        (float(runs.tokens.min()), float(runs.tokens.max())),
        (float(runs.flops.min()), float(runs.flops.max())),
        "runs the law was fitted on",
    )
    return ParametricLaw(math.exp(e), math.exp(a), math.exp(b), alpha, beta, name=name, citation=citation,
                         fitted_range=rng)


def _grid_search(design: _Design, delta: float, starts: np.ndarray, n_polish: int):
    """Vectorised L-BFGS over all starts with successive pruning; returns the best internal points."""
    theta0 = design.to_internal(starts)

    def fg(t, rows):
        f, g, _ = _objective(t, design, delta)
        return f, g

    def prune(it, f):
        # Successive pruning on the current objective. On Epoch's data 1,195 of the 4,500 starts end
        # at the global optimum and 29 of them are already in the best 1% of starting values.
        keep = np.ones(f.shape, bool)
        for at, count in PRUNE_SCHEDULE:
            if it >= at:
                keep &= f <= np.partition(f, min(count, f.size) - 1)[min(count, f.size) - 1]
        return keep

    theta, f, g, _ = _batched_lbfgs(theta0, fg, maxiter=150, gtol=_GTOL, prune=prune)
    order = np.argsort(f)
    picked = []
    for i in order:  # distinct candidates only
        if all(np.max(np.abs(theta[i] - theta[j])) > 1e-3 for j in picked):
            picked.append(i)
        if len(picked) >= n_polish:
            break
    return theta[picked], np.array(picked)


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

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        Columns params, tokens, loss (see :func:`read_runs`).
    exclude_highest_loss : int
        Drop this many highest-loss runs before fitting.
    delta : float
        Huber threshold in log-loss units; 1e-3 is Hoffmann's (App. D.2).
    starts : array of shape (S, 5), optional
        Initialisations (a, b, e, alpha, beta); default :func:`hoffmann_grid`.
    n_polish : int
        How many of the best distinct grid results are polished with scipy's L-BFGS-B.
    n_bootstrap, seed, at_flops
        If ``n_bootstrap > 0``, attach :func:`bootstrap_approach3` results.

    Returns
    -------
    Approach3Fit
    """
    runs = drop_highest_loss(_as_runs(runs), exclude_highest_loss)
    if len(runs) < N_PARAMETERS:
        raise RunsError([f"too few runs: {len(runs)}, need at least {N_PARAMETERS}"])
    design = _Design.from_runs(runs)
    starts = hoffmann_grid() if starts is None else np.atleast_2d(np.asarray(starts, float))
    candidates, start_index = _grid_search(design, delta, starts, n_polish)
    best = None
    for t0, i in zip(candidates, start_index, strict=True):
        res = _polish(t0, design, delta)
        if best is None or res.fun < best.fun:
            best, best_start = res, tuple(float(v) for v in starts[i])
    f, g, resid = _objective(best.x[None, :], design, delta)
    grad_norm = float(np.abs(g).max())
    # status 0: scipy's tolerances met; status 2: the line search found no decrease, which at a
    # gradient this small means the optimum is reached to rounding. Status 1 (iteration limit) is not.
    converged = best.status in (0, 2) and grad_norm <= GRAD_CHECK
    message = (f"L-BFGS-B status {best.status} ({best.message}); max |gradient of objective/delta| = "
               f"{grad_norm:.2g} (check <= {GRAD_CHECK:g})")
    p = design.to_original(best.x)[0]
    n = len(runs)
    law = _law_from(p, runs, f"fit to {n} runs", "Approach 3 fit (Hoffmann et al. 2022, App. D.2) by scaling_explorer")
    fit = Approach3Fit(
        law=law, objective=float(f[0] * delta), residuals=resid[0], converged=converged, message=message,
        n_runs=n, n_starts=len(starts), delta=delta, grad_norm=grad_norm, n_excluded=int(exclude_highest_loss),
        best_start=best_start,
    )
    if n_bootstrap:
        boot = bootstrap_approach3(runs, n_resamples=n_bootstrap, seed=seed, at_flops=at_flops, fit=fit)
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
) -> Bootstrap:
    """Nonparametric bootstrap of the Approach-3 fit (Besiroglu et al. 2024 use 4,000 resamples).

    Runs are resampled with replacement (``numpy.random.default_rng(seed)``), and every resample
    is refitted from the full fit's optimum (warm start, not the full grid), all resamples at once
    with a vectorised L-BFGS; those it leaves short of the gradient tolerance are polished with
    scipy's L-BFGS-B. Deterministic for a given seed.

    Parameters
    ----------
    runs : pandas.DataFrame or CSV source
        As for :func:`fit_approach3`; ``exclude_highest_loss`` is applied before resampling.
    n_resamples : int
        Number of bootstrap resamples.
    at_flops : float
        Budget for the derived N_opt, D_opt and tokens per parameter (default Gopher's, 5.76e23).
    fit : Approach3Fit, optional
        The full fit, if already done on the same runs.

    Returns
    -------
    Bootstrap
    """
    runs = drop_highest_loss(_as_runs(runs), exclude_highest_loss)
    if fit is None:
        fit = fit_approach3(runs, delta=delta)
    design = _Design.from_runs(runs)
    n = len(runs)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    weights = np.bincount((idx + n * np.arange(n_resamples)[:, None]).ravel(), minlength=n_resamples * n)
    weights = weights.reshape(n_resamples, n).astype(float)
    law = fit.law
    p0 = np.array([math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta])
    theta0 = np.repeat(design.to_internal(p0), n_resamples, axis=0)

    def fg(t, rows):
        f, g, _ = _objective(t, design, delta, weights[rows])
        return f, g

    theta, _, _, ok = _batched_lbfgs(theta0, fg, maxiter=400, gtol=_GTOL)
    for i in np.flatnonzero(~ok):
        res = _polish(theta[i], design, delta, weights[i])
        theta[i] = res.x
        _, g, _ = _objective(res.x[None, :], design, delta, weights[i])
        ok[i] = res.status in (0, 2) and np.abs(g).max() <= GRAD_CHECK
    a, b, e, alpha, beta = design.to_original(theta).T
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        samples = {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}
        samples.update(_derived(samples["E"], samples["A"], samples["B"], alpha, beta, at_flops))
    N_opt, D_opt = law.compute_optimal(at_flops)
    estimate = dict(fit.params, a=law.a, N_opt=float(N_opt), D_opt=float(D_opt),
                    tokens_per_param=float(D_opt / N_opt))
    # Statistics over the resamples whose refit converged (n_converged says how many).
    kept = {k: np.asarray(v)[ok] for k, v in samples.items()}
    se = {k: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan") for k, v in kept.items()}
    ci = {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if len(v) else (float("nan"),) * 2
          for k, v in kept.items()}
    return Bootstrap(samples=samples, estimate=estimate, se=se, ci=ci, n_resamples=int(n_resamples),
                     seed=int(seed), at_flops=float(at_flops), n_converged=int(ok.sum()))


# --------------------------------------------------------------------------------------------
# Approach 2: iso-FLOP profiles
# --------------------------------------------------------------------------------------------


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
    table = _as_runs(runs)
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


__all__ = [
    "Approach2Fit", "Approach3Fit", "Bootstrap", "GOPHER_FLOPS", "HUBER_DELTA", "RunsError",
    "bootstrap_approach3", "fit_approach2", "fit_approach3", "hoffmann_grid", "read_runs",
]
