"""Result objects built by hand: the bootstrap band and statistics in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from fit_reference import TRUE

from scaling_explorer.fit import Bootstrap


def bootstrap_of(laws, at_flops=1e21):
    samples = {k: np.array([getattr(law, k) for law in laws]) for k in ("E", "A", "B", "alpha", "beta")}
    n = len(laws)
    return Bootstrap(samples=samples, estimate={}, se={}, ci={}, n_resamples=n, seed=0, at_flops=at_flops,
                     n_converged=n)


def test_band_of_identical_resamples_is_the_law_itself():
    C = np.geomspace(1e18, 1e24, 7)
    N_low, N_high, D_low, D_high = bootstrap_of([TRUE] * 5).frontier_interval(C)
    N, D = TRUE.compute_optimal(C)
    for got, want in ((N_low, N), (N_high, N), (D_low, D), (D_high, D)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_band_percentiles_over_resamples():
    """Resamples that differ only in A: N_opt grows with A (Hoffmann eq. 4), so the band edges are
    the percentiles of the per-resample optima."""
    from dataclasses import replace

    laws = [replace(TRUE, A=A) for A in np.linspace(300, 500, 101)]
    C = np.array([1e20, 1e22])
    N_low, N_high, D_low, D_high = bootstrap_of(laws).frontier_interval(C)
    per = np.array([law.compute_optimal(C)[0] for law in laws])
    np.testing.assert_allclose(N_low, np.percentile(per, 2.5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(N_high, np.percentile(per, 97.5, axis=0), rtol=1e-12)
    per_D = np.array([law.compute_optimal(C)[1] for law in laws])
    np.testing.assert_allclose(D_high, np.percentile(per_D, 97.5, axis=0), rtol=1e-12)
    assert (N_low < N_high).all()
    assert N_low == pytest.approx(laws[2].compute_optimal(C)[0] + 0.5 * (
        laws[3].compute_optimal(C)[0] - laws[2].compute_optimal(C)[0]), rel=1e-12)  # linear interpolation
