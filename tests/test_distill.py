"""Distillation scaling laws (Busbridge et al. 2025, arXiv:2502.08606).

Reference numbers: Table 6 (coefficients, and the frontier exponents a = 0.513, b = 0.486 it
prints), Table 13 (forward FLOPs per token of their models, Eq. 69), and the worked example of
../shared/reference.md §A6.5 (L(1e9, 20e9) = 2.3747; teacher 7.75B on 155B tokens L_T = 2.0036;
a 1B student on 20B tokens from it 2.2773).
"""

import dataclasses

import numpy as np
import pytest

from scaling_explorer.distill import (
    BUSBRIDGE2025,
    BUSBRIDGE2025_STUDENT,
    DISTILLATION_CAVEAT,
    Accounting,
    Teacher,
    distill,
    distillation_advantage,
    distillation_flops,
    distillation_region,
    forward_flops_per_token,
)
from scaling_explorer.frontier import iso_flop_minimum
from scaling_explorer.laws import Law, get_law
from scaling_explorer.wrappers import NotApplicable
from scaling_explorer.wrappers._base import chinchilla_terms

STUDENT = BUSBRIDGE2025_STUDENT
TEACHER = Teacher.from_law(7.75e9, 155e9)


def test_worked_example_supervised_teacher_and_student():
    assert BUSBRIDGE2025.loss(1e9, 20e9) == pytest.approx(2.3747, abs=5e-5)
    assert TEACHER.loss == pytest.approx(2.0036, abs=5e-5)
    assert STUDENT.loss(1e9, 20e9, TEACHER.loss) == pytest.approx(2.2773, abs=5e-5)
    d = distill(1e9, 20e9, TEACHER)
    assert (d.student_loss, d.supervised_loss, d.teacher_loss) == pytest.approx((2.2773, 2.3747, 2.0036), abs=5e-5)


def test_student_law_written_out_once_more_by_hand():
    # Eq. 8 term by term at another point (a 3B student on 100B tokens from an L_T = 2.2 teacher),
    # without the log-space arithmetic the module uses.
    N, D, L_T = 3e9, 1e11, 2.2
    sup = 1.220 + (3355 / N**0.408 + 18186 / D**0.431) ** 0.452
    expected = L_T + L_T**-2.549 * (1 + (L_T / (sup * 1.315)) ** (1 / 0.090)) ** (-522.6 * 0.090) * (
        2243 / N**0.321 + 24181 / D**0.637) ** 0.764
    assert STUDENT.loss(N, D, L_T) == pytest.approx(expected, rel=1e-12)


def test_frontier_exponents_are_table_6s():
    # Table 6 prints a = 0.513 and b = 0.486 for the supervised law, from the unrounded alpha and
    # beta; from the printed 0.408 and 0.431 (each +-0.0005) they come out 0.5137 and 0.4863.
    assert BUSBRIDGE2025.a == pytest.approx(0.513, abs=1e-3) and BUSBRIDGE2025.b == pytest.approx(0.486, abs=1e-3)
    C = np.array([1e19, 1e21, 1e23])
    N, D = BUSBRIDGE2025.compute_optimal(C)
    assert np.diff(np.log(N)) / np.diff(np.log(C)) == pytest.approx([BUSBRIDGE2025.a] * 2, rel=1e-9)


def test_closed_form_frontier_is_the_numeric_iso_flop_minimum():
    C = np.logspace(19, 25, 7)
    N, D = BUSBRIDGE2025.compute_optimal(C)
    N_num, D_num = iso_flop_minimum(BUSBRIDGE2025, C)
    assert N_num == pytest.approx(N, rel=1e-5) and D_num == pytest.approx(D, rel=1e-5)
    assert 6 * N * D == pytest.approx(C)


def test_preset_is_a_law_like_the_others():
    law = get_law("busbridge2025")
    assert law is BUSBRIDGE2025 and isinstance(law, Law) and law.params_meaning.value == "non-embedding"
    N = np.array([1e8, 1e9, 1e10])
    assert law.tokens_for_loss(N, law.loss(N, 3e11)) == pytest.approx([3e11] * 3, rel=1e-9)
    assert np.isnan(law.tokens_for_loss(1e8, 1.5))  # below what 1e8 parameters can reach
    assert dataclasses.replace(law, gamma=1.0).loss(1e9, 1e10) == pytest.approx(
        1.22 + 3355 / 1e9**0.408 + 18186 / 1e10**0.431)


def test_wrappers_refuse_the_gamma_law_instead_of_dropping_gamma():
    with pytest.raises(NotApplicable, match="Chinchilla-form"):
        chinchilla_terms(BUSBRIDGE2025, "inference demand")


@pytest.mark.parametrize(("N", "published"), [(7.747e9, 16.99e9), (1.821e9, 4.28e9), (0.5460e9, 1.415e9),
                                              (0.1028e9, 0.3398e9)])
def test_forward_flops_match_their_table_13(N, published):
    # Table 13, column C_fwd-approx(2N+sigma), in billions, printed to 3-4 digits.
    assert forward_flops_per_token(N) == pytest.approx(published, rel=1.5e-3)


def test_accounting_adds_the_teacher_terms_of_eq_9():
    F = forward_flops_per_token
    N_S, D_S, N_T, D_T = 1e9, 2e10, 7.75e9, 1.55e11
    flops = {a: distillation_flops(N_S, D_S, N_T, D_T, a) for a in Accounting}
    assert flops[Accounting.BEST_CASE] == pytest.approx(3 * F(N_S) * D_S)
    assert flops[Accounting.TEACHER_INFERENCE] - flops[Accounting.BEST_CASE] == pytest.approx(F(N_T) * D_S)
    assert flops[Accounting.TEACHER_PRETRAINING] - flops[Accounting.BEST_CASE] == pytest.approx(3 * F(N_T) * D_T)
    assert flops[Accounting.TEACHER_PRETRAINING_AND_INFERENCE] == pytest.approx(
        3 * F(N_S) * D_S + F(N_T) * (D_S + 3 * D_T))
    # With F(N) = 2N the student's term is the familiar 6ND.
    assert distillation_flops(N_S, D_S, forward=lambda N: 2 * N) == pytest.approx(6 * N_S * D_S)
    assert [(a.logits, a.pretraining) for a in Accounting] == [(0, 0), (1, 0), (0, 1), (1, 1)]  # Table 2


