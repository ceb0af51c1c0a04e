"""Conventions a scaling law is stated in: what its N counts, and how FLOPs are accounted.

Two laws disagree partly because they count differently (Kaplan et al. 2020 count non-embedding
parameters, Hoffmann et al. 2022 all of them), so every law says which convention it uses, as
data, and every FLOP count goes through a :class:`FlopModel` instead of a scattered constant.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

import numpy as np
from scipy.optimize import elementwise

from ._checks import positive


class ParamCount(StrEnum):
    """What a law's N counts."""

    TOTAL = "total"
    NON_EMBEDDING = "non-embedding"
    ACTIVE = "active-per-token"

    @property
    def description(self) -> str:
        """One line for people."""
        return {
            ParamCount.TOTAL: "total parameters, embeddings included",
            ParamCount.NON_EMBEDDING: "non-embedding parameters (vocabulary and position embeddings excluded)",
            ParamCount.ACTIVE: "parameters active per token (mixture-of-experts)",
        }[self]


class PerTokenFlops:
    """What every FLOP model shares: C = flops_per_token(N) · D. Subclasses give ``flops_per_token``."""

    def flops(self, N, D):
        """Training compute in FLOPs for ``N`` parameters and ``D`` tokens."""
        return self.flops_per_token(N) * positive("D (tokens)", D)

    def tokens(self, C, N):
        """Tokens a budget of ``C`` FLOPs buys for ``N`` parameters."""
        return positive("C (FLOPs)", C) / self.flops_per_token(N)


@dataclass(frozen=True)
class FlopModel(PerTokenFlops):
    """Training FLOPs as C = k · N · D.

    Attributes
    ----------
    name : str
        Short key, e.g. ``"6ND"``.
    flops_per_param_token : float
        k: FLOPs per parameter per training token.
    citation : str
        Where the count comes from.
    """

    name: str = "6ND"
    # 2 FLOPs per parameter for the forward pass, x3 for forward + backward (Kaplan et al. 2020
    # §2.1; GPT-3 Table D.1; Hoffmann et al. 2022 §3.3 use the same 6ND).
    flops_per_param_token: float = 6.0
    citation: str = "Kaplan et al. 2020 §2.1; Hoffmann et al. 2022 §3.3"
    #: C is proportional to N, so laws can use closed forms (see :class:`ShapedFlopModel`).
    linear: ClassVar[bool] = True

    def __post_init__(self):
        positive("flops_per_param_token", self.flops_per_param_token)

    def for_params(self, meaning) -> FlopModel:
        """This model for a law whose N counts ``meaning``: 6ND is 6 x the law's own N, unchanged."""
        return self

    def flops_per_token(self, N):
        """Training FLOPs per token, k · N."""
        return self.flops_per_param_token * positive("N (parameters)", N)

    def params(self, C, D):
        """Parameters a budget of ``C`` FLOPs buys for ``D`` tokens."""
        return positive("C (FLOPs)", C) / (self.flops_per_param_token * positive("D (tokens)", D))


#: The default FLOP model, C = 6ND.
SIX_ND = FlopModel()


# ---------------------------------------------------------------------------------------------
# Parameter counts: total <-> non-embedding
# ---------------------------------------------------------------------------------------------

#: Pearce & Song 2024 (arXiv:2406.12907), authors' script
#: (TeaPearce/Reconciling_Kaplan_Chinchilla_Scaling_Laws, script_analysis_kaplan_chinchilla.py):
#: N_total = N_nonemb + 47491 * N_nonemb**(1/3), fitted to Chinchilla's model shapes (Hoffmann et
#: al. 2022 Table A9): vocabulary 32k, d_model / n_layer = 12 * (47491 / 32000)**3 ≈ 39.2.
PEARCE_SONG_GAMMA = 47491.0
PEARCE_SONG = "Pearce & Song 2024, Reconciling Kaplan and Chinchilla Scaling Laws, arXiv:2406.12907"


