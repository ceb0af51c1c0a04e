"""What the counting conventions cost: evaluate() rows and the classified catalog, per scenario.

The default scenario computes nothing new (each law in its own count, 6ND, no flat range); the
others re-count laws, count FLOPs per architecture or solve for the near-optimal range. Medians
of repeated runs in one process, with the ratio to the default scenario measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from scaling_explorer import Scenario, evaluate

QUERIES = ["", "flat=0.01", "count=total", "count=non-embedding", "count=non-embedding&flat=0.01",
           "flop=chinchilla", "flop=deepseek&flat=0.01"]


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    budgets = iter(1e21 * 1.001 ** k for k in range(10**6))  # a new budget each call: no cache hits

    def rows(query):
        base = Scenario.from_query(query)
        return lambda: evaluate(base.replace(budget=next(budgets)))

    bands = iter(2 + k * 1e-6 for k in range(10**6))

    def models(query):  # a new band each call, so the classified-catalog cache never answers
        base = Scenario.from_query(query)
        return lambda: evaluate(base.replace(band=next(bands))).models

    for q in QUERIES:  # warm up imports and caches that every scenario shares
        _ = evaluate(Scenario.from_query(q)).models
    base_rows, base_models = median_time(rows(""), args.repeat), median_time(models(""), args.repeat)
    print(f"median of {args.repeat} runs; ratio = time / the default scenario's, same run")
    print(f"{'scenario':<34}{'evaluate rows':>15}{'ratio':>8}{'+ models':>12}{'ratio':>8}")
    for q in QUERIES:
        t_rows = base_rows if q == "" else median_time(rows(q), args.repeat)
        t_models = base_models if q == "" else median_time(models(q), args.repeat)
        print(f"{q or '(default)':<34}{t_rows * 1e3:>12.2f} ms{t_rows / base_rows:>7.1f}x"
              f"{t_models * 1e3:>9.1f} ms{t_models / base_models:>7.1f}x")


if __name__ == "__main__":
    main()
