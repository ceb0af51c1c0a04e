"""Small nonlinear least-squares fits on the project's vectorised optimisers (multi-start L-BFGS, then Newton).

For laws with a handful of parameters fitted to a handful of points, such as Gadre et al.'s 2024
loss law and loss-to-error law (:mod:`scaling_explorer.downstream.gadre`). The model supplies its
residuals and their Jacobian for many parameter rows at once; every start of the grid is run by
:func:`~.lbfgs.batched_lbfgs`, the best few are finished by :func:`~.newton.batched_newton` on the
Gauss-Newton Hessian 2·JᵀJ (exact at a zero-residual optimum, and positive semi-definite, so the
Newton step is a descent direction), and the lowest sum of squares wins. As in Approach 3
(:mod:`.approach3`), the objective is rescaled so that a residual of ``residual_scale`` counts one:
with residuals of a few thousandths the raw sum of squares (~1e-6) would stop a default-tolerance
optimiser at its start (the trap in ``STYLE.md``). ``converged`` is the gradient or Newton-step
check, not an optimiser's say-so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .lbfgs import batched_lbfgs
from .newton import batched_newton

# Converged: max |gradient| of the rescaled objective at most GRAD_CHECK x max(1, objective) (relative,
# because a fit whose residuals are many times residual_scale has a large objective whose rounding
# keeps the gradient above an absolute tolerance), or a Newton step at most STEP_CHECK long in the
# model's internal coordinates (of order one there).
GRAD_CHECK = 1e-8
STEP_CHECK = 1e-8
GRID_MAXITER = 200
NEWTON_MAXITER = 50


@dataclass(frozen=True)
class LeastSquaresFit:
    """Result of :func:`fit_least_squares`.

    Attributes
    ----------
    theta : numpy.ndarray
        Best parameters in the model's internal coordinates.
    sum_of_squares : float
        Sum of squared residuals at ``theta`` (in the data's units, not rescaled).
    residuals : numpy.ndarray
        Model minus data, one per point.
    converged : bool
        The gradient or Newton-step check passed at ``theta``.
    grad_norm : float
        Max |gradient| of the rescaled objective at ``theta``.
    gtol : float
        The gradient tolerance used, GRAD_CHECK x max(1, objective).
    n_starts : int
        Starts tried.
    n_at_best : int
        Starts whose finished optimum lies within 1e-9 (relative) of the best sum of squares: a
        rough measure of how easily the grid finds it.
    """

    theta: np.ndarray = field(repr=False)
    sum_of_squares: float
    residuals: np.ndarray = field(repr=False)
    converged: bool
    grad_norm: float
    gtol: float
    n_starts: int
    n_at_best: int


def fit_least_squares(residuals_jacobian, starts, *, residual_scale: float, n_polish: int = 8) -> LeastSquaresFit:
    """Minimise the sum of squared residuals from every start; return the best converged optimum.

    Parameters
    ----------
    residuals_jacobian : callable
        ``f(theta) -> (r, J)`` for theta of shape (S, P): residuals r (S, n) and their Jacobian
        J (S, n, P). Non-finite residuals count as an infinitely bad point.
    starts : array_like of shape (S, P)
        Initial internal parameters.
    residual_scale : float
        A typical residual size; the objective is sum (r / residual_scale)**2.
    n_polish : int
        How many of the best distinct L-BFGS results Newton finishes.

    Returns
    -------
    LeastSquaresFit
    """
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    scale2 = float(residual_scale) ** 2

    def evaluate(theta, hessian):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            r, J = residuals_jacobian(theta)
            f = np.einsum("sn,sn->s", r, r) / scale2
            g = 2 * np.einsum("snp,sn->sp", J, r) / scale2
            H = 2 * np.einsum("snp,snq->spq", J, J) / scale2 if hessian else None
        bad = ~(np.isfinite(f) & np.isfinite(g).all(1))
        f[bad] = np.inf
        g[bad] = 0.0
        if hessian:
            bad |= ~np.isfinite(H).all((1, 2))
            H[bad] = np.eye(theta.shape[1])
        return f, g, H

    def fgh(theta, rows=None):
        return evaluate(theta, True)

    def fg(theta, rows):
        return evaluate(theta, False)[:2]

    theta, f, _, _ = batched_lbfgs(starts, fg, maxiter=GRID_MAXITER, gtol=GRAD_CHECK)
    gtol = GRAD_CHECK * max(1.0, float(np.min(f)))
    order = np.argsort(f)
    picked: list[int] = []
    for i in order:
        if not np.isfinite(f[i]):
            break
        if all(np.max(np.abs(theta[i] - theta[j])) > 1e-6 for j in picked):
            picked.append(int(i))
        if len(picked) >= n_polish:
            break
    if not picked:
        raise ValueError("no start gave finite residuals: the model cannot describe these points")
    t, fb, gb, _, ok, _ = batched_newton(theta[picked], fgh, maxiter=NEWTON_MAXITER, gtol=gtol, xtol=STEP_CHECK)
    best = int(np.argmin(np.where(ok, fb, np.inf))) if ok.any() else int(np.argmin(fb))
    r, _ = residuals_jacobian(t[best][None, :])
    n_at_best = int(np.sum(np.abs(f - fb[best]) <= 1e-9 * max(abs(fb[best]), 1e-300) + 1e-12))
    return LeastSquaresFit(theta=t[best], sum_of_squares=float(fb[best] * scale2), residuals=r[0],
                           converged=bool(ok[best]), grad_norm=float(np.abs(gb[best]).max()), gtol=gtol,
                           n_starts=len(starts), n_at_best=n_at_best)
