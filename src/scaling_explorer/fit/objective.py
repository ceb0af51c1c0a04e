"""The Approach-3 objective (Hoffmann et al. 2022, App. D.2), vectorised over points and runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HUBER_DELTA = 1e-3  # Hoffmann et al. 2022, App. D.2; Besiroglu et al. 2024 keep it (summed, not averaged)


# Hoffmann et al. 2022, App. D.2: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
# a, b in {0, 5, ..., 25}: 5 * 5 * 5 * 6 * 6 = 4,500 initialisations.
GRID_ALPHA = GRID_BETA = np.arange(0.0, 2.01, 0.5)
GRID_E = np.arange(-1.0, 1.01, 0.5)
GRID_A = GRID_B = np.arange(0.0, 25.1, 5.0)


@dataclass(frozen=True)
class Design:
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
    def from_runs(cls, runs: pd.DataFrame) -> Design:
        """The design of ``runs``: log N and log D standardised, log loss."""
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
        """Internal coordinates -> Hoffmann's (a, b, e, alpha, beta); the inverse of :meth:`to_internal`."""
        a, b, e, al, be = np.moveaxis(np.atleast_2d(t), -1, 0)
        alpha, beta = al / self.sN, be / self.sD
        return np.stack([a + alpha * self.muN, b + beta * self.muD, e, alpha, beta], axis=-1)


BLOCK_TERMS = 32_768  # run-by-point terms per block: temporaries of 256 KB stay in cache (2-3x faster)


def _block(theta, design: Design, delta: float, weights, hessian: bool):
    """Objective, gradient and residuals (or Hessian) for one block of rows of ``theta``."""
    a, b, e, al, be = (theta[:, i : i + 1] for i in range(5))
    r1 = a - al * design.xN
    r2 = b - be * design.xD
    m = np.maximum(np.maximum(r1, r2), e)  # log-sum-exp shifted by its largest term: no overflow
    with np.errstate(over="ignore", under="ignore"):
        z1, z2, z3 = np.exp(r1 - m), np.exp(r2 - m), np.exp(e - m)
    s = z1 + z2 + z3
    res = m + np.log(s) - design.logL
    rc = np.clip(res, -delta, delta)
    h = 0.5 * rc * rc / delta + (np.abs(res) - np.abs(rc))  # Huber_delta(res) / delta, no overflow
    psi = rc / delta  # d h / d res
    if weights is not None:
        h = h * weights
        psi = psi * weights
    p1, p2, p3 = z1 / s, z2 / s, z3 / s  # d res / d (r1, r2, e): the softmax of the three terms
    g1, g2, g3 = psi * p1, psi * p2, psi * p3
    grad = np.stack([g1.sum(1), g2.sum(1), g3.sum(1), -(g1 @ design.xN), -(g2 @ design.xD)], axis=1)
    if not hessian:
        return h.sum(1), grad, res
    # d2 h = h''(res) J J^T + h'(res) d2 res, with J = (p1, p2, p3, -xN p1, -xD p2) and
    # d2 res = M^T (diag p - p p^T) M (M maps theta to (r1, r2, e)); h'' = 1/delta inside the
    # quadratic zone |res| < delta and 0 outside (the Hessian exists except on the zone's edge).
    u = (np.abs(res) < delta) / delta
    if weights is not None:
        u = u * weights
    uv = u - psi
    q11, q22, q33 = uv * p1 * p1 + psi * p1, uv * p2 * p2 + psi * p2, uv * p3 * p3 + psi * p3
    q12, q13, q23 = uv * p1 * p2, uv * p1 * p3, uv * p2 * p3
    xN, xD = design.xN, design.xD
    H = np.empty((len(theta), 5, 5))
    A, AL, B, BE, E = 0, 3, 1, 4, 2

    def put(i, j, v):
        H[:, i, j] = H[:, j, i] = v

    put(A, A, q11.sum(1)), put(A, AL, -(q11 @ xN)), put(AL, AL, q11 @ (xN * xN))
    put(B, B, q22.sum(1)), put(B, BE, -(q22 @ xD)), put(BE, BE, q22 @ (xD * xD))
    put(E, E, q33.sum(1))
    put(A, B, q12.sum(1)), put(A, BE, -(q12 @ xD)), put(B, AL, -(q12 @ xN)), put(AL, BE, q12 @ (xN * xD))
    put(A, E, q13.sum(1)), put(E, AL, -(q13 @ xN))
    put(B, E, q23.sum(1)), put(E, BE, -(q23 @ xD))
    return h.sum(1), grad, H


def _blocks(theta, design: Design, delta: float, weights, hessian: bool):
    theta = np.atleast_2d(theta)
    step = max(1, BLOCK_TERMS // max(len(design.logL), 1))
    parts = [_block(theta[i : i + step], design, delta, None if weights is None else weights[i : i + step], hessian)
             for i in range(0, len(theta), step)]
    return tuple(np.concatenate(x) for x in zip(*parts, strict=True))


def objective(theta: np.ndarray, design: Design, delta: float, weights=None):
    """Summed Huber objective divided by delta, and its gradient; theta has shape (S, 5).

    ``weights`` (S, n), if given, multiplies each run's term (a bootstrap resample's counts).
    Returns f of shape (S,), gradient (S, 5) and log-space residuals (S, n).
    """
    return _blocks(theta, design, delta, weights, hessian=False)


def objective_hessian(theta: np.ndarray, design: Design, delta: float, weights=None):
    """As :func:`objective`, with the Hessian (S, 5, 5) in place of the residuals.

    The Huber loss has a second derivative everywhere except at |residual| = delta, so the
    objective is piecewise twice differentiable; this is the Hessian of the piece theta lies in.
    """
    return _blocks(theta, design, delta, weights, hessian=True)


def hoffmann_grid() -> np.ndarray:
    """Hoffmann et al. 2022, App. D.2 initialisation grid as rows (a, b, e, alpha, beta); 4,500 rows."""
    a, b, e, al, be = np.meshgrid(GRID_A, GRID_B, GRID_E, GRID_ALPHA, GRID_BETA, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), e.ravel(), al.ravel(), be.ravel()], axis=1)