def test_limits_the_law_was_built_to_have():
    # §4.3: an infinitely capable student reaches its teacher; a random teacher gives a random student.
    assert STUDENT.loss(1e18, 1e20, 2.0) == pytest.approx(2.0, abs=1e-4)
    huge = 1e3
    assert STUDENT.loss(1e9, 1e10, huge) / huge == pytest.approx(1.0, abs=1e-6)


def test_capacity_gap_a_better_teacher_eventually_makes_a_worse_student():
    L_T = np.linspace(1.4, 3.0, 400)
    L_S = STUDENT.loss(1e9, 2e10, L_T)
    best = int(np.argmin(L_S))
    assert 0 < best < len(L_T) - 1  # the best teacher is neither the strongest nor the weakest tried
    assert L_S[0] > L_S[best] + 0.01


def test_distillation_advantage_vanishes_as_student_data_grows():
    # §5.1: "Supervised learning always outperforms distillation given enough student compute or tokens."
    N = np.array([3e8, 1e9, 3e9, 1e10])
    modest = distillation_advantage(N[:2], 1e10, TEACHER)
    assert np.all(modest > 0)  # a modest token budget favours distilling
    D = np.logspace(12, 16, 9)[:, None]
    late = distillation_advantage(N[None, :], D, TEACHER)
    assert np.all(late[-1] < 0)
    assert np.all(np.diff(late, axis=0) < 0)  # and the advantage keeps falling with more tokens


def test_counting_teacher_costs_only_lowers_the_advantage():
    N, D = np.meshgrid(np.logspace(8, 10, 5), np.logspace(9, 12, 6))
    adv = {a: distillation_advantage(N, D, TEACHER, a) for a in Accounting}
    assert np.all(adv[Accounting.BEST_CASE] >= adv[Accounting.TEACHER_INFERENCE])
    assert np.all(adv[Accounting.TEACHER_INFERENCE] >= adv[Accounting.TEACHER_PRETRAINING_AND_INFERENCE])
    assert np.all(adv[Accounting.TEACHER_PRETRAINING] >= adv[Accounting.TEACHER_PRETRAINING_AND_INFERENCE])
    # §5.3: with the teacher's training paid for one student, training directly wins here everywhere.
    assert np.all(adv[Accounting.TEACHER_PRETRAINING_AND_INFERENCE] < 0)


def test_region_is_vectorised_over_the_student_plane():
    N, D = np.meshgrid(np.logspace(8, 10.5, 30), np.logspace(9, 13, 40))
    region = distillation_region(N, D, TEACHER)
    assert region.shape == N.shape and region.dtype == bool
    assert region.any() and not region.all()
    assert np.array_equal(region, distillation_advantage(N, D, TEACHER) > 0)


def test_same_flops_comparison_gives_the_supervised_student_the_teachers_cost_in_tokens():
    d = distill(1e9, 2e10, TEACHER, "teacher-inference")
    extra = forward_flops_per_token(7.75e9) * 2e10 / (3 * forward_flops_per_token(1e9))
    assert d.supervised_tokens == pytest.approx(2e10 + extra)
    assert d.supervised_loss_same_flops == pytest.approx(BUSBRIDGE2025.loss(1e9, 2e10 + extra))


def test_catalog_teacher_uses_the_published_non_embedding_count():
    t = Teacher.from_catalog("Pythia-1B")
    assert t.params == pytest.approx(8.057364e8, rel=1e-6) and t.tokens == pytest.approx(2.998927e11, rel=1e-6)
    assert t.loss == pytest.approx(float(BUSBRIDGE2025.loss(t.params, t.tokens)))
    with pytest.raises(ValueError, match="not in the catalog"):
        Teacher.from_catalog("no such model")


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="N_S"):
        STUDENT.loss(-1.0, 1e9, 2.0)
    with pytest.raises(ValueError, match="L_T"):
        STUDENT.loss(1e9, 1e9, np.nan)
    with pytest.raises(ValueError, match="accounting must be one of"):
        distill(1e9, 1e10, TEACHER, "free")
    with pytest.raises(ValueError, match="teacher's parameters"):
        distill(1e9, 1e10, Teacher(2.0), "teacher-inference")
    with pytest.raises(ValueError, match="training tokens"):
        distill(1e9, 1e10, Teacher(2.0, params=7e9), "teacher-pretraining")
    with pytest.raises(ValueError, match="teacher loss"):
        Teacher(0.0)
    with pytest.raises(ValueError, match="gamma"):
        dataclasses.replace(BUSBRIDGE2025, gamma=-1.0)


def test_caveat_names_their_setup():
    assert "C4" in DISTILLATION_CAVEAT and "not comparable" in DISTILLATION_CAVEAT


def test_one_student_as_a_json_ready_record():
    import json

    r = distill(1e9, 2e10, TEACHER, "teacher-inference").to_dict()
    assert json.loads(json.dumps(r)) == r
    assert r["accounting"] == "teacher-inference" and r["distilling_wins"] is (r["advantage"] > 0)
    assert r["student_loss"] == pytest.approx(2.2773, abs=5e-5)
    assert all(a.label for a in Accounting)
