"""A vectorised damped Newton method: many independent small problems with exact Hessians, one per row.

Used to finish fits from a good start (the bootstrap's warm starts, the grid's best candidates):
where L-BFGS needs 40-400 iterations on the summed Huber objective, whose curvature changes at
every residual that crosses the Huber threshold, Newton's method with the exact piecewise Hessian
needs 4-8.
"""

from __future__ import annotations

import numpy as np

MAX_HALVINGS = 10  # backtracking steps per line search (smallest step 2^-10)


def _newton_steps(H: np.ndarray, g: np.ndarray):
    """Solve H d = -g row by row; where H is not positive definite, add Levenberg damping.

    Returns the steps and a mask of rows whose H was positive definite (undamped step).
    """
    rows, P = g.shape
    d = np.zeros_like(g)
    pd = np.zeros(rows, bool)
    scale = np.maximum(np.abs(np.diagonal(H, axis1=1, axis2=2)).max(1), 1e-300)
    lam = np.zeros(rows)
    todo = np.arange(rows)
    for attempt in range(30):
        M = H[todo] + lam[todo, None, None] * np.eye(P)
        w = np.linalg.eigvalsh(M)
        ok = w[:, 0] > 1e-12 * np.abs(w[:, -1])
        d[todo[ok]] = np.linalg.solve(M[ok], -g[todo[ok], :, None])[..., 0]
        if attempt == 0:
            pd[todo[ok]] = True
        todo = todo[~ok]
        if todo.size == 0:
            break
        lam[todo] = np.where(lam[todo] == 0, 1e-8 * scale[todo], 10 * lam[todo])
    else:  # no damping made it positive definite (non-finite entries): steepest descent
        d[todo] = -g[todo] / np.maximum(np.abs(g[todo]).max(1, keepdims=True), 1e-300)
    return d, pd


def batched_newton(theta, fgh, *, maxiter: int, gtol: float, xtol: float):
    """Damped Newton with Armijo backtracking, one independent problem per row of ``theta``.

    Parameters
    ----------
    theta : ndarray (S, P)
        Starting points.
    fgh : callable
        ``fgh(theta, rows) -> (f, g, H)`` for the given rows, shapes (k,), (k, P), (k, P, P).
    maxiter : int
        Newton iterations at most; each evaluates ``fgh`` at most ``1 + MAX_HALVINGS`` times,
        so a row costs at most ``1 + maxiter * (1 + MAX_HALVINGS)`` evaluations.
    gtol, xtol : float
        A row has converged when max |g| <= gtol, or when its Hessian is positive definite and the
        Newton step max |H^-1 g| <= xtol (the quadratic model puts the minimum that close: the
        objective's rounding can keep |g| above a tight gtol when the problem is large).

    Returns
    -------
    theta, f, g, H, converged, iterations
    """
    theta = np.array(theta, dtype=float)
    S = len(theta)
    f, g, H = fgh(theta, np.arange(S))
    converged = np.zeros(S, bool)
    active = np.ones(S, bool)
    iterations = np.zeros(S, int)
    for _ in range(maxiter + 1):
        small = np.abs(g).max(1) <= gtol
        converged |= active & small
        active &= ~small
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        d, pd = _newton_steps(H[rows], g[rows])
        close = pd & (np.abs(d).max(1) <= xtol)
        converged[rows[close]] = True
        active[rows[close]] = False
        if _ == maxiter:
            break
        keep = ~close
        rows, d = rows[keep], d[keep]
        if rows.size == 0:
            break
        slope = np.einsum("ij,ij->i", d, g[rows])
        step = np.ones(rows.size)
        trial = theta[rows] + d
        tf, tg, tH = fgh(trial, rows)
        fails = ~(tf <= f[rows] + 1e-4 * slope)  # NaN or inf trial values fail too
        for _halving in range(MAX_HALVINGS):
            if not fails.any():
                break
            i = np.flatnonzero(fails)
            step[i] *= 0.5
            trial[i] = theta[rows[i]] + step[i, None] * d[i]
            tf[i], tg[i], tH[i] = fgh(trial[i], rows[i])
            fails[i] = ~(tf[i] <= f[rows[i]] + 1e-4 * step[i] * slope[i])
        moved = rows[~fails]
        theta[moved], f[moved], g[moved], H[moved] = trial[~fails], tf[~fails], tg[~fails], tH[~fails]
        iterations[moved] += 1
        active[rows[fails]] = False  # no decrease along a descent direction: stalled
    return theta, f, g, H, converged, iterations
