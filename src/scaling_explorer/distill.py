"""Distillation scaling laws (Busbridge et al. 2025, "Distillation Scaling Laws", ICML 2025, arXiv:2502.08606).

Three pieces, each a pure function or a small frozen dataclass over numpy:

- :class:`GammaParametricLaw`, their supervised law L(N, D) = E + (A/N^α + B/D^β)^γ (Eq. 1), a
  :class:`~scaling_explorer.laws.Law` like the others (preset ``busbridge2025``);
- :class:`StudentLaw`, their distillation law: the loss of a student of N_S parameters distilled
  on D_S tokens from a teacher of loss L_T (Eq. 8);
- :func:`distillation_flops`, their compute accounting (Eq. 9) in the four settings of Table 2
  (:class:`Accounting`).

:func:`distillation_advantage` compares a distilled student with the same student trained
directly on the same FLOPs; where it is positive, distilling wins (their Fig. 6 for the best
case). A :class:`Teacher` is a loss, a point of the supervised law, or a catalog model.

N counts **non-embedding** parameters throughout (their Table 1). Losses are their C4
cross-entropies with their tokenizer: not on the scale of the other laws' losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import ClassVar

import numpy as np

from ._checks import positive, positive_scalar
from .conventions import SIX_ND, FlopModel, ParamCount
from .laws import FittedRange, LawInfo, _check_coefficients, parametric_optimum

BUSBRIDGE = (
    "Busbridge, Shidani, Weers, Ramapuram, Littwin & Webb 2025, Distillation Scaling Laws, ICML 2025, "
    "arXiv:2502.08606"
)

#: Their caveat, to show beside any number from this module.
DISTILLATION_CAVEAT = (
    "Busbridge et al. fitted these laws on their own models (μP, d_model/n_layers = 128, 4096-token context) "
    "trained on English C4, distilling with the teacher's full distribution (λ = 1, τ = 1); the losses are "
    "their C4 cross-entropies, not comparable with other laws' losses, and other architectures or data "
    "may move every coefficient."
)


@dataclass(frozen=True)
class GammaParametricLaw(LawInfo):
    """Loss L(N, D) = E + (A / N**alpha + B / D**beta)**gamma (Busbridge et al. 2025, Eq. 1).

    gamma = 1 is Hoffmann et al.'s form. Because t**gamma is increasing, the iso-FLOP minimum under
    C = k·N·D is the same closed form as Chinchilla's (:func:`~scaling_explorer.laws.parametric_optimum`).

    Attributes
    ----------
    E : float
        Irreducible loss (nats per token).
    A, alpha, B, beta : float
        Scales and exponents of the model-size and data terms.
    gamma : float
        Exponent applied to their sum.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    gamma: float
    name: str = field(default="custom E + (A/N^α + B/D^β)^γ law", kw_only=True)
    params_meaning: ParamCount = field(default=ParamCount.NON_EMBEDDING, kw_only=True)
    flop_model: FlopModel = field(default=SIX_ND, kw_only=True)
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = True
    coefficients: ClassVar[tuple[str, ...]] = ("E", "A", "B", "alpha", "beta", "gamma")

    def __post_init__(self):
        super().__post_init__()
        _check_coefficients(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta, gamma=self.gamma)

    @property
    def a(self) -> float:
        """Model-size exponent of the frontier, N_opt ∝ C**a, a = beta / (alpha + beta) (their Table 6)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Data exponent of the frontier, D_opt ∝ C**b, b = alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    def loss(self, N, D):
        """Predicted loss (nats per token) for ``N`` non-embedding parameters trained on ``D`` tokens."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return self.E + (self.A / N**self.alpha + self.B / D**self.beta) ** self.gamma

    def compute_optimal(self, C):
        """Loss-minimising (N, D) for ``C`` FLOPs (closed form for C = k·N·D, numeric otherwise)."""
        if not self.flop_model.linear:
            from .frontier import iso_flop_minimum

            return iso_flop_minimum(self, C)
        return parametric_optimum(positive("C (FLOPs)", C), self.A, self.B, self.alpha, self.beta,
                                  self.flop_model.flops_per_param_token)

    def frontier_loss(self, C):
        """Loss of the compute-optimal allocation at ``C`` FLOPs."""
        return self.loss(*self.compute_optimal(C))

    def tokens_for_loss(self, N, L):
        """Tokens D with loss(N, D) = L; NaN where N alone cannot reach L (the iso-loss curve)."""
        N = positive("N (parameters)", N)
        L = positive("L (loss)", L)
        with np.errstate(divide="ignore", invalid="ignore"):
            data_term = np.where(L > self.E, np.abs(L - self.E) ** (1.0 / self.gamma), 0.0) - self.A / N**self.alpha
            return np.where(data_term > 0, (self.B / data_term) ** (1.0 / self.beta), np.nan)


