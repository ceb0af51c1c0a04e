"""Scaling Explorer: compute-optimal scaling laws for language models (Kaplan 2020, Chinchilla 2022).

Units everywhere: N in parameters, D in training tokens, C in FLOPs (C = 6ND), loss in nats/token.
Every user choice is a :class:`Scenario`; :func:`evaluate` turns it into every number shown.
"""

from .compute import HARDWARE, gpu_hours, to_pf_days, training_cost_usd, training_flops
from .counting import ParamCount
from .flops import SIX_ND, FlopModel
from .laws import AllocationLaw, KaplanLaw, Law, ParametricLaw
from .presets import PRESETS, get_law, law_keys, register_law
from .readout import Readout, evaluate
from .scenario import Scenario, ScenarioError

__all__ = [
    "HARDWARE", "PRESETS", "SIX_ND", "AllocationLaw", "FlopModel", "KaplanLaw", "Law", "ParamCount",
    "ParametricLaw", "Readout", "Scenario", "ScenarioError", "evaluate", "get_law", "gpu_hours", "law_keys",
    "register_law", "to_pf_days", "training_cost_usd", "training_flops",
]
__version__ = "0.2.0"