@dataclass(frozen=True)
class Architecture:
    """The shape of a dense decoder-only transformer, enough to count parameters and FLOPs.

    Attributes
    ----------
    n_layers, d_model, vocab_size : float
        Transformer blocks, hidden size, vocabulary. Floats are allowed so a continuous family of
        shapes (:class:`ShapeFamily`) can be evaluated at any parameter count.
    seq_len : float
        Training context length in tokens (the attention terms of the FLOP counts grow with it).
    n_heads : float or None
        Attention heads; default ``d_model / kv_size`` (only the tiny softmax term uses it).
    kv_size : float
        Key/value (head) size; n_heads * kv_size is the attention width (default d_model).
    ffw_size : float or None
        Feed-forward width; default 4 * d_model (Kaplan eq. 2.1; Hoffmann Table A9).
    tied_embeddings : bool
        Input and output embeddings share one matrix.
    """

    n_layers: float
    d_model: float
    vocab_size: float
    seq_len: float = 2048
    n_heads: float | None = None
    kv_size: float = 128
    ffw_size: float | None = None
    tied_embeddings: bool = True

    def __post_init__(self):
        for name in ("n_layers", "d_model", "vocab_size", "seq_len", "kv_size"):
            positive(name, getattr(self, name))
        for name in ("n_heads", "ffw_size"):
            if getattr(self, name) is not None:
                positive(name, getattr(self, name))

    @property
    def heads(self):
        """Attention heads (``n_heads``, or d_model / kv_size)."""
        return self.d_model / self.kv_size if self.n_heads is None else self.n_heads

    @property
    def attention_width(self):
        """n_heads * kv_size: the width of the query, key and value projections."""
        return self.d_model if self.n_heads is None else self.n_heads * self.kv_size

    @property
    def ffw(self):
        """Feed-forward width (``ffw_size`` or 4 * d_model)."""
        return 4 * self.d_model if self.ffw_size is None else self.ffw_size

    def non_embedding_params(self):
        """Weights of the transformer blocks: n_layer (4 d_model d_attn + 2 d_model d_ffw).

        With d_attn = d_model and d_ffw = 4 d_model this is Kaplan's 12 n_layer d_model**2
        (eq. 2.1); biases and norms are left out, as there.
        """
        return self.n_layers * (4 * self.d_model * self.attention_width + 2 * self.d_model * self.ffw)

    def embedding_params(self):
        """Vocabulary embedding weights: vocab * d_model, twice if input and output are untied."""
        return embedding_params(self.vocab_size, self.d_model, self.tied_embeddings)

    def total_params(self):
        """Non-embedding plus embedding parameters."""
        return self.non_embedding_params() + self.embedding_params()


def embedding_params(vocab_size, d_model, tied_embeddings=True):
    """Parameters in the vocabulary embeddings: V·d_model, or 2·V·d_model when input and output are untied."""
    return positive("vocab_size", vocab_size) * positive("d_model", d_model) * np.where(tied_embeddings, 1, 2)


def non_embedding_from_total(N_total, vocab_size, d_model, tied_embeddings=True):
    """Exact non-embedding count of a model whose vocabulary, width and tying are known."""
    N_total = positive("N (total parameters)", N_total)
    out = N_total - embedding_params(vocab_size, d_model, tied_embeddings)
    if np.any(out <= 0):
        raise ValueError("the embeddings would hold every parameter (or more): check vocab_size, d_model and N")
    return out


def total_from_non_embedding(N_nonemb, vocab_size, d_model, tied_embeddings=True):
    """Exact total count from a non-embedding count and the model's vocabulary, width and tying."""
    return positive("N (non-embedding parameters)", N_nonemb) + embedding_params(vocab_size, d_model, tied_embeddings)


