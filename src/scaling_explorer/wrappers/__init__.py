"""New objectives and regimes as wrappers over a base law (DESIGN: "laws -> wrappers").

- :mod:`.inference`: lifetime inference demand (Sardana et al. 2024);
- :mod:`.data_constrained`: a unique-token budget and repeated data (Muennighoff et al. 2023);
- :mod:`.moe`: fine-grained mixture of experts and its FLOP count (Krajewski et al. 2024);
- :mod:`.target`: what a law needs to reach a loss.
"""

from ._base import NotApplicable, chinchilla_terms
from .data_constrained import DataConstrained, effective_data, repeated_data_value
from .inference import (
    InferenceAware,
    ServingCost,
    break_even_inference_tokens,
    cost_optimum_for_loss,
    lifetime_flops,
    optimum_for_budget,
    optimum_for_loss,
)
from .moe import KRAJEWSKI2024, KRAJEWSKI2024_DENSE, FineGrainedMoELaw, MoEFlopModel
from .target import Target, for_loss

__all__ = [
    "KRAJEWSKI2024", "KRAJEWSKI2024_DENSE", "DataConstrained", "FineGrainedMoELaw", "InferenceAware", "MoEFlopModel",
    "NotApplicable", "ServingCost", "Target", "break_even_inference_tokens", "chinchilla_terms",
    "cost_optimum_for_loss", "effective_data", "for_loss", "lifetime_flops", "optimum_for_budget",
    "optimum_for_loss", "repeated_data_value",
]
