"""Published models: load and validate ``data/models.csv``, classify each model against a law.

Every model is compared with the law at its own training compute under the law's FLOP model
(C = 6·N·D for most laws), with N the *active* parameters for a mixture-of-experts model under a
dense law (the FLOPs per token scale with them). A law that describes only some architectures
(Krajewski et al.'s fine-grained MoE law) refuses the others: status ``not described``, with
the reason, never a number.
"""

from __future__ import annotations

import io
from importlib.resources import files

import numpy as np
import pandas as pd

from .compute import FLOPS_PER_PARAM_TOKEN
from .conventions import NON_EMBEDDING_ROUTES, non_embedding_counts
from .frontier import allocation
from .laws import NON_EMBEDDING_PARAMS

#: The shipped catalog. ``data/`` at the top of the repository is installed as the package
#: ``scaling_explorer.data`` (pyproject ``package-dir``), so this resolves in a wheel install too.
MODELS_CSV = files("scaling_explorer.data") / "models.csv"

REQUIRED_COLUMNS = [
    "name", "family", "organization", "release_date", "params", "active_params", "non_embedding_params",
    "tokens", "flops_reported", "open_weights", "architecture", "source", "source_detail", "notes",
]
NUMBER_COLUMNS = ["params", "active_params", "non_embedding_params", "tokens", "flops_reported"]
ARCHITECTURES = {"dense", "moe"}

#: Caveat and architecture columns (data/README.md, "Columns" and "Conventions and caveats").
#: Optional in a user's file: a missing one reads as empty, a present one is validated like the others.
CAVEAT_COLUMNS = ["params_precision", "epochs", "unique_tokens", "distilled_from", "continued_from"]
ARCH_COLUMNS = ["vocab_size", "d_model", "n_layers", "tied_embeddings", "arch_source"]
OPTIONAL_COLUMNS = CAVEAT_COLUMNS + ARCH_COLUMNS
ARCH_INTEGER_COLUMNS = ["vocab_size", "d_model", "n_layers"]
#: exact: the developer's full count (e.g. Gemma 2's 2,614,636,800); rounded: the developer's count
#: rounded to a few digits (Qwen2.5 card's 7.61B, Llama 3.2's 1.23B); nominal: the size in the name.
PARAMS_PRECISIONS = {"exact", "rounded", "nominal"}

#: Default near-optimal band on D / D_opt: within a factor 2 of the law's optimal tokens at the
#: model's own compute, i.e. a model between half and twice the compute-optimal size.
NEAR_OPTIMAL_BAND = (0.5, 2.0)

UNDERTRAINED, NEAR_OPTIMAL, OVERTRAINED, NOT_PLOTTED = "undertrained", "near-optimal", "overtrained", "undisclosed"
#: The status of a model the law cannot describe (a dense model under an MoE-only law); the reason
#: is in ``not_plotted``.
NOT_DESCRIBED = "not described"


