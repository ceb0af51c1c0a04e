"""Core library speed: loss on a 1000 x 1000 (N, D) grid, frontiers for 10,000 budgets.

Each vectorised call is compared, in the same run, with the same points evaluated one by one
in Python (the per-point loop is timed on a subset and scaled, as printed).

    python benchmarks/bench_core.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from scaling_explorer.frontier import iso_flop_minimum
from scaling_explorer.laws import get_law


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    law = get_law("besiroglu2024")
    N = np.geomspace(1e7, 1e13, 1000)[:, None]
    D = np.geomspace(1e9, 1e15, 1000)[None, :]
    budgets = np.geomspace(1e18, 1e27, 10_000)
    subset = 2_000  # points evaluated one by one, then scaled to the full count

    pairs = [(float(n), float(d)) for n, d in zip(np.geomspace(1e7, 1e13, subset), np.geomspace(1e9, 1e15, subset),
                                                   strict=True)]
    rows = [
        ("loss, 1000 x 1000 grid", 1_000_000,
         lambda: law.loss(N, D),
         lambda: [law.loss(n, d) for n, d in pairs]),
        ("closed-form frontier, 10,000 budgets", 10_000,
         lambda: law.compute_optimal(budgets),
         lambda: [law.compute_optimal(float(c)) for c in budgets[:subset]]),
        ("numeric iso-FLOP frontier, 10,000 budgets", 10_000,
         lambda: iso_flop_minimum(law, budgets),
         lambda: [iso_flop_minimum(law, float(c)) for c in budgets[: subset // 20]]),
    ]
    print(f"median of {args.repeat} runs; 'one by one' = a Python loop over scalar calls, timed on a subset "
          "and scaled to the full count")
    print(f"{'task':<44}{'vectorised':>14}{'one by one':>14}{'ratio':>10}")
    for name, count, vectorised, loop in rows:
        t_vec = median_seconds(vectorised, args.repeat)
        n_loop = len(loop())  # also warms up
        t_loop = median_seconds(loop, max(1, args.repeat // 3)) * count / n_loop
        print(f"{name:<44}{t_vec * 1e3:>11.2f} ms{t_loop:>12.2f} s{t_loop / t_vec:>9.0f}x")


if __name__ == "__main__":
    main()
