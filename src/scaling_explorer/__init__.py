"""Scaling Explorer: compute-optimal scaling laws for language models (Kaplan 2020, Chinchilla 2022).

Units everywhere: N in parameters, D in training tokens, C in FLOPs (C = 6ND), loss in nats/token.
"""

from .compute import HARDWARE, gpu_hours, to_pf_days, training_cost_usd, training_flops
from .laws import PRESETS, AllocationLaw, KaplanLaw, ParametricLaw, get_law

__all__ = [
    "HARDWARE", "PRESETS", "AllocationLaw", "KaplanLaw", "ParametricLaw", "get_law",
    "gpu_hours", "to_pf_days", "training_cost_usd", "training_flops",
]
__version__ = "0.1.0"
