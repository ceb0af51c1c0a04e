"""A vectorised L-BFGS: many independent small problems solved at once, one per row."""

from __future__ import annotations

import numpy as np


def batched_lbfgs(theta, fg, *, maxiter: int, gtol: float, memory: int = 8, prune=None):
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

