"""CLI: ``distill``, ``exchange`` and ``hyper`` (subprocess, as users run it).

Reference numbers as in test_distill.py, test_testtime.py and test_hyper.py.
"""

import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "scaling_explorer", *args], capture_output=True, text=True)


def ok_json(*args):
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_distill_worked_example():
    r = ok_json("distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-params", "7.75e9",
                "--teacher-tokens", "155e9")
    assert (r["student_loss"], r["supervised_loss"], r["teacher_loss"]) == pytest.approx((2.2773, 2.3747, 2.0036),
                                                                                          abs=5e-5)
    assert r["accounting"] == "best-case" and r["distilling_wins"] is True
    # Best case counts the student alone: 3 F(N_S) D_S with F(1e9) = 2.4519e9 (Eq. 69, their Table 13 shapes).
    assert r["flops"] == pytest.approx(3 * 2.4519e9 * 20e9, rel=1e-3)


def test_distill_from_a_given_teacher_loss_and_every_accounting():
    r = ok_json("distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-loss", "2.0036")
    assert r["student_loss"] == pytest.approx(2.2773, abs=5e-5) and r["teacher_params"] is None
    flops = [ok_json("distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-params", "7.75e9",
                     "--teacher-tokens", "155e9", "--accounting", a)["flops"]
             for a in ("best-case", "teacher-inference", "teacher-pretraining", "teacher-pretraining-and-inference")]
    assert flops[0] < flops[1] < flops[2] < flops[3]
    assert flops[3] - flops[0] == pytest.approx((flops[1] - flops[0]) + (flops[2] - flops[0]), rel=1e-9)


def test_distill_text_output_names_the_numbers_and_the_caveat():
    out = run("distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-loss", "2.0036")
    assert out.returncode == 0
    for word in ("student_loss", "supervised_loss", "teacher_loss", "flops", "C4"):
        assert word in out.stdout


def test_exchange_and_hyper():
    assert ok_json("exchange", "--size-ratio", "14", "--inference-ratio", "1")["inference_multiplier"] == 53.0
    assert ok_json("exchange", "--size-ratio", "14", "--inference-ratio", "22")["inference_multiplier"] == \
        pytest.approx(15.77, abs=5e-3)
    r = ok_json("hyper", "--params", "7e9", "--tokens", "1.4e12")
    assert r["li2025-steplaw"]["learning_rate"] == pytest.approx(9.2e-4, rel=5e-3)
    assert r["li2025-steplaw"]["batch_tokens"] == pytest.approx(5.0e6, rel=1e-2)
    assert r["deepseek2024"]["learning_rate"] == pytest.approx(0.3118 * (6 * 7e9 * 1.4e12) ** -0.125)
    assert "finding" in run("exchange", "--size-ratio", "14", "--inference-ratio", "1").stdout


@pytest.mark.parametrize("args", [
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9"],  # no teacher
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-params", "7e9"],  # no tokens
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-loss", "2",
     "--accounting", "teacher-inference"],  # the cost needs the teacher's size
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-loss", "2",
     "--teacher-model", "Pythia-1B"],
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-model", "no such model"],
    ["distill", "--student-params", "1e9", "--student-tokens", "0", "--teacher-loss", "2"],
    ["distill", "--student-params", "1e9", "--student-tokens", "20e9", "--teacher-loss", "2", "--accounting", "free"],
    ["exchange", "--size-ratio", "0.5", "--inference-ratio", "1"],
    ["exchange", "--size-ratio", "14", "--inference-ratio", "nan"],
    ["hyper", "--params=-7e9", "--tokens", "1.4e12"],
    ["hyper", "--params", "7e9"],
])
def test_bad_input_exits_2_with_one_line(args):
    out = run(*args)
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaling-explorer: error:") and "Traceback" not in out.stderr
