"""``evaluate(scenario) -> Readout``: the one function behind every number a user sees.

The page's numbers table and model card, the CLI's ``show`` and ``optimal``, and the exports
format a :class:`Readout`; none of them computes anything itself.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from . import compute, laws
from .catalog import classify, classify_at_demand, load_models
from .conventions import ParamCount, non_embedding_counts
from .scenario import Scenario
from .wrappers import DataConstrained, NotApplicable, break_even_inference_tokens, for_loss, lifetime_flops
from .wrappers.inference import INFERENCE_FLOPS_PER_PARAM_TOKEN, optimum_for_loss


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
class Optimum:
    """An allocation the scenario asks about besides the training-only optimum.

    Attributes
    ----------
    params, tokens, tokens_per_param : float
        N, D and D / N.
    loss : float
        The law's predicted loss there (nats/token; data-constrained where unique tokens are limited).
    training_flops, total_flops : float
        Training FLOPs, and training plus inference FLOPs (2 N T) under the scenario's demand.
    epochs : float or None
        D / U where unique tokens are limited.
    """

    params: float
    tokens: float
    tokens_per_param: float
    loss: float
    training_flops: float
    total_flops: float
    epochs: float | None = None


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
    total_flops : float or None
        Training plus inference FLOPs of this row's allocation under the scenario's demand (None
        without demand).
    epochs : float or None
        D / U of this row's allocation when unique tokens are limited.
    inference_aware : Optimum or None
        With inference demand: the allocation of the same loss with the lowest training plus
        inference FLOPs (Sardana et al. 2024). None without demand or for a law it cannot take.
    data_constrained : Optimum or None
        With limited unique tokens: the lowest-loss allocation of the budget (Muennighoff et al. 2023).
    target, target_inference_aware : Optimum or None
        With a target loss: the cheapest training-only allocation reaching it, and the cheapest
        over the model's lifetime under the demand.
    notes : tuple of str
        Why a requested result is missing for this law.
    warnings : tuple of str
        Known flaws of the law's numbers that hold at any budget (e.g. DeepSeek's N = M / 6,
        :func:`scaling_explorer.laws.law_caveat`); the numbers stand, the warning goes with them.
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
    total_flops: float | None = None
    epochs: float | None = None
    inference_aware: Optimum | None = None
    data_constrained: Optimum | None = None
    target: Optimum | None = None
    target_inference_aware: Optimum | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
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
    break_even_inference_tokens: float | None = None


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


@lru_cache(maxsize=64)
def classified_with_break_even(law, band: float, param_count: str = "native") -> pd.DataFrame:
    """:func:`classified` plus ``break_even_inference_tokens`` (NaN where none or not Chinchilla-form); cached."""
    table = classified(law, band, param_count).copy()
    placed = table["not_plotted"] == ""  # neither undisclosed nor refused by the law
    table["break_even_inference_tokens"] = np.nan
    if placed.any():
        N, D = (table.loc[placed, c].to_numpy() for c in ("compute_params", "tokens"))
        table.loc[placed, "break_even_inference_tokens"] = break_even(law, N, D)
    return table


@lru_cache(maxsize=64)
def classified_at_demand(law, band: float, inference_tokens: float, param_count: str = "native") -> pd.DataFrame:
    """:func:`classified` plus each model's standing under the demand; cached (a budget step does not change it)."""
    return classify_at_demand(classified(law, band, param_count), law, inference_tokens, (1.0 / band, band))


@lru_cache(maxsize=256)
def _target(law, loss: float, inference_tokens: float):
    # Independent of the budget, so a slider step reuses it.
    return for_loss(law, loss, inference_tokens)