@dataclass(frozen=True)
class ShapeFamily:
    """A family of shapes indexed by parameter count: fixed vocabulary and d_model / n_layer.

    With N_nonemb = 12 n_layer d_model**2 and d_model = aspect_ratio * n_layer, a family maps a
    non-embedding count to a whole architecture: d_model = (aspect_ratio N_nonemb / 12)**(1/3).
    Its embeddings then hold gamma * N_nonemb**(1/3) parameters, which is Pearce & Song's fit
    N_total = N_nonemb + gamma N_nonemb**(1/3); the default family is theirs (gamma = 47491).

    Attributes
    ----------
    vocab_size : float
        Vocabulary (Chinchilla's 32k, Hoffmann §3 / App. F).
    aspect_ratio : float
        d_model / n_layer; default 12 (47491 / 32000)**3 ≈ 39.2 (Pearce & Song's script).
    seq_len : float
        Context length for the FLOP counts that include attention (Chinchilla's 2048).
    tied_embeddings : bool
        One embedding matrix (as Pearce & Song count it) or two.
    """

    vocab_size: float = 32_000.0
    aspect_ratio: float = 12 * (PEARCE_SONG_GAMMA / 32_000.0) ** 3
    seq_len: float = 2048.0
    tied_embeddings: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "aspect_ratio", "seq_len"):
            positive(name, getattr(self, name))

    @property
    def gamma(self) -> float:
        """Embedding parameters per N_nonemb**(1/3): vocab · (1 or 2) · (aspect_ratio / 12)**(1/3)."""
        return self.vocab_size * (1 if self.tied_embeddings else 2) * (self.aspect_ratio / 12) ** (1 / 3)

    def d_model(self, N_nonemb):
        """Hidden size of the family's model with ``N_nonemb`` non-embedding parameters."""
        return (self.aspect_ratio * positive("N (non-embedding parameters)", N_nonemb) / 12) ** (1 / 3)

    def architecture(self, N_nonemb) -> Architecture:
        """The family's (continuous) architecture at ``N_nonemb`` non-embedding parameters."""
        d = self.d_model(N_nonemb)
        return Architecture(n_layers=d / self.aspect_ratio, d_model=d, vocab_size=self.vocab_size,
                            seq_len=self.seq_len, n_heads=d / 128.0, kv_size=128.0,
                            tied_embeddings=self.tied_embeddings)

    def to_total(self, N_nonemb):
        """Total parameters: N_nonemb + gamma · N_nonemb**(1/3)."""
        N_nonemb = positive("N (non-embedding parameters)", N_nonemb)
        return N_nonemb + self.gamma * np.cbrt(N_nonemb)

    def to_non_embedding(self, N_total):
        """The inverse of :meth:`to_total`, vectorised.

        x = N_nonemb**(1/3) is the one real root of x**3 + gamma x - N_total = 0. Cardano's
        x = u - v (u v = gamma / 3, u**3 - v**3 = N_total) is written as
        N_total / (u**2 + u v + v**2), which cancels nothing at any N; one Newton step cleans up.
        """
        N_total = positive("N (total parameters)", N_total)
        g = self.gamma
        u = np.cbrt(N_total / 2 + np.sqrt(N_total**2 / 4 + g**3 / 27))
        x = N_total / (u**2 + g / 3 + (g / (3 * u)) ** 2)
        x = x - (x**3 + g * x - N_total) / (3 * x**2 + g)
        return x**3


#: Chinchilla's shapes as Pearce & Song fit them: vocab 32k, d_model / n_layer ≈ 39.2, 2048 context.
CHINCHILLA_SHAPES = ShapeFamily()


def convert_params(N, source, target, shape: ShapeFamily = CHINCHILLA_SHAPES):
    """``N`` counted as ``source`` re-counted as ``target`` (total <-> non-embedding) along ``shape``.

    Active-per-token counts are treated as total counts of the active part (no conversion).
    """
    source, target = ParamCount(source), ParamCount(target)
    N = positive("N (parameters)", N)
    if source is target or ParamCount.NON_EMBEDDING not in (source, target):
        return N
    return shape.to_total(N) if source is ParamCount.NON_EMBEDDING else shape.to_non_embedding(N)


