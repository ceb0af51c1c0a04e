"""The published scaling laws by key, and the registry of users' laws.

Every law is reachable by key (:func:`get_law`): the presets below, each with its source next to
its numbers, plus what users register (:func:`register_law`: a fit, their own coefficients).
"""

from __future__ import annotations

import math

from .counting import ParamCount
from .laws import AllocationLaw, FittedRange, KaplanLaw, Law, ParametricLaw
from .wrappers.moe import KRAJEWSKI2024

KAPLAN = (
    "Kaplan et al. 2020, Scaling Laws for Neural Language Models, arXiv:2001.08361 "
    "(loss: eq. 1.5 with Table 2 fit; frontier: Table 6 / eq. 6.1)"
)
HOFFMANN = "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv:2203.15556"
BESIROGLU = (
    "Besiroglu, Erdil, Barnett & You 2024, Chinchilla Scaling: A replication attempt, arXiv:2404.10102 "
    "(point estimates from epoch-research/analyzing-chinchilla data_analysis.ipynb)"
)

# Kaplan §3: 768 to 1.5e9 non-embedding parameters, datasets of 22M to 23B tokens (eq. 1.5's D).
# Compute: the standard runs train 2.5e5 steps of 512 sequences of 1024 tokens (§2.3), 1.31e11
# tokens, so the largest model (1.5e9) reaches 6 x 1.5e9 x 1.31e11 = 1.18e21 FLOPs, not the 2.07e20
# of 6 N_max D_max; the low end stays 6 x 768 x 2.2e7.
_KAPLAN_STEPS_TOKENS = 2.5e5 * 512 * 1024
_KAPLAN_RANGE = FittedRange((768, 1.5e9), (2.2e7, 2.3e10), (6 * 768 * 2.2e7, 6 * 1.5e9 * _KAPLAN_STEPS_TOKENS),
                            "Kaplan §3 (N, D); §2.3 (2.5e5 steps x 512 x 1024 tokens: ~1.2e21 FLOPs at 1.5B)")
# Hoffmann abstract: 70M to over 16B parameters, 5B to 500B tokens; budgets of the Figure 4 runs
# as reconstructed by Epoch (1.4e18 to 1.3e22 FLOPs).
_HOFFMANN_RANGE = FittedRange((7e7, 1.6e10), (5e9, 5e11), (1.4e18, 1.3e22), "Hoffmann abstract; Epoch's Figure 4 data")
# Approach 2 used nine budgets from 6e18 to 3e21 FLOPs (Hoffmann §3.2).
_APPROACH2_RANGE = FittedRange((7e7, 1.6e10), (5e9, 5e11), (6e18, 3e21), "Hoffmann §3.2")
# Epoch's reconstructed Figure 4 runs: 5.73e7 to 1.62e10 params, 1.40e18 to 1.30e22 FLOPs, D = C/6N.
_EPOCH_RANGE = FittedRange(
    (5.73e7, 1.62e10), (2.45e8, 3.18e11), (1.40e18, 1.30e22), "Epoch's reconstructed Figure 4 (D = C / 6N)"
)

SARDANA = (
    "Sardana, Portes, Doubov & Frankle 2024, Beyond Chinchilla-Optimal: Accounting for Inference in Language "
    "Model Scaling Laws, ICML 2024, arXiv:2401.00448 (constants of the authors' code, "
    "nikhilsardana/beyond-chinchilla utils.py)"
)
MUENNIGHOFF = (
    "Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv:2305.16264 "
    "(C4 fit from huggingface/datablations README, Parametric Fit)"
)
LLAMA3 = (
    "Llama Team 2024, The Llama 3 Herd of Models, arXiv:2407.21783 §3.2.1 (tokens D* = 0.29 C^0.53; exponent "
    "anchored on the stated 16.55T tokens at 3.8e25 FLOPs, N = C / 6D; the solved exponent 0.5378 gives 40-48% "
    "more tokens than the printed 0.29 C^0.53 across the fitted 6e18-1e22 FLOPs)"
)
DEEPSEEK = (
    "DeepSeek-AI 2024, DeepSeek LLM: Scaling Open-Source Language Models with Longtermism, arXiv:2401.02954 §3.2 "
    "(M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757; N = M / 6)"
)
#: What N = M / 6 gets wrong (M = 72 n d**2 + 12 n d l_seq non-embedding FLOPs per token): M / 6 is
#: the 12 n d**2 non-embedding parameters times 1 + l_seq / (6 d_model), the attention FLOPs read as
#: parameters. With l_seq = 4096 that is 1.17x at d_model = 4096 (DeepSeek LLM 7B). At the small end
#: of the fitted 1e17-3e20 FLOPs, M_opt(1e17) = 1.4e8 FLOPs per token: with l_seq = 4096 that is
#: 3.2 layers of d_model = 512 (2.33x) or 1.75 of 768 (1.89x), so about 2x-2.3x.
DEEPSEEK_CAVEAT = (
    "N = M/6 counts attention FLOPs as parameters: it overstates non-embedding parameters by "
    "1 + l_seq/(6 d_model), 1.17x for DeepSeek LLM 7B and about 2.3x at the small end of the fitted span"
)
# datablations README: "up to 900 billion training tokens and 9 billion parameter models"; the low
# ends are the smallest architecture preset (7M, utils/model_params.sh) and unique-token budget
# (100M, the README's model names). FLOPs are 6ND at the corners.
_MUENNIGHOFF_RANGE = FittedRange((7e6, 9e9), (1e8, 9e11), (6 * 7e6 * 1e8, 6 * 9e9 * 9e11),
                                 "datablations README (abstract, model names); utils/model_params.sh")
