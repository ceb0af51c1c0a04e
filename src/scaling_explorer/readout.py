"""``evaluate(scenario) -> Readout``: the one function behind every number a user sees.

The page's numbers table (:func:`numbers_table`) and model card, the CLI's ``show``, ``optimal``
and ``target``, and the exports (:meth:`Readout.to_dict`, :meth:`~Readout.to_frame`,
:meth:`~Readout.to_csv`) format a :class:`Readout`; none of them computes anything itself.

Per law, a :class:`LawRow` holds the compute-optimal allocation at the budget, its ``warnings``
(extrapolation, implausible coefficients), and the **extras** the scenario asks for. Per model,
:attr:`Readout.models` holds one ``status`` under the whole scenario (at the inference demand when
``serve`` is set) with ``status_training`` beside it; every view reads ``status``.

Extras
------
A result a feature adds to each law's row is registered once; the frame, the CSV, the JSON
(``docs/readout.schema.json``), the CLI's text and the page's numbers table all take it from there::

    from scaling_explorer.readout import Missing, register_extra

    def downstream(law, scenario, row):
        if row.loss is None:
            raise Missing("downstream error needs a loss law")    # -> row.reasons["downstream"]
        return {"error": my_error_model(row.loss)}                # JSON-ready scalars

    register_extra(
        "downstream",                                   # JSON key and column prefix: downstream_error
        label="downstream error",                       # CLI text and numbers-table label
        applies=lambda s: s.benchmark != "",            # when the scenario asks for it
        compute=downstream,                             # (law, scenario, row) -> dict
        values=("error",),                              # the dict's keys, in display order
        units={"error": "fraction"},
    )

An extra that answers the question asked (like ``data_constrained`` or ``target``) passes
``answers=N`` (the highest applying one wins); its allocation, in the keys of :class:`Optimum`,
then becomes the row's top level in the exports, with the compute-optimal one kept under
``compute_optimal``.

The page's numbers table shows an extra as it declares (:attr:`Extra.shown_as`): a line of values
under the law's row (the default), an allocation row of its own (``shown_as="allocation"``, with a
``caption`` template such as ``"with U = {unique_tokens:count} unique tokens"`` and the allocation
``columns`` it needs) or columns of the law's row (``shown_as="range"``, ``ranges``). The models'
status and the shading are judged under :attr:`Readout.status_condition` (the demand, where the
surface law can take it): :func:`judge`, :meth:`Readout.band_edges`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from . import compute, laws, presets
from .catalog import classify, classify_at_demand, load_models
from .counting import ParamCount, non_embedding_counts
from .downstream.observational import ModelScores, scores_of
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
    loss : float or None
        The law's predicted loss there (nats/token; data-constrained where unique tokens are limited;
        None for an allocation law).
    training_flops, total_flops : float
        Training FLOPs, and training plus inference FLOPs (2 N T) under the scenario's demand.
    epochs : float or None
        D / U where unique tokens are limited.
    extrapolated : bool
        True when its training FLOPs lie outside the FLOPs the law was fitted on.
    """

    params: float
    tokens: float
    tokens_per_param: float
    loss: float | None
    training_flops: float
    total_flops: float
    epochs: float | None = None
    extrapolated: bool = False


