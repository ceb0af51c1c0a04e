"""Compute-optimal allocation: numeric iso-FLOP search, iso-lines, and the efficiency of a given (N, D).

Each law carries its own closed-form ``compute_optimal``; this module adds what works for any
law with a loss surface (a vectorised numeric search along the iso-FLOP curve, used to check
the closed forms) and what the app and catalog need on top of a law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import elementwise

from ._checks import positive, positive_scalar
from .compute import tokens_for

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
    log_c6 = np.log(C / flops.flops_per_param_token)

    def slope(log_n, log_c6):
        up, down = log_n + _LOG_STEP, log_n - _LOG_STEP
        return (
            law.loss(np.exp(up), np.exp(log_c6 - up)) - law.loss(np.exp(down), np.exp(log_c6 - down))
        ) / (2 * _LOG_STEP)

    # Generous bracket around N in [1, C/6] (at least one parameter and one token), where the
    # minimum of any law falling in N and in D lies.
    bracket = (np.full_like(log_c6, -20.0), log_c6 + 20.0)
    # A minimum inside the bracket: the loss falls at its low end and rises at its high end. At
    # budgets beyond float range (~1e60 and up) the slopes round to zero and no answer is honest.
    brackets_minimum = (slope(bracket[0], log_c6) < 0) & (slope(bracket[1], log_c6) > 0)
    if not np.all(brackets_minimum):
        raise ValueError(f"no iso-FLOP minimum found for C = {float(C[~brackets_minimum].flat[0]):g} FLOPs")
    result = elementwise.find_root(slope, bracket, args=(log_c6,), tolerances=dict(xatol=1e-12, xrtol=1e-14))
    # ... and a strict one at the root: where the loss is flat to rounding (the reducible terms
    # vanish against E at absurd budgets) every point looks like the minimum.
    strict = (slope(result.x - 1e-3, log_c6) < 0) & (slope(result.x + 1e-3, log_c6) > 0)
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

    Vectorised root of L*(C) = L in ln C over 1e3 to 1e40 FLOPs.
    """
    _require_loss(law)
    L = positive("L (loss)", L)
    lo, hi = _LOG_C_BRACKET

    def gap(log_c, L):
        return optimal_loss(law, np.exp(log_c)) - L

    reachable = (gap(np.full_like(L, hi), L) < 0) & (gap(np.full_like(L, lo), L) > 0)
    result = elementwise.find_root(
        gap, (np.full_like(L, lo), np.full_like(L, hi)), args=(L,), tolerances=dict(xatol=1e-12, xrtol=1e-14)
    )
    return np.where(reachable & result.success, np.exp(result.x), np.nan)


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
