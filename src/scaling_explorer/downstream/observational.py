"""Observed benchmark scores of published base models (Ruan et al. 2024), validated and joined to the catalog.

Ruan, Maddison & Hashimoto 2024, "Observational Scaling Laws and the Predictability of Language
Model Performance", arXiv:2405.10938; data ``eval_results/base_llm_benchmark_eval.csv`` of
``ryoungj/ObsScaling`` (Apache-2.0), shipped as ``data/obsscaling_base_models.csv`` with its licence
and attribution in ``data/obsscaling_base_models.md``. 148 base models: size (B), pretraining tokens
(T), FLOPs (1e21, their 6ND) and eight scores (fractions): MMLU, ARC-C, HellaSwag, Winogrande (their
column ``Winograd``), TruthfulQA, GSM8K, XWinograd, HumanEval.

Validated on load (:func:`load_observed_scores`): a row whose tokens are implausible (above
:data:`MAX_PLAUSIBLE_TOKENS`) or whose FLOPs are not their own 6ND is corrected where the source
of the right value is known (:data:`CORRECTIONS`, with the reason) and refused otherwise; rows without
tokens are kept (their scores are real) and listed in ``missing_tokens``.

Joined to the catalog by an explicit table (:data:`CATALOG_NAMES`) where the model is the same
checkpoint; the others are listed only. Per family, :func:`fit_family` fits a capability score linear
in log compute, or one benchmark as a sigmoid of log compute (Ruan et al.'s task score is a sigmoid
of a capability that is itself linear in log compute within a family, so within one family the two
are the same shape).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from importlib.resources import files

import numpy as np
import pandas as pd

RUAN2024 = ("Ruan, Maddison & Hashimoto 2024, Observational Scaling Laws and the Predictability of Language Model "
            "Performance, arXiv:2405.10938 (data: ryoungj/ObsScaling eval_results/base_llm_benchmark_eval.csv, "
            "Apache-2.0)")
SCORES_CSV = files("scaling_explorer.data") / "obsscaling_base_models.csv"

# Our key -> their column. Their "Winograd" is WinoGrande: their README collects it from the Open LLM
# Leaderboard, whose task is WinoGrande (Llama-2-7B: 0.7403, as the leaderboard gives).
BENCHMARKS = {
    "mmlu": "MMLU", "arc_c": "ARC-C", "hellaswag": "HellaSwag", "winogrande": "Winograd",
    "truthfulqa": "TruthfulQA", "gsm8k": "GSM8K", "xwinograd": "XWinograd", "humaneval": "HumanEval",
}
BENCHMARK_LABELS = {
    "mmlu": "MMLU", "arc_c": "ARC-C", "hellaswag": "HellaSwag", "winogrande": "Winogrande",
    "truthfulqa": "TruthfulQA", "gsm8k": "GSM8K", "xwinograd": "XWinograd", "humaneval": "HumanEval",
}
# The score of guessing, from the number of answer options (4 for MMLU, ARC-C and HellaSwag, 2 for
# the Winograd schemas); 0 for generated answers (GSM8K, HumanEval) and for TruthfulQA's MC2, a
# normalised probability mass with no fixed chance level. The floor of the sigmoid fit.
CHANCE = {"mmlu": 0.25, "arc_c": 0.25, "hellaswag": 0.25, "winogrande": 0.5, "truthfulqa": 0.0, "gsm8k": 0.0,
          "xwinograd": 0.5, "humaneval": 0.0}
_META = {"Model": "model", "Model Family": "family", "Model Size (B)": "params_b",
         "Pretraining Data Size (T)": "tokens_t", "FLOPs (1E21)": "flops_e21"}

MAX_PLAUSIBLE_TOKENS = 100e12  # no base model in the table was trained on more than ~18T tokens
SIX_ND_TOLERANCE = 0.01  # their FLOPs column is 6ND; a row off by more is refused or corrected


@dataclass(frozen=True)
class Correction:
    """A value of the source table replaced, and why."""

    model: str
    column: str
    stated: float
    corrected: float
    reason: str


# Known errors of the source table, by model: the stated token count, the right one and where it comes
# from. A correction applies only while the table still states the wrong value; FLOPs are then the
# table's own 6ND with the right count.
CORRECTIONS = {
    "cerebras/btlm-3b-8k-base": {
        "stated_tokens": 627e12, "tokens": 627e9,
        "reason": ("BTLM-3B-8K was trained on 627B tokens of SlimPajama (Dey et al. 2023, arXiv:2309.11568); the "
                   "table states 627 (T), 1000x too many, and FLOPs 6ND from that count, so both are replaced "
                   "(FLOPs = 6 x 3e9 x 627e9 = 1.13e22)"),
    },
    "google/gemma-2b": {
        "stated_tokens": 6e12, "tokens": 3e12,
        "reason": ("Gemma 2B was trained on 3T tokens, Gemma 7B on 6T (Gemma Team 2024, arXiv:2403.08295, "
                   "Pretraining; data/models.csv); the table gives the 2B model the 7B's 6T, and FLOPs from it"),
    },
}

# ObsScaling model id -> catalog name, where both are the same released checkpoint. Left out on purpose:
# Pythia *-deduped (the catalog has the non-deduplicated runs), TinyLlama v1.1 (the catalog has v1.0's
# 3T checkpoint), SmolLM (the catalog has SmolLM2), OPT below 175B, Qwen1.5/Qwen2 (the catalog has Qwen2.5).
CATALOG_NAMES = {
    "meta-llama/Llama-2-7b-hf": "Llama 2 7B",
    "meta-llama/Llama-2-13b-hf": "Llama 2 13B",
    "meta-llama/Llama-2-70b-hf": "Llama 2 70B",
    "huggyllama/llama-7b": "LLaMA-7B",
    "huggyllama/llama-13b": "LLaMA-13B",
    "huggyllama/llama-30b": "LLaMA-33B",  # the 32.5B model, released as "30b" and published as 33B
    "huggyllama/llama-65b": "LLaMA-65B",
    "meta-llama/Meta-Llama-3-8B": "Llama 3 8B",
    "meta-llama/Meta-Llama-3-70B": "Llama 3 70B",
    "meta-llama/Meta-Llama-3.1-8B": "Llama 3.1 8B",
    "meta-llama/Meta-Llama-3.1-70B": "Llama 3.1 70B",
    "meta-llama/Meta-Llama-3.1-405B-FP8": "Llama 3.1 405B",  # the same model, evaluated with FP8 weights
    "mistralai/Mistral-7B-v0.1": "Mistral 7B",
    "mistralai/Mixtral-8x7B-v0.1": "Mixtral 8x7B",
    "deepseek-ai/DeepSeek-V2": "DeepSeek-V2",
    "deepseek-ai/deepseek-llm-7b-base": "DeepSeek LLM 7B",
    "deepseek-ai/deepseek-llm-67b-base": "DeepSeek LLM 67B",
    "google/gemma-2b": "Gemma 2B",
    "google/gemma-7b": "Gemma 7B",
    "google/gemma-2-2b": "Gemma 2 2B",
    "google/gemma-2-9b": "Gemma 2 9B",
    "google/gemma-2-27b": "Gemma 2 27B",
    "tiiuae/falcon-7b": "Falcon-7B",
    "tiiuae/falcon-40b": "Falcon-40B",
    "tiiuae/falcon-180B": "Falcon-180B",
    "microsoft/phi-2": "Phi-2",
    "bigscience/bloom": "BLOOM",
    "mosaicml/mpt-7b": "MPT-7B",
    "mosaicml/mpt-30b": "MPT-30B",
    "allenai/OLMo-7B-hf": "OLMo-7B",  # allenai/OLMo-7B converted to the transformers format
    "openai-community/gpt2-xl": "GPT-2",  # the 1.5B model
    "cerebras/Cerebras-GPT-111M": "Cerebras-GPT 111M",
    "cerebras/Cerebras-GPT-256M": "Cerebras-GPT 256M",
    "cerebras/Cerebras-GPT-590M": "Cerebras-GPT 590M",
    "cerebras/Cerebras-GPT-1.3B": "Cerebras-GPT 1.3B",
    "cerebras/Cerebras-GPT-2.7B": "Cerebras-GPT 2.7B",
    "cerebras/Cerebras-GPT-6.7B": "Cerebras-GPT 6.7B",
}


class ScoresError(ValueError):
    """The scores table cannot be used; ``problems`` lists why."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("cannot use this scores table:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True)
