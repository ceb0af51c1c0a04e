"""The explorer's one observable state: every user choice, nothing derived."""

from __future__ import annotations

import math
from functools import lru_cache

import traitlets as t

from .. import laws
from ..catalog import classify, load_models

DEFAULT_SHOWN = ("kaplan2020", "hoffmann2022-approach1", "besiroglu2024")
FIT_KEY = "fit"  # key of a law fitted to the user's uploaded runs


class ExplorerState(t.HasTraits):
    """User choices. Controls write these traits; views observe them.

    Attributes
    ----------
    budget : float
        Compute budget in FLOPs (opens on Chinchilla's 5.76e23, Hoffmann §4).
    shown : tuple of str
        Keys of the laws whose frontiers are drawn and tabulated.
    surface : str
        Key of the loss law that draws the contours, the shading and the model status.
    overrides : dict
        Key -> ParametricLaw with coefficients edited in the advanced section.
    fit_result : Approach3Fit or None
        A fit to the user's uploaded runs; its law is available as key ``"fit"``.
    band_factor : float
        A model is near-optimal when D / D_opt lies within [1/band_factor, band_factor].
    """

    budget = t.Float(5.76e23)
    shown = t.Tuple(default_value=DEFAULT_SHOWN)
    surface = t.Unicode("besiroglu2024")
    overrides = t.Dict()
    fit_result = t.Any(None)
    band_factor = t.Float(2.0)
    years = t.Tuple(t.Int(), t.Int(), default_value=(2019, 2025))
    weights = t.Enum(["all", "open", "closed"], default_value="all")
    architecture = t.Enum(["all", "dense", "moe"], default_value="all")
    hardware = t.Unicode("H100")
    mfu = t.Float(0.4)
    usd_per_gpu_hour = t.Float(2.0)
    selected = t.Unicode("Chinchilla")

    @t.validate("budget")
    def _check_budget(self, proposal):
        value = proposal["value"]
        if not (math.isfinite(value) and 1e15 <= value <= 1e30):
            raise t.TraitError(f"budget must be between 1e15 and 1e30 FLOPs, got {value:g}")
        return value

    @t.validate("band_factor")
    def _check_band(self, proposal):
        value = proposal["value"]
        if not (math.isfinite(value) and value > 1):
            raise t.TraitError(f"the near-optimal band factor must be above 1, got {value:g}")
        return value

    @t.validate("mfu")
    def _check_mfu(self, proposal):
        value = proposal["value"]
        if not (0 < value <= 1):
            raise t.TraitError(f"utilisation (MFU) must be in (0, 1], got {value:g}")
        return value

    @t.validate("shown")
    def _check_shown(self, proposal):
        for key in proposal["value"]:
            self.law(key)  # raises for an unknown key
        return tuple(proposal["value"])

    def law(self, key: str):
        """The law behind ``key``: the user's fit, an edited copy, or the preset."""
        if key == FIT_KEY:
            if self.fit_result is None:
                raise ValueError("no fitted law yet: upload runs first")
            return self.overrides.get(key) or self.fit_result.law
        return self.overrides.get(key) or laws.get_law(key)

    def available(self) -> list[str]:
        """Keys the user can choose from: the presets, plus ``"fit"`` once a fit exists."""
        return [*laws.PRESETS, *([FIT_KEY] if self.fit_result is not None else [])]

    @property
    def band(self) -> tuple[float, float]:
        """Near-optimal band on D / D_opt."""
        return (1.0 / self.band_factor, self.band_factor)


@lru_cache(maxsize=1)
def catalog():
    """The shipped model catalog, read once per process."""
    return load_models()


@lru_cache(maxsize=32)
def classified(law, band: tuple[float, float]):
    """The catalog classified against ``law`` (laws are frozen, so they key the cache)."""
    return classify(catalog(), law, near_optimal_band=band)