# ---------------------------------------------------------------------------------------------
# FLOP counts per token for one architecture
# ---------------------------------------------------------------------------------------------

def six_n_flops_per_token(arch: Architecture):
    """6 N with N the total parameters (2 forward, x3 for forward + backward)."""
    return 6 * arch.total_params()


def kaplan_flops_per_token(arch: Architecture):
    """6 N_nonemb: Kaplan et al. 2020 eq. 2.2 without the context term (§2.1: C ≈ 6 N per token)."""
    return 6 * arch.non_embedding_params()


def chinchilla_flops_per_token(arch: Architecture, include_embeddings: bool = True):
    """Training FLOPs per token counted as in Hoffmann et al. 2022, App. F.

    Forward pass, a multiply-accumulate counted as 2 FLOPs, per token: the embedding lookup as a
    matmul 2 V d; per layer the key/query/value projections 2·3·d·(h k), the key-query logits
    2·S·(h k), the softmax 3·h·S, the softmax-weighted values 2·S·(h k), the output projection
    2·(h k)·d and the dense block 2·(d f + d f); the final logits 2 d V. Backward = 2 x forward.

    ``include_embeddings=False`` leaves out the embedding and final-logit terms. That variant,
    divided by 6N with N the parameter count of Table A9, reproduces every ratio of Table A4
    (1.03, 1.10, 1.08, 1.04, 1.03, 0.99) to the printed digits; the full count does not (1.58
    for the 73M model), so Table A4 appears to exclude them despite App. F's wording.
    """
    d, S, V, L = arch.d_model, arch.seq_len, arch.vocab_size, arch.n_layers
    width, heads = arch.attention_width, arch.heads
    per_layer = (2 * 3 * d * width + 2 * S * width + 3 * heads * S + 2 * S * width + 2 * width * d
                 + 2 * (d * arch.ffw + d * arch.ffw))
    forward = L * per_layer + (4 * V * d if include_embeddings else 0)
    return 3 * forward


def deepseek_flops_per_token(arch: Architecture):
    """DeepSeek LLM 2024 (arXiv:2401.02954 §3): non-embedding FLOPs per token M = 72 L d**2 + 12 L d S.

    Training FLOPs of the transformer blocks with attention included and the vocabulary left out.
    """
    return 72 * arch.n_layers * arch.d_model**2 + 12 * arch.n_layers * arch.d_model * arch.seq_len


_COUNTS = {
    "6ND": six_n_flops_per_token,
    "kaplan": kaplan_flops_per_token,
    "chinchilla": chinchilla_flops_per_token,
    "deepseek": deepseek_flops_per_token,
}


