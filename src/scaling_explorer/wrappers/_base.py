"""What the wrappers share: the Chinchilla-form terms of a base law, and the error for a law that cannot be wrapped."""

from __future__ import annotations

from dataclasses import dataclass

from ..flops import FlopModel


class NotApplicable(ValueError):
    """A wrapper or option that the given law cannot take (e.g. inference demand on an allocation law)."""


@dataclass(frozen=True)
class ChinchillaTerms:
    """L(N, D) = E + A / N**alpha + B / D**beta with training FLOPs C = k N D."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    k: float


class OverBaseLaw:
    """What a wrapper takes unchanged from its ``base`` law: what N counts, the fitted span, the FLOP count."""

    @property
    def params_meaning(self):
        return self.base.params_meaning

    @property
    def fitted_range(self):
        return self.base.fitted_range

    @property
    def flop_model(self):
        return self.base.flop_model


def chinchilla_terms(law, purpose: str) -> ChinchillaTerms:
    """The Chinchilla-form coefficients of ``law``, or :class:`NotApplicable` naming ``purpose``.

    A law qualifies when its loss is E + A/N**alpha + B/D**beta, its frontier is that loss's
    iso-FLOP minimum, and its training FLOPs are k·N·D (a plain :class:`FlopModel`).
    """
    names = ("E", "A", "B", "alpha", "beta")
    flop_model = getattr(law, "flop_model", None)
    if not (getattr(law, "has_loss", False) and getattr(law, "frontier_minimises_loss", False)
            and all(hasattr(law, n) for n in names) and type(flop_model) is FlopModel
            and getattr(law, "gamma", 1.0) == 1.0):  # E + (A/N^a + B/D^b)^gamma is not this form
        raise NotApplicable(f"{purpose} needs a Chinchilla-form law (L = E + A/N^alpha + B/D^beta, C = kND); "
                            f"{getattr(law, 'name', law)!r} is not one")
    return ChinchillaTerms(*(float(getattr(law, n)) for n in names), k=float(flop_model.flops_per_param_token))
