"""Scaling laws as small frozen dataclasses, and the published presets.

Every law satisfies :class:`Law`: ``name``, ``citation``, ``params_meaning`` (a
:class:`~scaling_explorer.counting.ParamCount`), ``fitted_range``, ``flop_model`` and a vectorised
``compute_optimal(C) -> (N, D)``. Laws with a loss surface also have ``loss(N, D)``,
``tokens_for_loss(N, L)`` (the iso-loss curve) and ``frontier_loss(C)`` (the loss the law
predicts on its own frontier). Arguments broadcast like numpy ufuncs; ``dataclasses.replace``
works on every law. :func:`register_law` makes a user's law available by key, like a preset.

Units: N in parameters, D in tokens, C in FLOPs, loss in nats per token.

The published laws and the registry of users' laws live in :mod:`scaling_explorer.presets`;
``laws.PRESETS``, ``laws.get_law``, ``laws.law_keys`` and ``laws.register_law`` still work (re-exported).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from ._checks import positive
from .compute import FLOPS_PER_PF_DAY
from .counting import ParamCount
from .flops import SIX_ND, FlopModel

# Kept as names for what N counts; compare laws' ``params_meaning`` with these (or ParamCount).
TOTAL_PARAMS = ParamCount.TOTAL
NON_EMBEDDING_PARAMS = ParamCount.NON_EMBEDDING


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

    def contains(self, N, D) -> np.ndarray:
        """True where ``N`` parameters and ``D`` tokens both lie inside the fitted span."""
        N, D = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
        return (N >= self.params[0]) & (N <= self.params[1]) & (D >= self.tokens[0]) & (D <= self.tokens[1])


@runtime_checkable
class Law(Protocol):
    """What any law provides, preset or a user's.

    Attributes
    ----------
    name, citation : str
        For people.
    params_meaning : ParamCount
        What N counts.
    fitted_range : FittedRange or None
        Where the law was fitted; outside it, an extrapolation.
    flop_model : FlopModel
        How the law turns (N, D) into training FLOPs.
    has_loss : bool
        True when the law also provides ``loss(N, D)``, ``tokens_for_loss(N, L)`` and
        ``frontier_loss(C)``.
    frontier_minimises_loss : bool
        True when ``compute_optimal`` is the iso-FLOP minimum of ``loss`` (Chinchilla form).
    """

    name: str
    citation: str
    params_meaning: ParamCount
    fitted_range: FittedRange | None
    flop_model: FlopModel
    has_loss: ClassVar[bool]
    frontier_minimises_loss: ClassVar[bool]

    def compute_optimal(self, C):
        """Compute-optimal (N parameters, D tokens) for ``C`` FLOPs."""


@dataclass(frozen=True, kw_only=True)
class LawInfo:
    """What every law says about itself, keyword-only (the coefficients come first, positionally).

    Attributes
    ----------
    name, citation : str
        For people.
    params_meaning : ParamCount
        What N counts (a string such as ``"total"`` is converted).
    fitted_range : FittedRange or None
        Where the law was fitted; outside it, an extrapolation.
    """

    name: str = "custom"
    citation: str = "user-defined coefficients"
    params_meaning: ParamCount = ParamCount.TOTAL
    fitted_range: FittedRange | None = None

    def __post_init__(self):
        object.__setattr__(self, "params_meaning", ParamCount(self.params_meaning))


def _check_coefficients(**coefficients: float) -> None:
    for name, value in coefficients.items():
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ValueError(f"coefficient {name} must be positive and finite, got {value!r}")


def parametric_optimum(C, A, B, alpha, beta, flops_per_param_token=SIX_ND.flops_per_param_token):
    """Closed-form compute-optimal (N, D) of E + A/N**alpha + B/D**beta under C = k·N·D (Hoffmann eq. 4).

    N_opt = G (C/k)**a and D_opt = (C/k)**b / G with G = (alpha A / (beta B))**(1/(alpha+beta)),
    a = beta/(alpha+beta), b = alpha/(alpha+beta), k = 6 by default. Broadcasts over budgets and
    coefficients alike (the bootstrap evaluates it for thousands of coefficient sets at once).
    """
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    budget = C / flops_per_param_token
    return G * budget ** (beta / (alpha + beta)), budget ** (alpha / (alpha + beta)) / G


@dataclass(frozen=True)
class ParametricLaw(LawInfo):
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
    flop_model: FlopModel = field(default=SIX_ND, kw_only=True)
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = True
    coefficients: ClassVar[tuple[str, ...]] = ("E", "A", "B", "alpha", "beta")

    def __post_init__(self):
        super().__post_init__()
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
        """Loss-minimising (N, D) under the law's FLOP count.

        Closed form (:func:`parametric_optimum`) when C = k·N·D; a numeric iso-FLOP search
        (:func:`~scaling_explorer.frontier.iso_flop_minimum`) for counts that are not
        proportional to N (embeddings, attention).
        """
        if not self.flop_model.linear:
            from .frontier import iso_flop_minimum

            return iso_flop_minimum(self, C)
        return parametric_optimum(positive("C (FLOPs)", C), self.A, self.B, self.alpha, self.beta,
                                  self.flop_model.flops_per_param_token)

    def frontier_loss(self, C):
        """Loss (nats per token) of the compute-optimal allocation at ``C`` FLOPs."""
        return self.loss(*self.compute_optimal(C))

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L (the iso-loss curve)."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        data_term = L - self.E - self.A / N**self.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(data_term > 0, (self.B / data_term) ** (1.0 / self.beta), np.nan)



@dataclass(frozen=True)
class KaplanLaw(LawInfo):
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

    ``loss(N, D)`` is eq. 1.5: the loss of a model early-stopped on a D-token dataset. On the
    frontier the paper's own curve is the compute law L(C_min) = (C_c / C_min)**alpha_C (eq. 1.3,
    Table 5), which ``frontier_loss`` returns; eq. 1.5 at (N_opt, C / 6N_opt) comes out 0.12 to
    0.37 nats lower, because compute-efficient training stops well before convergence (§6).
    """

    N_c: float
    D_c: float
    alpha_N: float
    alpha_D: float
    N_e: float
    p_N: float
    C_c: float = 3.1e8
    alpha_C: float = 0.050
    c_over_c_min: float = 2.0
    name: str = field(default="custom Kaplan-form law", kw_only=True)
    params_meaning: ParamCount = field(default=ParamCount.NON_EMBEDDING, kw_only=True)
    flop_model: FlopModel = field(default=SIX_ND, kw_only=True)
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = False
    coefficients: ClassVar[tuple[str, ...]] = ("N_c", "D_c", "alpha_N", "alpha_D", "N_e", "p_N", "C_c", "alpha_C")

    def __post_init__(self):
        super().__post_init__()
        _check_coefficients(
            N_c=self.N_c, D_c=self.D_c, alpha_N=self.alpha_N, alpha_D=self.alpha_D, N_e=self.N_e, p_N=self.p_N,
            C_c=self.C_c, alpha_C=self.alpha_C, c_over_c_min=self.c_over_c_min,
        )

    def c_min_pf_days(self, C):
        """C_min in PF-days for a training budget of ``C`` FLOPs (C = c_over_c_min · C_min)."""
        return positive("C (FLOPs)", C) / self.c_over_c_min / FLOPS_PER_PF_DAY

    def loss(self, N, D):
        """Predicted loss (nats per token, WebText2) for ``N`` non-embedding parameters and ``D`` tokens."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return ((self.N_c / N) ** (self.alpha_N / self.alpha_D) + self.D_c / D) ** self.alpha_D

    def compute_optimal(self, C):
        """Kaplan's compute-efficient (N, D) for ``C`` training FLOPs (Table 6 at C_min = C / c_over_c_min)."""
        N = self.N_e * self.c_min_pf_days(C) ** self.p_N
        return N, self.flop_model.tokens(C, N)

    def frontier_loss(self, C):
        """Kaplan's compute law on the frontier, L(C_min) = (C_c / C_min)**alpha_C (eq. 1.3, Table 5)."""
        return (self.C_c / self.c_min_pf_days(C)) ** self.alpha_C

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        data_term = L ** (1.0 / self.alpha_D) - (self.N_c / N) ** (self.alpha_N / self.alpha_D)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(data_term > 0, self.D_c / data_term, np.nan)