@dataclass(frozen=True)
class LawRow:
    """One shown law at the budget.

    Attributes
    ----------
    key, name, label : str
        Registry key, the law's name, and the name as shown (with "edited", "non-embedding N").
    params_meaning : str
        What N counts (a :class:`~scaling_explorer.counting.ParamCount` value).
    params, tokens, tokens_per_param : float
        The compute-optimal (training-only, unconstrained) N and D at the budget, and D / N. The
        answer to the scenario's question may be another allocation: see :attr:`answer`.
    loss : float or None
        The law's loss on its own frontier (nats/token); None for allocation-only laws.
    extrapolated : bool
        True when the budget lies outside the FLOPs the law was fitted on.
    fitted_flops : (float, float) or None
        That fitted span.
    edited : bool
        True when the scenario edits the law's coefficients.
    total_flops : float or None
        Training plus inference FLOPs of the compute-optimal allocation under the scenario's demand
        (None without demand).
    epochs : float or None
        D / U of the compute-optimal allocation when unique tokens are limited.
    flop_model : str
        The FLOP model the budget is counted with (the scenario's ``flop_model``).
    training_flops : float
        Training FLOPs of the compute-optimal allocation under the law's FLOP model (the budget).
    extras : dict
        {extra name: {value name: value}} for every registered extra (:data:`EXTRAS`) that applies
        to the scenario and could be computed for this law.
    reasons : dict
        {extra name: why it is missing} for extras that apply but could not be computed.
    warnings : tuple of str
        What weakens this row's numbers (extrapolation, implausible coefficients, a known flaw of the
        law's N such as DeepSeek's N = M / 6, :func:`scaling_explorer.laws.law_caveat`).
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
    flop_model: str = "6ND"
    training_flops: float = math.nan
    extras: dict = dataclasses.field(default_factory=dict, compare=False)
    reasons: dict = dataclasses.field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = ()

    def extra(self, name: str) -> dict | None:
        """The values of extra ``name``, or None when it does not apply or is missing (see :attr:`reasons`)."""
        return self.extras.get(name)

    @property
    def compute_optimal(self) -> Optimum:
        """The training-only, unconstrained compute-optimal allocation at the budget."""
        return Optimum(params=self.params, tokens=self.tokens, tokens_per_param=self.tokens_per_param,
                       loss=self.loss, training_flops=self.training_flops,
                       total_flops=self.training_flops if self.total_flops is None else self.total_flops,
                       epochs=self.epochs, extrapolated=self.extrapolated)

    @property
    def answer_name(self) -> str:
        """Which allocation answers the scenario's question: ``compute_optimal`` or an extra's name."""
        ranked = [(EXTRAS[n].answers, n) for n in self.extras if n in EXTRAS and EXTRAS[n].answers > 0]
        return max(ranked)[1] if ranked else "compute_optimal"

    @property
    def answer(self) -> Optimum:
        """The allocation that answers the question asked (data-constrained with unique tokens, a target's...)."""
        name = self.answer_name
        return self.compute_optimal if name == "compute_optimal" else self.optimum(name)

    def optimum(self, name: str) -> Optimum | None:
        """The allocation extra ``name`` gives (``inference_aware``, ...); None where not asked for or missing."""
        values = self.extras.get(name)
        return None if values is None else Optimum(**{f: values[f] for f in _OPTIMUM_FIELDS if f in values})

    def __getattr__(self, name: str) -> Optimum | None:
        # Old readers name an allocation extra as an attribute (row.inference_aware, row.target).
        extra = EXTRAS.get(name) if not name.startswith("_") else None
        if extra is None or extra.shown_as != "allocation":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.optimum(name)

    @property
    def notes(self) -> tuple[str, ...]:
        """Why requested results are missing, as text (the :attr:`reasons`' values, repeats dropped)."""
        return tuple(dict.fromkeys(self.reasons.values()))


_OPTIMUM_FIELDS = ("params", "tokens", "tokens_per_param", "loss", "training_flops", "total_flops", "epochs",
                   "extrapolated")

SCHEMA_ID = "scaling-explorer/readout/1"
#: A row's top-level columns, in order (``fitted_flops`` flattens to ``_low``/``_high``).
ROW_COLUMNS = ["key", "name", "label", "params_meaning", "flop_model", "edited", "answer", "params", "tokens",
               "tokens_per_param", "loss", "training_flops", "extrapolated", "fitted_flops_low", "fitted_flops_high",
               "warnings", "reasons"]
LAW_COLUMNS = ROW_COLUMNS  # the old name


@dataclass(frozen=True)
class ModelStatus:
    """The selected model judged by one shown law (see :func:`scaling_explorer.catalog.classify`).

    ``status`` is under the whole scenario (at the demand when it is set), ``status_training`` without demand.
    """

    key: str
    label: str
    status: str
    status_training: str
    d_over_d_opt: float
    efficiency: float
    flops: float
    tokens_per_param: float
    params_basis: str
    not_plotted: str
    break_even_inference_tokens: float | None = None


@dataclass(frozen=True)
class ModelCard:
    """The selected model: its catalog row, its status under each shown law, and the caveats on them.

    ``benchmarks`` holds its observed scores with their source (Ruan et al. 2024), or None where
    that table does not have the model.
    """

    model: pd.Series
    statuses: tuple[ModelStatus, ...]
    caveats: tuple[str, ...]
    benchmarks: ModelScores | None = None


@dataclass(frozen=True)
class StatusCondition:
    """What the published models' status is judged under besides training compute: the inference demand.

    Attributes
    ----------
    symbol, value, unit, noun : str, float, str, str
        As a view writes it: ``T = 1e13 tokens of demand`` (:meth:`text`).
    ratio_column : str
        The models' column of D / D_opt under it.
    columns : tuple of str
        The models' columns it adds, shown beside their status (break-even demand, D / D_opt at the demand).
    applies : bool
        False when the surface law cannot take it: the status is then the training-only one.
    unmet : str
        Why it does not apply.
    """

    symbol: str
    value: float
    unit: str
    noun: str
    ratio_column: str
    applies: bool
    unmet: str

    columns: tuple[str, ...] = ("break_even_inference_tokens", "d_over_d_opt_at_demand")

    def text(self, fmt: Callable[[float], str] = "{:.3g}".format) -> str:
        """``T = 1e+13 tokens of demand``, the value written by ``fmt``."""
        return f"{self.symbol} = {fmt(self.value)} {self.unit} of {self.noun}"


def status_condition(scenario: Scenario, judged_table: pd.DataFrame) -> StatusCondition | None:
    """What ``judged_table`` (:func:`judge` under ``scenario``) judged the models under; None for training alone."""
    if not scenario.inference_tokens > 0:
        return None
    return StatusCondition(symbol="T", value=scenario.inference_tokens, unit="tokens", noun="demand",
                           ratio_column="d_over_d_opt_at_demand",
                           applies="d_over_d_opt_at_demand" in judged_table.columns,
                           unmet="demand needs a Chinchilla-form law")


def law_label(scenario: Scenario, key: str) -> str:
    """The law's name as shown: marked when edited, and when its N is not total parameters."""
    law = scenario.law(key)
    label = law.name + (" (edited)" if scenario.edits_for(key) else "")
    if law.params_meaning is ParamCount.NON_EMBEDDING:
        label += ", non-embedding N"
    elif law.params_meaning is not presets.get_law(key).params_meaning:  # re-counted by the scenario
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
    by Pearce & Song's fit (:func:`~scaling_explorer.counting.non_embedding_counts`), and
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


BREAK_EVEN_NONE = ("trained short of its Chinchilla point: more demand only moves the optimum further from it, "
                   "so no demand makes it optimal")


def _scenario_status(table: pd.DataFrame, law, at_demand: str | None) -> pd.DataFrame:
    """``status`` under the whole scenario, ``status_training`` beside it, and the reasons for missing values."""
    table["status_training"] = table["status"]
    if at_demand is not None:
        table["status"] = table[at_demand]
    placed = table["not_plotted"] == ""  # neither undisclosed nor refused by the law
    reason = pd.Series("", index=table.index, dtype=object)
    missing = placed & table["break_even_inference_tokens"].isna()
    reason[missing] = BREAK_EVEN_NONE if _chinchilla_form(law) else "needs a Chinchilla-form law"
    table["break_even_reason"] = reason
    fitted = law.fitted_range
    table["extrapolated"] = False
    if fitted is not None:
        table.loc[placed, "extrapolated"] = ~fitted.contains(table.loc[placed, "compute_params"].to_numpy(float),
                                                             table.loc[placed, "tokens"].to_numpy(float))
    return table


def _chinchilla_form(law) -> bool:
    from .wrappers import chinchilla_terms

    try:
        chinchilla_terms(law, "break-even demand")
    except NotApplicable:
        return False
    return True


def judge(table: pd.DataFrame, law, scenario: Scenario, *, strict: bool = False) -> pd.DataFrame:
    """A :func:`~scaling_explorer.catalog.classify` table judged by ``law`` under the whole scenario (a copy).

    As :attr:`Readout.all_models` is judged (:func:`_judge`); ``strict``: raise ``NotApplicable`` rather
    than fall back to the training-only status where the law cannot take the scenario's demand.
    """
    return _judge(table, law, scenario.band, scenario.inference_tokens, strict=strict)


def _judge(table: pd.DataFrame, law, band: float, inference_tokens: float = 0.0, *,
           strict: bool = False) -> pd.DataFrame:
    """:func:`judge` with the scenario's band and demand as numbers.

    ``status`` is at the demand ``inference_tokens`` where it is above 0 and the law can take it
    (:func:`~scaling_explorer.catalog.classify_at_demand`: then also ``status_at_demand`` and
    ``d_over_d_opt_at_demand``), with ``status_training`` beside it; ``break_even_inference_tokens``
    (NaN where there is none, ``break_even_reason`` says why) and ``extrapolated`` (N and D outside
    the law's fitted span). ``strict``: raise ``NotApplicable`` rather than fall back to the
    training-only status where the law cannot take the demand.
    """
    if inference_tokens > 0:
        try:  # standing relative to the demand: the cheapest model of the same loss over its lifetime
            judged_table = classify_at_demand(table, law, inference_tokens, (1.0 / band, band))
            return _scenario_status(judged_table, law, "status_at_demand")
        except NotApplicable:
            if strict:
                raise
    table = table.copy()
    placed = table["not_plotted"] == ""  # neither undisclosed nor refused by the law
    table["break_even_inference_tokens"] = np.nan
    if placed.any():
        N, D = (table.loc[placed, c].to_numpy() for c in ("compute_params", "tokens"))
        table.loc[placed, "break_even_inference_tokens"] = break_even(law, N, D)
    return _scenario_status(table, law, None)


@lru_cache(maxsize=64)
def classified_with_break_even(law, band: float, param_count: str = "native") -> pd.DataFrame:
    """:func:`classified` judged without demand (:func:`judge`); cached."""
    return _judge(classified(law, band, param_count), law, band)


@lru_cache(maxsize=64)
def classified_at_demand(law, band: float, inference_tokens: float, param_count: str = "native") -> pd.DataFrame:
    """:func:`classified` judged at the demand (:func:`judge`; ``NotApplicable`` where the law cannot take it).

    Cached: a budget step does not change it.
    """
    return _judge(classified(law, band, param_count), law, band, inference_tokens, strict=True)


def judged(scenario: Scenario, key: str) -> pd.DataFrame:
    """The whole catalog judged by law ``key`` under the scenario (``status`` at the demand where it applies)."""
    s, law = scenario, scenario.law(key)
    if s.inference_tokens > 0:
        try:  # standing relative to the demand: the cheapest model of the same loss over its lifetime
            return classified_at_demand(law, s.band, s.inference_tokens, s.param_count)
        except NotApplicable:
            pass
    return classified_with_break_even(law, s.band, s.param_count)


@lru_cache(maxsize=256)
def _target(law, loss: float, inference_tokens: float):
    # Independent of the budget, so a slider step reuses it.
    return for_loss(law, loss, inference_tokens)


def _finite_or_none(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


# -- extras: results a feature adds to each law's row --------------------------------------------
class Missing(Exception):
    """Raised by an extra's ``compute`` when its value cannot be given for this law; the message says why."""


@dataclass(frozen=True)
class Extra:
    """A result a feature adds to each law's row, declared once (see :func:`register_extra`).

    Attributes
    ----------
    name : str
        Key in :attr:`LawRow.extras`, in the JSON, and the prefix of its frame columns (``name_value``).
    label : str
        As shown in the CLI text and the page's numbers table.
    applies : callable
        ``applies(scenario) -> bool``: whether the scenario asks for it.
    compute : callable
        ``compute(law, scenario, row) -> dict`` of JSON-ready scalars (float, int, bool, str or None);
        ``row`` is the law's :class:`LawRow` with the compute-optimal allocation. Raise
        :class:`Missing` (or :class:`~scaling_explorer.wrappers.NotApplicable`) with the reason when
        the law cannot give it.
    units : dict
        {value name: unit} for the labels (``"FLOPs"``, ``"tokens"``, ``"nats/token"``).
    values : tuple of str
        The value names ``compute`` returns, in display order (the frame's columns).
    answers : int
        0 for a side result; above 0 when, if it applies, it answers the question asked (the
        highest wins): its allocation becomes the row's top level in the exports, and the
        compute-optimal one is kept under ``compute_optimal``.
    doc : str
        One line for the docs.
    note : str
        What a reader must know beside its numbers (a caveat, how far to trust them): shown once
        wherever they appear (:attr:`Readout.notes`, the JSON's ``notes``, the CLI's text).
    shown_as : str
        How the page's numbers table shows it: ``"line"`` (a line under the law's row, each value
        with its unit), ``"allocation"`` (a row of its own with the allocation's columns; its values
        are in the keys of :class:`Optimum`) or ``"range"`` (columns on the law's row, see ``ranges``).
    caption, title : str
        An allocation's row label and its tooltip, as templates over the scenario's fields
        (``"with U = {unique_tokens:count} unique tokens"``; ``:count`` is a count as the page writes it).
    ranges : tuple of (str, str, str)
        For ``"range"``: (column heading as a template over the scenario's fields, low value, high value).
    columns : tuple of str
        The allocation columns beyond N, D, D/N and loss that it makes worth showing
        (``training_flops``, ``total_flops``, ``epochs``: :func:`allocation_columns`).
    caveat : callable or None
        ``caveat(values, scenario) -> str or None``: what is odd about these values for this law, shown
        beside them on the page.
    """

    name: str
    label: str
    applies: Callable[[Scenario], bool]
    compute: Callable[..., dict]
    values: tuple[str, ...]
    units: dict = dataclasses.field(default_factory=dict)
    answers: int = 0
    doc: str = ""
    note: str = ""
    shown_as: str = "line"
    caption: str = ""
    title: str = ""
    ranges: tuple[tuple[str, str, str], ...] = ()
    columns: tuple[str, ...] = ()
    caveat: Callable[[dict, Scenario], str | None] | None = None


#: The registered extras, in registration (display) order.
EXTRAS: dict[str, Extra] = {}
#: How the page's numbers table can show an extra (:attr:`Extra.shown_as`).
SHOWN_AS = ("line", "allocation", "range")
#: Columns of an allocation beyond N, D, D/N and loss, in display order, shown where an applying extra asks for
#: them (:attr:`Extra.columns`): (label, tooltip).
ALLOCATION_COLUMNS = {"training_flops": ("training FLOPs", ""),
                      "total_flops": ("total FLOPs (training + inference)", "training + 2·N·T inference FLOPs"),
                      "epochs": ("epochs (D / U)", "")}


def applying_extras(scenario: Scenario) -> tuple[Extra, ...]:
    """The registered extras that ``scenario`` asks for, in display order."""
    return tuple(e for e in EXTRAS.values() if e.applies(scenario))


def allocation_columns(scenario: Scenario, applying: tuple[Extra, ...] | None = None) -> list[str]:
    """The columns of :data:`ALLOCATION_COLUMNS` that the extras applying to ``scenario`` ask for, in order.

    ``applying`` gives those extras when known (:attr:`Readout.applying`), to save asking each again.
    """
    applying = applying_extras(scenario) if applying is None else applying
    wanted = {c for e in applying for c in e.columns}
    return [c for c in ALLOCATION_COLUMNS if c in wanted]


def register_extra(name: str, *, label: str, applies: Callable[[Scenario], bool], compute: Callable[..., dict],
                   values: tuple[str, ...], units: dict | None = None, answers: int = 0, doc: str = "",
                   note: str = "", replace: bool = False, **shown) -> Extra:
    """Register a result every law's row carries when ``applies(scenario)``; returns its :class:`Extra`.

    ``shown`` takes how the page's numbers table shows it (``shown_as``, ``caption``, ``title``,
    ``ranges``, ``columns``, ``caveat``: see :class:`Extra`); by default a line under the law's row.
    Raises ``ValueError`` when ``name`` is taken (unless ``replace``), clashes with a row column or a
    LawRow attribute, or ``shown_as`` is not one of :data:`SHOWN_AS`.
    """
    if not replace and name in EXTRAS:
        raise ValueError(f"extra {name!r} is already registered")
    if name in ROW_COLUMNS or name in ("compute_optimal", "extras", "reasons", "warnings") or hasattr(LawRow, name):
        raise ValueError(f"extra {name!r} would shadow a row column")
    if shown.get("shown_as", "line") not in SHOWN_AS:
        raise ValueError(f"shown_as: {shown['shown_as']!r} is not one of {', '.join(SHOWN_AS)}")
    unknown = set(shown.get("columns", ())) - set(ALLOCATION_COLUMNS)
    if unknown:
        raise ValueError(f"columns: {', '.join(sorted(unknown))} not among {', '.join(ALLOCATION_COLUMNS)}")
    extra = Extra(name=name, label=label, applies=applies, compute=compute, values=tuple(values),
                  units=dict(units or {}), answers=answers, doc=doc, note=note, **shown)
    EXTRAS[name] = extra
    return extra


_NO_EPOCHS = tuple(f for f in _OPTIMUM_FIELDS if f != "epochs")
def unregister_extra(name: str) -> None:
    """Remove a registered extra (for tests and notebooks that register their own)."""
    del EXTRAS[name]


OPTIMUM_UNITS = {"params": "parameters", "tokens": "tokens", "tokens_per_param": "tokens/parameter",
                 "loss": "nats/token", "training_flops": "FLOPs", "total_flops": "FLOPs", "epochs": "epochs"}


def _optimum(law, N, D, T: float, unique: float | None = None, loss: float | None = None) -> dict:
    training = float(law.flop_model.flops(N, D))
    if loss is None and law.has_loss:
        loss = float(law.loss(N, D))
    fitted = law.fitted_range
    return dict(params=float(N), tokens=float(D), tokens_per_param=float(D / N), loss=loss,
                training_flops=training, total_flops=training + INFERENCE_FLOPS_PER_PARAM_TOKEN * float(N) * T,
                epochs=None if unique is None else float(D) / unique,
                extrapolated=bool(fitted is not None and not fitted.contains_flops(training)))


def _inference_aware(law, s: Scenario, row: LawRow) -> dict:
    if row.loss is None:
        raise Missing("inference demand: an allocation law has no loss to hold fixed")
    try:
        N, D = optimum_for_loss(law, row.loss, s.inference_tokens)
    except NotApplicable:
        raise Missing("inference demand needs a Chinchilla-form law") from None
    return _optimum(law, N, D, s.inference_tokens)


def _data_constrained(law, s: Scenario, row: LawRow) -> dict:
    try:
        constrained = DataConstrained(law, s.unique_tokens)
    except NotApplicable:
        raise Missing("a unique-token budget needs a Chinchilla-form law") from None
    N, D = constrained.compute_optimal(s.budget)
    return _optimum(law, N, D, s.inference_tokens, s.unique_tokens, float(constrained.loss(N, D)))


def _flat_range(law, s: Scenario, row: LawRow) -> dict:
    if not law.has_loss:
        raise Missing("an allocation law has no loss to be flat in")
    from .frontier import flat_optimum

    flat = flat_optimum(law, s.budget, s.flatness)
    return dict(tolerance=s.flatness, params_low=float(flat.params_low), params_high=float(flat.params_high),
                tokens_low=float(flat.tokens_low), tokens_high=float(flat.tokens_high))


def _target_for(demand: Callable[[Scenario], float]):
    def compute(law, s: Scenario, row: LawRow) -> dict:
        T = demand(s)
        try:
            t = _target(law, s.target_loss, T)
        except NotApplicable as exc:
            raise Missing(f"target loss: {exc}") from None
        except ValueError:
            raise Missing(f"target loss {s.target_loss:g} is out of this law's reach") from None
        return _optimum(law, t.params, t.tokens, s.inference_tokens)
    return compute


register_extra("inference_aware", label="inference-aware, same loss", applies=lambda s: s.inference_tokens > 0,
               compute=_inference_aware, values=_NO_EPOCHS, units=OPTIMUM_UNITS,
               doc="with demand: the allocation of the compute-optimal loss cheapest over training plus inference "
                   "(Sardana, Portes, Doubov and Frankle, ICML 2024)",
               shown_as="allocation", caption="inference-aware, T = {inference_tokens:count} tokens",
               title="the same loss at the lowest training + inference FLOPs (Sardana et al. 2024)",
               columns=("training_flops", "total_flops"))
register_extra("data_constrained", label="data-constrained optimum", applies=lambda s: s.unique_tokens is not None,
               compute=_data_constrained, values=_OPTIMUM_FIELDS, units=OPTIMUM_UNITS, answers=1,
               doc="with limited unique tokens: the lowest-loss allocation of the budget, repeating data "
                   "(Muennighoff et al. 2023)",
               shown_as="allocation", caption="with U = {unique_tokens:count} unique tokens",
               title="the lowest loss of this budget when data repeats past U unique tokens (Muennighoff et al. 2023)",
               columns=("epochs",))
register_extra("flat_range", label="near-optimal range", applies=lambda s: s.flatness is not None,
               compute=_flat_range, values=("tolerance", "params_low", "params_high", "tokens_low", "tokens_high"),
               units={"tolerance": "relative loss", "params_low": "parameters", "params_high": "parameters",
                      "tokens_low": "tokens", "tokens_high": "tokens"},
               doc="N and D at the ends of the budget's iso-FLOP line whose loss is within the tolerance",
               shown_as="range", ranges=(("N within {flatness:.1%} of the optimal loss", "params_low", "params_high"),
                                         ("D in that range", "tokens_low", "tokens_high")))


def _target_caveat(values: dict, s: Scenario) -> str | None:
    loss = values.get("loss")
    if loss is None or math.isclose(loss, s.target_loss, rel_tol=1e-3):
        return None
    # Kaplan's budget for a loss comes from its compute law L(C_min), fitted to early-stopped runs; its L(N, D)
    # (eq. 1.5) at that allocation gives another number. Say so, beside it.
    return (f"the budget for loss {s.target_loss:g} comes from its compute law L(C), fitted to early-stopped runs; "
            f"at that (N, D) its own L(N, D) predicts {loss:.3f}, shown above. Its frontier is not the minimum of its "
            "L(N, D), so the two disagree.")


register_extra("target", label="cheapest to reach the target", applies=lambda s: s.target_loss is not None,
               compute=_target_for(lambda s: 0.0), values=_NO_EPOCHS, units=OPTIMUM_UNITS, answers=2,
               doc="with a target loss: the cheapest training-only allocation reaching it",
               shown_as="allocation", caption="reaching loss {target_loss:g}",
               title="the cheapest training-only allocation reaching the target loss", columns=("training_flops",),
               caveat=_target_caveat)
register_extra("target_inference_aware", label="cheapest to reach the target over the lifetime",
               applies=lambda s: s.target_loss is not None and s.inference_tokens > 0,
               compute=_target_for(lambda s: s.inference_tokens), values=_NO_EPOCHS, units=OPTIMUM_UNITS,
               answers=3, doc="with a target loss and demand: the allocation reaching it cheapest over training "
                              "plus inference",
               shown_as="allocation", caption="reaching loss {target_loss:g}, serving T",
               title="the cheapest allocation over the model's life reaching the target loss",
               columns=("training_flops", "total_flops"))


def own_model(law, params: float, tokens: float, band: float) -> dict:
    """A model of ``params`` parameters trained on ``tokens`` tokens against ``law``, as a published model's point.

    Returns
    -------
    dict
        ``params``, ``tokens``, ``flops`` (under the law's FLOP model), ``loss`` (nats/token, the law's
        L(N, D)), ``d_over_d_opt`` (D over the law's compute-optimal D at those FLOPs) and ``status``
        (undertrained below 1/band, over-trained above band, else near-optimal, as
        :func:`scaling_explorer.catalog.classify`).
    """
    if not law.has_loss:
        raise Missing("an allocation law gives no loss for your model")
    from .catalog import NEAR_OPTIMAL, OVERTRAINED, UNDERTRAINED
    from .frontier import allocation

    a = allocation(law, params, tokens)
    ratio = float(a.d_over_d_opt)
    status = UNDERTRAINED if ratio < 1 / band else OVERTRAINED if ratio > band else NEAR_OPTIMAL
    return dict(params=float(params), tokens=float(tokens), flops=float(a.flops), loss=_finite_or_none(a.loss),
                d_over_d_opt=ratio, status=status)


def _mine(law, s: Scenario, row: LawRow) -> dict:
    return own_model(law, *s.mine, s.band)


register_extra("mine", label="your model", applies=lambda s: s.mine is not None, compute=_mine,
               values=("params", "tokens", "flops", "loss", "d_over_d_opt", "status"),
               units={"params": "parameters", "tokens": "tokens", "flops": "FLOPs", "loss": "nats/token",
                      "d_over_d_opt": "D / D_opt", "status": ""},
               doc="with your own model (mine=N:D): its FLOPs, predicted loss and status at its own compute, "
                   "with the near-optimal band (as a published model's)")

@lru_cache(maxsize=256)
def _coefficient_warnings(law) -> tuple[str, ...]:
    return tuple(laws.implausible_coefficients(law))


def extrapolation_warning(key: str, fitted_flops: tuple[float, float] | None) -> str:
    """The warning for a budget outside law ``key``'s fitted FLOPs (``None``: a span its source does not state)."""
    if fitted_flops is None:
        return f"{key}'s source does not state the FLOPs it was fitted on; treat this budget as an extrapolation"
    low, high = fitted_flops
    return f"{key} was fitted on {low:.2g} to {high:.2g} FLOPs; this budget is an extrapolation"


def law_row(scenario: Scenario, key: str, applying: tuple[Extra, ...] | None = None) -> LawRow:
    """The row of law ``key`` at the scenario's budget, with every extra the scenario asks for (``applying``)."""
    law = scenario.law(key)
    C = scenario.budget
    N, D = (float(x) for x in law.compute_optimal(C))
    fitted = law.fitted_range
    loss = _finite_or_none(law.frontier_loss(C)) if law.has_loss else None
    fitted_flops = None if fitted is None or not all(map(math.isfinite, fitted.flops)) else tuple(fitted.flops)
    T, U = scenario.inference_tokens, scenario.unique_tokens
    extrapolated = bool(fitted is not None and not fitted.contains_flops(C))
    warnings = _coefficient_warnings(law)
    if laws.law_caveat(law):  # a known flaw of the law's N holds at any budget (e.g. DeepSeek's N = M / 6)
        warnings += (laws.law_caveat(law),)
    if extrapolated:
        warnings += (extrapolation_warning(key, fitted_flops),)
    extras, reasons = {}, {}  # filled below: the extras see the row they extend
    row = LawRow(
        key=key, name=law.name, label=law_label(scenario, key), params_meaning=law.params_meaning.value,
        params=N, tokens=D, tokens_per_param=D / N, loss=loss,
        # A span the law's source does not state is NaN: unknown, so flagged.
        extrapolated=extrapolated, fitted_flops=fitted_flops, edited=bool(scenario.edits_for(key)),
        flop_model=scenario.flop_model,
        # compute_optimal(C) returns a point on the law's own budget line: its training FLOPs are C.
        training_flops=C,
        total_flops=float(lifetime_flops(law, N, D, T)) if T else None, epochs=None if U is None else D / U,
        extras=extras, reasons=reasons, warnings=warnings,
    )
    for extra in applying_extras(scenario) if applying is None else applying:
        try:
            extras[extra.name] = extra.compute(law, scenario, row)
        except (Missing, NotApplicable) as exc:
            reasons[extra.name] = str(exc)
    return row


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
    applying : tuple of Extra
        The registered extras the scenario asks for, in display order.
    """

    scenario: Scenario
    budget: BudgetReadout
    rows: tuple[LawRow, ...]
    applying: tuple[Extra, ...] = ()

    @cached_property
    def all_models(self) -> pd.DataFrame:
        """The whole catalog classified under the scenario's surface law (unfiltered).

        ``status`` is each model's standing under the whole scenario (at the inference demand when
        ``serve`` is set and the law can take it) and ``status_training`` its training-only standing:
        every view reads ``status``. Also ``break_even_inference_tokens`` (NaN where none, with
        ``break_even_reason``), ``extrapolated`` (N, D outside the law's fitted span) and, with
        demand, ``d_over_d_opt_at_demand``.
        """
        return judged(self.scenario, self.scenario.surface)

    @cached_property
    def status_condition(self) -> StatusCondition | None:
        """What the models' status (and the shading) is judged under besides training: None when nothing is."""
        return status_condition(self.scenario, self.all_models)

    def band_edges(self, flops) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The near-optimal band's edges for the surface law along budgets ``flops``: (N_low, D_low, N_high, D_high).

        Below the low edge a model is undertrained and above the high edge over-trained, judged as
        :attr:`all_models`' ``status`` is (relative to the demand where :attr:`status_condition` applies:
        the cheapest model of each loss over its life). Points where no model reaches the loss are dropped.
        """
        from . import frontier
        from .wrappers import band_edge_at_demand

        s = self.scenario
        surface, band = s.law(s.surface), s.band
        condition = self.status_condition
        if condition is None or not condition.applies:
            return (*frontier.band_edge(surface, flops, 1.0 / band), *frontier.band_edge(surface, flops, band))
        levels = frontier.optimal_loss(surface, flops)
        edges = []
        for ratio in (1.0 / band, band):
            N, D = band_edge_at_demand(surface, levels, ratio, condition.value)
            keep = np.isfinite(N) & np.isfinite(D)
            edges += [N[keep], D[keep]]
        return tuple(edges)

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
            row = judged(s, key).set_index("name").loc[s.model]
            statuses.append(ModelStatus(
                key=key, label=law_label(s, key), status=row["status"], status_training=row["status_training"],
                d_over_d_opt=float(row["d_over_d_opt"]),
                efficiency=float(row["efficiency"]), flops=float(row["flops"]),
                tokens_per_param=float(row["tokens_per_param"]), params_basis=row["params_basis"],
                not_plotted=row["not_plotted"],
                break_even_inference_tokens=None if row["not_plotted"] else _finite_or_none(
                    break_even(s.law(key), row["compute_params"], row["tokens"])),
            ))
        model = self.all_models[self.all_models["name"] == s.model].iloc[0]
        return ModelCard(model=model, statuses=tuple(statuses), caveats=tuple(model["caveats"]),
                         benchmarks=scores_of(s.model))

    @property
    def notes(self) -> dict[str, str]:
        """{extra name: its note} for every extra with a note that some row carries, in display order."""
        given = {name for r in self.rows for name in r.extras}
        return {name: e.note for name, e in EXTRAS.items() if e.note and name in given}

    def row(self, key: str) -> LawRow:
        """The row of the shown law ``key``."""
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)

    # -- export ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The one JSON shape (``docs/readout.schema.json``): the scenario, the budget and one record per law.

        Each row's top level is the allocation answering the question asked (``answer`` names it:
        ``compute_optimal``, or an extra such as ``data_constrained`` or ``target``); when that is
        not the compute-optimal one, the compute-optimal one is kept under ``compute_optimal``.
        """
        s = self.scenario
        return {"schema": SCHEMA_ID, "scenario": s.to_query(), "flop_model": s.flop_model,
                "budget": asdict(self.budget), "rows": [row_record(r) for r in self.rows], "notes": self.notes}

    def to_frame(self) -> pd.DataFrame:
        """One row per shown law (the flattened :meth:`to_dict` rows), with the budget's conversions as columns.

        Extras add their columns (``<extra>_<value>``) only when the scenario asks for them.
        """
        b = self.budget
        budget = {"flops": b.flops, "pf_days": b.pf_days, "gpu_hours": b.gpu_hours, "cost_usd": b.cost_usd,
                  "hardware": b.hardware, "mfu": b.mfu}
        columns = [*frame_columns(self.scenario), *budget]
        return pd.DataFrame([flat_record(row_record(r)) | budget for r in self.rows], columns=columns)

    def to_csv(self) -> str:
        """:meth:`to_frame` as CSV text."""
        return self.to_frame().to_csv(index=False)

    def models_to_csv(self) -> str:
        """The filtered, classified models as CSV text."""
        return self.models.drop(columns=["notes"], errors="ignore").to_csv(index=False, date_format="%Y-%m-%d")




def row_record(r: LawRow) -> dict:
    """One law's record in the JSON shape: the answer at top level, the extras by name."""
    answer = r.answer
    record = {"key": r.key, "name": r.name, "label": r.label, "params_meaning": r.params_meaning,
              "flop_model": r.flop_model, "edited": r.edited, "answer": r.answer_name,
              **{f: getattr(answer, f) for f in _OPTIMUM_FIELDS},
              "fitted_flops": None if r.fitted_flops is None else list(r.fitted_flops),
              "warnings": list(r.warnings), "reasons": dict(r.reasons)}
    if r.answer_name != "compute_optimal":
        record["compute_optimal"] = asdict(r.compute_optimal)
    record["extras"] = {name: dict(values) for name, values in r.extras.items()}
    return record


def frame_columns(scenario: Scenario) -> list[str]:
    """The frame's law columns for ``scenario``: the row's, then each applying extra's values."""
    columns = list(ROW_COLUMNS)
    i = columns.index("training_flops") + 1
    columns[i:i] = [c for c in allocation_columns(scenario) if c not in columns]
    applying = [e for e in EXTRAS.values() if e.applies(scenario)]
    if any(e.answers for e in applying):
        columns += [f"compute_optimal_{f}" for f in _OPTIMUM_FIELDS]
    return columns + [f"{e.name}_{v}" for e in applying for v in e.values]


def flat_record(record: dict) -> dict:
    """A :func:`row_record` flattened to one level (the frame's, the CSV's and the numbers table's columns)."""
    out = {k: v for k, v in record.items() if k not in ("fitted_flops", "compute_optimal", "extras", "warnings",
                                                        "reasons")}
    out["fitted_flops_low"], out["fitted_flops_high"] = record["fitted_flops"] or (None, None)
    out["warnings"] = "; ".join(record["warnings"])
    out["reasons"] = "; ".join(dict.fromkeys(record["reasons"].values()))
    for name, values in [("compute_optimal", record.get("compute_optimal") or {}), *record["extras"].items()]:
        out.update({f"{name}_{k}": v for k, v in values.items()})
    return out


def numbers_table(readout: Readout) -> tuple[list[tuple[str, str]], list[dict]]:
    """The page's numbers table: ``(columns, rows)``.

    ``columns`` is ``[(column name, label with unit)]`` in display order (the answer's allocation,
    then each applying extra's values); ``rows`` one flat record per shown law (as :meth:`Readout.to_frame`,
    without the budget's columns). Reasons and warnings are in the rows' ``reasons`` and ``warnings``.
    """
    s = readout.scenario
    labels = {"label": "law", "params": "N (parameters)", "tokens": "D (tokens)", "tokens_per_param": "D/N",
              "loss": "loss (nats/token)"}
    columns = [*labels.items(), *((c, ALLOCATION_COLUMNS[c][0]) for c in allocation_columns(s))]
    for extra in EXTRAS.values():
        if extra.applies(s):
            columns += [(f"{extra.name}_{v}", f"{extra.label}: {v.replace('_', ' ')}"
                         + (f" ({extra.units[v]})" if v in extra.units else "")) for v in extra.values]
    return columns, [flat_record(row_record(r)) for r in readout.rows]


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
    applying = applying_extras(scenario)  # asked once, not once per law
    return Readout(scenario=scenario, budget=budget_readout(scenario),
                   rows=tuple(law_row(scenario, key, applying) for key in scenario.laws), applying=applying)


# The extras of the features beyond the pre-training budget register themselves (after the built-ins above).
from . import extras as _extras  # noqa: E402, F401