class CatalogError(ValueError):
    """A models file that does not validate; ``problems`` lists every bad row and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:30]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{len(problems)} problem(s) in the models file:\n  " + "\n  ".join(shown) + more)


def _read_csv(source) -> pd.DataFrame:
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise CatalogError([f"file not found: {source}"]) from None
    except pd.errors.EmptyDataError:
        raise CatalogError(["the file is empty"]) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CatalogError([f"not a readable CSV file: {str(exc).splitlines()[0]}"]) from None


def load_models(path=None) -> pd.DataFrame:
    """Load and validate a models file (default: the shipped ``data/models.csv``).

    Parameters
    ----------
    path : str, Path, bytes or file-like, optional
        A CSV in the schema of ``data/models.csv``; extra columns are kept. The caveat and
        architecture columns (:data:`OPTIONAL_COLUMNS`) may be absent and then read as empty.

    Returns
    -------
    DataFrame
        One row a model; number columns (``epochs``, ``unique_tokens``, ``vocab_size``,
        ``d_model``, ``n_layers`` too) as floats (NaN where undisclosed), ``release_date`` as
        datetime, ``open_weights`` as bool, ``tied_embeddings`` as True/False/None.

    Raises
    ------
    CatalogError
        Listing every bad row and column.
    """
    raw = _read_csv(MODELS_CSV.read_bytes() if path is None else path)
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        hint = ""
        if len(raw.columns) == 1 and any(sep in raw.columns[0] for sep in ";\t|"):
            hint = " (the file looks separated by something other than commas; save it as comma-separated CSV)"
        raise CatalogError([f"missing column(s): {', '.join(missing)}{hint}"])
    if raw.empty:
        raise CatalogError(["the file has a header but no models"])

    problems: list[str] = []
    df = raw.copy()
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.apply(lambda col: col.str.strip() if col.dtype == object else col)
    label = [f"line {i + 2} ({name or 'no name'})" for i, name in enumerate(df["name"])]

    for i in np.flatnonzero(df["name"] == ""):
        problems.append(f"{label[i]}, column name: empty")
    for i in np.flatnonzero(df["name"].duplicated(keep="first") & (df["name"] != "")):
        problems.append(f"{label[i]}, column name: duplicate of an earlier row")

    for col in NUMBER_COLUMNS:
        _numbers(df, col, label, problems)

    dates = pd.to_datetime(df["release_date"], format="%Y-%m-%d", errors="coerce")
    for i in np.flatnonzero(dates.isna()):
        problems.append(f"{label[i]}, column release_date: {df['release_date'].iloc[i]!r} is not YYYY-MM-DD")
    df["release_date"] = dates

    weights = df["open_weights"].str.lower()
    for i in np.flatnonzero(~weights.isin(["true", "false"])):
        problems.append(f"{label[i]}, column open_weights: {df['open_weights'].iloc[i]!r} is not true/false")
    df["open_weights"] = weights == "true"

    arch = df["architecture"].str.lower()
    for i in np.flatnonzero(~arch.isin(ARCHITECTURES | {""})):
        problems.append(f"{label[i]}, column architecture: {df['architecture'].iloc[i]!r} is not dense or moe")
    df["architecture"] = arch
    for i in np.flatnonzero((arch == "moe") & df["active_params"].isna()):
        problems.append(f"{label[i]}, column active_params: required for a moe model")
    for i in np.flatnonzero(df["active_params"] > df["params"]):
        problems.append(f"{label[i]}, column active_params: larger than params")

    problems += _check_caveat_columns(df, label)

    with np.errstate(over="ignore"):
        flops = FLOPS_PER_PARAM_TOKEN * compute_params(df)[0] * df["tokens"]
    for i in np.flatnonzero(np.isinf(flops)):
        problems.append(f"{label[i]}, columns params and tokens: 6·N·D overflows; check the magnitudes")

    has_number = df[NUMBER_COLUMNS + ["epochs", "unique_tokens"]].notna().any(axis=1)
    for i in np.flatnonzero(has_number & (df["source"] == "")):
        problems.append(f"{label[i]}, column source: every number needs a source")

    if problems:
        raise CatalogError(problems)
    df = df.reset_index(drop=True)
    placed = non_embedding_placement(df)
    df["non_embedding_route"] = placed["non_embedding_route"]
    df["non_embedding_placement"] = placed["non_embedding_placement"]
    return df


def non_embedding_placement(models: pd.DataFrame) -> pd.DataFrame:
    """Each dense model's non-embedding parameter count, the route that placed it, and that route in words.

    Routes, best first (:data:`NON_EMBEDDING_ROUTES`): the developer's ``published`` count;
    ``vocab x d_model``, the total minus the embeddings from the architecture columns (exact up to
    the vocabulary padding, which ``notes`` mention); and ``Pearce & Song fit``, their fit to
    Chinchilla's 32k-vocabulary shapes (arXiv:2406.12907), which overstates the count for the
    128k-262k vocabularies of recent models (Gemma 3 270M 2.4x, Llama 3.2 1B 1.22x) and is used only
    when the first two are missing. Mixture-of-experts rows get no count: their FLOPs follow the
    active parameters, whose embedding share is not published.

    Returns
    -------
    DataFrame
        ``non_embedding_count`` (NaN where none), ``non_embedding_route`` (a route or '') and
        ``non_embedding_placement`` (one sentence for the model card and the plot's hover), on
        ``models``' index.
    """
    counts = non_embedding_counts(models)
    route = counts["non_embedding_basis"]
    vocab = _column(models, "vocab_size", np.nan)
    width = _column(models, "d_model", np.nan)
    moe = _column(models, "architecture", "") == "moe"
    untied = _column(models, "tied_embeddings", None).map(lambda t: t is False or str(t).lower() == "false")
    text = []
    for i in range(len(models)):
        n, r = counts["non_embedding_params"].iloc[i], route.iloc[i]
        if r == NON_EMBEDDING_ROUTES[0]:
            text.append(f"non-embedding N {n:.3g}: published by the developer")
        elif r == NON_EMBEDDING_ROUTES[1]:
            twice = " x 2 (untied input and output)" if untied.iloc[i] else ""
            text.append(f"non-embedding N {n:.3g}: total minus vocabulary x d_model "
                        f"({vocab.iloc[i]:,.0f} x {width.iloc[i]:,.0f}{twice})")
        elif r == NON_EMBEDDING_ROUTES[2]:
            text.append(f"non-embedding N {n:.3g}: estimated by Pearce & Song's 32k-vocabulary fit "
                        "(no published count or d_model; overstates it for large vocabularies)")
        elif moe.iloc[i]:
            text.append("no non-embedding N: a mixture of experts is placed by its active parameters")
        else:
            text.append("no non-embedding N: parameter count undisclosed")
    return pd.DataFrame({"non_embedding_count": counts["non_embedding_params"], "non_embedding_route": route,
                         "non_embedding_placement": text}, index=models.index)


def _numbers(df: pd.DataFrame, col: str, label: list[str], problems: list[str], integer: bool = False) -> None:
    """Parse ``df[col]`` in place as positive finite floats (NaN where empty), listing bad cells."""
    text = df[col]
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    for i in np.flatnonzero((text != "") & values.isna()):
        problems.append(f"{label[i]}, column {col}: {text.iloc[i]!r} is not a number")
    bad = values.notna() & ~(np.isfinite(values) & (values > 0))
    for i in np.flatnonzero(bad):
        problems.append(f"{label[i]}, column {col}: {text.iloc[i]} must be positive and finite")
    if integer:
        for i in np.flatnonzero(values.notna() & ~bad & (values != np.round(values))):
            problems.append(f"{label[i]}, column {col}: {text.iloc[i]} is not a whole number")
    df[col] = values.astype(float)


def _check_caveat_columns(df: pd.DataFrame, label: list[str]) -> list[str]:
    """Validate and convert the caveat and architecture columns in place; the problems found."""
    problems: list[str] = []
    precision = df["params_precision"].str.lower()
    for i in np.flatnonzero(~precision.isin(PARAMS_PRECISIONS | {""})):
        problems.append(f"{label[i]}, column params_precision: {df['params_precision'].iloc[i]!r} is not "
                        "exact, rounded or nominal")
    for i in np.flatnonzero((precision != "") & df["params"].isna()):
        problems.append(f"{label[i]}, column params_precision: set but params is empty")
    df["params_precision"] = precision

    _numbers(df, "epochs", label, problems)
    for i in np.flatnonzero(df["epochs"] < 1):
        problems.append(f"{label[i]}, column epochs: {df['epochs'].iloc[i]:g} is below 1 (a model sees its data "
                        "at least once; leave it empty for a single pass)")
    _numbers(df, "unique_tokens", label, problems)
    for i in np.flatnonzero(df["unique_tokens"] > df["tokens"]):
        problems.append(f"{label[i]}, column unique_tokens: more than tokens")
    for i in np.flatnonzero(df["unique_tokens"].notna() & df["tokens"].isna()):
        problems.append(f"{label[i]}, column unique_tokens: set but tokens is empty")

    names = set(df["name"])
    for col in ("distilled_from", "continued_from"):
        for i in np.flatnonzero((df[col] != "") & (df[col] == df["name"])):
            problems.append(f"{label[i]}, column {col}: names the model itself")
    for i in np.flatnonzero((df["continued_from"] != "") & ~df["continued_from"].isin(names)):
        problems.append(f"{label[i]}, column continued_from: {df['continued_from'].iloc[i]!r} is not a model in "
                        "this file (name the base model's row)")

    for col in ARCH_INTEGER_COLUMNS:
        _numbers(df, col, label, problems, integer=True)
    tied = df["tied_embeddings"].str.lower()
    for i in np.flatnonzero(~tied.isin(["true", "false", ""])):
        problems.append(f"{label[i]}, column tied_embeddings: {df['tied_embeddings'].iloc[i]!r} is not true/false")
    df["tied_embeddings"] = tied.map({"true": True, "false": False}).astype(object).where(tied != "", None)
    has_arch = df[ARCH_INTEGER_COLUMNS].notna().any(axis=1) | (tied != "")
    for i in np.flatnonzero(has_arch & (df["arch_source"] == "")):
        problems.append(f"{label[i]}, column arch_source: architecture numbers need a source")
    return problems


def year_span(models: pd.DataFrame) -> tuple[int, int]:
    """First and last release year in ``models`` (for the page's release-year filter)."""
    years = models["release_date"].dt.year
    return int(years.min()), int(years.max())


def compute_params(models: pd.DataFrame, law=None) -> tuple[pd.Series, pd.Series]:
    """Parameters N that set the FLOPs per token under ``law``, and what they count.

    Active parameters for MoE, else total; for a law fitted on non-embedding parameters
    (Kaplan et al. 2020), the published non-embedding count where there is one.

    Returns
    -------
    N : Series
        Parameters.
    basis : Series
        "active", "total" or "non-embedding", per model.
    """
    if law is not None and _architectures(law) == {"moe"}:
        # An MoE law's N counts every expert (Krajewski et al. 2024: total non-embedding parameters);
        # the catalog's total is the nearest published count (embeddings included).
        return models["params"], pd.Series("total (all experts)", index=models.index)
    N = models["active_params"].fillna(models["params"])
    basis = pd.Series(np.where(models["active_params"].notna(), "active", "total"), index=models.index)
    if law is not None and law.params_meaning == NON_EMBEDDING_PARAMS:
        published = models["non_embedding_params"].notna() & models["active_params"].isna()
        N = N.where(~published, models["non_embedding_params"])
        basis[published] = "non-embedding"
    return N, basis


def _column(models: pd.DataFrame, col: str, empty) -> pd.Series:
    """``models[col]``, or ``empty`` everywhere for a frame built without the optional column."""
    return models[col] if col in models.columns else pd.Series(empty, index=models.index)


def not_plotted_reason(models: pd.DataFrame) -> pd.Series:
    """Why a model cannot be placed on the N-D plane ('' when it can).

    A model that continues another model's run (``continued_from``: post-training such as
    DeepSeek-R1, or continued pretraining of an up-scaled copy) is listed but not placed: most of
    its compute is its base's run, and plotting it would count that run twice.
    """
    reason = pd.Series("", index=models.index)
    reason[models["tokens"].isna()] = "training tokens undisclosed"
    reason[models["params"].isna()] = "parameter count undisclosed"
    reason[models["params"].isna() & models["tokens"].isna()] = "size and tokens undisclosed"
    base = _column(models, "continued_from", "")
    continued = base != ""
    reason[continued] = "continues " + base[continued] + ", not a new pretraining run (see that model)"
    return reason


_ARCHITECTURE_NAMES = {"moe": "mixture-of-experts", "dense": "dense"}


def _architectures(law) -> set[str] | None:
    """The architectures ``law`` describes (its ``architectures`` attribute), or None for any."""
    described = getattr(law, "architectures", None)
    return None if described is None else set(described)


def undescribed_reason(models: pd.DataFrame, law) -> pd.Series:
    """Why ``law`` cannot describe each model ('' when it can): e.g. a dense model under an MoE-only law.

    A law declares what it describes in ``architectures`` (absent: every model). Krajewski et
    al. 2024 fit fine-grained MoE models only (expansion rate E = 64); applied to a dense model
    it would read the dense parameters as 64 experts' worth and put Chinchilla at 1.4e22 FLOPs
    instead of its 5.9e23, so such a model is refused, not placed.
    """
    described = _architectures(law)
    reason = pd.Series("", index=models.index)
    if described is None:
        return reason
    arch = _column(models, "architecture", "").fillna("")
    kinds = " or ".join(sorted(_ARCHITECTURE_NAMES.get(a, a) for a in described))
    outside = ~arch.isin(described)
    reason[outside] = (f"{law.name} describes {kinds} models only; this model is "
                       + arch[outside].where(arch[outside] != "", "of unstated architecture"))
    return reason


def _expansion_caveat(models: pd.DataFrame, law) -> list[list[str]]:
    """Per model: the caveat that an MoE's own expert count differs from the one the MoE law assumes."""
    out: list[list[str]] = [[] for _ in range(len(models))]
    if _architectures(law) != {"moe"} or not hasattr(law, "active_params"):
        return out
    assumed = float(law.active_params(1.0))  # active / total under the law (12 / (8E + 4))
    for i, (total, active) in enumerate(zip(models["params"], models["active_params"], strict=True)):
        if np.isfinite(total) and np.isfinite(active):
            out[i].append(f"the law assumes {assumed:.1%} of parameters active (E = {law.expansion_rate:g}); "
                          f"this model has {active / total:.1%}, so the law's FLOP count is not its own")
    return out


MOE_CAVEAT = "MoE: a dense law judges its active parameters"


def caveats(models: pd.DataFrame) -> pd.Series:
    """Short reasons a dense compute-optimal verdict is weaker for each model (a list per model).

    Flags, never hides: an MoE (the laws were fitted on dense models; N is the active count), a
    distilled student (learning from a teacher's logits is not learning from tokens alone), repeated
    data (the laws count every token as fresh; Muennighoff et al. 2023 find repeated tokens worth
    less after ~4 epochs) and a continued run (not a pretraining run of its own).
    """
    arch = _column(models, "architecture", "")
    distilled = _column(models, "distilled_from", "")
    continued = _column(models, "continued_from", "")
    epochs = _column(models, "epochs", np.nan)
    unique = _column(models, "unique_tokens", np.nan)
    repeats = epochs.where(epochs.notna(), models["tokens"] / unique)
    out = []
    for i in range(len(models)):
        notes = []
        if arch.iloc[i] == "moe":
            notes.append(MOE_CAVEAT)
        if distilled.iloc[i]:
            notes.append(f"distilled from {distilled.iloc[i]}")
        if repeats.iloc[i] > 1:
            notes.append(f"~{repeats.iloc[i]:.2g} epochs of repeated data counted as fresh tokens")
        if continued.iloc[i]:
            notes.append(f"continued from {continued.iloc[i]}, not a new pretraining run")
        out.append(notes)
    return pd.Series(out, index=models.index, dtype=object)


def classify(models: pd.DataFrame, law, near_optimal_band: tuple[float, float] = NEAR_OPTIMAL_BAND) -> pd.DataFrame:
    """Place each model against ``law`` at its own compute C = 6·N·D.

    Parameters
    ----------
    models : DataFrame
        As returned by :func:`load_models`.
    law : Law
        Any law (a preset, a user's coefficients or a fit).
    near_optimal_band : (float, float)
        D / D_opt range called near-optimal; below it a model is undertrained, above overtrained.

    Returns
    -------
    DataFrame
        The models' columns plus ``compute_params`` and ``params_basis`` (the N used, see
        :func:`compute_params`), ``flops`` (under the law's FLOP model), ``tokens_per_param``,
        ``params_opt``, ``tokens_opt``, ``d_over_d_opt``, ``loss``, ``efficiency``, ``status``
        (``not described`` where the law cannot describe the model, see :func:`undescribed_reason`),
        ``not_plotted`` (the reason, or '') and ``caveats`` (see :func:`caveats`; the status stands,
        the caveats say what weakens it).
    """
    low, high = near_optimal_band
    if not (0 < low <= 1 <= high and np.isfinite(high)):
        raise ValueError(f"near_optimal_band must satisfy 0 < low <= 1 <= high, got {near_optimal_band!r}")
    out = models.copy()
    out["compute_params"], out["params_basis"] = compute_params(models, law)
    out["not_plotted"] = not_plotted_reason(models)
    refused = (undescribed_reason(models, law) != "") & (out["not_plotted"] == "")
    out.loc[refused, "not_plotted"] = undescribed_reason(models, law)[refused]
    out["caveats"] = caveats(models)
    if _architectures(law) == {"moe"}:
        out["caveats"] = [[c for c in cs if c != MOE_CAVEAT] + extra
                          for cs, extra in zip(out["caveats"], _expansion_caveat(models, law), strict=True)]
    placed = (out["not_plotted"] == "").to_numpy()
    for col in ("flops", "tokens_per_param", "params_opt", "tokens_opt", "d_over_d_opt", "loss", "efficiency"):
        out[col] = np.nan
    if placed.any():
        a = allocation(law, out.loc[placed, "compute_params"].to_numpy(), out.loc[placed, "tokens"].to_numpy())
        out.loc[placed, "flops"] = a.flops
        out.loc[placed, "tokens_per_param"] = a.tokens_per_param
        out.loc[placed, "params_opt"] = a.params_opt
        out.loc[placed, "tokens_opt"] = a.tokens_opt
        out.loc[placed, "d_over_d_opt"] = a.d_over_d_opt
        out.loc[placed, "loss"] = a.loss
        out.loc[placed, "efficiency"] = a.efficiency
    ratio = out["d_over_d_opt"]
    out["status"] = np.select(
        [refused.to_numpy(), ~placed, ratio < low, ratio > high],
        [NOT_DESCRIBED, NOT_PLOTTED, UNDERTRAINED, OVERTRAINED], default=NEAR_OPTIMAL
    )
    return out


#: ``params`` is the total and ``active_params`` the per-token count of a mixture of experts (empty for dense
#: models); ``tokens_per_param`` and ``flops`` use the active count (see :func:`compute_params`).
CLI_COLUMNS = ["name", "params", "active_params", "tokens", "flops", "tokens_per_param", "d_over_d_opt", "efficiency",
               "status", "not_plotted", "caveats", "source"]


def classify_at_demand(classified: pd.DataFrame, law, inference_tokens: float,
                       near_optimal_band: tuple[float, float] = NEAR_OPTIMAL_BAND) -> pd.DataFrame:
    """Add each model's standing under lifetime inference demand to a :func:`classify` table.

    Under demand T the yardstick is the cheapest model *of the same loss* over its lifetime
    (training plus 2·N·T inference FLOPs; Sardana et al. 2024): ``tokens_opt_at_demand`` is its
    D, ``d_over_d_opt_at_demand`` the model's D over that, and ``status_at_demand`` the band
    applied to it. A model that looks over-trained for training cost alone can be near-optimal for
    the demand. Only for Chinchilla-form laws; raises ``NotApplicable`` otherwise.

    Returns
    -------
    DataFrame
        A copy with ``break_even_inference_tokens``, ``tokens_opt_at_demand``,
        ``d_over_d_opt_at_demand`` and ``status_at_demand`` added.
    """
    from .wrappers.inference import break_even_inference_tokens, optimum_for_loss

    low, high = near_optimal_band
    out = classified.copy()
    placed = (out["not_plotted"] == "").to_numpy()
    for col in ("break_even_inference_tokens", "tokens_opt_at_demand", "d_over_d_opt_at_demand"):
        out[col] = np.nan
    if placed.any():
        N, D = (out.loc[placed, c].to_numpy() for c in ("compute_params", "tokens"))
        out.loc[placed, "break_even_inference_tokens"] = break_even_inference_tokens(law, N, D)
        _, D_opt = optimum_for_loss(law, law.loss(N, D), inference_tokens)
        out.loc[placed, "tokens_opt_at_demand"] = D_opt
        out.loc[placed, "d_over_d_opt_at_demand"] = D / D_opt
    ratio = out["d_over_d_opt_at_demand"]
    out["status_at_demand"] = np.select(
        [~placed, ratio < low, ratio > high], [out["status"], UNDERTRAINED, OVERTRAINED], default=NEAR_OPTIMAL
    )
    return out
