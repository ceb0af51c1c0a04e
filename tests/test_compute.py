import numpy as np
import pytest

from scaling_explorer.compute import (
    FLOPS_PER_PF_DAY,
    HARDWARE,
    from_pf_days,
    gpu_hours,
    params_for,
    to_pf_days,
    tokens_for,
    training_cost_usd,
    training_flops,
)


def test_gpt3_175b_flops_match_table_d1():
    # GPT-3 Table D.1: 174.6B parameters, 300B tokens, 3.14e23 FLOPs = 3.64e3 PF-days.
    C = training_flops(174.6e9, 300e9)
    assert C == pytest.approx(3.14e23, rel=3e-3)
    assert to_pf_days(C) == pytest.approx(3.64e3, rel=3e-3)


def test_pf_day_definition():
    assert FLOPS_PER_PF_DAY == 8.64e19
    assert from_pf_days(1.0) == 8.64e19


def test_round_trips():
    N, D = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    C = training_flops(N, D)
    np.testing.assert_allclose(tokens_for(C, N), D)
    np.testing.assert_allclose(params_for(C, D), N)


def test_gpu_hours_closed_form():
    # Llama 3.1 405B: 3.8e25 FLOPs on H100 at 40% MFU -> 3.8e25 / (989e12 * 0.4) / 3600 = 26.7M GPU-hours.
    assert gpu_hours(3.8e25, "H100", 0.4) == pytest.approx(3.8e25 / (989e12 * 0.4) / 3600)
    assert gpu_hours(3.8e25, HARDWARE["H100"], 0.4) == pytest.approx(26.68e6, rel=1e-3)
    assert training_cost_usd(3.6e18, "A100", 1.0, 2.0) == pytest.approx(3.6e18 / 312e12 / 3600 * 2.0)


def test_llama2_70b_reported_gpu_hours_imply_plausible_mfu():
    # Llama 2 model card: 1,720,320 A100 GPU-hours for 70B on 2T tokens; the implied MFU must be sane.
    C = training_flops(70e9, 2e12)
    mfu = float(C / (1_720_320 * 3600 * HARDWARE["A100"].peak_flops))
    assert 0.3 < mfu < 0.6


@pytest.mark.parametrize("mfu", [0, -0.1, 1.5, float("nan")])
def test_bad_mfu(mfu):
    with pytest.raises(ValueError, match="mfu"):
        gpu_hours(1e20, "A100", mfu)


def test_unknown_hardware():
    with pytest.raises(ValueError, match="H100"):
        gpu_hours(1e20, "TPUv9", 0.4)


def test_budget_from_gpu_time_and_dollars_inverts_hours_and_cost():
    from scaling_explorer.compute import flops_for_cost, flops_from_gpu_time

    # 1,000 H100s for 30 days at 40% MFU: 1000 * 30 * 86400 s * 989e12 FLOP/s * 0.4.
    C = float(flops_from_gpu_time(1000, 30, "H100", 0.4))
    assert C == pytest.approx(1000 * 30 * 86400 * 989e12 * 0.4, rel=1e-12)
    assert float(gpu_hours(C, "H100", 0.4)) == pytest.approx(1000 * 30 * 24, rel=1e-12)
    # $1M at $2/GPU-hour is 500,000 GPU-hours.
    C = float(flops_for_cost(1e6, "A100", 0.5, 2.0))
    assert C == pytest.approx(5e5 * 3600 * 312e12 * 0.5, rel=1e-12)
    with pytest.raises(ValueError, match="days"):
        flops_from_gpu_time(8, 0, "H100")
