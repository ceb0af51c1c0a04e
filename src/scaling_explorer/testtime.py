"""Test-time compute against a bigger model at equal FLOPs (Snell et al. 2024, arXiv:2408.03314, §7).

Pre-training costs X = 6·N·D_pre and inference Y = 2·N·D_inf (D_inf: tokens generated over the
model's use). A model M times larger costs M(X + Y). Spending that on the small model's
inference instead lets it use M + 3·(D_pre/D_inf)·(M − 1) times its inference compute on
test-time search or revisions. The paper measures whether that helps (their Fig. 9); this
module gives only the exchange rate, and the finding as words: no accuracy is computed here.
"""

from __future__ import annotations

import numpy as np

from ._checks import positive

SNELL_CITATION = (
    "Snell, Lee, Xu & Kumar 2024, Scaling LLM Test-Time Compute Optimally can be More Effective than Scaling "
    "Model Parameters, arXiv:2408.03314 §7"
)

#: The paper's finding (§7, "Takeaways for exchanging pretraining and test-time compute"), on MATH with PaLM 2-S*.
SNELL_FINDING = (
    "Test-time and pre-training compute are not 1-to-1 exchangeable. On easy and medium questions, and when "
    "inference is small relative to pre-training (R = D_inf/D_pre well below 1), spending the FLOPs on "
    "test-time compute with the smaller model does as well as or better than a ~14x larger model; on hard "
    "questions, or when inference dominates (R well above 1), the larger model is the better use of the "
    "FLOPs (Snell et al. 2024 §7, MATH benchmark, PaLM 2-S*)."
)


def inference_multiplier(size_ratio, inference_ratio):
    """How many times its inference compute the smaller model may spend to match a model ``size_ratio`` times larger.

    M + 3·(D_pre/D_inf)·(M − 1) with R = D_inf/D_pre (Snell et al. 2024 §7): with X = 6 N D_pre
    and Y = 2 N D_inf, the larger model costs M(X + Y), so the small model may spend
    M(X + Y) − X = Y·(M + 3(M − 1)/R). It tends to M as inference dominates (R → ∞).

    Parameters
    ----------
    size_ratio : array_like
        M >= 1, the larger model's parameters over the smaller's.
    inference_ratio : array_like
        R > 0, inference tokens over pre-training tokens.
    """
    M = positive("size ratio M", size_ratio)
    R = positive("inference ratio R", inference_ratio)
    if np.any(M < 1):
        raise ValueError(f"size ratio M must be at least 1 (the other model is M times larger), "
                         f"got {float(np.min(M)):g}")
    return M + 3.0 * (M - 1.0) / R


__all__ = ["SNELL_CITATION", "SNELL_FINDING", "inference_multiplier"]