# Their models (§1, Appendix I Table 13): 143M to 12.6B non-embedding parameters, trained on
# "a few billion" (about 20 tokens per parameter for the smallest) to 512B tokens; FLOPs are 6ND at
# the corners, as for the other presets.
_BUSBRIDGE_RANGE = FittedRange((1.43e8, 1.26e10), (2.9e9, 5.12e11), (6 * 1.43e8 * 2.9e9, 6 * 1.26e10 * 5.12e11),
                               "Busbridge et al. 2025 §1 and Table 13 (corners, 6ND)")

#: Their supervised law, Table 6 ("Supervised" column, central estimates).
BUSBRIDGE2025 = GammaParametricLaw(
    E=1.220, A=3355.0, B=18186.0, alpha=0.408, beta=0.431, gamma=0.452,
    name="Busbridge et al. 2025 (supervised, C4)",
    citation=f"{BUSBRIDGE} (Eq. 1, Table 6)",
    params_meaning=ParamCount.NON_EMBEDDING, fitted_range=_BUSBRIDGE_RANGE,
)


@dataclass(frozen=True)
class StudentLaw:
    """Busbridge et al. 2025, Eq. 8: the cross-entropy of a distilled student.

    L_S = L_T + L_T**-c0 · (1 + (L_T / (L̃_S d1))**(1/f1))**(-c1 f1) · (A′/N_S**α′ + B′/D_S**β′)**γ′

    with L̃_S = supervised.loss(N_S, D_S), the loss the student would reach trained directly. The
    broken power law in L_T / L̃_S is their capacity gap: past L_T ≈ d1 · L̃_S a better teacher
    stops helping.

    Attributes
    ----------
    supervised : GammaParametricLaw
        The supervised law that gives L̃_S.
    A, B, alpha, beta, gamma : float
        A′, B′, α′, β′, γ′ of Eq. 8.
    c0, c1, f1, d1 : float
        The teacher terms of Eq. 8.
    """

    supervised: GammaParametricLaw
    A: float
    B: float
    alpha: float
    beta: float
    gamma: float
    c0: float
    c1: float
    f1: float
    d1: float
    name: str = "custom distillation law"
    citation: str = "user-defined coefficients"
    coefficients: ClassVar[tuple[str, ...]] = ("A", "B", "alpha", "beta", "gamma", "c0", "c1", "f1", "d1")

    def __post_init__(self):
        _check_coefficients(**{n: getattr(self, n) for n in self.coefficients})

    def loss(self, N_S, D_S, L_T):
        """Loss of ``N_S`` non-embedding parameters distilled on ``D_S`` tokens from a teacher of loss ``L_T``."""
        N_S = positive("N_S (student parameters)", N_S)
        D_S = positive("D_S (student tokens)", D_S)
        L_T = positive("L_T (teacher loss)", L_T)
        supervised = self.supervised.loss(N_S, D_S)
        # In logs, as in their Eq. 49: (L_T/(L̃ d1))**(1/f1) with f1 = 0.09 overflows for weak students.
        log_ratio = (np.log(L_T) - np.log(supervised) - math.log(self.d1)) / self.f1
        log_gap = -self.c1 * self.f1 * np.logaddexp(0.0, log_ratio)
        mimic = (self.A / N_S**self.alpha + self.B / D_S**self.beta) ** self.gamma
        return L_T + np.exp(-self.c0 * np.log(L_T) + log_gap) * mimic


