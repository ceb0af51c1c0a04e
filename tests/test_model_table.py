"""The model table headless: sort, filter, select, set the budget to a model's compute, size it."""

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from scaling_explorer import sizing
from scaling_explorer.app.controls import ErrorSink
from scaling_explorer.app.state import AppState
from scaling_explorer.app.table import ModelTable
from scaling_explorer.catalog import load_models

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def csv():
    raw = pd.read_csv(ROOT / "data" / "models.csv")
    raw["N"] = raw["active_params"].fillna(raw["params"])  # MoE at active parameters
    return raw


@pytest.fixture()
def table():
    return ModelTable(AppState(), ErrorSink(raise_errors=False))


def epoch_optimum(C):
    """Hoffmann eq. 4 with Besiroglu et al. 2024's refit (reference A3): N_opt, D_opt at C FLOPs."""
    A, B, alpha, beta = 482.01, 2085.43, 0.3478, 0.3658
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta)), (C / 6) ** (alpha / (alpha + beta)) / G


def names(table):
    return [value for _, value in table.rows.options]


def test_lists_every_catalog_model_with_its_status(table, csv):
    assert sorted(names(table)) == sorted(csv["name"])
    assert f"{len(csv)} of {len(csv)} models" in table.caption.value
    assert "Besiroglu et al. 2024" in table.caption.value
    label = dict((v, k) for k, v in table.rows.options)
    assert "undertrained" in label["Gopher"] and "near-optimal" in label["Chinchilla"]
    assert "overtrained" in label["Llama 3 8B"] and "undisclosed" in label["GPT-4"]
    assert label["DeepSeek-V3"].rstrip().endswith("*")  # an MoE: caveat marker
    assert table.rows.value == "Chinchilla"  # the default scenario's model


def test_sort_by_tokens_per_parameter_and_name(table, csv):
    table.sort.value = "tokens_per_param"
    table.ascending.value = False
    ratio = (csv["tokens"] / csv["N"]).dropna()
    top = csv.loc[ratio.sort_values(ascending=False).index[:3], "name"].tolist()
    assert names(table)[:3] == top
    # Not placed (size or tokens undisclosed, or a continued run): no ratio, listed last either way.
    unplaced = set(csv.loc[csv["tokens"].isna() | csv["N"].isna() | csv["continued_from"].notna(), "name"])
    assert set(names(table)[-len(unplaced):]) == unplaced
    table.ascending.value = True
    assert names(table)[0] == csv.loc[ratio.idxmin(), "name"] and set(names(table)[-len(unplaced):]) == unplaced
    table.sort.value = "name"
    table.ascending.value = True
    assert names(table) == sorted(csv["name"], key=str.lower)


def test_filter_by_name_or_organisation_and_the_empty_state(table, csv):
    table.search.value = "DeepMind"
    expected = csv[csv["organization"].str.contains("deepmind", case=False) | csv["name"].str.contains(
        "deepmind", case=False)]["name"]
    assert sorted(names(table)) == sorted(expected) and "Chinchilla" in names(table)
    table.search.value = "zzqx"
    assert names(table) == [] and "No model" in table.empty.value and "zzqx" in table.empty.value
    assert table.state.scenario.model == "Chinchilla"  # nothing was deselected behind the user's back
    table.search.value = ""
    assert len(names(table)) == len(csv) and table.empty.value == ""


def test_follow_the_page_filters(table):
    table.follow_filters.value = True
    table.state.update(architecture="moe")
    assert names(table) and set(table.visible["architecture"]) == {"moe"}
    table.state.update(years=(1990, 1991))
    assert names(table) == [] and "filters" in table.empty.value
    table.follow_filters.value = False
    assert len(names(table)) == len(load_models())


def test_selecting_a_row_selects_the_model_and_back(table):
    table.rows.value = "Gopher"
    assert table.state.scenario.model == "Gopher"
    assert "Gopher" in table.detail.value and "undertrained" in table.detail.value
    table.state.update(model="Llama 3 8B")  # chosen elsewhere on the page
    assert table.rows.value == "Llama 3 8B" and table.state.scenario.model == "Llama 3 8B"
    table.rows.value = "DeepSeek-V3"
    assert "MoE" in table.detail.value  # its caveat


def test_set_the_budget_to_chinchillas_compute(table):
    table.rows.value = "Chinchilla"
    table.budget_button.click()
    assert table.state.scenario.budget == pytest.approx(6 * 70e9 * 1.4e12, rel=1e-12)  # 5.88e23
    assert table.message.value == ""


def test_an_undisclosed_model_keeps_the_budget_with_a_message(table):
    table.rows.value = "GPT-4"
    before = table.state.scenario.budget
    table.budget_button.click()
    assert table.state.scenario.budget == before and "unknown" in table.message.value


def test_a_compute_outside_the_range_is_a_message_never_a_clamp():
    tiny = pd.DataFrame({"name": ["toy"], "flops": [1e13], "not_plotted": [""]})
    with pytest.raises(sizing.SizingError, match=r"1e\+13 FLOPs, is outside the budget range 1e\+15 to 1e\+30"):
        sizing.model_budget(SimpleNamespace(all_models=tiny), "toy")


def test_size_chinchillas_compute_as_epoch_would(table):
    table.rows.value = "Chinchilla"
    assert table.size_law.value == "besiroglu2024"  # the surface law is the first choice
    table.size_law.value = "kaplan2020"
    table.state.update(laws=("kaplan2020", "besiroglu2024"))
    assert table.size_law.value == "kaplan2020"  # the user's choice stays while it is shown
    table.size_law.value = "besiroglu2024"
    table.size_button.click()
    C = 6 * 70e9 * 1.4e12
    N_opt, D_opt = epoch_optimum(C)
    z = sizing.size_model(table.state.scenario, "Chinchilla", "besiroglu2024")
    assert z.flops == pytest.approx(C) and z.row.params == pytest.approx(N_opt, rel=1e-3)
    assert z.row.tokens == pytest.approx(D_opt, rel=1e-3) and z.tokens_ratio == pytest.approx(1.4e12 / D_opt, rel=1e-3)
    html = table.sizing.value
    assert f"{N_opt / 1e9:.3g} B" in html and f"{D_opt / 1e12:.3g} T" in html and "Besiroglu" in html
    assert f"{70e9 / N_opt:.3g}x N" in html
    assert table.state.scenario.budget == 5.76e23  # sizing shows numbers; it does not move the budget
    table.state.update(band=3)
    assert table.sizing.value == ""  # stale numbers are cleared


def test_size_needs_a_shown_law(table):
    table.state.update(laws=())
    assert table.size_button.disabled and table.size_law.options == ()
    with pytest.raises(sizing.SizingError, match="not a shown law"):
        sizing.size_model(table.state.scenario, "Chinchilla", "kaplan2020")
