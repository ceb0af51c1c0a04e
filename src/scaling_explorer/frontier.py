"""Compute-optimal allocation: numeric iso-FLOP search, iso-lines, and the efficiency of a given (N, D).

Each law carries its own closed-form ``compute_optimal``; this module adds what works for any
law with a loss surface (a vectorised numeric search along the iso-FLOP curve, used to check
the closed forms) and what the app and catalog need on top of a law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import positive, positive_scalar
from .compute import tokens_for
from .laws import ParametricLaw

# Central-difference step in ln N: truncation (~h**2) and round-off (~eps/h) errors both stay
# near 1e-9 relative in N, well inside the 1e-6 the closed forms are checked to.
_LOG_STEP = 1e-4
# Budgets searched by compute_for_loss, in FLOPs: far wider than any model that exists.
_LOG_C_BRACKET = (np.log(1e3), np.log(1e40))


def _require_loss(law) -> None:
    if not law.has_loss:
        raise TypeError(f"{law.name} is an allocation law without a loss surface")


def iso_flop_minimum(law, C):
    """Numerically find the (N, D) that minimise ``law.loss`` at fixed C = 6ND FLOPs.

    Vectorised over budgets: finds the root of d loss / d ln N along each iso-FLOP curve
    with scipy's elementwise bracketing root finder.

    Parameters
    ----------
    law : ParametricLaw or KaplanLaw
        Any law with a loss surface.
    C : array_like
        Budgets in FLOPs.

    Returns
    -------
    N, D : ndarray
        Parameters and tokens at the minimum.
    """
    _require_loss(law)
    C = positive("C (FLOPs)", C)
    flops = law.flop_model
    # ln of the largest N the budget buys a token for under C = k N D; for counts that are not
    # proportional to N, ln C bounds it the same way (every count spends at least ~1 FLOP/param).
    log_c6 = np.log(C / flops.flops_per_param_token) if flops.linear else np.log(C)

    def tokens(log_n, C):  # in logs for C = kND, so budgets near float range do not overflow
        if flops.linear:
            return np.exp(np.log(C / flops.flops_per_param_token) - log_n)
        return flops.tokens(C, np.exp(log_n))

    def slope(log_n, C):
        up, down = log_n + _LOG_STEP, log_n - _LOG_STEP
        return (law.loss(np.exp(up), tokens(up, C)) - law.loss(np.exp(down), tokens(down, C))) / (2 * _LOG_STEP)

    # Generous bracket around N in [1, C/6] (at least one parameter and one token), where the
    # minimum of any law falling in N and in D lies.
    # Counts with embedding terms (~N**(1/3) FLOPs per token) reach far smaller N at tiny budgets.
    bracket = (np.full_like(log_c6, -20.0 if flops.linear else -60.0), log_c6 + 20.0)
    # A minimum inside the bracket: the loss falls at its low end and rises at its high end. At
    # budgets beyond float range (~1e60 and up) the slopes round to zero and no answer is honest.
    brackets_minimum = (slope(bracket[0], C) < 0) & (slope(bracket[1], C) > 0)
    if not np.all(brackets_minimum):
        raise ValueError(f"no iso-FLOP minimum found for C = {float(C[~brackets_minimum].flat[0]):g} FLOPs")
    from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
    result = elementwise.find_root(slope, bracket, args=(C,), tolerances=dict(xatol=1e-12, xrtol=1e-14))
    # ... and a strict one at the root: where the loss is flat to rounding (the reducible terms
    # vanish against E at absurd budgets) every point looks like the minimum.
    strict = (slope(result.x - 1e-3, C) < 0) & (slope(result.x + 1e-3, C) > 0)
    if not np.all(result.success & strict):
        bad = ~(result.success & strict)
        raise ValueError(f"the loss is too flat to locate its iso-FLOP minimum at C = {float(C[bad].flat[0]):g} FLOPs")
    N = np.exp(result.x)
    return N, flops.tokens(C, N)


def optimal_loss(law, C):
    """Loss L*(C) the law predicts on its own frontier at ``C`` FLOPs (``law.frontier_loss``).

    For Chinchilla-form laws this is loss(N_opt, D_opt); for Kaplan it is the paper's compute
    law L(C_min), not eq. 1.5 on the frontier (see :class:`~scaling_explorer.laws.KaplanLaw`).
    """
    _require_loss(law)
    return law.frontier_loss(C)


def compute_for_loss(law, L):
    """FLOPs the law's optimal allocation needs to reach loss ``L``; NaN if out of reach.

    In closed form for a Chinchilla-form law under C = kND (:func:`_parametric_compute_for_loss`),
    else a vectorised root of L*(C) = L in ln C (:func:`compute_for_loss_numeric`); both only
    over 1e3 to 1e40 FLOPs.
    """
    _require_loss(law)
    L = positive("L (loss)", L)
    if type(law) is ParametricLaw and law.flop_model.linear:  # a subclass may change the loss
        return _parametric_compute_for_loss(law, L)
    return compute_for_loss_numeric(law, L)


def compute_for_loss_numeric(law, L):
    """:func:`compute_for_loss` for any law: a vectorised root of L*(C) = L in ln C over 1e3 to 1e40 FLOPs."""
    _require_loss(law)
    L = positive("L (loss)", L)
    lo, hi = _LOG_C_BRACKET

    def gap(log_c, L):
        return optimal_loss(law, np.exp(log_c)) - L

    reachable = (gap(np.full_like(L, hi), L) < 0) & (gap(np.full_like(L, lo), L) > 0)
    from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
    result = elementwise.find_root(
        gap, (np.full_like(L, lo), np.full_like(L, hi)), args=(L,), tolerances=dict(xatol=1e-12, xrtol=1e-14)
    )
    return np.where(reachable & result.success, np.exp(result.x), np.nan)


def _parametric_compute_for_loss(law: ParametricLaw, L: np.ndarray) -> np.ndarray:
    """Closed form of :func:`compute_for_loss` for L = E + A/N**alpha + B/D**beta under C = kND.

    On the frontier (Hoffmann et al. 2022, eq. 4) both reducible terms fall as (C/k)**-gamma with
    gamma = alpha * beta / (alpha + beta), so L*(C) = E + K (C/k)**-gamma, K = L*(k) - E, and
    C = k (K / (L - E))**(1 / gamma). NaN where L <= E or C is outside the numeric search's range.
    """
    k = law.flop_model.flops_per_param_token
    N1, D1 = law.compute_optimal(k)  # the frontier at C/k = 1
    K = law.A / N1**law.alpha + law.B / D1**law.beta
    gamma = law.alpha * law.beta / (law.alpha + law.beta)
    excess = L - law.E
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        C = k * (K / np.where(excess > 0, excess, np.nan)) ** (1.0 / gamma)
    lo, hi = np.exp(_LOG_C_BRACKET)
    return np.where((C > lo) & (C < hi), C, np.nan)


def iso_flop_line(C: float, N, flop_model=None):
    """Points (N, D) of the iso-FLOP line C = 6ND (or ``flop_model``'s count), for plotting."""
    N = positive("N (parameters)", N)
    return N, (flop_model.tokens(C, N) if flop_model is not None else tokens_for(C, N))


def band_edge(law, C, ratio: float):
    """Points (N, D) that spend ``C`` FLOPs with D / D_opt = ``ratio``: an edge of the near-optimal band.

    At fixed C = 6ND, D = ratio * D_opt means N = N_opt / ratio; traced over many budgets this is
    the curve that separates, e.g., undertrained models (D / D_opt < ratio) from the rest.
    """
    ratio = positive_scalar("ratio", ratio)
    N_opt, D_opt = law.compute_optimal(C)
    if not law.flop_model.linear:  # the same budget spent on ratio x the tokens, under the law's count
        return law.flop_model.params(C, D_opt * ratio), D_opt * ratio
    return N_opt / ratio, D_opt * ratio


@dataclass(frozen=True)
class Allocation:
    """How a given (N, D) compares with a law's compute-optimal allocation at the same FLOPs.

    Attributes
    ----------
    flops : ndarray
        C = 6ND of the given allocation.
    params_opt, tokens_opt : ndarray
        The law's compute-optimal N and D at the same FLOPs.
    tokens_per_param, tokens_per_param_opt : ndarray
        D / N of the given and of the optimal allocation.
    d_over_d_opt : ndarray
        D / D_opt: below 1 the model saw fewer tokens than optimal (undertrained), above 1 more.
    loss : ndarray
        Predicted loss of the given allocation (NaN for allocation-only laws).
    compute_for_same_loss : ndarray
        FLOPs the optimal allocation needs to reach that loss (NaN for allocation-only laws).
    efficiency : ndarray
        compute_for_same_loss / flops: 1 means compute-optimal, 0.5 means half the compute was wasted.
        NaN unless the law's frontier is where its own loss is lowest (Chinchilla-form laws): for
        Kaplan's fitted frontier the ratio can exceed 1 and measures nothing.
    """

    flops: np.ndarray
    params_opt: np.ndarray
    tokens_opt: np.ndarray
    tokens_per_param: np.ndarray
    tokens_per_param_opt: np.ndarray
    d_over_d_opt: np.ndarray
    loss: np.ndarray
    compute_for_same_loss: np.ndarray
    efficiency: np.ndarray


def allocation(law, N, D) -> Allocation:
    """Compare (N parameters, D tokens) with ``law``'s compute-optimal allocation at C = 6ND."""
    N, D = np.broadcast_arrays(positive("N (parameters)", N), positive("D (tokens)", D))
    C = law.flop_model.flops(N, D)
    N_opt, D_opt = law.compute_optimal(C)
    loss = law.loss(N, D) if law.has_loss else np.full_like(C, np.nan)
    needed = compute_for_loss(law, loss) if law.frontier_minimises_loss else np.full_like(C, np.nan)
    return Allocation(
        flops=C,
        params_opt=N_opt,
        tokens_opt=D_opt,
        tokens_per_param=D / N,
        tokens_per_param_opt=D_opt / N_opt,
        d_over_d_opt=D / D_opt,
        loss=loss,
        compute_for_same_loss=needed,
        efficiency=needed / C,
    )


# ---------------------------------------------------------------------------------------------
# The frontier's exponent over a range of budgets
# ---------------------------------------------------------------------------------------------

def _budget_range(C_from, C_to) -> tuple[float, float]:
    low, high = positive_scalar("C_from (FLOPs)", C_from), positive_scalar("C_to (FLOPs)", C_to)
    if not high > low:
        raise ValueError(f"C_to must be above C_from, got {low:g} to {high:g} FLOPs")
    return low, high


def local_exponent(law, C):
    """d ln N_opt / d ln C at budgets ``C`` (central difference in ln C).

    A pure power law N_opt ∝ C**a gives a everywhere; a law re-counted in another parameter
    convention (:func:`scaling_explorer.reexpress.reexpress`) does not.
    """
    C = positive("C (FLOPs)", C)
    h = 1e-3  # in ln C: the frontiers are smooth on decades, and the root finders resolve ~1e-12
    N_up, _ = law.compute_optimal(C * np.exp(h))
    N_down, _ = law.compute_optimal(C * np.exp(-h))
    return (np.log(N_up) - np.log(N_down)) / (2 * h)


@dataclass(frozen=True)
class FrontierExponent:
    """How N_opt grows with C over [C_from, C_to].

    Attributes
    ----------
    secant : float
        ln(N_opt(C_to) / N_opt(C_from)) / ln(C_to / C_from).
    regression : float
        Least-squares slope of ln N_opt on ln C at ``points`` log-spaced budgets, the way a fit
        to a study's optima reads it (Pearce & Song's script fits 100 budgets this way).
    local_min, local_max : float
        The range of the local exponent d ln N_opt / d ln C over the same budgets.
    """

    C_from: float
    C_to: float
    secant: float
    regression: float
    local_min: float
    local_max: float


def frontier_exponent(law, C_from, C_to, points: int = 100) -> FrontierExponent:
    """The exponent a of N_opt ∝ C**a read over budgets ``C_from`` to ``C_to`` (FLOPs)."""
    low, high = _budget_range(C_from, C_to)
    if not (isinstance(points, (int, np.integer)) and points >= 3):
        raise ValueError(f"points must be an integer of at least 3, got {points!r}")
    C = np.geomspace(low, high, int(points))
    N, _ = law.compute_optimal(C)
    local = local_exponent(law, C)
    return FrontierExponent(
        C_from=low, C_to=high,
        secant=float(np.log(N[-1] / N[0]) / np.log(high / low)),
        regression=float(np.polyfit(np.log(C), np.log(N), 1)[0]),
        local_min=float(local.min()), local_max=float(local.max()),
    )


# ---------------------------------------------------------------------------------------------
# How flat the optimum is
# ---------------------------------------------------------------------------------------------

#: Loss tolerance of the near-optimal range: within 1% of the optimal loss.
FLATNESS_TOLERANCE = 0.01


def _iso_flop_optimum(law, C):
    """(N, D) of lowest loss on the iso-FLOP line: the frontier where it minimises the loss."""
    return law.compute_optimal(C) if law.frontier_minimises_loss else iso_flop_minimum(law, C)


@dataclass(frozen=True)
class FlatOptimum:
    """The near-optimal stretch of an iso-FLOP line.

    Attributes
    ----------
    params_low, params_high : ndarray
        N at the two ends of the stretch where loss <= (1 + tolerance) x the line's minimum.
    tokens_low, tokens_high : ndarray
        D at the ends (tokens_high belongs to params_low: the line trades one for the other).
    params_opt, tokens_opt, loss_opt : ndarray
        The line's minimum.
    tolerance : float
        Relative loss tolerance.
    """

    params_low: np.ndarray
    params_high: np.ndarray
    tokens_low: np.ndarray
    tokens_high: np.ndarray
    params_opt: np.ndarray
    tokens_opt: np.ndarray
    loss_opt: np.ndarray
    tolerance: float


def flat_optimum(law, C, tolerance: float = FLATNESS_TOLERANCE) -> FlatOptimum:
    """Range of N (and D) on the iso-FLOP line of ``C`` FLOPs within ``tolerance`` of the optimal loss.

    Along the line D = C / f(N) (the law's FLOP count) the loss has one minimum L*; this returns
    the two N where loss = (1 + tolerance) L*, found as vectorised roots in ln N on either side.
    For laws whose frontier is a fit (Kaplan), L* is the minimum of the loss surface on the line,
    not the loss at the fitted frontier.

    Parameters
    ----------
    law : Law with a loss surface
    C : array_like
        Budgets in FLOPs.
    tolerance : float
        Relative loss tolerance in (0, 1), e.g. 0.01 for 1%.
    """
    _require_loss(law)
    tolerance = positive_scalar("tolerance", tolerance)
    if not tolerance < 1:
        raise ValueError(f"tolerance must be a fraction below 1, got {tolerance:g}")
    C = positive("C (FLOPs)", C)
    N_opt, D_opt = _iso_flop_optimum(law, C)
    L_opt = law.loss(N_opt, D_opt)
    target = (1 + tolerance) * L_opt
    flops = law.flop_model

    def excess(log_n, C, target):
        return law.loss(np.exp(log_n), flops.tokens(C, np.exp(log_n))) - target

    log_opt = np.log(N_opt)
    ends = []
    from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need

    for bracket in ((log_opt - 40.0, log_opt), (log_opt, log_opt + 40.0)):
        # 40 e-folds (~1e17x) off the optimum either finite term dominates the loss by far.
        result = elementwise.find_root(excess, bracket, args=(C, target), tolerances=dict(xatol=1e-12, xrtol=1e-14))
        if not np.all(result.success):
            raise ValueError("the near-optimal range does not close within 1e17x of the optimum "
                             f"at C = {float(np.ravel(C)[0]):g} FLOPs")
        ends.append(np.exp(result.x))
    low, high = ends
    return FlatOptimum(params_low=low, params_high=high, tokens_low=flops.tokens(C, high),
                       tokens_high=flops.tokens(C, low), params_opt=N_opt, tokens_opt=D_opt, loss_opt=L_opt,
                       tolerance=tolerance)


def size_overhead(law, C, k):
    """Extra compute, as a fraction, to reach the optimum's loss with a model ``k`` x the optimal size.

    Harm de Vries' curve ("Go smol or go home", 2023): at budget ``C`` the optimum (N*, D*) reaches
    L*; a model of k N* needs D tokens with loss(k N*, D) = L*, costing C' under the law's FLOP
    count; returns C' / C - 1. NaN where k N* cannot reach L* with any data (k too small).
    """
    _require_loss(law)
    C = positive("C (FLOPs)", C)
    k = positive("k (size / optimal size)", k)
    N_opt, D_opt = _iso_flop_optimum(law, C)
    L_opt = law.loss(N_opt, D_opt)
    N = k * N_opt
    D = law.tokens_for_loss(N, L_opt)
    reachable = np.isfinite(D) & (D > 0)
    cost = law.flop_model.flops(N, np.where(reachable, D, 1.0))
    return np.where(reachable, cost / law.flop_model.flops(N_opt, D_opt) - 1, np.nan)


def size_overhead_closed_form(alpha, beta, k):
    """de Vries' overhead for L = E + A/N**alpha + B/D**beta under C = 6ND, in closed form.

    At the optimum alpha A / N*^alpha = beta B / D*^beta, so matching the loss with N = k N*
    needs D / D* = [1 + (beta/alpha) (1 - k**-alpha)]**(-1/beta), independent of the budget and
    of A, B, E; the overhead is k D / D* - 1 (NaN below k = (1 + alpha/beta)**(-1/alpha)).
    """
    alpha, beta = positive_scalar("alpha", alpha), positive_scalar("beta", beta)
    k = positive("k (size / optimal size)", k)
    base = 1 + beta / alpha * (1 - k**-alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(base > 0, k * np.abs(base) ** (-1 / beta) - 1, np.nan)
