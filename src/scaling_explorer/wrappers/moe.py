"""Fine-grained mixture of experts: the scaling law of Krajewski et al. 2024 and its FLOP model.

Krajewski et al. 2024, "Scaling Laws for Fine-Grained Mixture of Experts" (arXiv:2402.07871):

    L(N, D, G) = c + (g / G**gamma + a) / N**alpha + b / D**beta            (Table 1 fit)

with N the total non-embedding parameters (all experts), D training tokens and G the
granularity, d_ff / d_expert (G = 1: each expert is as wide as a dense feed-forward layer). The
expansion rate E (total expert parameters over one dense feed-forward layer) is fixed at 64 and
models keep d_model = 64 n_blocks. Then N = d_model**2 (8E + 4) n_blocks and the training FLOPs are

    F = (12 d_model**2 c_f + d_model E G c_r) D n_blocks,   c_f = 6, c_r = 14,

the dense part (6 FLOPs per active parameter per token) plus the router's d_model x (E G)
matrix. Active parameters per token are 12 d_model**2 n_blocks = N 12 / (8E + 4). Fitted on C4
with GPT-2's tokenizer (129M to 3.7B parameters): its losses are not comparable with Chinchilla's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._checks import positive
from ..counting import ParamCount
from ..flops import FlopModel
from ..laws import FittedRange, LawInfo, ParametricLaw, _check_coefficients

KRAJEWSKI = ("Krajewski et al. 2024, Scaling Laws for Fine-Grained Mixture of Experts, arXiv:2402.07871 "
             "(Table 1 fit; FLOPs of §3, c_f = 6, c_r = 14; E = 64)")
_WIDTH_PER_BLOCK = 64.0  # d_model = 64 n_blocks throughout the paper's models
_LOG_STEP = 1e-4


@dataclass(frozen=True)
class MoEFlopModel(FlopModel):
    """Training FLOPs of a fine-grained MoE, F = (12 d**2 c_f + d E G c_r) D n_blocks (Krajewski et al. 2024).

    N is total non-embedding parameters. ``flops_per_param_token`` is derived: the dense part per
    total parameter, 12 c_f / (8E + 4); the router adds to it, so use :meth:`flops`, not k N D.
    """

    name: str = "krajewski2024-moe"
    citation: str = KRAJEWSKI
    expansion_rate: float = 64.0
    granularity: float = 1.0
    c_f: float = 6.0
    c_r: float = 14.0

    def __post_init__(self):
        _check_coefficients(expansion_rate=self.expansion_rate, granularity=self.granularity, c_f=self.c_f,
                            c_r=self.c_r)
        object.__setattr__(self, "flops_per_param_token", 12.0 * self.c_f / (8.0 * self.expansion_rate + 4.0))
        super().__post_init__()

    def n_blocks(self, N):
        """Transformer blocks of a model with ``N`` total non-embedding parameters (d_model = 64 n_blocks)."""
        return (positive("N (parameters)", N) / (_WIDTH_PER_BLOCK**2 * (8.0 * self.expansion_rate + 4.0))) ** (1 / 3)

    def _per_token(self, n):
        d = _WIDTH_PER_BLOCK * n
        return (12.0 * d**2 * self.c_f + d * self.expansion_rate * self.granularity * self.c_r) * n

    def flops_per_token(self, N):
        """Training FLOPs per token of ``N`` total non-embedding parameters."""
        return self._per_token(self.n_blocks(N))


    def params(self, C, D):
        """Total non-embedding parameters that ``C`` FLOPs buy for ``D`` tokens (root of the cubic in n_blocks)."""
        per_token = positive("C (FLOPs)", C) / positive("D (tokens)", D)
        a3 = 12.0 * self.c_f * _WIDTH_PER_BLOCK**2
        a2 = _WIDTH_PER_BLOCK * self.expansion_rate * self.granularity * self.c_r
        # Each term alone at most the total brackets the root: a3 n**3 + a2 n**2 = per_token.
        hi = np.log((per_token / a3) ** (1 / 3))
        lo = np.minimum(np.log((per_token / (2 * a3)) ** (1 / 3)), np.log((per_token / (2 * a2)) ** 0.5))
        from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
        res = elementwise.find_root(lambda u, f: np.log(self._per_token(np.exp(u)) / f), (lo, hi), args=(per_token,),
                                    tolerances=dict(xatol=1e-14, xrtol=1e-15))
        n = np.exp(res.x)
        return _WIDTH_PER_BLOCK**2 * (8.0 * self.expansion_rate + 4.0) * n**3


@dataclass(frozen=True)
class FineGrainedMoELaw(LawInfo):
    """L(N, D) = c + (g / G**gamma + a) / N**alpha + b / D**beta at granularity G (Krajewski et al. 2024).

    N counts total non-embedding parameters (every expert); :meth:`active_params` gives the
    parameters a token passes through. The frontier minimises the loss along F(N, D) = C of
    :class:`MoEFlopModel`, numerically.
    """

    a: float
    alpha: float
    b: float
    beta: float
    g: float
    gamma: float
    c: float
    granularity: float = 1.0
    expansion_rate: float = 64.0
    name: str = field(default="custom fine-grained MoE law", kw_only=True)
    params_meaning: ParamCount = field(default=ParamCount.NON_EMBEDDING, kw_only=True)
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = True
    coefficients: ClassVar[tuple[str, ...]] = ("a", "alpha", "b", "beta", "g", "gamma", "c", "granularity")
    #: What the law describes: fitted on MoE models only, so the catalog refuses dense models
    #: (read as 64 experts' worth of parameters, Chinchilla would sit at 1.4e22 FLOPs, not 5.9e23).
    architectures: ClassVar[frozenset[str]] = frozenset({"moe"})

    def __post_init__(self):
        super().__post_init__()
        _check_coefficients(**{k: getattr(self, k) for k in (*self.coefficients, "expansion_rate")})

    @property
    def flop_model(self) -> MoEFlopModel:
        """The paper's FLOP count at this granularity and expansion rate."""
        return MoEFlopModel(expansion_rate=self.expansion_rate, granularity=self.granularity)

    @property
    def model_term(self) -> float:
        """g / G**gamma + a: the finite-model coefficient at this granularity."""
        return self.g / self.granularity**self.gamma + self.a

    def at_granularity(self, G: float) -> FineGrainedMoELaw:
        """The same law at granularity ``G``."""
        from dataclasses import replace

        return replace(self, granularity=G)

    def dense_equivalent(self) -> ParametricLaw:
        """The law at its granularity as a plain Chinchilla-form loss (FLOPs are still the MoE's)."""
        return ParametricLaw(E=self.c, A=self.model_term, B=self.b, alpha=self.alpha, beta=self.beta,
                             name=self.name, citation=self.citation, params_meaning=self.params_meaning)

    def active_params(self, N):
        """Parameters active per token, 12 d**2 n_blocks = N 12 / (8E + 4)."""
        return positive("N (parameters)", N) * 12.0 / (8.0 * self.expansion_rate + 4.0)

    def total_params_for_active(self, N_active):
        """Total non-embedding parameters of the model whose active parameters are ``N_active`` ("64 x 7B")."""
        return positive("N_active (parameters)", N_active) * (8.0 * self.expansion_rate + 4.0) / 12.0

    def loss(self, N, D):
        """Predicted loss (nats per token, C4 with GPT-2's tokenizer)."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return self.c + self.model_term / N**self.alpha + self.b / D**self.beta

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        data_term = L - self.c - self.model_term / N**self.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(data_term > 0, (self.b / data_term) ** (1.0 / self.beta), np.nan)

    def compute_optimal(self, C):
        """Loss-minimising (N total, D) under the MoE FLOP count F(N, D) = C (vectorised root of d loss / d ln N)."""
        C = positive("C (FLOPs)", C)
        fm = self.flop_model

        def slope(v, C):
            up, down = v + _LOG_STEP, v - _LOG_STEP
            return (self.loss(np.exp(up), fm.tokens(C, np.exp(up)))
                    - self.loss(np.exp(down), fm.tokens(C, np.exp(down)))) / (2 * _LOG_STEP)

        hi = np.log(fm.params(C, 1.0))  # a model this big sees one token
        lo = hi - 80.0  # and one e**80 times smaller: the loss falls with N there at any budget
        ok = (slope(lo, C) < 0) & (slope(hi, C) > 0)
        if not np.all(ok):
            raise ValueError(f"no iso-FLOP minimum found for C = {float(C[~ok].flat[0]):g} FLOPs")
        from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
        res = elementwise.find_root(slope, (lo, hi), args=(C,), tolerances=dict(xatol=1e-12, xrtol=1e-14))
        if not np.all(res.success):
            raise ValueError("no iso-FLOP minimum found (the budget is outside float range)")
        N = np.exp(res.x)
        return N, fm.tokens(C, N)

    def frontier_loss(self, C):
        """Loss of the compute-optimal allocation at ``C`` FLOPs."""
        return self.loss(*self.compute_optimal(C))


# Krajewski et al. §3: models of 129M to 3.7B parameters; §5: trained on 16B to 130B tokens. The
# FLOP span is the paper's own count (MoEFlopModel, G = 1) at the corners: 3.0e17 to 6.8e19 FLOPs.
_KRAJEWSKI_PARAMS, _KRAJEWSKI_TOKENS = (1.29e8, 3.7e9), (1.6e10, 1.3e11)
_KRAJEWSKI_RANGE = FittedRange(
    _KRAJEWSKI_PARAMS, _KRAJEWSKI_TOKENS,
    tuple(float(MoEFlopModel().flops(n, d)) for n, d in zip(_KRAJEWSKI_PARAMS, _KRAJEWSKI_TOKENS, strict=True)),
    "Krajewski et al. 2024 §3 (parameters), §5 (tokens); FLOPs by the paper's count at the corners (G = 1)",
)

#: The preset: Table 1's MoE fit (a 18.1, alpha 0.115, b 30.8, beta 0.147, g 2.1, gamma 0.58,
#: c 0.47), at G = 1, the common practice of experts as wide as the dense feed-forward layer,
#: which the paper finds suboptimal at almost any budget; raise ``granularity`` to explore.
KRAJEWSKI2024 = FineGrainedMoELaw(
    a=18.1, alpha=0.115, b=30.8, beta=0.147, g=2.1, gamma=0.58, c=0.47, granularity=1.0,
    name="Krajewski et al. 2024 (fine-grained MoE, E = 64)", citation=KRAJEWSKI, fitted_range=_KRAJEWSKI_RANGE,
)

#: Krajewski et al.'s dense baseline on the same data (Table 1: a 16.3, alpha 0.126, b 26.7,
#: beta 0.127, c 0.47), N non-embedding parameters.
KRAJEWSKI2024_DENSE = ParametricLaw(
    E=0.47, A=16.3, B=26.7, alpha=0.126, beta=0.127, name="Krajewski et al. 2024, dense baseline",
    citation=KRAJEWSKI, params_meaning=ParamCount.NON_EMBEDDING, fitted_range=_KRAJEWSKI_RANGE,
)

__all__ = ["KRAJEWSKI2024", "KRAJEWSKI2024_DENSE", "FineGrainedMoELaw", "MoEFlopModel"]
