"""Conventions a scaling law is stated in: what its N counts, and how FLOPs are accounted.

Two laws disagree partly because they count differently (Kaplan et al. 2020 count non-embedding
parameters, Hoffmann et al. 2022 all of them), so every law says which convention it uses, as
data, and every FLOP count goes through a :class:`FlopModel` instead of a scattered constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ._checks import positive


class ParamCount(StrEnum):
    """What a law's N counts."""

    TOTAL = "total"
    NON_EMBEDDING = "non-embedding"
    ACTIVE = "active-per-token"

    @property
    def description(self) -> str:
        """One line for people."""
        return {
            ParamCount.TOTAL: "total parameters, embeddings included",
            ParamCount.NON_EMBEDDING: "non-embedding parameters (vocabulary and position embeddings excluded)",
            ParamCount.ACTIVE: "parameters active per token (mixture-of-experts)",
        }[self]


@dataclass(frozen=True)
class FlopModel:
    """Training FLOPs as C = k · N · D.

    Attributes
    ----------
    name : str
        Short key, e.g. ``"6ND"``.
    flops_per_param_token : float
        k: FLOPs per parameter per training token.
    citation : str
        Where the count comes from.
    """

    name: str = "6ND"
    # 2 FLOPs per parameter for the forward pass, x3 for forward + backward (Kaplan et al. 2020
    # §2.1; GPT-3 Table D.1; Hoffmann et al. 2022 §3.3 use the same 6ND).
    flops_per_param_token: float = 6.0
    citation: str = "Kaplan et al. 2020 §2.1; Hoffmann et al. 2022 §3.3"

    def __post_init__(self):
        positive("flops_per_param_token", self.flops_per_param_token)

    def flops(self, N, D):
        """Training compute in FLOPs for ``N`` parameters and ``D`` tokens."""
        return self.flops_per_param_token * positive("N (parameters)", N) * positive("D (tokens)", D)

    def tokens(self, C, N):
        """Tokens a budget of ``C`` FLOPs buys for ``N`` parameters."""
        return positive("C (FLOPs)", C) / (self.flops_per_param_token * positive("N (parameters)", N))

    def params(self, C, D):
        """Parameters a budget of ``C`` FLOPs buys for ``D`` tokens."""
        return positive("C (FLOPs)", C) / (self.flops_per_param_token * positive("D (tokens)", D))


#: The default FLOP model, C = 6ND.
SIX_ND = FlopModel()
