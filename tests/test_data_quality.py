"""DeepSeek LLM §3.3 Table 4: the allocation exponent rises with data quality (arXiv:2401.02954)."""

import numpy as np
import pytest

from scaling_explorer.frontier import frontier_exponent
from scaling_explorer.laws import get_law

KEYS = ["deepseek2024-early-data", "deepseek2024-current-data", "deepseek2024-openwebtext2"]


def test_exponents_are_table_4s_in_order_of_quality():
    # Table 4 prints 0.450, 0.524 and 0.578 (current data: 0.5243 in §3.2's formula).
    assert [round(get_law(k).a, 3) for k in KEYS] == [0.450, 0.524, 0.578]
    for key in KEYS:
        assert frontier_exponent(get_law(key), 1e17, 3e20).regression == pytest.approx(get_law(key).a, abs=1e-9)


def test_current_data_is_the_published_law_and_the_others_meet_it_at_the_anchor():
    current, published = get_law(KEYS[1]), get_law("deepseek2024")
    assert current.compute_optimal(1e21)[0] == pytest.approx(published.compute_optimal(1e21)[0])
    # M_opt = 0.1715 C^0.5243 (§3.2) with N = M / 6.
    assert current.compute_optimal(1e20)[0] == pytest.approx(0.1715 * 1e20**0.5243 / 6)
    anchor = np.sqrt(1e17 * 3e20)
    Ns = [get_law(k).compute_optimal(anchor)[0] for k in KEYS]
    assert Ns == pytest.approx([Ns[1]] * 3, rel=1e-9)


def test_better_data_favours_bigger_models_beyond_the_anchor():
    big = [get_law(k).compute_optimal(1e24)[0] for k in KEYS]
    assert big[0] < big[1] < big[2]
    assert all("Table 4" in get_law(k).citation for k in KEYS)
    assert "not published" in get_law(KEYS[0]).citation and "not published" in get_law(KEYS[2]).citation