@dataclass(frozen=True)
class ShapedFlopModel(PerTokenFlops):
    """Training FLOPs C = f(N) · D where f counts FLOPs per token of an architecture.

    A law's N is mapped to an architecture along ``shape`` (Chinchilla's shapes by default),
    counting N as ``params_meaning``; then ``count`` gives the FLOPs per token. Unlike
    :class:`FlopModel` this is not proportional to N, so laws use a numeric iso-FLOP search.

    Attributes
    ----------
    name : str
        Key (``"kaplan"``, ``"chinchilla"``, ``"deepseek"``).
    count : str
        Which per-token count: ``"6ND"``, ``"kaplan"``, ``"chinchilla"`` or ``"deepseek"``.
    shape : ShapeFamily
        How a parameter count becomes an architecture.
    params_meaning : ParamCount
        What the N handed to this model counts (the law's convention).
    """

    name: str
    count: str
    citation: str = ""
    shape: ShapeFamily = CHINCHILLA_SHAPES
    params_meaning: ParamCount = ParamCount.TOTAL
    linear: ClassVar[bool] = False

    def __post_init__(self):
        if self.count not in _COUNTS:
            raise ValueError(f"unknown FLOP count {self.count!r}; choose one of {', '.join(_COUNTS)}")
        object.__setattr__(self, "params_meaning", ParamCount(self.params_meaning))

    def for_params(self, meaning) -> ShapedFlopModel:
        """This count for a law whose N counts ``meaning``."""
        return dataclasses.replace(self, params_meaning=ParamCount(meaning))

    def flops_per_token(self, N):
        """Training FLOPs per token of the family's model with ``N`` parameters."""
        N = positive("N (parameters)", N)
        n_nonemb = convert_params(N, self.params_meaning, ParamCount.NON_EMBEDDING, self.shape)
        return _COUNTS[self.count](self.shape.architecture(n_nonemb))

    def params(self, C, D):
        """Parameters a budget of ``C`` FLOPs buys for ``D`` tokens (vectorised root in ln N)."""
        per_token = positive("C (FLOPs)", C) / positive("D (tokens)", D)
        log_target = np.log(per_token)

        def gap(log_n, log_target):
            return np.log(self.flops_per_token(np.exp(log_n))) - log_target

        # Down to ~1e-26 "parameters": a continuous shape family's FLOPs per token (embedding terms
        # ~ N**(1/3)) stay above any C / D a plot asks for, so the root is bracketed.
        lo, hi = np.full_like(log_target, -60.0), log_target + 40.0
        if np.any(gap(lo, log_target) > 0):
            raise ValueError(f"C / D = {float(np.ravel(per_token)[0]):g} FLOPs per token is below what any model "
                             f"of the {self.name} count costs")
        result = elementwise.find_root(gap, (lo, hi), args=(log_target,), tolerances=dict(xatol=1e-13, xrtol=1e-15))
        return np.exp(result.x)


#: Kaplan's count, C = 6 · N_nonemb · D (Kaplan §2.1), for a law in any convention.
KAPLAN_FLOPS = ShapedFlopModel("kaplan", "kaplan", "Kaplan et al. 2020 §2.1, eq. 2.2 (context term dropped)")
#: Hoffmann et al. 2022 App. F: embeddings, attention and logits included, backward = 2 x forward.
CHINCHILLA_FLOPS = ShapedFlopModel("chinchilla", "chinchilla", "Hoffmann et al. 2022 App. F")
#: DeepSeek LLM 2024 §3: M = 72 n_layer d_model**2 + 12 n_layer d_model l_seq per token.
DEEPSEEK_FLOPS = ShapedFlopModel("deepseek", "deepseek", "DeepSeek-AI 2024, arXiv:2401.02954 §3")

FLOP_MODELS = {"6ND": SIX_ND, "kaplan": KAPLAN_FLOPS, "chinchilla": CHINCHILLA_FLOPS, "deepseek": DEEPSEEK_FLOPS}


def get_flop_model(name: str):
    """The FLOP model called ``name``; ``ValueError`` listing the names if there is none."""
    try:
        return FLOP_MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown FLOP model {name!r}; choose one of {', '.join(FLOP_MODELS)}") from None


# ---------------------------------------------------------------------------------------------
# The catalog's reported FLOPs against each count
# ---------------------------------------------------------------------------------------------

