"""Parameter counts: what a law's N counts (total, non-embedding, active) and conversions between them.

Kaplan et al. 2020 count non-embedding parameters, Hoffmann et al. 2022 all of them: every law says
which, as a :class:`ParamCount`, and the conversions here (an architecture's exact count, Pearce &
Song's fit to Chinchilla's shapes) carry one into the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

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


def dense_non_embedding(N, source, shape: ShapeFamily = CHINCHILLA_SHAPES):
    """``N`` counted as ``source`` as the non-embedding count of a dense model, for laws fitted on those.

    Step Law (Li et al. 2025) and Busbridge et al.'s distillation laws count non-embedding
    parameters of dense models: a total count is converted along ``shape`` (Pearce & Song's fit by
    default); an active-per-token count (a mixture of experts) raises ``ValueError``, since no
    dense model corresponds to it.
    """
    if ParamCount(source) is ParamCount.ACTIVE:
        raise ValueError("N counts the parameters active per token (a mixture of experts); these laws were fitted "
                         "on dense models")
    return convert_params(N, source, ParamCount.NON_EMBEDDING, shape)


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
