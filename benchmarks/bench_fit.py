"""Benchmark the Approach-3 fitter: a large file against the previous implementation, and Epoch's data
against the obvious scipy implementation.

Usage: ``python benchmarks/bench_fit.py [--quick] [--worst]``. Prints figures; never fails a build
(exit status 0 even when the data are missing or a check disagrees).

Large file: 2,000 synthetic runs (20 iso-FLOP budgets x 100 sizes, 1% noise, written as a 110 KB
CSV) with 1,000 bootstrap resamples, timed for this checkout and for the fitter as of commit
91d6b4c (``git show 91d6b4c:src/scaling_explorer/fit.py``, loaded from a temporary file for this
run only), in the same process. ``--worst`` also times the largest inputs the limits accept.

Epoch's reconstructed Chinchilla Figure-4 data (no licence, so not in the repo) are read from
``../shared/data/epoch-chinchilla-figure4.csv`` beside the checkout; 240 runs after dropping the 5
highest-loss ones, as Besiroglu et al. 2024 did.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np
from scipy import optimize, special

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "epoch-chinchilla-figure4.csv"


def summed_huber(p, logN, logD, logL, delta=1e-3):
    """Hoffmann et al. 2022 App. D.2 objective, written the obvious way (Epoch's notebook style)."""
    a, b, e, alpha, beta = p
    pred = special.logsumexp([a - alpha * logN, b - beta * logD, np.full_like(logN, e)], axis=0)
    r = pred - logL
    return np.sum(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)))


def obvious(x0, args):
    """scipy L-BFGS-B, numeric (2-point) gradients, default tolerances, raw summed objective."""
    return optimize.minimize(summed_huber, x0, args=args, method="L-BFGS-B")


def obvious_tuned(x0, args):
    """The obvious fit with the loss-scale fix: objective / delta, 3-point gradients, tight tolerances."""
    return optimize.minimize(lambda p: summed_huber(p, *args) / 1e-3, x0, jac="3-point", method="L-BFGS-B",
                             options={"ftol": 1e-15, "gtol": 1e-10})


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


OLD_COMMIT = "91d6b4c"


def old_fit_module():
    """The fitter as of OLD_COMMIT, imported from a temporary file (never part of the package)."""
    import importlib.util
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "-C", str(root), "show", f"{OLD_COMMIT}:src/scaling_explorer/fit.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "fit_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("scaling_explorer._fit_old", path)  # relative imports work
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def large_runs(n_budgets=20, per_budget=100, seed=0):
    from scaling_explorer import fit as F
    from scaling_explorer.laws import ParametricLaw

    truth = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
    runs = F.synthetic_runs(truth, np.geomspace(1e18, 1e22, n_budgets), per_budget=per_budget, span=10.0,
                            sigma=0.01, seed=seed)
    return runs[["params", "tokens", "loss"]].to_csv(index=False).encode()


def bench_large(quick: bool, worst: bool) -> None:
    from scaling_explorer import fit as F

    csv = large_runs()
    runs = F.read_runs(csv)
    n_boot = 1000

    def new():
        return F.fit_approach3(F.read_runs(csv), n_bootstrap=n_boot, seed=0)

    t_new, fit = timed(new, 1 if quick else 3)
    print(f"Large file: {len(runs):,} runs ({len(csv) / 1e3:.0f} KB CSV), {n_boot:,} bootstrap resamples, "
          "fit + bootstrap")
    print(f"{'implementation':<40}{'time (s)':>10}{'converged':>12}{'objective':>20}")
    print(f"{'this checkout (median of ' + str(1 if quick else 3) + ')':<40}{t_new:>10.2f}"
          f"{fit.bootstrap.n_converged:>7}/{n_boot}{fit.objective:>20.12g}")
    try:
        old = old_fit_module()
    except Exception as exc:  # no git history (a tarball): say so
        print(f"(previous implementation unavailable: {exc})")
        old = None
    if old is not None:
        bench_old(old, csv, n_boot, fit, t_new)
    if worst:
        bench_worst()


def bench_old(old, csv, n_boot, fit, t_new) -> None:
    t_old, old_fit = timed(lambda: old.fit_approach3(old.read_runs(csv), n_bootstrap=n_boot, seed=0), 1)
    print(f"{'commit ' + OLD_COMMIT + ' (one run)':<40}{t_old:>10.2f}"
          f"{old_fit.bootstrap.n_converged:>7}/{n_boot}{old_fit.objective:>20.12g}")
    rel = (fit.objective - old_fit.objective) / old_fit.objective
    print(f"speed-up: {t_old / t_new:.1f}x (ratio of the times above); objective rel diff {rel:+.1e}")
    for k in ("E", "alpha", "beta"):
        lo, hi = fit.bootstrap.ci[k]
        olo, ohi = old_fit.bootstrap.ci[k]
        print(f"  95% interval {k:<6} new {lo:.4f} – {hi:.4f}   old {olo:.4f} – {ohi:.4f}")