def architecture_of(row, seq_len: float = 2048) -> Architecture | None:
    """The :class:`Architecture` of a catalog row, or None when vocab_size, d_model or n_layers is missing.

    Columns used: ``vocab_size``, ``d_model``, ``n_layers``, ``tied_embeddings`` (missing: tied)
    and, where present, ``seq_len``, ``ffw_size``, ``n_heads``, ``kv_size``. Without them the
    architecture assumes a 2048-token context, full multi-head attention and ffw = 4 d_model.
    """
    def value(name):
        v = row.get(name) if hasattr(row, "get") else None
        try:
            v = float(v)
        except (TypeError, ValueError):
            return None
        return v if math.isfinite(v) and v > 0 else None

    vocab, d, layers = value("vocab_size"), value("d_model"), value("n_layers")
    if vocab is None or d is None or layers is None:
        return None
    tied = row.get("tied_embeddings") if hasattr(row, "get") else None
    tied = True if tied is None or (isinstance(tied, float) and math.isnan(tied)) or tied == "" else (
        tied if isinstance(tied, (bool, np.bool_)) else str(tied).strip().lower() == "true")
    kv = value("kv_size")
    heads = value("n_heads")
    return Architecture(n_layers=layers, d_model=d, vocab_size=vocab, seq_len=value("seq_len") or seq_len,
                        n_heads=heads, kv_size=kv or (d / heads if heads else 128.0), ffw_size=value("ffw_size"),
                        tied_embeddings=bool(tied))


def compare_reported_flops(models, seq_len: float = 2048):
    """Reported training FLOPs of each model with an architecture, against every FLOP count.

    Parameters
    ----------
    models : DataFrame
        Catalog rows with ``name``, ``tokens``, ``flops_reported`` and the architecture columns
        ``vocab_size``, ``d_model``, ``n_layers`` (and optionally ``tied_embeddings``,
        ``seq_len``, ``ffw_size``, ``n_heads``, ``kv_size``).
    seq_len : float
        Context length assumed where the row does not give one.

    Returns
    -------
    DataFrame
        One row per model with an architecture and tokens: ``name``, ``tokens``,
        ``flops_reported``, ``params_from_architecture`` and, for each count in
        ``6ND``/``kaplan``/``chinchilla``/``deepseek``, ``flops_<count>`` (count x tokens) and
        ``ratio_<count>`` (reported / count; NaN where nothing is reported).
    """
    import pandas as pd

    out = []
    for _, row in models.iterrows():
        arch = architecture_of(row, seq_len)
        tokens = pd.to_numeric(pd.Series([row.get("tokens")]), errors="coerce").iloc[0]
        if arch is None or not (tokens > 0):
            continue
        reported = pd.to_numeric(pd.Series([row.get("flops_reported")]), errors="coerce").iloc[0]
        record = {"name": row.get("name"), "tokens": float(tokens), "flops_reported": float(reported),
                  "params_from_architecture": float(arch.total_params())}
        for key, count in _COUNTS.items():
            flops = float(count(arch)) * float(tokens)
            record[f"flops_{key}"] = flops
            record[f"ratio_{key}"] = float(reported) / flops if reported > 0 else math.nan
        out.append(record)
    columns = ["name", "tokens", "flops_reported", "params_from_architecture",
               *(f"{p}_{k}" for k in _COUNTS for p in ("flops", "ratio"))]
    return pd.DataFrame(out, columns=columns)


# ---------------------------------------------------------------------------------------------
# Porian et al. 2024: the exponent, one correction at a time
# ---------------------------------------------------------------------------------------------

PORIAN = ("Porian, Wortsman, Jitsev, Schmidt & Carmon 2024, Resolving Discrepancies in Compute-Optimal "
          "Scaling of Language Models, arXiv:2406.19146 "
          "(released summary data, formll/resolving-scaling-law-discrepancies)")
PORIAN_COLUMNS = ["sequence", "step", "correction", "dataset", "flop_count", "loss", "warmup", "decay", "hparams",
                  "exponent", "ci_low", "ci_high", "prefactor", "flops_low", "flops_high", "source_url",
                  "source_detail"]


def _data_file(name: str):
    """A file of ``data/``: package data where the package ships it, else the checkout's data/."""
    try:
        from importlib.resources import files

        candidate = files("scaling_explorer.data") / name
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "data" / name