@dataclass(frozen=True)
class AllocationLaw(LawInfo):
    """A compute-optimal allocation without a loss surface: N_opt = k * C**a, D = C / (6N).

    Attributes
    ----------
    k : float
        Prefactor, parameters per FLOP**a.
    a_exponent : float
        Exponent a of N_opt ∝ C**a; the data exponent is 1 - a.
    caveat : str
        A known flaw of what N means under this law (the readout carries it as a warning).
    """

    k: float
    a_exponent: float
    name: str = field(default="custom allocation", kw_only=True)
    flop_model: FlopModel = field(default=SIX_ND, kw_only=True)
    #: A known flaw of the law's N, shown beside every number it gives ('' when none).
    caveat: str = field(default="", kw_only=True)
    has_loss: ClassVar[bool] = False
    frontier_minimises_loss: ClassVar[bool] = False
    coefficients: ClassVar[tuple[str, ...]] = ("k", "a_exponent")

    def __post_init__(self):
        super().__post_init__()
        _check_coefficients(k=self.k, a_exponent=self.a_exponent)
        if self.a_exponent >= 1:
            raise ValueError(
                f"coefficient a_exponent must be below 1 (data must grow with compute), got {self.a_exponent!r}")

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
        return N, self.flop_model.tokens(C, N)

