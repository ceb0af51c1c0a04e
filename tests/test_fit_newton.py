"""The vectorised Newton method on problems with closed-form minima and on indefinite Hessians."""

from __future__ import annotations

import numpy as np

from scaling_explorer.fit.newton import batched_newton


def test_quadratic_in_one_step():
    """Newton's step on a quadratic is exact: x* = Q^-1 b after one iteration."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 3, 3))
    Q = M @ np.swapaxes(M, 1, 2) + 0.1 * np.eye(3)
    b = rng.standard_normal((4, 3))

    def fgh(x, idx):
        Qx = np.einsum("ijk,ik->ij", Q[idx], x)
        return 0.5 * np.einsum("ij,ij->i", x, Qx) - np.einsum("ij,ij->i", b[idx], x), Qx - b[idx], Q[idx]

    x, _, g, _, ok, iters = batched_newton(np.zeros((4, 3)), fgh, maxiter=10, gtol=1e-10, xtol=0.0)
    assert ok.all() and (iters == 1).all()
    np.testing.assert_allclose(x, np.linalg.solve(Q, b[..., None])[..., 0], rtol=1e-10)


def rosenbrock(x, idx):
    a, b = x[:, 0], x[:, 1]
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    g = np.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], axis=1)
    H = np.empty((len(x), 2, 2))
    H[:, 0, 0] = 2 - 400 * (b - 3 * a * a)
    H[:, 0, 1] = H[:, 1, 0] = -400 * a
    H[:, 1, 1] = 200
    return f, g, H


def test_rosenbrock_through_indefinite_regions():
    """From (-1.2, 1) and (0, 2) the Hessian is indefinite on the way; damping keeps steps downhill."""
    starts = np.array([[-1.2, 1.0], [0.0, 2.0], [2.0, 2.0]])
    assert (np.linalg.eigvalsh(rosenbrock(starts, None)[2])[:, 0] < 0).any()
    x, f, _, _, ok, iters = batched_newton(starts, rosenbrock, maxiter=100, gtol=1e-10, xtol=0.0)
    assert ok.all()
    np.testing.assert_allclose(x, 1.0, atol=1e-8)  # the minimum is (1, 1)
    assert (iters < 100).all()


def test_step_criterion_and_iteration_limit():
    x, _, _, _, ok, _ = batched_newton(np.array([[-1.2, 1.0]]), rosenbrock, maxiter=2, gtol=1e-12, xtol=0.0)
    assert not ok.any()  # two iterations do not reach (1, 1)
    x, _, g, _, ok, _ = batched_newton(np.array([[1.0 + 1e-9, 1.0]]), rosenbrock, maxiter=0, gtol=0.0, xtol=1e-6)
    assert ok.all()  # positive definite Hessian, Newton step of ~1e-9 <= xtol: converged without moving
    np.testing.assert_array_equal(x, [[1.0 + 1e-9, 1.0]])


def test_non_finite_values_are_rejected_by_the_line_search():
    def fgh(x, idx):
        f = np.where(np.abs(x[:, 0]) < 3, (x[:, 0] - 2) ** 2, np.nan)
        return f, 2 * (x - 2) * [[1.0]], np.full((len(x), 1, 1), 0.02)  # a wrong, tiny Hessian overshoots

    x, f, _, _, ok, _ = batched_newton(np.array([[0.0]]), fgh, maxiter=60, gtol=1e-8, xtol=0.0)
    assert np.isfinite(f).all() and np.abs(x).max() < 3
