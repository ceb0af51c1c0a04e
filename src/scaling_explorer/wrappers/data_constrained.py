"""Data-constrained scaling: what repeated tokens and excess parameters are worth.

Muennighoff et al. 2023, "Scaling Data-Constrained Language Models" (arXiv:2305.16264; the
formula and constants of huggingface/datablations README, "Parametric Fit"). With U unique
tokens, D total training tokens and N parameters:

    L = E + A / N'**alpha + B / D'**beta
    D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)),   U_D = min(U, D),  R_D = D / U_D - 1
    N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)),   U_N = min(N, N_opt(U_D)),  R_N = N / U_N - 1

where N_opt(U_D) is the compute-optimal model size for the U_D unique tokens the run actually sees,
under the base law. This is the authors' code: the README's ``scaling_law(N, D, U)`` asserts
U <= D and its grid search calls it with U = min(U_BASE, D); the fitting notebook
(``utils/parametric_fit.ipynb``) builds U_N from the unique tokens seen. So a run shorter than its
unique budget (D < U) has R_D = 0 and a loss that does not depend on U; its parameters beyond
N_opt(D) still decay. Unlimited unique data therefore gives the base law only where N <= N_opt(D)
(at least compute-optimal tokens); a larger model is charged for excess parameters even on fresh
data, as in the paper's fit. Repeated epochs decay with constant R_D* = 15.4 (four epochs are
worth 93% of fresh data), parameters beyond what the unique data supports with R_N* = 5.3. No
closed form is known for the optimum under a compute and a unique-token budget (the README asks
for one), so :meth:`DataConstrained.compute_optimal` searches the iso-FLOP line, bounded.

Wrapping another Chinchilla-form law uses that law's E, A, B, alpha, beta and Muennighoff's
R_D* and R_N*. That is an approximation: R_D* and R_N* were fitted jointly with their own C4
coefficients (GPT-2 tokenizer, up to 9B parameters and 900B tokens), and how fast repetition
loses value may depend on the data and on the law it sits in. With the ``muennighoff2023``
preset as the base, the wrapper reproduces the README's ``scaling_law`` to every printed digit
(2.2256440889984477 at N = 6.34e9, D = 242e9, U = 25e9); the optimum is our bounded search, which
agrees with the README's 500-point grid search to its step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._checks import positive, positive_scalar
from ._base import OverBaseLaw, chinchilla_terms

#: Decay constants of repeated data and of excess parameters (datablations README, Parametric Fit:
#: rd_star = 15.387756, rn_star = 5.309743).
RD_STAR = 15.387756
RN_STAR = 5.309743

# The iso-FLOP search: a grid of N from N_opt / 1e4 to 1e2 N_opt (repetition moves the optimum to
# smaller models and more epochs), then a bounded Brent search between the best point's neighbours.
_GRID = np.linspace(np.log(1e-4), np.log(1e2), 241)


def _saturating(unique, repeats, star):
    # U + U R* (1 - exp(-R / R*)); expm1 keeps it exact at R = 0 and accurate for small R.
    return unique - unique * star * np.expm1(-repeats / star)


def effective_data(D, unique_tokens, rd_star: float = RD_STAR):
    """D': what ``D`` training tokens drawn from ``unique_tokens`` unique ones are worth in fresh tokens."""
    D = positive("D (tokens)", D)
    U_D = np.minimum(positive("unique tokens", unique_tokens), D)
    return _saturating(U_D, D / U_D - 1.0, positive_scalar("rd_star", rd_star))


def repeated_data_value(epochs, rd_star: float = RD_STAR):
    """D' / D after ``epochs`` passes over the unique data (1 for one epoch; scale-free in U).

    Muennighoff et al. 2023: 0.984 at 2 epochs, 0.931 at 4, 0.828 at 8, 0.661 at 16.
    """
    epochs = positive("epochs", epochs)
    if np.any(epochs < 1):
        raise ValueError(f"epochs must be at least 1, got {float(np.min(epochs)):g}")
    return _saturating(1.0, epochs - 1.0, positive_scalar("rd_star", rd_star)) / epochs