#: Their distillation law, Table 6 ("Distillation" column, central estimates).
BUSBRIDGE2025_STUDENT = StudentLaw(
    supervised=BUSBRIDGE2025,
    A=2243.0, B=24181.0, alpha=0.321, beta=0.637, gamma=0.764, c0=2.549, c1=522.6, f1=0.090, d1=1.315,
    name="Busbridge et al. 2025 (distillation, C4)", citation=f"{BUSBRIDGE} (Eq. 8, Table 6)",
)


class Accounting(StrEnum):
    """The four compute settings of their Table 2: which teacher costs Eq. 9 counts."""

    BEST_CASE = "best-case"  # teacher exists and its logits are free (fully amortised)
    TEACHER_INFERENCE = "teacher-inference"  # teacher exists; its logits on D_S are paid
    TEACHER_PRETRAINING = "teacher-pretraining"  # teacher is trained; its logits are stored and reused
    TEACHER_PRETRAINING_AND_INFERENCE = "teacher-pretraining-and-inference"  # both paid: the worst case

    @property
    def logits(self) -> int:
        """δ_T^Lgt of Eq. 9: 1 when the teacher's forward passes on the student's tokens are counted."""
        return int(self in (Accounting.TEACHER_INFERENCE, Accounting.TEACHER_PRETRAINING_AND_INFERENCE))

    @property
    def pretraining(self) -> int:
        """δ_T^Pre of Eq. 9: 1 when the teacher's own pre-training is counted."""
        return int(self in (Accounting.TEACHER_PRETRAINING, Accounting.TEACHER_PRETRAINING_AND_INFERENCE))

    @property
    def label(self) -> str:
        """For people (their Table 2's names)."""
        return {
            Accounting.BEST_CASE: "best case: the teacher costs nothing (fully amortised)",
            Accounting.TEACHER_INFERENCE: "teacher inference: the teacher exists; its logits are paid",
            Accounting.TEACHER_PRETRAINING: "teacher pre-training: the teacher is trained; its logits are reused",
            Accounting.TEACHER_PRETRAINING_AND_INFERENCE: "teacher pre-training + inference: all paid, one student",
        }[self]

    @property
    def short_label(self) -> str:
        """A few words, for a legend."""
        return {
            Accounting.BEST_CASE: "teacher free",
            Accounting.TEACHER_INFERENCE: "logits paid",
            Accounting.TEACHER_PRETRAINING: "teacher trained",
            Accounting.TEACHER_PRETRAINING_AND_INFERENCE: "all teacher costs",
        }[self]

    @property
    def needs_teacher_size(self) -> bool:
        """True when Eq. 9 needs the teacher's parameters (and, for pre-training, its tokens)."""
        return bool(self.logits or self.pretraining)


def accounting(value) -> Accounting:
    """``value`` as an :class:`Accounting`; ``ValueError`` listing the settings otherwise."""
    try:
        return Accounting(value)
    except ValueError:
        raise ValueError(f"accounting must be one of {', '.join(a.value for a in Accounting)}, got {value!r}") from None


# Their models (Appendix I): d_model / n_layers = 128, 4096-token context, vocabulary 32168 (§G.4),
# ω = 2 + 2/g_size + n_ffn ρ_ffn = 2 + 2 + 3·8/3 = 12 (Eq. 60).
BUSBRIDGE_CONTEXT = 4096
BUSBRIDGE_VOCAB = 32168
BUSBRIDGE_ASPECT_RATIO = 128.0
BUSBRIDGE_OMEGA = 12.0


