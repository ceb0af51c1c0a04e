"""Fit scaling laws to training runs: Hoffmann et al. 2022 Approach 3 (parametric) and Approach 2 (iso-FLOP).

Modules: :mod:`.runs` (reading and validating a runs table), :mod:`.objective` (the summed Huber
objective of App. D.2, its Hessian, and Hoffmann's start grid), :mod:`.lbfgs` (a vectorised L-BFGS
over many starts), :mod:`.newton` (a vectorised Newton method for resamples and final steps),
:mod:`.results` (result objects), :mod:`.approach3` (the parametric fit and its bootstrap),
:mod:`.approach2` (iso-FLOP parabolas) and :mod:`.synthetic` (runs from a known law). Everything
public is importable from ``scaling_explorer.fit``.
"""

from .approach2 import Approach2Fit, fit_approach2
from .approach3 import GOPHER_FLOPS, bootstrap_approach3, fit_approach3
from .objective import HUBER_DELTA, hoffmann_grid
from .results import Approach3Fit, Bootstrap
from .runs import FitCancelled, NotIdentifiedError, RunsError, drop_highest_loss, read_runs
from .synthetic import synthetic_runs

__all__ = [
    "Approach2Fit", "Approach3Fit", "Bootstrap", "FitCancelled", "GOPHER_FLOPS", "HUBER_DELTA", "NotIdentifiedError",
    "RunsError",
    "bootstrap_approach3", "drop_highest_loss", "fit_approach2", "fit_approach3", "hoffmann_grid", "read_runs",
    "synthetic_runs",
]