def bench_worst() -> None:
    from scaling_explorer import fit as F
    from scaling_explorer.fit import approach3 as A3

    print()
    print("Largest accepted inputs (limits in scaling_explorer.fit.approach3):")
    for n_runs in (A3.MAX_RUNS, A3.MAX_BOOTSTRAP_TERMS // A3.MAX_RESAMPLES):
        per = n_runs // 20
        big = large_runs(20, per, seed=1)
        R = min(A3.MAX_RESAMPLES, A3.MAX_BOOTSTRAP_TERMS // (20 * per))
        t, f = timed(lambda big=big, R=R: F.fit_approach3(F.read_runs(big), n_bootstrap=R, seed=0), 1)
        print(f"  {20 * per:>6,} runs ({len(big) / 1e6:.2f} MB) x {R:,} resamples: {t:.1f} s, "
              f"{f.bootstrap.n_converged}/{R} converged")


def main(quick: bool, worst: bool = False) -> None:
    from scaling_explorer import fit as F

    bench_large(quick, worst)
    print()

    if not DATA.exists():
        print(f"Epoch's data not found at {DATA}; nothing to benchmark.")
        return
    runs = F.read_runs(DATA)
    runs = runs.nsmallest(len(runs) - 5, "loss").reset_index(drop=True)
    args = (np.log(runs.params.to_numpy()), np.log(runs.tokens.to_numpy()), np.log(runs.loss.to_numpy()))
    grid = F.hoffmann_grid()
    repeats = 1 if quick else 3
    n_obvious = 10 if quick else 100
    n_tuned = 3 if quick else 20
    n_boot = 1000

    t_fit, fit = timed(lambda: F.fit_approach3(runs), repeats)
    t_boot, boot = timed(lambda: F.bootstrap_approach3(runs, n_resamples=n_boot, seed=0, fit=fit), 1)

    rng = np.random.default_rng(0)
    subset = grid[rng.choice(len(grid), n_obvious, replace=False)]
    t = time.perf_counter()
    results = [obvious(x0, args) for x0 in subset]
    t_obv = (time.perf_counter() - t) / n_obvious * len(grid)
    best_obv = min(r.fun for r in results)
    t = time.perf_counter()
    for x0 in subset[:n_tuned]:
        obvious_tuned(x0, args)
    t_tuned = (time.perf_counter() - t) / n_tuned * len(grid)

    ours = np.array([math.log(fit.law.A), math.log(fit.law.B), math.log(fit.law.E), fit.law.alpha, fit.law.beta])
    print(f"Approach-3 fit on Epoch's data: {fit.n_runs} runs, {len(grid)} starts (Hoffmann App. D.2 grid)")
    print(f"ours: objective {fit.objective:.12g}, converged {fit.converged}, max|grad| {fit.grad_norm:.1e}")
    print()
    print(f"{'method':<58}{'time (s)':>10}{'vs ours':>10}")
    rows = [
        (f"ours, full grid (median of {repeats})", t_fit),
        (f"ours, bootstrap {n_boot} resamples (warm start)", t_boot),
        (f"obvious: L-BFGS-B, numeric grad, defaults; {n_obvious} starts x{len(grid) / n_obvious:g}", t_obv),
        (f"obvious + loss-scale fix, 3-pt grad, tight tol; {n_tuned} x{len(grid) / n_tuned:g}", t_tuned),
    ]
    for i, (name, secs) in enumerate(rows):
        ratio = f"{secs / t_fit:>9.0f}x" if i >= 2 else f"{'-':>10}"
        print(f"{name:<58}{secs:>10.2f}{ratio}")
    print("(obvious timings are extrapolated linearly from random subsets of the grid to all 4,500 starts)")
    print(f"best objective of the obvious fit over its {n_obvious} random starts: {best_obv:.12g} "
          f"({(best_obv - fit.objective) / fit.objective:+.1e} relative to ours)")
    print(f"bootstrap: {boot.n_converged}/{boot.n_resamples} converged; 95% interval B "
          f"{boot.ci['B'][0]:.0f} – {boot.ci['B'][1]:.0f}, alpha {boot.ci['alpha'][0]:.3f} – {boot.ci['alpha'][1]:.3f}")
    print()
    best_start = grid[np.argmin([summed_huber(x0, *args) for x0 in grid])]
    print(f"same optimum as ours from the best grid start (lowest objective on the grid) {tuple(best_start.tolist())}?")
    print("  criterion: objective equal to 1e-9 relative, parameters (log A, log B, log E, alpha, beta) to 1e-3")
    for name, fn in (("obvious (defaults)", obvious), ("obvious + loss-scale fix", obvious_tuned)):
        res = fn(best_start, args)
        f = summed_huber(res.x, *args)
        rel = abs(f - fit.objective) / fit.objective
        dp = np.max(np.abs(res.x - ours))
        verdict = "same" if rel <= 1e-9 and dp <= 1e-3 else "DIFFERENT"
        print(f"  {name:<26} objective rel diff {rel:.1e}, max |param diff| {dp:.1e}: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and starts")
    parser.add_argument("--worst", action="store_true", help="also time the largest inputs the limits accept")
    try:
        options = parser.parse_args()
        main(options.quick, options.worst)
    except Exception:  # a benchmark never fails a build
        traceback.print_exc()
    sys.exit(0)