class ObservedScores:
    """The validated scores table.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row a model: model (their id), family, catalog_name (None where the catalog lacks the model:
        list-only), params, tokens and flops as counts (NaN where not stated), and the eight benchmark
        scores (fractions, NaN where missing) under the keys of :data:`BENCHMARKS`.
    corrections : tuple of Correction
        Values replaced, with the reason.
    refused : tuple of (str, str)
        Rows dropped and why.
    missing_tokens : tuple of str
        Models kept without a token count (so without FLOPs).
    source : str
        Citation.
    """

    frame: pd.DataFrame = field(repr=False)
    corrections: tuple = ()
    refused: tuple = ()
    missing_tokens: tuple = ()
    source: str = RUAN2024

    def benchmarks(self, name: str) -> dict[str, float] | None:
        """Observed scores of the catalog model ``name`` (benchmark key to fraction), or None if not observed."""
        rows = self.frame[self.frame["catalog_name"] == name]
        if rows.empty:
            return None
        row = rows.iloc[0]
        return {k: float(row[k]) for k in BENCHMARKS if math.isfinite(row[k])}

    def by_catalog_name(self) -> dict[str, dict[str, float]]:
        """Every matched catalog model's scores: {catalog name: {benchmark: fraction}}."""
        return {n: self.benchmarks(n) for n in self.frame["catalog_name"].dropna()}

    def families(self) -> tuple[str, ...]:
        """Family names, in the table's order."""
        return tuple(dict.fromkeys(self.frame["family"]))