_LLAMA3_TOKEN_EXPONENT = math.log(16.55e12 / 0.29) / math.log(3.8e25)
# Llama 3 §3.2.1: isoFLOP budgets 6e18 to 1e22 FLOPs, models of 40M to 16B parameters; tokens are
# 6ND at the corners.
_LLAMA3_RANGE = FittedRange((4e7, 1.6e10), (6e18 / (6 * 1.6e10), 1e22 / (6 * 4e7)), (6e18, 1e22), "Llama 3 §3.2.1")
# DeepSeek LLM §3.2 fits budgets of 1e17 to 3e20 FLOPs (not re-checked against the paper text here:
# reference.md marks the DeepSeek law as secondary); N and D are the law's own at the ends.
_DEEPSEEK_RANGE = FittedRange(
    (0.1715 / 6 * 1e17**0.5243, 0.1715 / 6 * 3e20**0.5243), (5.8316 * 1e17**0.4757, 5.8316 * 3e20**0.4757),
    (1e17, 3e20), "DeepSeek LLM §3.2 (secondary transcription)",
)

PRESETS: dict[str, Law] = {
    "kaplan2020": KaplanLaw(
        # Table 2 (joint fit of eq. 1.5): alpha_N 0.076, alpha_D 0.103, N_c 6.4e13, D_c 1.8e13.
        N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103,
        # Table 6: N_opt = 1.3e9 * C_min**0.73, C_min in PF-days; training at B_crit, C = 2 C_min (eq. 6.7).
        N_e=1.3e9, p_N=0.73, c_over_c_min=2.0,
        # Table 5 / eq. 1.3: L(C_min) = (3.1e8 PF-days / C_min)**0.050, the loss along the frontier.
        C_c=3.1e8, alpha_C=0.050,
        name="Kaplan et al. 2020", citation=KAPLAN, fitted_range=_KAPLAN_RANGE,
    ),
    # Approaches 1 and 2 publish exponents (Table 2) and projections (Table 3, Table A3) but no
    # prefactor. k is the geometric mean of N / C**a over the nine projected rows, so the law
    # reproduces every row to within 2.2% (approach 1) and 3.3% (approach 2).
    "hoffmann2022-approach1": AllocationLaw(
        k=0.0893, a_exponent=0.50,
        name="Hoffmann et al. 2022, Approach 1", citation=f"{HOFFMANN} (Approach 1: Table 2 exponent, Table 3)",
        fitted_range=_HOFFMANN_RANGE,
    ),
    "hoffmann2022-approach2": AllocationLaw(
        k=0.1444, a_exponent=0.49,
        name="Hoffmann et al. 2022, Approach 2", citation=f"{HOFFMANN} (Approach 2: Table 2 exponent, Table A3)",
        fitted_range=_APPROACH2_RANGE,
    ),
    "hoffmann2022-approach3": ParametricLaw(
        # App. D.2, eq. 10, as printed (rounded).
        E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
        name="Hoffmann et al. 2022, Approach 3 (as printed)", citation=f"{HOFFMANN} (Approach 3: App. D.2, eq. 10)",
        fitted_range=_HOFFMANN_RANGE,
    ),
    "hoffmann2022-approach3-unrounded": ParametricLaw(
        # The values behind eq. 10's rounded print, as used in Epoch's replication code
        # (epoch-research/analyzing-chinchilla). They reproduce Table A3's Approach-3 column to
        # 1-11% and give ~40B parameters at Gopher's budget (Fig. 4 caption); the rounded print
        # gives 32B and is 18-30% low in N.
        E=1.6934, A=406.40, B=410.72, alpha=0.3392, beta=0.2849,
        name="Hoffmann et al. 2022, Approach 3 (unrounded)",
        citation=f"{HOFFMANN} (Approach 3, unrounded values behind App. D.2 eq. 10, via Epoch's replication code)",
        fitted_range=_HOFFMANN_RANGE,
    ),
    "besiroglu2024": ParametricLaw(
        E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
        name="Besiroglu et al. 2024 (Epoch refit)", citation=BESIROGLU, fitted_range=_EPOCH_RANGE,
    ),
    "sardana2024": ParametricLaw(
        # The constants of the authors' code (utils.py, ChinchillaConstants), which every example in
        # their README uses: neither Hoffmann's rounded nor unrounded set. L(70e9, 1e12) = 1.9473.
        E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283,
        name="Sardana et al. 2024 (their code's Chinchilla constants)", citation=SARDANA,
        fitted_range=_HOFFMANN_RANGE,
    ),
    "muennighoff2023": ParametricLaw(
        # datablations README, "Parametric Fit": a = 6.255414, b = 7.3049974, e = 0.6254804 are logs,
        # so A = exp(a), B = exp(b), E = exp(e); alpha = beta = 0.3526596. With a unique-token budget
        # the repetition model of wrappers.data_constrained adds R_D* = 15.387756, R_N* = 5.309743.
        E=math.exp(0.6254804), A=math.exp(6.255414), B=math.exp(7.3049974), alpha=0.3526596, beta=0.3526596,
        name="Muennighoff et al. 2023 (C4 fit)", citation=MUENNIGHOFF, fitted_range=_MUENNIGHOFF_RANGE,
    ),
    # Llama 3 (§3.2.1) fits the compute-optimal number of *training tokens*, D*(C) = A * C**alpha with
    # (alpha, A) = (0.53, 0.29) as printed, and extrapolates to 402B parameters on 16.55T tokens at
    # 3.8e25 FLOPs. The printed exponent is rounded: 0.29 * (3.8e25)**0.53 = 1.05e13 tokens, 37% short
    # of 16.55T. Anchor: keep A = 0.29 as printed and solve the exponent from D*(3.8e25) = 16.55e12,
    # alpha = ln(16.55e12 / 0.29) / ln(3.8e25) = 0.53778 (a refit of the digitised isoFLOP minima gives
    # 0.298 * C**0.537, within 2% of this over the fitted 6e18-1e22). N follows from C = 6ND: 383B at
    # 3.8e25, 4.8% under the stated 402B, because 6 * 402e9 * 16.55e12 = 3.99e25, not 3.8e25 (the
    # paper's two statements do not share one FLOP count; 6ND does reproduce 405B x 15.6T = 3.8e25).
    # The solved exponent puts C**0.00778 more tokens than the printed law: 1.40x at 6e18 and 1.48x at
    # 1e22 FLOPs, i.e. 40-48% more inside the fitted span (said in the citation, where the preset is
    # described). As an AllocationLaw: N = C / (6 D*) = C**(1 - alpha) / (6 A).
    "llama3-2024": AllocationLaw(
        k=1.0 / (6 * 0.29), a_exponent=1.0 - _LLAMA3_TOKEN_EXPONENT,
        name="Llama 3 2024 (isoFLOP law for tokens)", citation=LLAMA3, fitted_range=_LLAMA3_RANGE,
    ),
    # DeepSeek LLM (§3.2): M_opt = 0.1715 * C**0.5243 and D_opt = 5.8316 * C**0.4757, with M the
    # non-embedding FLOPs per token (72 n_layer d_model**2 + 12 n_layer d_model l_seq) and C = M * D.
    # Conversion to parameters: N = M / 6, so that C = M D = 6 N D. The 72 n d**2 part of M is
    # exactly 6 x the 12 n d**2 non-embedding parameters; the attention part adds l_seq / (6 d_model)
    # on top (17% for DeepSeek LLM 7B: d_model = l_seq = 4096), so this N is non-embedding
    # parameters plus attention compute in parameter units, and overstates the parameter count by that.
    "deepseek2024": AllocationLaw(
        k=0.1715 / 6, a_exponent=0.5243,
        name="DeepSeek LLM 2024 (M = non-embedding FLOPs/token, N = M/6)", citation=DEEPSEEK,
        params_meaning=ParamCount.NON_EMBEDDING, fitted_range=_DEEPSEEK_RANGE, caveat=DEEPSEEK_CAVEAT,
    ),
}


