"""Any law re-expressed in the other parameter count (total <-> non-embedding).

Kaplan et al. 2020 count non-embedding parameters and non-embedding compute, C = 6·N_nonemb·D
(§2.1); Hoffmann et al. 2022 count everything. Pearce & Song 2024 show that re-counting a
Chinchilla-form law this way bends its frontier into a Kaplan-like one at small scale.
:func:`reexpress` does that for any law; the result is a law like any other.

What happens to the budget: the re-expressed law's C is its own ``flop_model`` applied to its own
N. With the default 6ND model, a law re-expressed in non-embedding parameters is budgeted in
Kaplan's non-embedding compute 6·N_nonemb·D, and one re-expressed in total parameters in
6·N_total·D. Tokens are tokens in both conventions.

What happens to the frontier:

- a law whose frontier is the iso-FLOP minimum of its loss (Chinchilla form) is minimised again,
  at fixed budget in the new convention: N_opt is what a study counting that way would measure
  (Pearce & Song's simulation of Chinchilla under Kaplan's conventions);
- a law with a fitted frontier (Kaplan's Table 6 fit, an allocation law) keeps its points: each
  (N, D) on it is re-counted, and its budget is re-counted with them.

Either way the frontier is no longer a pure power law; see
:func:`scaling_explorer.frontier.local_exponent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import positive
from .counting import CHINCHILLA_SHAPES, ParamCount, ShapeFamily, convert_params
from .flops import SIX_ND, FlopModel
from .laws import FittedRange

_COUNTS = (ParamCount.TOTAL, ParamCount.NON_EMBEDDING)


@dataclass(frozen=True)
class ReexpressedLaw:
    """``base`` with its N counted as ``params_meaning`` (conversion along ``shape``).

    Attributes
    ----------
    base : Law
        The law as published.
    params_meaning : ParamCount
        The count this law's N uses (total or non-embedding).
    shape : ShapeFamily
        The conversion: Pearce & Song's fit to Chinchilla's shapes by default.
    flop_model : FlopModel
        How this law's budget is counted from its own N (6ND: Kaplan's 6·N_nonemb·D in
        non-embedding parameters).
    """

    base: object
    params_meaning: ParamCount = ParamCount.NON_EMBEDDING
    shape: ShapeFamily = CHINCHILLA_SHAPES
    flop_model: FlopModel = SIX_ND
    name: str = ""
    citation: str = ""
    fitted_range: FittedRange | None = field(default=None, compare=False)
    coefficients = ()

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen)
        meaning = ParamCount(self.params_meaning)
        if meaning not in _COUNTS or self.base.params_meaning not in _COUNTS:
            raise ValueError(f"only total and non-embedding counts convert; got {self.base.params_meaning.value} "
                             f"-> {meaning.value}")
        set_("params_meaning", meaning)
        if not self.name:
            set_("name", f"{self.base.name} (re-counted)")
        if not self.citation:
            set_("citation", f"{self.base.citation}; re-counted by Pearce & Song 2024's fit, arXiv:2406.12907")
        if self.fitted_range is None and self.base.fitted_range is not None:
            set_("fitted_range", self._mapped_range(self.base.fitted_range))

    # -- what the wrapper forwards ------------------------------------------------------------
    @property
    def has_loss(self) -> bool:
        """As the base law."""
        return self.base.has_loss

    @property
    def frontier_minimises_loss(self) -> bool:
        """As the base law."""
        return self.base.frontier_minimises_loss

    def to_base(self, N):
        """The law's N counted as the base law counts it."""
        return convert_params(N, self.params_meaning, self.base.params_meaning, self.shape)

    def from_base(self, N):
        """The base law's N counted as this law counts it."""
        return convert_params(N, self.base.params_meaning, self.params_meaning, self.shape)

    def _mapped_range(self, r: FittedRange) -> FittedRange:
        # The corners of the fitted span, re-counted (as the presets define their spans).
        lo, hi = (float(x) for x in self.from_base(np.array(r.params)))
        if not np.all(np.isfinite([lo, hi, *r.tokens])):  # a span the source does not state stays unknown
            note = f"{r.note}, re-counted as {self.params_meaning.value}"
            return FittedRange((lo, hi), r.tokens, (np.nan, np.nan), note)
        flops = (float(self.flop_model.flops(lo, r.tokens[0])), float(self.flop_model.flops(hi, r.tokens[1])))
        return FittedRange((lo, hi), r.tokens, flops, f"{r.note}, re-counted as {self.params_meaning.value}")

    # -- loss surface -------------------------------------------------------------------------
    def loss(self, N, D):
        """The base law's loss for ``N`` parameters (this law's count) and ``D`` tokens."""
        return self.base.loss(self.to_base(positive("N (parameters)", N)), D)

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L."""
        return self.base.tokens_for_loss(self.to_base(positive("N (parameters)", N)), L)

    # -- frontier -----------------------------------------------------------------------------
    def base_budget(self, C):
        """The base law's budget whose frontier point, re-counted, costs ``C`` under this law's count."""
        C = positive("C (FLOPs)", C)
        log_c = np.log(C)

        def gap(log_cb, log_c):
            N_b, D = self.base.compute_optimal(np.exp(log_cb))
            return np.log(self.flop_model.flops(self.from_base(N_b), D)) - log_c

        # Re-counting changes N (and C with it) by up to ~1e6x for toy models under the embedding-heavy
        # counts; 1e20x either way brackets every budget a plot asks for.
        bracket = (log_c - 46.0, log_c + 46.0)
        from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
        result = elementwise.find_root(gap, bracket, args=(log_c,), tolerances=dict(xatol=1e-13, xrtol=1e-15))
        if not np.all(result.success):
            raise ValueError(f"cannot re-count {self.base.name}'s frontier at C = {float(np.ravel(C)[0]):g} FLOPs")
        return np.exp(result.x)

    def compute_optimal(self, C):
        """Compute-optimal (N, D) in this law's count at ``C`` FLOPs of this law's budget."""
        if self.base.has_loss and self.base.frontier_minimises_loss:
            from .frontier import iso_flop_minimum

            return iso_flop_minimum(self, C)
        N_b, D = self.base.compute_optimal(self.base_budget(C))
        return self.from_base(N_b), D

    def frontier_loss(self, C):
        """Loss on this law's frontier at ``C`` FLOPs (the base law's frontier loss where points are kept)."""
        if self.base.frontier_minimises_loss:
            return self.loss(*self.compute_optimal(C))
        return self.base.frontier_loss(self.base_budget(C))


def reexpress(law, params_meaning, shape: ShapeFamily = CHINCHILLA_SHAPES):
    """``law`` with N counted as ``params_meaning``; ``law`` itself if it already counts that way.

    ``params_meaning`` is a :class:`ParamCount` (or its value, ``"total"``/``"non-embedding"``).
    Re-expressing a re-expressed law back to its base's count returns the base.
    """
    meaning = ParamCount(params_meaning)
    if law.params_meaning is meaning:
        return law
    if isinstance(law, ReexpressedLaw) and law.base.params_meaning is meaning:
        return law.base
    return ReexpressedLaw(base=law, params_meaning=meaning, shape=shape)


__all__ = ["ReexpressedLaw", "reexpress"]
