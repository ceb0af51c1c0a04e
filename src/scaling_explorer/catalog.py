"""Published models: load and validate ``data/models.csv``, classify each model against a law.

Every model is compared with the law at its own training compute C = 6·N·D, with N the
*active* parameters for a mixture-of-experts model (the FLOPs per token scale with them).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .compute import FLOPS_PER_PARAM_TOKEN
from .frontier import allocation
from .laws import NON_EMBEDDING_PARAMS

MODELS_CSV = Path(__file__).resolve().parents[2] / "data" / "models.csv"

REQUIRED_COLUMNS = [
    "name", "family", "organization", "release_date", "params", "active_params", "non_embedding_params",
    "tokens", "flops_reported", "open_weights", "architecture", "source", "source_detail", "notes",
]
NUMBER_COLUMNS = ["params", "active_params", "non_embedding_params", "tokens", "flops_reported"]
ARCHITECTURES = {"dense", "moe"}

#: Default near-optimal band on D / D_opt: within a factor 2 of the law's optimal tokens at the
#: model's own compute, i.e. a model between half and twice the compute-optimal size.
NEAR_OPTIMAL_BAND = (0.5, 2.0)

UNDERTRAINED, NEAR_OPTIMAL, OVERTRAINED, NOT_PLOTTED = "undertrained", "near-optimal", "overtrained", "undisclosed"


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
        A CSV in the schema of ``data/models.csv``; extra columns are kept.

    Returns
    -------
    DataFrame
        One row a model; number columns as floats (NaN where undisclosed), ``release_date``
        as datetime, ``open_weights`` as bool.

    Raises
    ------
    CatalogError
        Listing every bad row and column.
    """
    raw = _read_csv(MODELS_CSV if path is None else path)
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
    df = df.apply(lambda col: col.str.strip() if col.dtype == object else col)
    label = [f"line {i + 2} ({name or 'no name'})" for i, name in enumerate(df["name"])]

    for i in np.flatnonzero(df["name"] == ""):
        problems.append(f"{label[i]}, column name: empty")
    for i in np.flatnonzero(df["name"].duplicated(keep="first") & (df["name"] != "")):
        problems.append(f"{label[i]}, column name: duplicate of an earlier row")

    for col in NUMBER_COLUMNS:
        text = df[col]
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        for i in np.flatnonzero((text != "") & values.isna()):
            problems.append(f"{label[i]}, column {col}: {text.iloc[i]!r} is not a number")
        for i in np.flatnonzero(values.notna() & ~(np.isfinite(values) & (values > 0))):
            problems.append(f"{label[i]}, column {col}: {text.iloc[i]} must be positive and finite")
        df[col] = values.astype(float)

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

    with np.errstate(over="ignore"):
        flops = FLOPS_PER_PARAM_TOKEN * compute_params(df)[0] * df["tokens"]
    for i in np.flatnonzero(np.isinf(flops)):
        problems.append(f"{label[i]}, columns params and tokens: 6·N·D overflows; check the magnitudes")

    has_number = df[NUMBER_COLUMNS].notna().any(axis=1)
    for i in np.flatnonzero(has_number & (df["source"] == "")):
        problems.append(f"{label[i]}, column source: every number needs a source")

    if problems:
        raise CatalogError(problems)
    return df.reset_index(drop=True)


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
    N = models["active_params"].fillna(models["params"])
    basis = pd.Series(np.where(models["active_params"].notna(), "active", "total"), index=models.index)
    if law is not None and law.params_meaning == NON_EMBEDDING_PARAMS:
        published = models["non_embedding_params"].notna() & models["active_params"].isna()
        N = N.where(~published, models["non_embedding_params"])
        basis[published] = "non-embedding"
    return N, basis


def not_plotted_reason(models: pd.DataFrame) -> pd.Series:
    """Why a model cannot be placed on the N-D plane ('' when it can)."""
    reason = pd.Series("", index=models.index)
    reason[models["tokens"].isna()] = "training tokens undisclosed"
    reason[models["params"].isna()] = "parameter count undisclosed"
    reason[models["params"].isna() & models["tokens"].isna()] = "size and tokens undisclosed"
    return reason


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
        :func:`compute_params`), ``flops`` (6ND estimate), ``tokens_per_param``,
        ``params_opt``, ``tokens_opt``, ``d_over_d_opt``, ``loss``, ``efficiency``, ``status`` and
        ``not_plotted`` (the reason, or '').
    """
    low, high = near_optimal_band
    if not (0 < low <= 1 <= high and np.isfinite(high)):
        raise ValueError(f"near_optimal_band must satisfy 0 < low <= 1 <= high, got {near_optimal_band!r}")
    out = models.copy()
    out["compute_params"], out["params_basis"] = compute_params(models, law)
    out["not_plotted"] = not_plotted_reason(models)
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
        [~placed, ratio < low, ratio > high], [NOT_PLOTTED, UNDERTRAINED, OVERTRAINED], default=NEAR_OPTIMAL
    )
    return out


CLI_COLUMNS = ["name", "params", "tokens", "flops", "tokens_per_param", "d_over_d_opt", "efficiency", "status",
               "source"]


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
        [~placed, ratio < low, ratio > high], [NOT_PLOTTED, UNDERTRAINED, OVERTRAINED], default=NEAR_OPTIMAL
    )
    return out
