"""Independent reference numbers and helpers shared by the tests/test_fit_*.py modules (not a test module).

Nothing here calls the package's objective: the summed Huber loss is written out again with scipy's
logsumexp so the package is checked against a second implementation.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from scaling_explorer.laws import ParametricLaw

EPOCH_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "epoch-chinchilla-figure4.csv"

# Besiroglu et al. 2024 (epoch-research/analyzing-chinchilla data_analysis.ipynb, commit 9225883):
# point estimates and 95% bootstrap intervals of the refit on 240 of 245 runs (reference.md §A3).
EPOCH_ESTIMATE = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
EPOCH_CI = {"A": (285.2, 743.6), "B": (1042.4, 5810.3), "E": (1.769, 1.871), "alpha": (0.317, 0.373),
            "beta": (0.331, 0.415)}
EPOCH_SE = {"E": 0.0257, "alpha": 0.0154, "beta": 0.0206}  # same notebook

TRUE = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37, name="synthetic truth")


def summed_huber(p, runs, delta=1e-3):
    """Hoffmann App. D.2 objective written out independently of the package (scipy's logsumexp)."""
    a, b, e, alpha, beta = p
    logN, logD = np.log(runs["params"].to_numpy()), np.log(runs["tokens"].to_numpy())
    pred = special.logsumexp([a - alpha * logN, b - beta * logD, np.full_like(logN, e)], axis=0)
    r = pred - np.log(runs["loss"].to_numpy())
    return float(np.sum(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))))


def log_params(law):
    """(log A, log B, log E, alpha, beta): Hoffmann's parametrisation."""
    return [math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta]


def require_epoch() -> Path:
    """Epoch's Chinchilla data (unlicensed, kept outside the repo): skip locally, fail in CI if absent."""
    if not EPOCH_CSV.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{EPOCH_CSV} is missing but CI=true (the CI job provides it)")
        pytest.skip(f"Epoch's Chinchilla data not found at {EPOCH_CSV} (unlicensed, kept outside the repo)")
    return EPOCH_CSV


@functools.cache
def synthetic_108():
    """108 runs from TRUE: 9 iso-FLOP budgets 1e18-1e22, 12 sizes each over a factor 10, 0.3% noise."""
    from scaling_explorer.fit import synthetic_runs

    return synthetic_runs(TRUE, np.geomspace(1e18, 1e22, 9), per_budget=12, span=10.0, sigma=0.003, seed=0)


def summed_huber_grad(p, runs, delta=1e-3):
    """Gradient of :func:`summed_huber` in (a, b, e, alpha, beta), by the chain rule through scipy's softmax."""
    a, b, e, alpha, beta = p
    logN, logD = np.log(runs["params"].to_numpy()), np.log(runs["tokens"].to_numpy())
    terms = np.array([a - alpha * logN, b - beta * logD, np.full_like(logN, e)])
    weights = special.softmax(terms, axis=0)
    r = special.logsumexp(terms, axis=0) - np.log(runs["loss"].to_numpy())
    psi = np.clip(r, -delta, delta)  # Huber'(r)
    return np.array([psi @ weights[0], psi @ weights[1], psi @ weights[2], -psi @ (weights[0] * logN),
                     -psi @ (weights[1] * logD)])
