"""What a loss means downstream: predicted benchmark error, observed scores, and how far to trust them.

Predicted error from Gadre et al. 2024, observed scores of published models from Ruan et al. 2024.

- :mod:`.gadre`: the loss laws in tokens per parameter (presets ``gadre2024-c4``, ``gadre2024-rpj``,
  ``gadre2024-rw``), the loss-to-error laws, :func:`predict_downstream` and the refit from their runs.
- :mod:`.observational`: the ObsScaling table of base models, validated, joined to the catalog, and
  per-family fits against compute (imported on first use: it reads the catalog).
- :mod:`.trust`: :data:`TRUST_NOTE`, the one note shown wherever a downstream number appears.
"""

from .gadre import (
    GADRE_PRESETS,
    DownstreamPrediction,
    ErrorLaw,
    GadreFit,
    GadreLaw,
    NoDownstreamMap,
    at_optimum,
    downstream_map,
    fit_gadre,
    has_downstream,
    load_runs,
    predict_downstream,
    predicted_error,
)
from .trust import TRUST_NOTE, TRUST_SOURCES

_OBSERVATIONAL = ("BENCHMARKS", "BENCHMARK_LABELS", "ModelScores", "ObservedScores", "FamilyFit", "benchmarks",
                  "family_of", "fit_family", "load_observed_scores", "observed_scores", "scores_of")


def __getattr__(name):  # the observational names load the catalog, so import them on first use
    if name in _OBSERVATIONAL:
        from . import observational

        return getattr(observational, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GADRE_PRESETS", "TRUST_NOTE", "TRUST_SOURCES", "DownstreamPrediction", "ErrorLaw", "GadreFit", "GadreLaw",
    "NoDownstreamMap", "at_optimum", "downstream_map", "fit_gadre", "has_downstream", "load_runs", "predict_downstream",
    "predicted_error", *_OBSERVATIONAL,
]
