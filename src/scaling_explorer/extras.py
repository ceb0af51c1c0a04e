"""Readout extras for what a loss means downstream and for what lies beyond the pre-training budget.

Four results: predicted benchmark error, the hyperparameters at the optimum, distillation, and
test-time compute against a bigger model.

Each is registered once here over one library function (:func:`~scaling_explorer.readout.register_extra`);
the frame, the CSV, the JSON, the CLI's text and the page's numbers table take it from there, and
its note (a caveat, how far to trust it) is shown once beside its numbers (:attr:`Readout.notes`).

=================== ======================================= =====================================================
extra               asked for by                            library function
=================== ======================================= =====================================================
``downstream``      a shown law with a downstream map       :func:`scaling_explorer.downstream.predict_downstream`
                    (``gadre2024-c4``, ``-rpj``, ``-rw``)
``hyperparameters`` ``hyper=1``                             :func:`scaling_explorer.hyper.hyperparameters`
``distillation``    ``teacher=`` (and ``accounting=``)      :func:`scaling_explorer.distill.distill`
``test_time``       ``serve=`` (and ``size-ratio=``)        :func:`scaling_explorer.testtime.inference_multiplier`
=================== ======================================= =====================================================

Each is evaluated at the row's answer: the compute-optimal allocation, unless unique tokens or a
target ask for another (:attr:`~scaling_explorer.readout.LawRow.answer`). Step Law and Busbridge et
al.'s laws count non-embedding parameters: where a law counts total parameters, its N is converted
along Pearce & Song's fit to Chinchilla's shapes (:func:`~scaling_explorer.counting.dense_non_embedding`).

Imported by :mod:`scaling_explorer.readout` after its built-in extras, so the order above is the
display order after them.
"""

from __future__ import annotations

from .counting import dense_non_embedding
from .distill import DISTILLATION_CAVEAT, Accounting, distill, teacher_from_spec
from .downstream import TRUST_NOTE, NoDownstreamMap, downstream_map, has_downstream, predict_downstream
from .hyper import DEEPSEEK_CITATION, STEP_LAW_CITATION, hyperparameters
from .readout import LawRow, Missing, register_extra
from .scenario import Scenario
from .testtime import SNELL_CITATION, SNELL_FINDING, inference_multiplier

PEARCE_SONG_NOTE = ("where a law counts total parameters, its N is converted to non-embedding parameters along "
                    "Pearce & Song's fit to Chinchilla's shapes (N_total = N + 47491 N^(1/3))")


def _non_embedding(row: LawRow, what: str) -> float:
    """The answer's N as non-embedding parameters, for a law fitted on them; Missing where it cannot be."""
    try:
        return float(dense_non_embedding(row.answer.params, row.params_meaning))
    except ValueError as exc:  # an active-per-token count, or an N outside floating-point range
        raise Missing(f"{what}: {exc}") from None


# -- downstream error (issue 21; Gadre et al. 2024) ----------------------------------------------------
def _has_map(law) -> bool:
    """The law, or the law it re-counts (``count=``), has a loss-to-error map."""
    return has_downstream(law) or has_downstream(getattr(law, "base", None))


def _downstream(law, s: Scenario, row: LawRow) -> dict:
    if not has_downstream(law):
        if _has_map(law):  # re-counted by the scenario: N is no longer the one Gadre et al.'s law takes
            raise Missing("predicted error needs the Gadre law's own count of N (count=native)")
        try:
            downstream_map(law)
        except NoDownstreamMap as exc:
            raise Missing(str(exc)) from None
    a = row.answer
    p = predict_downstream(law, a.params, a.tokens, a.loss)  # a.loss: data-constrained where data repeats
    return {"loss": float(p.loss), "error_17": float(p.error["17"]), "error_46": float(p.error["46"]),
            "extrapolated": bool(p.extrapolated)}


register_extra(
    "downstream", label="predicted average top-1 error over 17 and 46 tasks (Gadre et al. 2024)",
    applies=lambda s: any(_has_map(s.law(k)) for k in s.laws), compute=_downstream,
    values=("loss", "error_17", "error_46", "extrapolated"),
    units={"loss": "nats/token, C4 eval", "error_17": "fraction", "error_46": "fraction"},
    doc="under a Gadre et al. 2024 law: C4-eval loss at the optimum and the average top-1 error over their 17 and "
        "46 tasks (arXiv:2403.08540, eq. 4 and 5)",
    note=TRUST_NOTE,
)