# The MoE law lives with its FLOP model in wrappers.moe.
PRESETS["krajewski2024"] = KRAJEWSKI2024


# -- Beyond the pre-training budget (issue 23): distillation and data quality ------------------------
# One block, so it moves to presets.py as a unit.
_DEEPSEEK_TABLE4 = (
    "DeepSeek-AI 2024, DeepSeek LLM: Scaling Open-Source Language Models with Longtermism, arXiv:2401.02954 "
    "§3.3 Table 4"
)
# DeepSeek LLM §3.3, Table 4: the model-scale exponent a of M_opt ∝ C^a fitted on three data sets of
# rising quality (their internal assessment): early in-house 0.450, current in-house 0.524,
# OpenWebText2 0.578. Table 4 prints exponents only. The one published prefactor is the current
# data's M_base = 0.1715 (§3.2, with a = 0.5243); for the other two no prefactor is published, so
# each is anchored to meet the current-data law at C = 5.5e18 FLOPs, the geometric centre of the
# fitted budgets 1e17 to 3e20 (§3.2). The three then differ only in slope, which is what Table 4
# measures; their absolute N away from the anchor is this choice, not the paper's.
_DEEPSEEK_ANCHOR_FLOPS = math.sqrt(1e17 * 3e20)
_DEEPSEEK_QUALITY = (("early-data", "early in-house data", 0.450),
                     ("current-data", "current in-house data", 0.5243),
                     ("openwebtext2", "OpenWebText2", 0.578))


