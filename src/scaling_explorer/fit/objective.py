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


def objective(theta: np.ndarray, design: Design, delta: float, weights=None):
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


def hoffmann_grid() -> np.ndarray:
    """Hoffmann et al. 2022, App. D.2 initialisation grid as rows (a, b, e, alpha, beta); 4,500 rows."""
    a, b, e, al, be = np.meshgrid(GRID_A, GRID_B, GRID_E, GRID_ALPHA, GRID_BETA, indexing="ij")
    return np.stack([a.ravel(), b.ravel(), e.ravel(), al.ravel(), be.ravel()], axis=1)