def forward_flops_per_token(N, n_ctx: float = BUSBRIDGE_CONTEXT, n_vocab: float = BUSBRIDGE_VOCAB,
                            aspect_ratio: float = BUSBRIDGE_ASPECT_RATIO, omega: float = BUSBRIDGE_OMEGA):
    """F(N): forward FLOPs per token of a fixed-aspect-ratio model (Busbridge et al. 2025, App. H.1, Eq. 69).

    F(N) = 2N (1 + σ1 n_ctx / N**(1/3) + σ2 n_vocab / N**(2/3)), σ1 = (ρ ω²)**(-1/3),
    σ2 = (ρ / ω)**(1/3): 2N plus attention over the context and the output projection, which
    2N leaves out and which matter for small models (their Table 13: -8.85% at 7.75B, -39.7% at 103M).

    Parameters
    ----------
    N : array_like
        Non-embedding parameters.
    n_ctx, n_vocab, aspect_ratio, omega : float
        Context length, vocabulary, d_model / n_layers and ω (Eq. 61); their models' by default.
    """
    N = positive("N (parameters)", N)
    sigma1 = (aspect_ratio * omega**2) ** (-1.0 / 3.0)
    sigma2 = (aspect_ratio / omega) ** (1.0 / 3.0)
    return 2.0 * N * (1.0 + sigma1 * n_ctx / np.cbrt(N) + sigma2 * n_vocab / np.cbrt(N) ** 2)


def distillation_flops(student_params, student_tokens, teacher_params=None, teacher_tokens=None,
                       setting: Accounting | str = Accounting.BEST_CASE, forward=forward_flops_per_token):
    """FLOPs of distilling a student, Busbridge et al. 2025 Eq. 9 in one of the four settings of Table 2.

    FLOPs = 3 F(N_S) D_S + F(N_T) (δ_Lgt D_S + δ_Pre 3 D_T): the student's training, the teacher's
    forward passes on the student's tokens, and the teacher's own training (backward = 2 x forward).

    Parameters
    ----------
    student_params, student_tokens : array_like
        N_S (non-embedding) and D_S.
    teacher_params, teacher_tokens : array_like, optional
        N_T and D_T; needed when ``setting`` counts teacher logits (N_T) or pre-training (N_T, D_T).
    setting : Accounting or str
        Which teacher costs to count.
    forward : callable
        F(N), forward FLOPs per token; their fixed-aspect-ratio count by default
        (``lambda N: 2 * N`` gives the familiar 6ND for the student).
    """
    setting = accounting(setting)
    N_S = positive("N_S (student parameters)", student_params)
    D_S = positive("D_S (student tokens)", student_tokens)
    total = 3.0 * forward(N_S) * D_S
    if setting.needs_teacher_size:
        if teacher_params is None:
            raise ValueError(f"accounting {setting.value!r} counts the teacher's FLOPs: give the teacher's parameters")
        F_T = forward(positive("N_T (teacher parameters)", teacher_params))
        if setting.logits:
            total = total + F_T * D_S
        if setting.pretraining:
            if teacher_tokens is None:
                raise ValueError(f"accounting {setting.value!r} counts the teacher's pre-training: "
                                 "give the teacher's training tokens")
            total = total + 3.0 * F_T * positive("D_T (teacher tokens)", teacher_tokens)
    return total


@dataclass(frozen=True)
class Teacher:
    """A teacher: its loss L_T, and when known its size and training tokens (for Eq. 9's costs).

    Attributes
    ----------
    loss : float
        L_T in nats per token (their C4 cross-entropy).
    params, tokens : float or None
        N_T (non-embedding) and D_T.
    name : str
        For people.
    """

    loss: float
    params: float | None = None
    tokens: float | None = None
    name: str = "teacher"

    def __post_init__(self):
        object.__setattr__(self, "loss", positive_scalar("teacher loss", self.loss))
        for name, label in (("params", "teacher parameters"), ("tokens", "teacher tokens")):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, positive_scalar(label, getattr(self, name)))

    @classmethod
    def from_law(cls, params, tokens, law: GammaParametricLaw = BUSBRIDGE2025, name: str = "") -> Teacher:
        """A teacher of ``params`` non-embedding parameters trained on ``tokens`` tokens, L_T = law.loss(N_T, D_T)."""
        loss = float(law.loss(positive_scalar("teacher parameters", params), positive_scalar("teacher tokens", tokens)))
        label = name or f"{float(params):.3g} params on {float(tokens):.3g} tokens"
        return cls(loss, float(params), float(tokens), label)

    @classmethod
    def from_catalog(cls, model: str, models=None, law: GammaParametricLaw = BUSBRIDGE2025) -> Teacher:
        """A published model as teacher, with L_T from ``law``.

        Its non-embedding parameters where published (else total or active, see
        :func:`~scaling_explorer.catalog.compute_params`) and its training tokens. The model was not
        trained on their data: its L_T is what the law predicts for a model of that size and data,
        not a measured loss.
        """
        from .catalog import compute_params, load_models

        table = load_models() if models is None else models
        rows = table[table["name"] == model]
        if rows.empty:
            raise ValueError(f"model {model!r} is not in the catalog")
        N, _basis = compute_params(rows, law)
        tokens = rows["tokens"].iloc[0]
        if not (np.isfinite(N.iloc[0]) and np.isfinite(tokens)):
            raise ValueError(f"model {model!r} has no published parameter or token count to use as a teacher")
        return cls.from_law(float(N.iloc[0]), float(tokens), law, name=model)