def load_observed_scores(path=None) -> ObservedScores:
    """Read and validate an ObsScaling-format scores table (default: the shipped one).

    Raises
    ------
    ScoresError
        A missing column, a duplicate model, a score outside [0, 1], or no usable rows.
    """
    raw = pd.read_csv(SCORES_CSV if path is None else path)
    missing = [c for c in [*_META, *BENCHMARKS.values()] if c not in raw.columns]
    if missing:
        raise ScoresError([f"missing column(s): {', '.join(missing)}"])
    problems = []
    duplicated = raw["Model"][raw["Model"].duplicated()].tolist()
    if duplicated:
        problems.append(f"models listed twice: {', '.join(duplicated)}")
    df = raw.rename(columns={**_META, **{v: k for k, v in BENCHMARKS.items()}})
    scores = df[list(BENCHMARKS)].to_numpy(float)
    bad = np.argwhere(np.isfinite(scores) & ((scores < 0) | (scores > 1)))
    for i, j in bad[:8]:
        problems.append(f"{df['model'].iloc[i]}: {list(BENCHMARKS)[j]} = {scores[i, j]:g} is not a fraction")
    if problems:
        raise ScoresError(problems)

    df["params"] = df["params_b"] * 1e9
    df["tokens"] = df["tokens_t"] * 1e12
    df["flops"] = df["flops_e21"] * 1e21
    corrections, refused, keep = [], [], np.ones(len(df), bool)
    for i, row in df.iterrows():
        fix = CORRECTIONS.get(row["model"])
        implausible = row["tokens"] > MAX_PLAUSIBLE_TOKENS
        six_nd = 6 * row["params"] * row["tokens"]
        inconsistent = math.isfinite(row["flops"]) and abs(row["flops"] / six_nd - 1) > SIX_ND_TOLERANCE
        if fix and row["tokens"] == fix["stated_tokens"]:
            flops = 6 * row["params"] * fix["tokens"]
            corrections.append(Correction(row["model"], "tokens", float(row["tokens"]), fix["tokens"], fix["reason"]))
            corrections.append(Correction(row["model"], "flops", float(row["flops"]), flops, fix["reason"]))
            df.loc[i, ["tokens", "flops"]] = [fix["tokens"], flops]
        elif implausible:
            refused.append((row["model"], f"{row['tokens']:.3g} training tokens is implausible "
                                          f"(above {MAX_PLAUSIBLE_TOKENS:.0e}) and no correction is known"))
            keep[i] = False
        elif inconsistent:
            refused.append((row["model"], f"FLOPs {row['flops']:.3g} are not 6ND = {six_nd:.3g} as the table's "
                                          "other rows are, and no correction is known"))
            keep[i] = False
    df = df[keep].reset_index(drop=True)
    if df.empty:
        raise ScoresError(["no usable rows"])
    df["catalog_name"] = df["model"].map(CATALOG_NAMES).astype(object)
    df.loc[df["catalog_name"].isna(), "catalog_name"] = None
    missing_tokens = tuple(df.loc[df["tokens"].isna(), "model"])
    frame = df[["model", "family", "catalog_name", "params", "tokens", "flops", *BENCHMARKS]]
    return ObservedScores(frame=frame, corrections=tuple(corrections), refused=tuple(refused),
                          missing_tokens=missing_tokens)


