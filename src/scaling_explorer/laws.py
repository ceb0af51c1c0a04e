"""Scaling laws as small frozen dataclasses, and the published presets.

Every law has ``name``, ``citation``, ``params_meaning``, ``fitted_range`` and a vectorised
``compute_optimal(C) -> (N, D)``. Laws with a loss surface also have ``loss(N, D)`` and
``tokens_for_loss(N, L)`` (the iso-loss curve). Arguments broadcast like numpy ufuncs.

Units: N in parameters, D in tokens, C in FLOPs, loss in nats per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import positive
from .compute import FLOPS_PER_PARAM_TOKEN, FLOPS_PER_PF_DAY, tokens_for

TOTAL_PARAMS = "total parameters, embeddings included"
NON_EMBEDDING_PARAMS = "non-embedding parameters (vocabulary and position embeddings excluded)"


@dataclass(frozen=True)
class FittedRange:
    """The span of the runs a law was fitted on; outside it the law is an extrapolation.

    Attributes
    ----------
    params, tokens, flops : tuple of float
        (low, high) in parameters, tokens and FLOPs.
    note : str
        Where the span comes from.
    """

    params: tuple[float, float]
    tokens: tuple[float, float]
    flops: tuple[float, float]
    note: str = ""

    def contains_flops(self, C) -> np.ndarray:
        """True where a budget ``C`` (FLOPs) lies inside the fitted span."""
        C = np.asarray(C, dtype=float)
        return (C >= self.flops[0]) & (C <= self.flops[1])


def _check_coefficients(**coefficients: float) -> None:
    for name, value in coefficients.items():
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ValueError(f"coefficient {name} must be positive and finite, got {value!r}")


def parametric_optimum(C, A, B, alpha, beta):
    """Closed-form compute-optimal (N, D) of E + A/N**alpha + B/D**beta under C = 6ND (Hoffmann eq. 4).

    N_opt = G (C/6)**a and D_opt = (C/6)**b / G with G = (alpha A / (beta B))**(1/(alpha+beta)),
    a = beta/(alpha+beta), b = alpha/(alpha+beta). Broadcasts over budgets and coefficients alike
    (the bootstrap evaluates it for thousands of coefficient sets at once).
    """
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    budget = C / FLOPS_PER_PARAM_TOKEN
    return G * budget ** (beta / (alpha + beta)), budget ** (alpha / (alpha + beta)) / G


@dataclass(frozen=True)
class ParametricLaw:
    """Chinchilla-form loss L(N, D) = E + A / N**alpha + B / D**beta (Hoffmann et al. 2022, eq. 2).

    Attributes
    ----------
    E : float
        Irreducible loss (nats per token).
    A, alpha : float
        Scale and exponent of the finite-model term.
    B, beta : float
        Scale and exponent of the finite-data term.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    name: str = "custom"
    citation: str = "user-defined coefficients"
    params_meaning: str = TOTAL_PARAMS
    fitted_range: FittedRange | None = None
    has_loss: bool = field(default=True, init=False)
    frontier_minimises_loss: bool = field(default=True, init=False)

    def __post_init__(self):
        _check_coefficients(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta)

    @property
    def a(self) -> float:
        """Model-size exponent of the frontier, N_opt ∝ C**a with a = beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Data exponent of the frontier, D_opt ∝ C**b with b = alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    def loss(self, N, D):
        """Predicted loss (nats per token) for ``N`` parameters trained on ``D`` tokens."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return self.E + self.A / N**self.alpha + self.B / D**self.beta

    def compute_optimal(self, C):
        """Loss-minimising (N, D) under C = 6ND FLOPs (:func:`parametric_optimum`)."""
        return parametric_optimum(positive("C (FLOPs)", C), self.A, self.B, self.alpha, self.beta)

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L (the iso-loss curve)."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        data_term = L - self.E - self.A / N**self.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(data_term > 0, (self.B / data_term) ** (1.0 / self.beta), np.nan)

    def replace(self, **changes) -> ParametricLaw:
        """A copy with some coefficients changed (validated like the original)."""
        fields = dict(
            E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta, name=self.name,
            citation=self.citation, params_meaning=self.params_meaning, fitted_range=self.fitted_range,
        )
        fields.update(changes)
        return ParametricLaw(**fields)


