"""``evaluate(scenario) -> Readout``: the one function behind every number a user sees.

The page's numbers table and model card, the CLI's ``show`` and ``optimal``, and the exports
format a :class:`Readout`; none of them computes anything itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

import pandas as pd

from . import compute, laws
from .catalog import NOT_PLOTTED, classify, load_models
from .conventions import ParamCount, non_embedding_counts
from .scenario import Scenario


@dataclass(frozen=True)
class BudgetReadout:
    """The budget in every unit shown.

    Attributes
    ----------
    flops, pf_days : float
        Training compute in FLOPs and in PF-days.
    gpu_hours, cost_usd : float
        On ``hardware`` at ``mfu``, priced at ``usd_per_gpu_hour``.
    """

    flops: float
    pf_days: float
    gpu_hours: float
    cost_usd: float
    hardware: str
    hardware_name: str
    mfu: float
    usd_per_gpu_hour: float


@dataclass(frozen=True)
class LawRow:
    """One shown law at the budget.

    Attributes
    ----------
    key, name, label : str
        Registry key, the law's name, and the name as shown (with "edited", "non-embedding N").
    params_meaning : str
        What N counts (a :class:`~scaling_explorer.conventions.ParamCount` value).
    params, tokens, tokens_per_param : float
        Compute-optimal N and D at the budget, and D / N.
    loss : float or None
        The law's loss on its own frontier (nats/token); None for allocation-only laws.
    extrapolated : bool
        True when the budget lies outside the FLOPs the law was fitted on.
    fitted_flops : (float, float) or None
        That fitted span.
    edited : bool
        True when the scenario edits the law's coefficients.
    flop_model : str
        The FLOP model the budget is counted with (the scenario's ``flop_model``).
    params_range, tokens_range : (float, float) or None
        With the scenario's ``flatness`` on and a loss law: N and D at the two ends of the
        budget's iso-FLOP line where the loss is within that tolerance of the optimum
        (:func:`scaling_explorer.frontier.flat_optimum`); otherwise None.
    """

    key: str
    name: str
    label: str
    params_meaning: str
    params: float
    tokens: float
    tokens_per_param: float
    loss: float | None
    extrapolated: bool
    fitted_flops: tuple[float, float] | None
    edited: bool
    flop_model: str = "6ND"
    params_range: tuple[float, float] | None = None
    tokens_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class ModelStatus:
    """The selected model judged by one shown law (see :func:`scaling_explorer.catalog.classify`)."""

    key: str
    label: str
    status: str
    d_over_d_opt: float
    efficiency: float
    flops: float
    tokens_per_param: float
    params_basis: str
    not_plotted: str


@dataclass(frozen=True)
class ModelCard:
    """The selected model: its catalog row, its status under each shown law, and the caveats on them."""

    model: pd.Series
    statuses: tuple[ModelStatus, ...]
    caveats: tuple[str, ...]


def law_label(scenario: Scenario, key: str) -> str:
    """The law's name as shown: marked when edited, and when its N is not total parameters."""
    law = scenario.law(key)
    label = law.name + (" (edited)" if scenario.edits_for(key) else "")
    if law.params_meaning is ParamCount.NON_EMBEDDING:
        label += ", non-embedding N"
    elif law.params_meaning is not laws.get_law(key).params_meaning:  # re-counted by the scenario
        label += f", {law.params_meaning.value} N"
    return label


@lru_cache(maxsize=1)
def catalog() -> pd.DataFrame:
    """The shipped model catalog, read once per process."""
    return load_models()


@lru_cache(maxsize=4)
def catalog_counted(param_count: str = "native") -> pd.DataFrame:
    """The catalog with every dense model's N in one count when ``param_count`` is ``"non-embedding"``.

    As published, only some models give a non-embedding count, so a non-embedding law would place
    the rest at their total: with the switch on, the rest are counted from their architecture or
    by Pearce & Song's fit (:func:`~scaling_explorer.conventions.non_embedding_counts`), and
    ``non_embedding_basis`` says which.
    """
    table = catalog()
    if param_count != "non-embedding":
        return table
    table = table.copy()
    counts = non_embedding_counts(table)
    table["non_embedding_params"] = counts["non_embedding_params"]
    table["non_embedding_basis"] = counts["non_embedding_basis"]
    return table


@lru_cache(maxsize=64)
def classified(law, band: float, param_count: str = "native") -> pd.DataFrame:
    """The catalog classified against ``law`` (laws are frozen, so they key the cache)."""
    return classify(catalog_counted(param_count), law, near_optimal_band=(1.0 / band, band))


def _finite_or_none(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def law_row(scenario: Scenario, key: str) -> LawRow:
    """The row of law ``key`` at the scenario's budget."""
    law = scenario.law(key)
    C = scenario.budget
    N, D = (float(x) for x in law.compute_optimal(C))
    fitted = law.fitted_range
    params_range = tokens_range = None
    if scenario.flatness is not None and law.has_loss:
        from .frontier import flat_optimum

        flat = flat_optimum(law, C, scenario.flatness)
        params_range = (float(flat.params_low), float(flat.params_high))
        tokens_range = (float(flat.tokens_low), float(flat.tokens_high))
    return LawRow(
        key=key, name=law.name, label=law_label(scenario, key), params_meaning=law.params_meaning.value,
        params=N, tokens=D, tokens_per_param=D / N,
        loss=_finite_or_none(law.frontier_loss(C)) if law.has_loss else None,
        extrapolated=bool(fitted is not None and not fitted.contains_flops(C)),
        fitted_flops=None if fitted is None else tuple(fitted.flops),
        edited=bool(scenario.edits_for(key)),
        flop_model=scenario.flop_model, params_range=params_range, tokens_range=tokens_range,
    )


@dataclass(frozen=True, eq=False)
class Readout:
    """Every number the scenario shows. Built by :func:`evaluate`; models are classified on first use.

    Attributes
    ----------
    scenario : Scenario
    budget : BudgetReadout
    rows : tuple of LawRow
        One per shown law, in the scenario's order.
    """

    scenario: Scenario
    budget: BudgetReadout
    rows: tuple[LawRow, ...]

    @cached_property
    def all_models(self) -> pd.DataFrame:
        """The whole catalog classified under the scenario's surface law (unfiltered)."""
        s = self.scenario
        return classified(s.law(s.surface), s.band, s.param_count)

    @cached_property
    def models(self) -> pd.DataFrame:
        """Classified models that pass the scenario's filters (plottable or not; see ``status``)."""
        s, table = self.scenario, self.all_models
        keep = pd.Series(True, index=table.index)
        if s.years is not None:
            keep &= table["release_date"].dt.year.between(*s.years)
        if s.weights != "all":
            keep &= table["open_weights"] == (s.weights == "open")
        if s.architecture != "all":
            keep &= table["architecture"] == s.architecture
        return table[keep]

    @cached_property
    def plotted(self) -> pd.DataFrame:
        """The filtered models that can be placed on the N-D plane."""
        return self.models[self.models["status"] != NOT_PLOTTED]

    @cached_property
    def selected(self) -> ModelCard | None:
        """The selected model's card, or None when nothing is selected."""
        s = self.scenario
        if not s.model:
            return None
        statuses = []
        for key in s.laws:
            row = classified(s.law(key), s.band, s.param_count).set_index("name").loc[s.model]
            statuses.append(ModelStatus(
                key=key, label=law_label(s, key), status=row["status"], d_over_d_opt=float(row["d_over_d_opt"]),
                efficiency=float(row["efficiency"]), flops=float(row["flops"]),
                tokens_per_param=float(row["tokens_per_param"]), params_basis=row["params_basis"],
                not_plotted=row["not_plotted"],
            ))
        model = self.all_models[self.all_models["name"] == s.model].iloc[0]
        return ModelCard(model=model, statuses=tuple(statuses), caveats=tuple(model["caveats"]))

    def row(self, key: str) -> LawRow:
        """The row of the shown law ``key``."""
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    # -- export ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready: the scenario (as its query), the budget, and the rows."""
        return {"scenario": self.scenario.to_query(), "budget": asdict(self.budget),
                "rows": [_row_dict(r) for r in self.rows]}

    def to_frame(self) -> pd.DataFrame:
        """One row per shown law, with the budget's conversions as columns."""
        b = self.budget
        return pd.DataFrame(
            [{**_row_dict(r), "flops": b.flops, "pf_days": b.pf_days, "gpu_hours": b.gpu_hours,
              "cost_usd": b.cost_usd, "hardware": b.hardware, "mfu": b.mfu} for r in self.rows],
            columns=[*LAW_COLUMNS, "flops", "pf_days", "gpu_hours", "cost_usd", "hardware", "mfu"],
        )

    def to_csv(self) -> str:
        """:meth:`to_frame` as CSV text."""
        return self.to_frame().to_csv(index=False)

    def models_to_csv(self) -> str:
        """The filtered, classified models as CSV text."""
        return self.models.drop(columns=["notes"], errors="ignore").to_csv(index=False, date_format="%Y-%m-%d")


LAW_COLUMNS = ["key", "name", "params_meaning", "params", "tokens", "tokens_per_param", "loss", "extrapolated",
               "fitted_flops_low", "fitted_flops_high", "edited", "flop_model", "params_low", "params_high",
               "tokens_low", "tokens_high"]


def _row_dict(r: LawRow) -> dict:
    low, high = r.fitted_flops or (None, None)
    (n_low, n_high), (d_low, d_high) = r.params_range or (None, None), r.tokens_range or (None, None)
    return {"key": r.key, "name": r.name, "params_meaning": r.params_meaning, "params": r.params,
            "tokens": r.tokens, "tokens_per_param": r.tokens_per_param, "loss": r.loss,
            "extrapolated": r.extrapolated, "fitted_flops_low": low, "fitted_flops_high": high, "edited": r.edited,
            "flop_model": r.flop_model, "params_low": n_low, "params_high": n_high, "tokens_low": d_low,
            "tokens_high": d_high}


def budget_readout(scenario: Scenario) -> BudgetReadout:
    """The scenario's budget in PF-days, GPU-hours and dollars."""
    gpu = compute.hardware(scenario.hardware)
    C = scenario.budget
    return BudgetReadout(
        flops=C, pf_days=float(compute.to_pf_days(C)), gpu_hours=float(compute.gpu_hours(C, gpu, scenario.mfu)),
        cost_usd=float(compute.training_cost_usd(C, gpu, scenario.mfu, scenario.price)),
        hardware=scenario.hardware, hardware_name=gpu.name, mfu=scenario.mfu, usd_per_gpu_hour=scenario.price,
    )


def evaluate(scenario: Scenario) -> Readout:
    """Every number ``scenario`` shows: the budget's conversions and one row per shown law."""
    return Readout(scenario=scenario, budget=budget_readout(scenario),
                   rows=tuple(law_row(scenario, key) for key in scenario.laws))