@functools.lru_cache(maxsize=1)
def observed_scores() -> ObservedScores:
    """The shipped table, validated once per process."""
    return load_observed_scores()


def benchmarks(name: str) -> dict[str, float] | None:
    """Observed scores of catalog model ``name`` ({benchmark key: fraction}), or None if not in the table."""
    return observed_scores().benchmarks(name)


@dataclass(frozen=True)
class ModelScores:
    """One catalog model's observed scores, for its model card.

    Attributes
    ----------
    scores : dict of str to float
        Benchmark key (:data:`BENCHMARKS`) to score (fraction), in the table's order; missing ones left out.
    model_id, family : str
        The model and family as the source names them.
    source : str
        Citation of the table.
    """

    scores: dict
    model_id: str
    family: str
    source: str = RUAN2024

    def labelled(self) -> dict[str, float]:
        """The scores under their display names (:data:`BENCHMARK_LABELS`)."""
        return {BENCHMARK_LABELS[k]: v for k, v in self.scores.items()}


@functools.lru_cache(maxsize=256)
def scores_of(name: str) -> ModelScores | None:
    """The observed scores of catalog model ``name`` with their source, or None if the table does not have it."""
    table = observed_scores()
    rows = table.frame[table.frame["catalog_name"] == name]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return ModelScores(scores=table.benchmarks(name), model_id=str(row["model"]), family=str(row["family"]),
                       source=table.source)


def family_of(name: str) -> str | None:
    """ObsScaling family of catalog model ``name`` (for the per-family view), or None if not observed."""
    frame = observed_scores().frame
    rows = frame[frame["catalog_name"] == name]
    return None if rows.empty else str(rows["family"].iloc[0])


# --- per-family fits -------------------------------------------------------------------------------------

def capability(frame: pd.DataFrame) -> pd.Series:
    """Capability score: the mean over the eight benchmarks of (score − chance) / (1 − chance), NaN if any is missing.

    A simple stand-in for Ruan et al.'s first principal component: each benchmark counts equally,
    from chance (0) to perfect (1).
    """
    parts = [(frame[k] - CHANCE[k]) / (1 - CHANCE[k]) for k in BENCHMARKS]
    return pd.concat(parts, axis=1).mean(axis=1, skipna=False)


@dataclass(frozen=True)
class FamilyFit:
    """A family's scores against log10 training FLOPs: linear (capability) or sigmoid (one benchmark).

    Attributes
    ----------
    family, quantity : str
        Family name; ``"capability"`` or a benchmark key.
    kind : str
        ``"linear"``: y = intercept + slope·log10 C.
        ``"sigmoid"``: y = floor + (1 − floor)·σ(slope·(log10 C − midpoint)).
    params, se : dict of str to float
        Best values and standard errors (from the fit's covariance; NaN when there are as many models
        as parameters).
    floor : float
        Chance level of a sigmoid fit (0 for linear).
    models : tuple of str
        The models fitted.
    log10_flops, observed : numpy.ndarray
        The points fitted.
    rmse : float
        Root-mean-square residual.
    converged : bool
        The optimiser reported success.
    """

    family: str
    quantity: str
    kind: str
    params: dict
    se: dict
    floor: float
    models: tuple
    log10_flops: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    rmse: float = float("nan")
    converged: bool = True
    source: str = RUAN2024

    def predict(self, C):
        """The fitted score at ``C`` training FLOPs (array_like)."""
        from .._checks import positive

        x = np.log10(positive("C (FLOPs)", C))
        p = self.params
        if self.kind == "linear":
            return p["intercept"] + p["slope"] * x
        return self.floor + (1 - self.floor) / (1 + np.exp(-p["slope"] * (x - p["midpoint"])))

    def extrapolated(self, C) -> np.ndarray:
        """True where ``C`` lies outside the family's fitted compute span."""
        x = np.log10(np.asarray(C, dtype=float))
        return (x < self.log10_flops.min()) | (x > self.log10_flops.max())

    def report(self) -> str:
        """A few lines for people."""
        values = ", ".join(f"{k} = {v:.4g} ± {self.se[k]:.2g}" for k, v in self.params.items())
        return (f"{self.family}: {self.quantity} vs log10 FLOPs, {self.kind} fit to {len(self.models)} models "
                f"({values}; rmse {self.rmse:.3g})")