# -- hyperparameters at the optimum (issue 23; Li et al. 2025, DeepSeek LLM 2024) ----------------------
def _hyperparameters(law, s: Scenario, row: LawRow) -> dict:
    N = _non_embedding(row, "Step Law")
    h = hyperparameters(N, row.answer.tokens)
    step, deepseek = h["li2025-steplaw"], h["deepseek2024"]
    return {"params_non_embedding": N,
            "step_law_learning_rate": float(step.learning_rate), "step_law_batch_tokens": float(step.batch_tokens),
            "deepseek_learning_rate": float(deepseek.learning_rate),
            "deepseek_batch_tokens": float(deepseek.batch_tokens)}


register_extra(
    "hyperparameters", label="hyperparameters", applies=lambda s: s.hyperparameters, compute=_hyperparameters,
    values=("params_non_embedding", "step_law_learning_rate", "step_law_batch_tokens", "deepseek_learning_rate",
            "deepseek_batch_tokens"),
    units={"params_non_embedding": "parameters", "step_law_batch_tokens": "tokens", "deepseek_batch_tokens": "tokens"},
    doc=f"peak learning rate and batch at the optimum under Step Law and DeepSeek LLM's compute-only laws, side by "
        f"side ({STEP_LAW_CITATION}; {DEEPSEEK_CITATION})",
    note="Each is a fit to its authors' optimizer, schedule, tokenizer and data: a starting point for a sweep, not a "
         "setting to copy. They disagree, which is itself a lesson: Step Law's learning rate falls with N and rises "
         "with D, and its batch depends on D alone; DeepSeek LLM's depend on the compute 6ND only. Step Law counts "
         f"non-embedding parameters: {PEARCE_SONG_NOTE}.",
)


# -- distillation (issue 23; Busbridge et al. 2025) ---------------------------------------------------------
def _distillation(law, s: Scenario, row: LawRow) -> dict:
    teacher, setting = teacher_from_spec(s.teacher), Accounting(s.accounting)  # validated by the Scenario
    if setting.needs_teacher_size and teacher.params is None:
        raise Missing(f"accounting {setting.value} counts the teacher's FLOPs: give the teacher as a catalog model "
                      "or NT:DT, not as a loss")
    N = _non_embedding(row, "Busbridge et al.'s distillation law")
    d = distill(N, row.answer.tokens, teacher, setting)
    return {"student_params": N, "student_loss": float(d.student_loss), "supervised_loss": float(d.supervised_loss),
            "teacher_loss": float(d.teacher_loss), "flops": float(d.flops), "advantage": float(d.advantage)}


register_extra(
    "distillation", label="distilled from the teacher (Busbridge et al. 2025)", applies=lambda s: s.teacher != "",
    compute=_distillation,
    values=("student_params", "student_loss", "supervised_loss", "teacher_loss", "flops", "advantage"),
    units={"student_params": "non-embedding parameters", "student_loss": "nats/token, their C4",
           "supervised_loss": "nats/token, their C4", "teacher_loss": "nats/token, their C4",
           "flops": "FLOPs", "advantage": "nats"},
    doc="the optimum's model as a student distilled from the teacher: its loss, the loss trained directly on the same "
        "tokens, the teacher's loss, the FLOPs of the chosen accounting (Eq. 9) and the nats by which distilling "
        "beats training directly on the same FLOPs (arXiv:2502.08606, Eq. 8, Table 6)",
    note=f"{DISTILLATION_CAVEAT} The student is each law's optimum; {PEARCE_SONG_NOTE}.",
)


# -- test-time compute against a bigger model (issue 23; Snell et al. 2024 §7) ------------------------------
def _test_time(law, s: Scenario, row: LawRow) -> dict:
    R = s.inference_tokens / row.answer.tokens
    return {"size_ratio": s.size_ratio, "inference_ratio": R,
            "inference_multiplier": float(inference_multiplier(s.size_ratio, R))}


register_extra(
    "test_time", label="test-time compute against an M-times larger model", applies=lambda s: s.inference_tokens > 0,
    compute=_test_time, values=("size_ratio", "inference_ratio", "inference_multiplier"),
    units={"inference_ratio": "inference / training tokens", "inference_multiplier": "times its inference compute"},
    doc="with demand: at equal FLOPs, the optimum's model may spend M + 3(M - 1)/R times its inference compute on "
        f"test-time search instead of being M times larger ({SNELL_CITATION})",
    note=SNELL_FINDING,
)