def _add_beyond_pretraining_presets() -> None:
    from .distill import BUSBRIDGE2025

    PRESETS["busbridge2025"] = BUSBRIDGE2025
    current_n = 0.1715 / 6 * _DEEPSEEK_ANCHOR_FLOPS**0.5243  # N = M / 6, as for "deepseek2024"
    for key, label, a in _DEEPSEEK_QUALITY:
        published = key == "current-data"
        PRESETS[f"deepseek2024-{key}"] = AllocationLaw(
            k=0.1715 / 6 if published else current_n / _DEEPSEEK_ANCHOR_FLOPS**a, a_exponent=a,
            name=f"DeepSeek LLM 2024, {label} (a = {a:g})",
            citation=(f"{_DEEPSEEK_TABLE4} (a = {a:g}); " + (
                "prefactor M_base = 0.1715 (§3.2), N = M/6" if published else
                "prefactor not published: anchored to the current-data law at 5.5e18 FLOPs")),
            params_meaning=ParamCount.NON_EMBEDDING, fitted_range=_DEEPSEEK_RANGE, caveat=DEEPSEEK_CAVEAT,
        )


_add_beyond_pretraining_presets()


# --- Gadre et al. 2024 presets (issue 21) -------------------------------------------------------------
# gadre2024-c4, gadre2024-rpj, gadre2024-rw: loss laws in tokens per parameter with their
# loss-to-error maps, declared in downstream/gadre.py (GADRE_PRESETS). When presets move to
# presets.py, move this block with them unchanged.
def _add_downstream_presets() -> None:
    from .downstream.gadre import GADRE_PRESETS

    PRESETS.update(GADRE_PRESETS)


_add_downstream_presets()

# Every law reachable by key: the presets plus what users register (a fit, their own coefficients).
_REGISTRY: dict[str, Law] = dict(PRESETS)


def register_law(key: str, law: Law, *, replace: bool = False) -> None:
    """Make ``law`` available by ``key`` everywhere a preset is (Scenario, page, CLI in this process).

    Parameters
    ----------
    key : str
        Short key: letters, digits, ``-``, ``_`` and ``.``; presets cannot be replaced.
    law : Law
        Any object satisfying :class:`Law`.
    replace : bool
        Allow replacing an earlier registration of the same key.
    """
    if not isinstance(key, str) or not key or not all(c.isalnum() or c in "-_." for c in key):
        raise ValueError(f"law key must be letters, digits, '-', '_' or '.', got {key!r}")
    if not isinstance(law, Law):
        raise TypeError(f"{law!r} does not provide the Law protocol (name, citation, params_meaning, "
                        "fitted_range, flop_model, has_loss, frontier_minimises_loss, compute_optimal)")
    if key in PRESETS:
        raise ValueError(f"{key!r} is a preset and cannot be replaced; register under another key")
    if key in _REGISTRY and not replace and _REGISTRY[key] != law:
        raise ValueError(f"a law is already registered as {key!r}; pass replace=True to replace it")
    _REGISTRY[key] = law


def law_keys() -> tuple[str, ...]:
    """Keys of every available law: the presets first, then registered laws."""
    return tuple(_REGISTRY)


def get_law(name: str) -> Law:
    """The law registered as ``name``; ``ValueError`` listing the keys if there is none."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown law {name!r}; choose one of {', '.join(_REGISTRY)}") from None