#: A teacher's loss must lie above the supervised law's irreducible loss E and at or below uniform
#: guessing over their 32,168-token vocabulary, ln(32168) = 10.38 nats.
TEACHER_LOSS_RANGE = (BUSBRIDGE2025.E, math.log(BUSBRIDGE_VOCAB))


def catalog_teachers(models=None) -> tuple[str, ...]:
    """Names of the catalog models that can be a teacher: a published size and training tokens, sorted.

    ``models`` defaults to the shipped catalog (read once per process).
    """
    if models is None:
        return _shipped_teachers()
    from .catalog import compute_params

    N, _basis = compute_params(models, BUSBRIDGE2025)
    usable = np.isfinite(N.to_numpy(float)) & np.isfinite(models["tokens"].to_numpy(float))
    return tuple(sorted(models.loc[usable, "name"]))


@lru_cache(maxsize=1)
def _shipped_teachers() -> tuple[str, ...]:
    from .catalog import load_models

    return catalog_teachers(load_models())


def teacher_from_spec(spec: str, models=None) -> Teacher:
    """A :class:`Teacher` from text: a catalog model's name, ``NT:DT`` or a loss.

    ``NT:DT`` is a point of their supervised law (N_T non-embedding parameters on D_T tokens, e.g.
    ``7.75e9:1.55e11``); a bare number is L_T in their C4 nats, which must lie in
    :data:`TEACHER_LOSS_RANGE` (such a teacher has no size, so only the best-case accounting can
    count it). ``ValueError`` says which form was expected. Cached for the shipped catalog.
    """
    if models is None and isinstance(spec, str):
        return _shipped_teacher(spec)
    return _teacher_from_spec(spec, models)


@lru_cache(maxsize=64)
def _shipped_teacher(spec: str) -> Teacher:  # a page step or a row asks again for the same teacher
    return _teacher_from_spec(spec, None)


def _teacher_from_spec(spec, models) -> Teacher:
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"teacher must be a catalog model, NT:DT or a loss, got {spec!r}")
    if spec in catalog_teachers(models):
        return Teacher.from_catalog(spec, models)
    if ":" in spec:
        nt, _, dt = spec.partition(":")
        try:
            N, D = float(nt), float(dt)
        except ValueError:
            raise ValueError(f"teacher {spec!r} is neither a catalog model with a published size and tokens nor "
                             "NT:DT (non-embedding parameters:tokens, e.g. 7.75e9:1.55e11)") from None
        return Teacher.from_law(N, D)
    try:
        loss = float(spec)
    except ValueError:
        raise ValueError(f"teacher {spec!r} is not a catalog model with a published size and tokens; give one, "
                         "NT:DT (e.g. 7.75e9:1.55e11) or a loss (e.g. 2.0)") from None
    low, high = TEACHER_LOSS_RANGE
    if not (math.isfinite(loss) and low < loss <= high):
        raise ValueError(f"teacher loss {loss:g} must lie above their irreducible loss E = {low:g} and at or below "
                         f"ln({BUSBRIDGE_VOCAB}) = {high:.2f} nats (uniform guessing over their vocabulary)")
    return Teacher(loss, name=f"loss {loss:g}")


