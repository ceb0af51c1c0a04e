"""Solutions to the exercises of notebooks/07-what-a-loss-means.ipynb (library calls only)."""

import numpy as np

from scaling_explorer import get_law
from scaling_explorer.downstream import observational, predict_downstream


def exercise_1():
    """Tokens a 1B model needs under gadre2024-rw for a predicted 17-task average error of 0.50."""
    law = get_law("gadre2024-rw")
    error_law = law.error_law("17")
    L = float(error_law.loss_for_error(0.50))
    D = float(law.tokens_for_loss(1e9, L))
    check = predict_downstream(law, 1e9, D)
    print(f"C4-eval loss {L:.4f} gives 17-task error 0.50; a 1B model reaches it after {D:.3g} tokens "
          f"({D / 1e9:.0f} tokens per parameter), extrapolated: {bool(check.extrapolated)}")
    assert abs(float(check.error["17"]) - 0.50) < 1e-9
    return D


def exercise_2():
    """Capability gained per decade of training compute by Qwen1.5 and by OPT."""
    slopes = {family: observational.fit_family(family).params["slope"] for family in ("Qwen1.5", "OPT")}
    for family, slope in slopes.items():
        print(f"{family}: capability rises {slope:.3f} per 10x compute")
    faster = max(slopes, key=slopes.get)
    print(f"{faster} gains more per decade of compute; the fit says how much, not why (data, recipe, tokenizer...)")
    assert slopes["Qwen1.5"] > slopes["OPT"]
    return slopes


def exercise_3():
    """The catalog model with the highest observed MMLU trained on less than 1e23 FLOPs."""
    frame = observational.observed_scores().frame
    cheap = frame[frame["catalog_name"].notna() & (frame["flops"] < 1e23)]
    best = cheap.loc[cheap["mmlu"].idxmax()]
    print(f"{best['catalog_name']}: MMLU {best['mmlu']:.3f} at {best['flops']:.3g} FLOPs "
          f"({best['tokens'] / best['params']:.0f} tokens per parameter)")
    assert np.isfinite(best["mmlu"])
    return best["catalog_name"]