@dataclass(frozen=True)
class KaplanLaw:
    """Kaplan et al. 2020: loss L(N, D), eq. 1.5, and the fitted compute-efficient frontier.

    L(N, D) = [(N_c / N)**(alpha_N / alpha_D) + D_c / D]**alpha_D with N the
    **non-embedding** parameter count. The frontier is the paper's own fit
    N_opt = N_e * C_min**p_N (C_min in PF-days, Table 6), with D = C / (6N). It is a fit
    to early-stopped runs, not the iso-FLOP minimum of eq. 1.5 (§6.1), so it is not where
    this law's loss is lowest for a budget (``frontier_minimises_loss`` is False).

    The budget C is training FLOPs; C_min = C / c_over_c_min. Compute-efficient training runs
    at the critical batch size, where C = 2 C_min (eq. 5.5 with B = B_crit; eq. 6.7). This
    reading reproduces Table 6's own D_e = 2e10 tokens at C_min = 1 PF-day and Hoffmann et
    al.'s App. D.4 quote of Kaplan's law (4.68B parameters at 1e21 FLOPs).
    """

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float
    N_e: float
    p_N: float
    c_over_c_min: float = 2.0
    name: str = "custom Kaplan-form law"
    citation: str = "user-defined coefficients"
    params_meaning: str = NON_EMBEDDING_PARAMS
    fitted_range: FittedRange | None = None
    has_loss: bool = field(default=True, init=False)
    frontier_minimises_loss: bool = field(default=False, init=False)

    def __post_init__(self):
        _check_coefficients(
            N_c=self.N_c, D_c=self.D_c, alpha_N=self.alpha_N, alpha_D=self.alpha_D, N_e=self.N_e, p_N=self.p_N,
            c_over_c_min=self.c_over_c_min,
        )

    def loss(self, N, D):
        """Predicted loss (nats per token, WebText2) for ``N`` non-embedding parameters and ``D`` tokens."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return ((self.N_c / N) ** (self.alpha_N / self.alpha_D) + self.D_c / D) ** self.alpha_D

    def compute_optimal(self, C):
        """Kaplan's compute-efficient (N, D) for ``C`` training FLOPs (Table 6 at C_min = C / c_over_c_min)."""
        C = positive("C (FLOPs)", C)
        N = self.N_e * (C / self.c_over_c_min / FLOPS_PER_PF_DAY) ** self.p_N
        return N, tokens_for(C, N)

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        data_term = L ** (1.0 / self.alpha_D) - (self.N_c / N) ** (self.alpha_N / self.alpha_D)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(data_term > 0, self.D_c / data_term, np.nan)


@dataclass(frozen=True)
class AllocationLaw:
    """A compute-optimal allocation without a loss surface: N_opt = k * C**a, D = C / (6N).

    Attributes
    ----------
    k : float
        Prefactor, parameters per FLOP**a.
    a_exponent : float
        Exponent a of N_opt ∝ C**a; the data exponent is 1 - a.
    """

    k: float
    a_exponent: float
    name: str = "custom allocation"
    citation: str = "user-defined coefficients"
    params_meaning: str = TOTAL_PARAMS
    fitted_range: FittedRange | None = None
    has_loss: bool = field(default=False, init=False)
    frontier_minimises_loss: bool = field(default=False, init=False)

    def __post_init__(self):
        _check_coefficients(k=self.k, a=self.a_exponent)
        if self.a_exponent >= 1:
            raise ValueError(f"coefficient a must be below 1 (data must grow with compute), got {self.a_exponent!r}")

    @property
    def a(self) -> float:
        """Model-size exponent a of N_opt ∝ C**a."""
        return self.a_exponent

    @property
    def b(self) -> float:
        """Data exponent b = 1 - a of D_opt ∝ C**b."""
        return 1.0 - self.a_exponent

    def compute_optimal(self, C):
        """Compute-optimal (N, D) for ``C`` FLOPs."""
        C = positive("C (FLOPs)", C)
        N = self.k * C**self.a_exponent
        return N, tokens_for(C, N)


Law = ParametricLaw | KaplanLaw | AllocationLaw

KAPLAN = (
    "Kaplan et al. 2020, Scaling Laws for Neural Language Models, arXiv:2001.08361 "
    "(loss: eq. 1.5 with Table 2 fit; frontier: Table 6 / eq. 6.1)"
)
HOFFMANN = "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv:2203.15556"
BESIROGLU = (
    "Besiroglu, Erdil, Barnett & You 2024, Chinchilla Scaling: A replication attempt, arXiv:2404.10102 "
    "(point estimates from epoch-research/analyzing-chinchilla data_analysis.ipynb)"
)

