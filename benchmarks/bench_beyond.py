"""evaluate() with inference demand, a unique-token budget and a target loss on vs off.

The page calls evaluate() on every slider step; the issue asks that the step with inference
demand on stay within 10% of today's. Each variant is timed in the same run on the page's
default laws (Kaplan, Hoffmann Approach 1, Epoch's refit), the models table included
(``readout.models``, which the page redraws), budget changing on every call so no cache hides
the work.

    python benchmarks/bench_beyond.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from scaling_explorer import Scenario, evaluate


def median_seconds(scenarios, repeat: int, with_models: bool) -> float:
    times = []
    for i in range(repeat):
        s = scenarios[i % len(scenarios)]
        start = time.perf_counter()
        r = evaluate(s)
        if with_models:
            r.models  # noqa: B018  (the page's model layer reads it)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    budgets = np.geomspace(1e20, 1e26, 50)  # a slider drag
    variants = {
        "default (training only)": {},
        "inference demand 1e13 tokens": dict(inference_tokens=1e13),
        "unique tokens 2e11": dict(unique_tokens=2e11),
        "target loss 2.0": dict(target_loss=2.0),
        "all three": dict(inference_tokens=1e13, unique_tokens=2e11, target_loss=2.0),
    }
    print(f"median of {args.repeat} evaluate() calls over {len(budgets)} budgets, default laws, in one run")
    for with_models in (False, True):
        label = "rows + models table" if with_models else "rows only"
        base = None
        print(f"\n{label}:\n{'variant':<34}{'median':>12}{'ratio':>10}")
        for name, fields in variants.items():
            scenarios = [Scenario(budget=float(c), **fields) for c in budgets]
            evaluate(scenarios[0]).models  # warm the catalog and per-law caches  # noqa: B018
            t = median_seconds(scenarios, args.repeat, with_models)
            base = base or t
            print(f"{name:<34}{t * 1e3:>9.2f} ms{t / base:>9.2f}x")


if __name__ == "__main__":
    main()
