"""Hyperparameters at an optimum: Step Law (Li et al. 2025, arXiv:2503.04715) and DeepSeek LLM (arXiv:2401.02954).

Reference numbers: the worked example N = 7e9, D = 1.4e12 -> about 9.2e-4 and 5.0M tokens under
Step Law (issue 23; the steplaw README's own example input); DeepSeek LLM Table 2, the
hyperparameters they chose from eq. 1 for DeepSeek LLM 7B and 67B on 2T tokens.
"""

import math

import numpy as np
import pytest

from scaling_explorer.hyper import DEEPSEEK_HYPER, HYPER_LAWS, STEP_LAW, hyperparameters


def test_step_law_worked_example():
    h = STEP_LAW.at(7e9, 1.4e12)
    assert h.learning_rate == pytest.approx(9.2e-4, rel=5e-3)  # printed to 2 digits
    assert h.batch_tokens == pytest.approx(5.0e6, rel=1e-2)


def test_step_law_agrees_with_the_mean_of_the_authors_bootstrap_fits():
    # A second source: the mean of the 1000 bootstrap fits in the authors' repository
    # (data/1004_fitted_lr_bs_scaling_model_parameters.csv, read, not shipped): ln-intercept 0.5863,
    # N exponent -0.7129, D exponent 0.3075; batch ln-intercept -0.5435, D exponent 0.5709. The
    # paper prints these rounded, so the two agree to the rounding over the range they studied.
    for N, D in [(6e7, 1e10), (1e9, 1e11), (7e9, 1.4e12)]:
        lr = math.exp(0.5863 - 0.7129 * math.log(N) + 0.3075 * math.log(D))
        bs = math.exp(-0.5435 + 0.5709 * math.log(D))
        assert STEP_LAW.learning_rate(N, D) == pytest.approx(lr, rel=0.03)
        assert STEP_LAW.batch_tokens(N, D) == pytest.approx(bs, rel=0.01)


def _deepseek_M(n_layer, d_model, l_seq=4096):
    # Non-embedding FLOPs per token (DeepSeek LLM §3.2): 72 n d^2 + 12 n d l_seq.
    return 72 * n_layer * d_model**2 + 12 * n_layer * d_model * l_seq


def test_deepseek_reproduces_the_hyperparameters_of_their_table_2():
    # Table 2: 7B (30 layers, d 4096) lr 4.2e-4, batch 2304 sequences of 4096; 67B (95 layers,
    # d 8192) lr 3.2e-4; both on 2.0T tokens. Their choices are rounded (lr to 2 digits, batch to
    # whole sequences), so agreement is to a few percent, not exact.
    seven = DEEPSEEK_HYPER.at(1.0, 2e12, flops_per_token=_deepseek_M(30, 4096))
    assert seven.learning_rate == pytest.approx(4.2e-4, rel=0.02)
    assert seven.batch_tokens == pytest.approx(2304 * 4096, rel=0.03)
    big = DEEPSEEK_HYPER.at(1.0, 2e12, flops_per_token=_deepseek_M(95, 8192))
    assert big.learning_rate == pytest.approx(3.2e-4, rel=0.03)


def test_deepseek_sees_only_the_compute():
    a, b = DEEPSEEK_HYPER.at(7e9, 1.4e12), DEEPSEEK_HYPER.at(14e9, 0.7e12)
    assert a.learning_rate == pytest.approx(b.learning_rate) and a.batch_tokens == pytest.approx(b.batch_tokens)
    assert DEEPSEEK_HYPER.flops(7e9, 1.4e12) == pytest.approx(6 * 7e9 * 1.4e12)
    assert DEEPSEEK_HYPER.learning_rate_for_flops(1e20) == pytest.approx(0.3118 * 1e20**-0.125)
    assert DEEPSEEK_HYPER.batch_tokens_for_flops(1e20) == pytest.approx(0.2920 * 1e20**0.3271)


def test_step_law_batch_ignores_n_and_learning_rate_falls_with_n_rises_with_d():
    N = np.logspace(8, 11, 7)
    assert STEP_LAW.batch_tokens(N, 1e12) == pytest.approx([STEP_LAW.batch_tokens(1e9, 1e12)] * 7)
    assert np.all(np.diff(STEP_LAW.learning_rate(N, 1e12)) < 0)
    assert np.all(np.diff(STEP_LAW.learning_rate(1e9, np.logspace(10, 13, 7))) > 0)


def test_both_laws_side_by_side_and_vectorised():
    N, D = np.meshgrid(np.logspace(8, 11, 4), np.logspace(10, 13, 5))
    table = hyperparameters(N, D)
    assert list(table) == list(HYPER_LAWS) == ["li2025-steplaw", "deepseek2024"]
    assert all(h.learning_rate.shape == N.shape and h.batch_tokens.shape == N.shape for h in table.values())


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="N"):
        STEP_LAW.learning_rate(0, 1e12)
    with pytest.raises(ValueError, match="D"):
        STEP_LAW.batch_tokens(1e9, -1)
    with pytest.raises(ValueError, match="flops_per_token"):
        DEEPSEEK_HYPER.at(1e9, 1e12, flops_per_token=np.inf)