def fit_family(family: str, quantity: str = "capability", scores: ObservedScores | None = None) -> FamilyFit:
    """Fit a family's capability (linear) or one benchmark (sigmoid) against log10 training FLOPs.

    Parameters
    ----------
    family : str
        A family of the table (``ObservedScores.families()``).
    quantity : str
        ``"capability"`` (:func:`capability`, fitted linearly) or a benchmark key of :data:`BENCHMARKS`
        (fitted as a sigmoid from chance, :data:`CHANCE`, to 1).
    scores : ObservedScores, optional
        Default the shipped table.

    Raises
    ------
    ValueError
        Unknown family or quantity, or fewer than three models with FLOPs and the score.
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    scores = observed_scores() if scores is None else scores
    if family not in scores.families():
        raise ValueError(f"family must be one of the table's families, got {family!r}")
    if quantity != "capability" and quantity not in BENCHMARKS:
        raise ValueError(f"quantity must be 'capability' or one of {', '.join(BENCHMARKS)}, got {quantity!r}")
    rows = scores.frame[scores.frame["family"] == family]
    y = capability(rows) if quantity == "capability" else rows[quantity]
    ok = np.isfinite(rows["flops"].to_numpy(float)) & np.isfinite(y.to_numpy(float))
    rows, y = rows[ok], y[ok].to_numpy(float)
    if len(rows) < 3:
        raise ValueError(f"family {family!r} has {len(rows)} model(s) with FLOPs and {quantity}; a fit needs 3")
    x = np.log10(rows["flops"].to_numpy(float))
    if quantity == "capability":
        kind, floor, names = "linear", 0.0, ("intercept", "slope")
        if len(x) > 3:  # numpy's covariance needs more points than parameters + 1
            (slope, intercept), cov = np.polyfit(x, y, 1, cov=True)
            cov = cov[::-1, ::-1]
        else:
            (slope, intercept), cov = np.polyfit(x, y, 1), None
        best = np.array([intercept, slope])
        pred = intercept + slope * x
        converged = True
    else:
        kind, floor, names = "sigmoid", CHANCE[quantity], ("slope", "midpoint")

        def f(t, slope, midpoint):
            return floor + (1 - floor) / (1 + np.exp(-slope * (t - midpoint)))

        try:
            with warnings.catch_warnings():  # an undetermined covariance is reported as NaN errors below
                warnings.simplefilter("ignore", OptimizeWarning)
                best, cov = curve_fit(f, x, y, p0=(1.0, float(np.median(x))), maxfev=10000)
            converged = True
        except RuntimeError:
            best, cov, converged = np.array([np.nan, np.nan]), None, False
        pred = f(x, *best)
    if cov is None or not np.all(np.isfinite(cov)):
        se = dict.fromkeys(names, float("nan"))
    else:
        se = dict(zip(names, np.sqrt(np.diag(cov)).tolist(), strict=True))
    return FamilyFit(family=family, quantity=quantity, kind=kind, params=dict(zip(names, best.tolist(), strict=True)),
                     se=se, floor=floor, models=tuple(rows["model"]), log10_flops=x, observed=y,
                     rmse=float(np.sqrt(np.mean((pred - y) ** 2))), converged=converged)
