"""The vectorised L-BFGS on problems with closed-form minima, one independent problem per row."""

from __future__ import annotations

import numpy as np
import pytest

from scaling_explorer.fit.lbfgs import batched_lbfgs


def quadratics(seed=0, rows=6, dim=5):
    """f_i(x) = 1/2 x^T Q_i x - b_i^T x with SPD Q_i of condition number up to 1e4; minimiser Q_i^-1 b_i."""
    rng = np.random.default_rng(seed)
    Q = np.empty((rows, dim, dim))
    for i in range(rows):
        U, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        Q[i] = U @ np.diag(np.geomspace(1.0, 10.0 ** (i % 5), dim)) @ U.T
    b = rng.standard_normal((rows, dim))

    def fg(x, idx):
        Qx = np.einsum("ijk,ik->ij", Q[idx], x)
        return 0.5 * np.einsum("ij,ij->i", x, Qx) - np.einsum("ij,ij->i", b[idx], x), Qx - b[idx]

    return fg, np.linalg.solve(Q, b[..., None])[..., 0]


def test_quadratics_reach_the_closed_form_minimum():
    fg, x_star = quadratics()
    # |x - x*| <= |g| / lambda_min = |g| here (the smallest eigenvalue is 1); the line search's Armijo
    # test works on f, whose rounding (~1e-16) limits |g| to about 1e-8 at condition number 1e4.
    x, f, g, ok = batched_lbfgs(np.zeros_like(x_star), fg, maxiter=500, gtol=1e-6)
    assert ok.all()
    np.testing.assert_allclose(x, x_star, atol=1e-6 * np.sqrt(5))
    np.testing.assert_allclose(g, 0.0, atol=1e-6)


def test_rosenbrock_from_several_starts():
    def fg(x, idx):
        a, b = x[:, 0], x[:, 1]
        f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        return f, np.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], axis=1)

    starts = np.array([[-1.2, 1.0], [2.0, 2.0], [0.0, 0.0], [-0.5, 3.0]])
    x, f, _, ok = batched_lbfgs(starts, fg, maxiter=2000, gtol=1e-9)
    assert ok.all()
    np.testing.assert_allclose(x, 1.0, atol=1e-6)  # the minimum of Rosenbrock's function is (1, 1)
    assert f.max() < 1e-12


def test_rows_are_independent():
    fg, _ = quadratics(seed=3)
    start = np.ones((6, 5))
    together = batched_lbfgs(start, fg, maxiter=300, gtol=1e-9)[0]
    for i in range(6):
        alone = batched_lbfgs(start[i:i + 1], lambda x, idx, i=i: fg(x, np.full(len(idx), i)),
                              maxiter=300, gtol=1e-9)[0]
        np.testing.assert_allclose(alone[0], together[i], rtol=0, atol=1e-12)


def test_prune_freezes_rows_where_they_stand():
    fg, x_star = quadratics(seed=1)
    start = np.zeros_like(x_star)
    x, _, _, ok = batched_lbfgs(start, fg, maxiter=300, gtol=1e-6,
                                prune=lambda it, f: np.arange(len(f)) < 3)  # rows 3-5 never move
    np.testing.assert_array_equal(x[3:], start[3:])
    assert ok[:3].all() and not ok[3:].any()
    np.testing.assert_allclose(x[:3], x_star[:3], atol=1e-5)


def test_iteration_limit_reports_not_converged():
    fg, _ = quadratics(seed=2)
    _, _, g, ok = batched_lbfgs(np.zeros((6, 5)), fg, maxiter=1, gtol=1e-12)
    assert not ok.all()
    assert (np.abs(g).max(1) > 1e-12)[~ok].all()


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_non_finite_trial_points_are_rejected(bad):
    """A line search that meets inf/NaN backtracks instead of accepting the point."""
    def fg(x, idx):
        f = 0.5 * (x ** 2).sum(1)
        f = np.where(np.abs(x).max(1) > 2, bad, f)  # the objective is undefined far out
        return f, x.copy()

    x, f, _, ok = batched_lbfgs(np.array([[1.9, -1.9]]), fg, maxiter=100, gtol=1e-10)
    assert ok.all() and np.isfinite(f).all()
    np.testing.assert_allclose(x, 0.0, atol=1e-10)