def _finite_or_none(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def law_row(scenario: Scenario, key: str) -> LawRow:
    """The row of law ``key`` at the scenario's budget."""
    law = scenario.law(key)
    C = scenario.budget
    N, D = (float(x) for x in law.compute_optimal(C))
    fitted = law.fitted_range
    loss = _finite_or_none(law.frontier_loss(C)) if law.has_loss else None
    params_range = tokens_range = None
    if scenario.flatness is not None and law.has_loss:
        from .frontier import flat_optimum

        flat = flat_optimum(law, C, scenario.flatness)
        params_range = (float(flat.params_low), float(flat.params_high))
        tokens_range = (float(flat.tokens_low), float(flat.tokens_high))
    row = LawRow(
        key=key, name=law.name, label=law_label(scenario, key), params_meaning=law.params_meaning.value,
        params=N, tokens=D, tokens_per_param=D / N, loss=loss,
        extrapolated=bool(fitted is not None and not fitted.contains_flops(C)),
        # A span the law's source does not state is NaN; it shows as unknown, not as numbers.
        fitted_flops=None if fitted is None or not all(map(math.isfinite, fitted.flops)) else tuple(fitted.flops),
        edited=bool(scenario.edits_for(key)),
        flop_model=scenario.flop_model, params_range=params_range, tokens_range=tokens_range,
        warnings=(laws.law_caveat(law),) if laws.law_caveat(law) else (),
    )
    # The default scenario stops here: the page evaluates on every slider step.
    if scenario.inference_tokens or scenario.unique_tokens is not None or scenario.target_loss is not None:
        row = dataclasses.replace(row, **beyond_fields(scenario, law, N, D, loss))
    return row


def _optimum(law, N, D, T: float, unique: float | None = None, loss: float | None = None) -> Optimum:
    training = float(law.flop_model.flops(N, D))
    return Optimum(params=float(N), tokens=float(D), tokens_per_param=float(D / N),
                   loss=float(law.loss(N, D)) if loss is None else loss, training_flops=training,
                   total_flops=training + INFERENCE_FLOPS_PER_PARAM_TOKEN * float(N) * T,
                   epochs=None if unique is None else float(D) / unique)


def beyond_fields(scenario: Scenario, law, N: float, D: float, loss: float | None) -> dict:
    """The LawRow fields for inference demand, a unique-token budget and a target loss (wrappers)."""
    T, U, target = scenario.inference_tokens, scenario.unique_tokens, scenario.target_loss
    out: dict = {}
    notes: list[str] = []
    if T:
        out["total_flops"] = float(lifetime_flops(law, N, D, T))
        if loss is None:
            notes.append("inference demand: an allocation law has no loss to hold fixed")
        else:
            try:
                out["inference_aware"] = _optimum(law, *optimum_for_loss(law, loss, T), T)
            except NotApplicable:
                notes.append("inference demand needs a Chinchilla-form law")
    if U is not None:
        out["epochs"] = D / U
        try:
            constrained = DataConstrained(law, U)
        except NotApplicable:
            notes.append("a unique-token budget needs a Chinchilla-form law")
        else:
            N_u, D_u = constrained.compute_optimal(scenario.budget)
            out["data_constrained"] = _optimum(law, N_u, D_u, T, U, float(constrained.loss(N_u, D_u)))
    if target is not None:
        for field_name, demand in (("target", 0.0), ("target_inference_aware", T)):
            if field_name == "target_inference_aware" and not T:
                break
            try:
                t = _target(law, target, demand)
            except NotApplicable as exc:
                notes.append(f"target loss: {exc}")
                break
            except ValueError:
                notes.append(f"target loss {target:g} is out of this law's reach")
                break
            out[field_name] = _optimum(law, t.params, t.tokens, T)
    out["notes"] = tuple(notes)
    return out


def break_even(law, N, D):
    """Break-even inference demand of (N, D) under ``law``: NaN where none or where the law is not Chinchilla-form."""
    try:
        return break_even_inference_tokens(law, N, D)
    except NotApplicable:
        return np.full(np.broadcast(np.asarray(N), np.asarray(D)).shape, np.nan)


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
        """The whole catalog classified under the scenario's surface law (unfiltered).

        Adds ``break_even_inference_tokens`` (NaN where none, or for a law that is not
        Chinchilla-form); with inference demand also ``status_at_demand`` and
        ``d_over_d_opt_at_demand`` (:func:`~scaling_explorer.catalog.classify_at_demand`).
        """
        s = self.scenario
        law = s.law(s.surface)
        if s.inference_tokens > 0:
            try:  # standing relative to the demand: the cheapest model of the same loss over its lifetime
                return classified_at_demand(law, s.band, s.inference_tokens, s.param_count)
            except NotApplicable:
                pass
        return classified_with_break_even(law, s.band, s.param_count)

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
        return self.models[self.models["not_plotted"] == ""]

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
                break_even_inference_tokens=None if row["not_plotted"] else _finite_or_none(
                    break_even(s.law(key), row["compute_params"], row["tokens"])),
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
                "rows": [{**_row_dict(r), **_beyond_row(r)} for r in self.rows]}

    def to_frame(self) -> pd.DataFrame:
        """One row per shown law, with the budget's conversions as columns.

        Inference demand, a unique-token budget and a target loss add their columns
        (:data:`BEYOND_COLUMNS`) only when the scenario sets them.
        """
        b, s = self.budget, self.scenario
        extra = [c for c, on in ((BEYOND_COLUMNS["inference"], s.inference_tokens > 0),
                                 (BEYOND_COLUMNS["unique"], s.unique_tokens is not None),
                                 (BEYOND_COLUMNS["target"], s.target_loss is not None)) if on for c in c]
        return pd.DataFrame(
            [{**_row_dict(r), **_beyond_dict(s, r), "flops": b.flops, "pf_days": b.pf_days,
              "gpu_hours": b.gpu_hours, "cost_usd": b.cost_usd, "hardware": b.hardware, "mfu": b.mfu}
             for r in self.rows],
            columns=[*LAW_COLUMNS, *extra, "flops", "pf_days", "gpu_hours", "cost_usd", "hardware", "mfu"],
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


BEYOND_COLUMNS = {
    "inference": ["inference_tokens", "total_flops", "inference_aware_params", "inference_aware_tokens",
                  "inference_aware_training_flops", "inference_aware_total_flops"],
    "unique": ["unique_tokens", "epochs", "data_constrained_params", "data_constrained_tokens",
               "data_constrained_loss", "data_constrained_epochs"],
    "target": ["target_loss", "target_params", "target_tokens", "target_training_flops", "target_total_flops",
               "target_inference_aware_params", "target_inference_aware_tokens",
               "target_inference_aware_total_flops"],
}


def _beyond_dict(s: Scenario, r: LawRow) -> dict:
    def get(opt: Optimum | None, name: str):
        return None if opt is None else getattr(opt, name)

    ia, dc, tg, ti = r.inference_aware, r.data_constrained, r.target, r.target_inference_aware
    return {
        "inference_tokens": s.inference_tokens, "total_flops": r.total_flops,
        "inference_aware_params": get(ia, "params"), "inference_aware_tokens": get(ia, "tokens"),
        "inference_aware_training_flops": get(ia, "training_flops"),
        "inference_aware_total_flops": get(ia, "total_flops"),
        "unique_tokens": s.unique_tokens, "epochs": r.epochs,
        "data_constrained_params": get(dc, "params"), "data_constrained_tokens": get(dc, "tokens"),
        "data_constrained_loss": get(dc, "loss"), "data_constrained_epochs": get(dc, "epochs"),
        "target_loss": s.target_loss, "target_params": get(tg, "params"), "target_tokens": get(tg, "tokens"),
        "target_training_flops": get(tg, "training_flops"), "target_total_flops": get(tg, "total_flops"),
        "target_inference_aware_params": get(ti, "params"), "target_inference_aware_tokens": get(ti, "tokens"),
        "target_inference_aware_total_flops": get(ti, "total_flops"),
    }


def _row_dict(r: LawRow) -> dict:
    low, high = r.fitted_flops or (None, None)
    (n_low, n_high), (d_low, d_high) = r.params_range or (None, None), r.tokens_range or (None, None)
    return {"key": r.key, "name": r.name, "params_meaning": r.params_meaning, "params": r.params,
            "tokens": r.tokens, "tokens_per_param": r.tokens_per_param, "loss": r.loss,
            "extrapolated": r.extrapolated, "fitted_flops_low": low, "fitted_flops_high": high, "edited": r.edited,
            "flop_model": r.flop_model, "params_low": n_low, "params_high": n_high, "tokens_low": d_low,
            "tokens_high": d_high}


def _beyond_row(r: LawRow) -> dict:
    """The row's inference / unique-token / target results, only those that are set."""
    out = {}
    for name in ("total_flops", "epochs"):
        if getattr(r, name) is not None:
            out[name] = getattr(r, name)
    for name in ("inference_aware", "data_constrained", "target", "target_inference_aware"):
        if getattr(r, name) is not None:
            out[name] = asdict(getattr(r, name))
    if r.notes:
        out["notes"] = list(r.notes)
    if r.warnings:
        out["warnings"] = list(r.warnings)
    return out


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