def load_porian_steps(dataset: str | None = "RefinedWeb", sequence: str | None = "main"):
    """Porian et al.'s fitted exponent a (N* ∝ C**a) after each cumulative correction.

    Parameters
    ----------
    dataset : str or None
        ``"RefinedWeb"`` (the paper's Figure 1), ``"OpenWebText2"``, or None for both.
    sequence : str or None
        ``"main"`` (last-layer FLOPs counted at step 1), ``"attention"`` (attention FLOPs counted
        too; it starts from the same step 0), or None for both.

    Returns
    -------
    DataFrame
        One row per step in order, with the columns of ``data/porian2024_steps.csv``
        (see ``data/README.md``).
    """
    import io

    import pandas as pd

    table = pd.read_csv(io.BytesIO(_data_file("porian2024_steps.csv").read_bytes()))
    if list(table.columns) != PORIAN_COLUMNS:
        raise ValueError(f"porian2024_steps.csv: expected columns {PORIAN_COLUMNS}, got {list(table.columns)}")
    if dataset is not None:
        if dataset not in set(table["dataset"]):
            known = ", ".join(sorted(set(table["dataset"])))
            raise ValueError(f"dataset must be one of {known} or None, got {dataset!r}")
        table = table[table["dataset"] == dataset]
    if sequence is not None:
        if sequence not in ("main", "attention"):
            raise ValueError(f"sequence must be 'main', 'attention' or None, got {sequence!r}")
        if sequence == "attention":  # the attention variant shares step 0 with the main sequence
            table = pd.concat([table[(table["sequence"] == "main") & (table["step"] == 0)],
                               table[table["sequence"] == "attention"]])
        else:
            table = table[table["sequence"] == "main"]
    return table.reset_index(drop=True)


#: Where a catalog model's non-embedding count comes from, best first (the card and the hover name it).
NON_EMBEDDING_ROUTES = ("published", "vocab x d_model", "Pearce & Song fit")


def non_embedding_counts(models, shape: ShapeFamily = CHINCHILLA_SHAPES):
    """Every dense model's non-embedding parameter count, and where it comes from.

    In order of preference: the published count (``non_embedding_params``), the exact count from
    the architecture columns (params minus ``vocab_size`` x ``d_model``, twice if untied), and
    Pearce & Song's fit to Chinchilla's shapes from the total. Mixture-of-experts rows are left
    empty (their FLOPs follow active parameters, whose embedding share is not published).

    Returns
    -------
    DataFrame
        ``non_embedding_params`` (NaN where none) and ``non_embedding_basis`` (one of
        :data:`NON_EMBEDDING_ROUTES` or ``""``), on ``models``' index.
    """
    import pandas as pd

    def column(name):
        if name not in models.columns:
            return pd.Series(np.nan, index=models.index)
        return pd.to_numeric(models[name], errors="coerce")

    total, published = column("params"), column("non_embedding_params")
    dense = column("active_params").isna() & (total > 0)
    vocab, width = column("vocab_size"), column("d_model")
    tied = (models["tied_embeddings"] if "tied_embeddings" in models.columns
            else pd.Series(None, index=models.index)).map(lambda t: not (t is False or str(t).lower() == "false"))
    from_architecture = total - vocab * width * np.where(tied, 1, 2)
    architecture = dense & published.isna() & (from_architecture > 0)
    fit = dense & published.isna() & ~architecture
    out = pd.Series(np.nan, index=models.index)
    basis = pd.Series("", index=models.index)
    has = dense & published.notna()
    out[has], basis[has] = published[has], NON_EMBEDDING_ROUTES[0]
    out[architecture], basis[architecture] = from_architecture[architecture], NON_EMBEDDING_ROUTES[1]
    if fit.any():
        out[fit] = shape.to_non_embedding(total[fit].to_numpy())
        basis[fit] = NON_EMBEDDING_ROUTES[2]
    return pd.DataFrame({"non_embedding_params": out, "non_embedding_basis": basis})
