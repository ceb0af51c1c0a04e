"""The Approach-3 objective against a second implementation (scipy's logsumexp) and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from fit_reference import summed_huber, synthetic_108

from scaling_explorer.fit import HUBER_DELTA, hoffmann_grid
from scaling_explorer.fit.objective import Design, objective


@pytest.fixture(scope="module")
def design():
    return Design.from_runs(synthetic_108())


def points(seed=0, n=7):
    """(a, b, e, alpha, beta) rows around plausible values, in Hoffmann's coordinates."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(4, 8, n), rng.uniform(5, 10, n), rng.uniform(0.3, 0.8, n),
                            rng.uniform(0.2, 0.5, n), rng.uniform(0.2, 0.5, n)])


def test_value_is_summed_huber_over_delta(design):
    p = points()
    f, _, res = objective(design.to_internal(p), design, HUBER_DELTA)
    runs = synthetic_108()
    expected = [summed_huber(q, runs) / HUBER_DELTA for q in p]
    np.testing.assert_allclose(f, expected, rtol=1e-12)
    assert res.shape == (len(p), len(runs))


def test_gradient_matches_central_differences(design):
    theta = design.to_internal(points(seed=1, n=3))
    _, g, _ = objective(theta, design, HUBER_DELTA)
    h = 1e-6
    for j in range(5):
        step = np.zeros(5)
        step[j] = h
        fp = objective(theta + step, design, HUBER_DELTA)[0]
        fm = objective(theta - step, design, HUBER_DELTA)[0]
        np.testing.assert_allclose(g[:, j], (fp - fm) / (2 * h), rtol=1e-5, atol=1e-4)


def test_integer_weights_equal_repeated_runs(design):
    """A bootstrap weight w_i is the same as run i appearing w_i times."""
    runs = synthetic_108()
    w = np.random.default_rng(0).integers(0, 3, len(runs))
    repeated = runs.loc[runs.index.repeat(w)].reset_index(drop=True)
    p = points(seed=2, n=2)
    f, _, _ = objective(design.to_internal(p), design, HUBER_DELTA, w[None, :].astype(float))
    np.testing.assert_allclose(f, [summed_huber(q, repeated) / HUBER_DELTA for q in p], rtol=1e-12)


def test_internal_coordinates_round_trip(design):
    p = points(seed=3)
    np.testing.assert_allclose(design.to_original(design.to_internal(p)), p, rtol=1e-13, atol=1e-12)


def test_hoffmann_grid():
    """App. D.2: alpha, beta in {0, 0.5, ..., 2}, e in {-1, ..., 1}, a, b in {0, 5, ..., 25}."""
    grid = hoffmann_grid()
    assert grid.shape == (4500, 5)
    assert len(np.unique(grid, axis=0)) == 4500
    assert set(grid[:, 0]) == {0.0, 5.0, 10.0, 15.0, 20.0, 25.0} and set(grid[:, 3]) == {0.0, 0.5, 1.0, 1.5, 2.0}
    assert set(grid[:, 2]) == {-1.0, -0.5, 0.0, 0.5, 1.0}


def test_hessian_matches_central_differences_of_the_gradient(design):
    from scaling_explorer.fit.objective import objective_hessian

    runs = synthetic_108()
    w = np.random.default_rng(1).integers(0, 3, (3, len(runs))).astype(float)
    theta = design.to_internal(points(seed=4, n=3))
    f, g, H = objective_hessian(theta, design, HUBER_DELTA, w)
    f0, g0, _ = objective(theta, design, HUBER_DELTA, w)
    np.testing.assert_array_equal(f, f0)
    np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(H, np.swapaxes(H, 1, 2))
    h = 1e-7  # small enough that few residuals cross the Huber threshold (where the Hessian jumps)
    for j in range(5):
        step = np.zeros(5)
        step[j] = h
        gp = objective(theta + step, design, HUBER_DELTA, w)[1]
        gm = objective(theta - step, design, HUBER_DELTA, w)[1]
        np.testing.assert_allclose(H[:, :, j], (gp - gm) / (2 * h), rtol=1e-4, atol=1e-2 * np.abs(H).max())
