"""Simulated training runs from a known law, for testing a fit or planning an experiment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compute import tokens_for


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

