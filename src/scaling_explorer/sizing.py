"""A published model against a law at the model's own compute.

"Set the budget to its compute" and "size this budget as <law> would" on the page's model table
call these; every number comes from :func:`scaling_explorer.readout.evaluate` and the classified
catalog (:func:`scaling_explorer.readout.classified`), so no formula is written twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .readout import LawRow, Readout, classified, evaluate
from .scenario import BUDGET_RANGE, Scenario


class SizingError(ValueError):
    """A model that cannot be sized: unknown, undisclosed, or its compute outside the budget range."""


@dataclass(frozen=True)
class Sizing:
    """Model ``model`` against law ``key`` at the model's compute.

    Attributes
    ----------
    flops : float
        The model's compute 6·N·D in FLOPs, N counted as the law counts it (``params_basis``).
    params, tokens : float
        The model's own N (parameters, ``params_basis``: active, total or non-embedding) and D (tokens).
    row : LawRow
        The law at ``flops``: ``row.params`` is N_opt, ``row.tokens`` is D_opt.
    params_ratio, tokens_ratio : float
        N / N_opt and D / D_opt (above 1: bigger, or more tokens, than the law would choose).
    """

    model: str
    key: str
    flops: float
    params: float
    params_basis: str
    tokens: float
    row: LawRow
    params_ratio: float
    tokens_ratio: float


def _model_row(table, name: str):
    rows = table[table["name"] == name]
    if rows.empty:
        raise SizingError(f"no model called {name!r} in the catalog")
    row = rows.iloc[0]
    if row["not_plotted"]:
        raise SizingError(f"{name}'s compute is unknown: {row['not_plotted']}")
    return row


def _check_budget(name: str, flops: float) -> None:
    low, high = BUDGET_RANGE
    if not (math.isfinite(flops) and low <= flops <= high):
        raise SizingError(f"{name}'s compute, {flops:.3g} FLOPs, is outside the budget range "
                          f"{low:g} to {high:g} FLOPs; the budget is unchanged")


def model_budget(readout: Readout, name: str) -> float:
    """Model ``name``'s training compute 6·N·D in FLOPs, N as the surface law counts it.

    Raises :class:`SizingError` when its size or tokens are undisclosed, or when the compute lies
    outside :data:`scaling_explorer.scenario.BUDGET_RANGE` (never clamped).
    """
    flops = float(_model_row(readout.all_models, name)["flops"])
    _check_budget(name, flops)
    return flops


def size_model(scenario: Scenario, name: str, key: str) -> Sizing:
    """Model ``name`` against the shown law ``key`` at the model's own compute."""
    if key not in scenario.laws:
        raise SizingError(f"{key!r} is not a shown law; tick it first")
    row = _model_row(classified(scenario.law(key), scenario.band), name)
    flops = float(row["flops"])
    _check_budget(name, flops)
    law_row = evaluate(scenario.replace(budget=flops)).row(key)
    params, tokens = float(row["compute_params"]), float(row["tokens"])
    return Sizing(model=name, key=key, flops=flops, params=params, params_basis=row["params_basis"], tokens=tokens,
                  row=law_row, params_ratio=params / law_row.params, tokens_ratio=tokens / law_row.tokens)
