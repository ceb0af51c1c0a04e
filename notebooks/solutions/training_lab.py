"""Solutions to the exercises of notebooks/08-training-budget-lab.ipynb (library calls only)."""

import math

import numpy as np

from scaling_explorer.lab import load_lab


def iso_flop_plan(budgets=(2.5e16, 8e16, 2.5e17), factors=(1 / 4, 1 / 2, 1, 2, 4)):
    """(N, D) pairs: five sizes per budget around 20 tokens per parameter, to three significant digits."""
    plan = []
    for C in budgets:
        centre = math.sqrt(C / 120)  # D = 20 N and C = 6 N D
        for f in factors:
            N = float(f"{centre * f:.3g}")
            plan.append((N, float(f"{C / (6 * N):.3g}")))
    return plan


def exercise_1(seed: int = 0):
    """The same budget as 20 scattered runs: no iso-FLOP groups, so the fit is Approach 3 with a bootstrap."""
    lab = load_lab("chinchilla-like").lab(seed)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        C = 10 ** rng.uniform(15.7, 16.9)
        N = float(f"{math.sqrt(C / 120) * 10 ** rng.uniform(-0.5, 0.5):.3g}")
        lab.train(N, float(f"{C / (6 * N):.3g}"))
    fit = lab.fit(n_bootstrap=200)
    truth = lab.reveal()
    low, high = fit.params_interval
    print(f"spent {lab.spent:.3g} of {lab.budget:.3g} FLOPs on {len(lab.runs)} runs; Approach {fit.approach}")
    print(f"N_opt {fit.params:.3g} (95%: {low:.3g} to {high:.3g}); truth {truth.params:.3g} "
          f"({fit.params / truth.params - 1:+.1%})")
    assert fit.approach == 3
    return fit


def exercise_2(seed: int = 0):
    """Lab B with the same plan: the answer depends on the law."""
    out = {}
    for name in ("chinchilla-like", "kaplan-like"):
        lab = load_lab(name).lab(seed)
        for N, D in iso_flop_plan():
            lab.train(N, D)
        fit, truth = lab.fit(predict_loss=False), lab.reveal()
        out[name] = (fit.tokens / fit.params, truth.tokens_per_param)
        print(f"{name:16s} fitted {out[name][0]:5.1f} tokens/parameter at 1e19 FLOPs, truth {out[name][1]:5.1f}")
    assert out["chinchilla-like"][1] > 2 * out["kaplan-like"][1]
    return out


def exercise_3(seeds=range(20)):
    """How often the 95% interval of Approach 2 covers the true N_opt, over seeds."""
    covered = 0
    for seed in seeds:
        lab = load_lab("chinchilla-like").lab(seed)
        for N, D in iso_flop_plan():
            lab.train(N, D)
        low, high = lab.fit(predict_loss=False).params_interval
        covered += low <= lab.reveal().params <= high
    print(f"the 95% interval covered the true N_opt in {covered} of {len(seeds)} seeds")
    return covered
