"""Adapter to the Readout contract of issue 18 until the library provides it (delete after the merge).

The contract: ``Readout.all_models`` (and so ``models`` and ``plotted``) has one ``status`` column,
the status under the whole scenario (at the inference demand when ``inference_tokens > 0`` and
the law allows it), with the training-only status beside it as ``status_training``. Every view of
the page reads ``status`` only. Where the library already provides ``status_training`` this
changes nothing.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

from .. import readout as _readout


class Readout(_readout.Readout):
    """A :class:`~scaling_explorer.readout.Readout` whose models carry one ``status`` column."""

    @cached_property
    def all_models(self):
        table = _readout.Readout.all_models.func(self)
        if "status_training" in table.columns:
            return table
        table = table.copy()
        table["status_training"] = table["status"]
        if "status_at_demand" in table.columns:
            table["status"] = table["status_at_demand"]
            table = table.drop(columns=["status_at_demand"])
        return table


def evaluate(scenario) -> Readout:
    """``readout.evaluate(scenario)`` with the one-status models."""
    base = _readout.evaluate(scenario)
    return Readout(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})


def demand_applies(readout) -> bool:
    """Whether the models' status is relative to the inference demand (a Chinchilla-form law and T > 0)."""
    return "d_over_d_opt_at_demand" in readout.all_models.columns