@dataclass(frozen=True)
class DataConstrained(OverBaseLaw):
    """A Chinchilla-form ``base`` law trained on at most ``unique_tokens`` unique tokens (repeated beyond).

    Attributes
    ----------
    base : Law
        Chinchilla-form law (E, A, B, alpha, beta; C = kND). ``muennighoff2023`` reproduces the paper.
    unique_tokens : float
        Unique tokens available, U.
    rd_star, rn_star : float
        Decay constants of repeated data and excess parameters (Muennighoff et al.'s fit by default).
    """

    base: object
    unique_tokens: float
    rd_star: float = RD_STAR
    rn_star: float = RN_STAR
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = False  # the frontier is a search, not the closed form
    coefficients: ClassVar[tuple[str, ...]] = ("unique_tokens", "rd_star", "rn_star")

    def __post_init__(self):
        object.__setattr__(self, "_terms", chinchilla_terms(self.base, "a unique-token budget"))
        for name in self.coefficients:
            object.__setattr__(self, name, positive_scalar(name, getattr(self, name)))

    # -- what the base law provides -------------------------------------------------------
    @property
    def name(self) -> str:
        """The base law's name and what the wrapper adds."""
        return f"{self.base.name}, {self.unique_tokens:.3g} unique tokens"

    @property
    def citation(self) -> str:
        """The base law's citation and the wrapper's source."""
        return f"{self.base.citation}; repetition model: Muennighoff et al. 2023, arXiv:2305.16264"


    # -- the law ----------------------------------------------------------------------------
    def params_for_unique(self, D):
        """N_opt(D): the base law's compute-optimal parameters for ``D`` tokens (N = G (D G)**(beta/alpha))."""
        t = self._terms
        G = (t.alpha * t.A / (t.beta * t.B)) ** (1.0 / (t.alpha + t.beta))
        return G * (positive("D (tokens)", D) * G) ** (t.beta / t.alpha)

    def effective(self, N, D):
        """(N', D'): parameters and tokens as the loss counts them."""
        N, D = np.broadcast_arrays(positive("N (parameters)", N), positive("D (tokens)", D))
        # Both terms use the unique tokens actually seen, U_D = min(U, D) (datablations README:
        # ``scaling_law`` is called with U = min(U_BASE, D)), so data a run never reaches cannot
        # change its loss.
        U_D = np.minimum(self.unique_tokens, D)
        U_N = np.minimum(N, self.params_for_unique(U_D))
        return _saturating(U_N, N / U_N - 1.0, self.rn_star), _saturating(U_D, D / U_D - 1.0, self.rd_star)

    def loss(self, N, D):
        """Predicted loss (nats per token) of ``N`` parameters trained on ``D`` tokens from this unique budget."""
        t = self._terms
        N_eff, D_eff = self.effective(N, D)
        return t.E + t.A / N_eff**t.alpha + t.B / D_eff**t.beta

    def epochs(self, D):
        """Passes over the unique data, D / U (below 1: not all unique data is used)."""
        return positive("D (tokens)", D) / self.unique_tokens

    def compute_optimal(self, C):
        """Lowest-loss (N, D) under C = kND FLOPs and this unique-token budget (bounded search)."""
        C = positive("C (FLOPs)", C)
        flat = C.reshape(-1)
        N0, _ = self.base.compute_optimal(flat)
        logN = np.log(N0)[:, None] + _GRID[None, :]
        k = self.flop_model.flops_per_param_token
        losses = self.loss(np.exp(logN), flat[:, None] / (k * np.exp(logN)))
        best = np.argmin(losses, axis=1)
        N = np.empty_like(flat)
        from scipy.optimize import minimize_scalar  # on first use: ~11 MiB that the page's defaults do not need

        for i, (c, j) in enumerate(zip(flat, best, strict=True)):
            lo, hi = logN[i, max(j - 1, 0)], logN[i, min(j + 1, len(_GRID) - 1)]
            res = minimize_scalar(lambda v, c=c: float(self.loss(np.exp(v), c / (k * np.exp(v)))),
                                  bounds=(lo, hi), method="bounded", options=dict(xatol=1e-10))
            N[i] = np.exp(res.x) if res.fun <= losses[i, j] else np.exp(logN[i, j])
        N = N.reshape(C.shape)
        return N, self.flop_model.tokens(C, N)

    def frontier_loss(self, C):
        """Loss of :meth:`compute_optimal` at ``C`` FLOPs."""
        return self.loss(*self.compute_optimal(C))

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N cannot reach L on this unique budget."""
        N, L = np.broadcast_arrays(positive("N (parameters)", N), positive("L (loss)", L))
        lo, hi = np.full(N.shape, np.log(1.0)), np.full(N.shape, np.log(1e40))

        def gap(u, N, L):
            return self.loss(N, np.exp(u)) - L

        # loss falls monotonically in D (D' grows with D) towards the value at infinite repetition.
        reachable = (gap(lo, N, L) > 0) & (gap(hi, N, L) < 0)
        from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
        res = elementwise.find_root(gap, (lo, hi), args=(N, L), tolerances=dict(xatol=1e-12, xrtol=1e-14))
        return np.where(reachable & res.success, np.exp(res.x), np.nan)


__all__ = ["RD_STAR", "RN_STAR", "DataConstrained", "effective_data", "repeated_data_value"]