@dataclass(frozen=True)
class Distillation:
    """One student distilled from one teacher, and the same student trained directly.

    Attributes
    ----------
    student_loss : float or ndarray
        L_S of Eq. 8.
    supervised_loss : float or ndarray
        L̃_S: the student trained directly on the same D_S tokens.
    teacher_loss : float
        L_T.
    flops : float or ndarray
        Eq. 9 in the chosen setting.
    supervised_tokens : float or ndarray
        Tokens the same student trained directly gets for the same FLOPs (D_S in the best case).
    supervised_loss_same_flops : float or ndarray
        Its loss; distilling wins where this is above ``student_loss``.
    setting : Accounting
        The accounting used.
    """

    student_loss: object
    supervised_loss: object
    teacher_loss: float
    flops: object
    supervised_tokens: object
    supervised_loss_same_flops: object
    setting: Accounting

    @property
    def advantage(self):
        """supervised_loss_same_flops - student_loss (nats): positive where distilling beats training directly."""
        return self.supervised_loss_same_flops - self.student_loss

    def to_dict(self) -> dict:
        """Floats for one student (JSON-ready): the losses, FLOPs, the same-FLOPs comparison and who wins."""
        out = {name: float(getattr(self, name)) for name in (
            "student_loss", "supervised_loss", "teacher_loss", "flops", "supervised_tokens",
            "supervised_loss_same_flops", "advantage")}
        return out | {"accounting": self.setting.value, "distilling_wins": out["advantage"] > 0}


def distill(student_params, student_tokens, teacher: Teacher, setting: Accounting | str = Accounting.BEST_CASE,
            law: StudentLaw = BUSBRIDGE2025_STUDENT, forward=forward_flops_per_token) -> Distillation:
    """Distil a student of ``student_params`` on ``student_tokens`` from ``teacher``; broadcasts over the student.

    The comparison is at equal FLOPs: the directly trained student of the same size gets
    ``flops / (3 F(N_S))`` tokens, which is D_S in the best case (their Fig. 6) and more when the
    setting counts the teacher's costs (their §5.3).
    """
    setting = accounting(setting)
    N_S = positive("N_S (student parameters)", student_params)
    D_S = positive("D_S (student tokens)", student_tokens)
    flops = distillation_flops(N_S, D_S, teacher.params, teacher.tokens, setting, forward)
    supervised_tokens = flops / (3.0 * forward(N_S))
    return Distillation(
        student_loss=law.loss(N_S, D_S, teacher.loss),
        supervised_loss=law.supervised.loss(N_S, D_S),
        teacher_loss=teacher.loss,
        flops=flops,
        supervised_tokens=supervised_tokens,
        supervised_loss_same_flops=law.supervised.loss(N_S, supervised_tokens),
        setting=setting,
    )


def distillation_advantage(student_params, student_tokens, teacher: Teacher,
                           setting: Accounting | str = Accounting.BEST_CASE, law: StudentLaw = BUSBRIDGE2025_STUDENT,
                           forward=forward_flops_per_token):
    """Nats by which distilling beats training the same student directly on the same FLOPs (vectorised).

    Positive inside the region of the student's N-D plane where distilling wins; pass meshgrids
    of N_S and D_S for the page's region. See :func:`distill`.
    """
    return distill(student_params, student_tokens, teacher, setting, law, forward).advantage


def distillation_region(student_params, student_tokens, teacher: Teacher,
                        setting: Accounting | str = Accounting.BEST_CASE, law: StudentLaw = BUSBRIDGE2025_STUDENT,
                        forward=forward_flops_per_token):
    """Boolean mask: True where distilling beats training directly (:func:`distillation_advantage` > 0)."""
    return distillation_advantage(student_params, student_tokens, teacher, setting, law, forward) > 0


__all__ = [
    "BUSBRIDGE2025", "BUSBRIDGE2025_STUDENT", "DISTILLATION_CAVEAT", "TEACHER_LOSS_RANGE", "Accounting",
    "Distillation", "GammaParametricLaw", "StudentLaw", "Teacher", "accounting", "catalog_teachers", "distill",
    "distillation_advantage", "distillation_flops", "distillation_region", "forward_flops_per_token",
    "teacher_from_spec",
]
