"""What the page asks of a Readout beyond its columns.

The Readout's models carry one ``status`` (under the whole scenario, at the inference demand when
it applies) with ``status_training`` beside it; every view reads ``status`` only.
"""

from __future__ import annotations


def demand_applies(readout) -> bool:
    """Whether the models' status is relative to the inference demand (a Chinchilla-form law and T > 0)."""
    return "d_over_d_opt_at_demand" in readout.all_models.columns