# Kaplan §3: 768 to 1.5e9 non-embedding parameters, 22M to 23B tokens; C span is 6·N·D at the corners.
_KAPLAN_RANGE = FittedRange((768, 1.5e9), (2.2e7, 2.3e10), (6 * 768 * 2.2e7, 6 * 1.5e9 * 2.3e10), "Kaplan §3")
# Hoffmann abstract: 70M to over 16B parameters, 5B to 500B tokens; budgets of the Figure 4 runs
# as reconstructed by Epoch (1.4e18 to 1.3e22 FLOPs).
_HOFFMANN_RANGE = FittedRange((7e7, 1.6e10), (5e9, 5e11), (1.4e18, 1.3e22), "Hoffmann abstract; Epoch's Figure 4 data")
# Approach 2 used nine budgets from 6e18 to 3e21 FLOPs (Hoffmann §3.2).
_APPROACH2_RANGE = FittedRange((7e7, 1.6e10), (5e9, 5e11), (6e18, 3e21), "Hoffmann §3.2")
# Epoch's reconstructed Figure 4 runs: 5.73e7 to 1.62e10 params, 1.40e18 to 1.30e22 FLOPs, D = C/6N.
_EPOCH_RANGE = FittedRange(
    (5.73e7, 1.62e10), (2.45e8, 3.18e11), (1.40e18, 1.30e22), "Epoch's reconstructed Figure 4 (D = C / 6N)"
)

PRESETS: dict[str, Law] = {
    "kaplan2020": KaplanLaw(
        # Table 2 (joint fit of eq. 1.5): alpha_N 0.076, alpha_D 0.103, N_c 6.4e13, D_c 1.8e13.
        N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103,
        # Table 6: N_opt = 1.3e9 * C_min**0.73, C_min in PF-days; training at B_crit, C = 2 C_min (eq. 6.7).
        N_e=1.3e9, p_N=0.73, c_over_c_min=2.0,
        name="Kaplan et al. 2020", citation=KAPLAN, fitted_range=_KAPLAN_RANGE,
    ),
    # Approaches 1 and 2 publish exponents (Table 2) and projections (Table 3, Table A3) but no
    # prefactor. k is the geometric mean of N / C**a over the nine projected rows, so the law
    # reproduces every row to within 2.2% (approach 1) and 3.3% (approach 2).
    "hoffmann2022-approach1": AllocationLaw(
        k=0.0893, a_exponent=0.50,
        name="Hoffmann et al. 2022, Approach 1", citation=f"{HOFFMANN} (Approach 1: Table 2 exponent, Table 3)",
        fitted_range=_HOFFMANN_RANGE,
    ),
    "hoffmann2022-approach2": AllocationLaw(
        k=0.1444, a_exponent=0.49,
        name="Hoffmann et al. 2022, Approach 2", citation=f"{HOFFMANN} (Approach 2: Table 2 exponent, Table A3)",
        fitted_range=_APPROACH2_RANGE,
    ),
    "hoffmann2022-approach3": ParametricLaw(
        # App. D.2, eq. 10, as printed (rounded).
        E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
        name="Hoffmann et al. 2022, Approach 3 (as printed)", citation=f"{HOFFMANN} (Approach 3: App. D.2, eq. 10)",
        fitted_range=_HOFFMANN_RANGE,
    ),
    "besiroglu2024": ParametricLaw(
        E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
        name="Besiroglu et al. 2024 (Epoch refit)", citation=BESIROGLU, fitted_range=_EPOCH_RANGE,
    ),
}


def get_law(name: str) -> Law:
    """The preset called ``name``; ``ValueError`` listing the presets if there is none."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown law {name!r}; choose one of {', '.join(PRESETS)}") from None


def describe(law: Law) -> dict:
    """A JSON-ready summary of a law: name, citation, what N means and its coefficients."""
    coefficients = {
        k: v
        for k, v in vars(law).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    out = {
        "name": law.name,
        "citation": law.citation,
        "params_meaning": law.params_meaning,
        "has_loss": law.has_loss,
        "coefficients": coefficients,
    }
    if law.fitted_range is not None:
        out["fitted_range"] = {
            "params": list(law.fitted_range.params),
            "tokens": list(law.fitted_range.tokens),
            "flops": list(law.fitted_range.flops),
        }
    return out


__all__ = [
    "AllocationLaw", "FittedRange", "KaplanLaw", "Law", "ParametricLaw", "PRESETS",
    "NON_EMBEDDING_PARAMS", "TOTAL_PARAMS", "describe", "get_law",
]
