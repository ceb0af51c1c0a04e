"""FLOP models: how a law turns N parameters and D tokens into training FLOPs (6ND by default).

Every FLOP count goes through a :class:`FlopModel` (C = k·N·D) or a :class:`ShapedFlopModel`
(FLOPs per token of an architecture: Kaplan's, Chinchilla's App. F, DeepSeek's), never a constant
scattered through modules.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._checks import positive
from .counting import CHINCHILLA_SHAPES, Architecture, ParamCount, ShapeFamily, architecture_of, convert_params


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
        """The model for a law whose N counts ``meaning``: 6ND is 6 x the law's own N, unchanged."""
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
        """The count for a law whose N counts ``meaning``."""
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
        from scipy.optimize import elementwise  # on first use: ~11 MiB that the page's defaults do not need
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