def edited(law: Law, edits: dict[str, float]) -> Law:
    """``law`` with some coefficients changed; ``ValueError`` naming a coefficient it does not have."""
    unknown = sorted(set(edits) - set(getattr(law, "coefficients", ())))
    if unknown:
        raise ValueError(f"{law.name} has no coefficient {unknown[0]!r}; it has "
                         f"{', '.join(getattr(law, 'coefficients', ())) or 'none'}")
    return dataclasses.replace(law, **edits) if edits else law


# The span of every published Chinchilla-form fit shipped here, widened generously (Hoffmann's
# 1.69/406/411/0.34/0.28, Epoch's 1.82/482/2085/0.35/0.37, Muennighoff's 1.87/521/1489/0.35/0.35,
# Krajewski's c = 0.47, a = 18.1, b = 30.8, alpha = 0.115): outside it a number is no longer a
# statement any paper makes, so the page warns instead of printing it as if it were.
PUBLISHED_SPAN = {"E": (0.3, 4.0), "A": (5.0, 1e5), "B": (5.0, 1e5), "alpha": (0.05, 1.0), "beta": (0.05, 1.0)}


def implausible_coefficients(law: Law) -> list[str]:
    """Warnings for the coefficients of ``law`` that lie far outside any published fit (see PUBLISHED_SPAN)."""
    out = []
    for name, (low, high) in PUBLISHED_SPAN.items():
        value = getattr(law, name, None)
        if isinstance(law, ParametricLaw) and value is not None and not low <= value <= high:
            out.append(f"{name} = {value:g} is far outside published fits ({low:g} to {high:g}): "
                       "the numbers below are extrapolations of the formula, not of any evidence")
    return out


def law_caveat(law: Law) -> str:
    """A known flaw of ``law``'s N that every number it gives should carry ('' when none)."""
    return getattr(law, "caveat", "") or ""


def describe(law: Law) -> dict:
    """A JSON-ready summary of a law: name, citation, what N means and its coefficients."""
    coefficients = {k: getattr(law, k) for k in getattr(law, "coefficients", ())}
    out = {
        "name": law.name,
        "citation": law.citation,
        "params_meaning": law.params_meaning.value,
        "params_description": law.params_meaning.description,
        "flop_model": law.flop_model.name,
        "has_loss": law.has_loss,
        "coefficients": coefficients,
    }
    if law_caveat(law):
        out["caveat"] = law_caveat(law)
    if law.fitted_range is not None:
        out["fitted_range"] = {  # NaN where a span is not known (JSON has no NaN)
            span: [v if math.isfinite(v) else None for v in getattr(law.fitted_range, span)]
            for span in ("params", "tokens", "flops")
        }
    return out


_FROM_PRESETS = ("PRESETS", "get_law", "law_keys", "register_law", "KAPLAN", "HOFFMANN", "BESIROGLU", "SARDANA",
                 "MUENNIGHOFF", "LLAMA3", "DEEPSEEK", "DEEPSEEK_CAVEAT")


def __getattr__(name: str):
    # The presets import the law classes (and the MoE wrapper, which builds on them), so they are
    # re-exported lazily rather than imported here: no import cycle.
    if name in _FROM_PRESETS:
        from . import presets

        return getattr(presets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AllocationLaw", "FittedRange", "KaplanLaw", "Law", "ParametricLaw",
    "NON_EMBEDDING_PARAMS", "TOTAL_PARAMS", "describe", "edited", "law_caveat",
]
