"""The training-budget lab: the meter, the oracle's determinism and noise, the truth, the fit's coverage, lab files."""

import json
import math

import numpy as np
import pytest

from scaling_explorer.lab import (
    LABS_DIR,
    BudgetExceeded,
    LabError,
    TrainingLab,
    fit_runs,
    list_labs,
    load_lab,
    load_lab_file,
    parse_lab,
)
from scaling_explorer.laws import ParametricLaw, get_law

# Besiroglu et al. 2024 (reference.md §A3): point estimates and 95% bootstrap intervals.
EPOCH = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
EPOCH_CI = {"A": (285.2, 743.6), "B": (1042.4, 5810.3), "E": (1.769, 1.871), "alpha": (0.317, 0.373),
            "beta": (0.331, 0.415)}


def chinchilla_optimum(E, A, B, alpha, beta, C):
    """Hoffmann et al. 2022 eq. 4 written out here: N_opt = G (C/6)^(beta/(alpha+beta))."""
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta)), (C / 6) ** (alpha / (alpha + beta)) / G


def iso_flop_design(lab, budgets=(2.5e16, 8e16, 2.5e17), factors=(1 / 4, 1 / 2, 1, 2, 4)):
    """A student's plan: three iso-FLOP budgets, five sizes each around Chinchilla's 20 tokens/parameter."""
    for C in budgets:
        centre = math.sqrt(C / 120)  # N with D = 20 N and C = 6 N D
        for f in factors:
            N = float(f"{centre * f:.3g}")
            lab.train(N, C / (6 * N))


# -- the meter ---------------------------------------------------------------------------------------
def test_a_run_past_the_budget_is_refused_and_charges_nothing():
    lab = TrainingLab("besiroglu2024", budget=1e18, target=1e19, seed=1)
    lab.train(1e8, 1e9)  # 6e17 FLOPs
    assert lab.spent == pytest.approx(6e17) and lab.remaining == pytest.approx(4e17)
    before = lab.runs.copy()
    with pytest.raises(BudgetExceeded, match="nothing was charged"):
        lab.train(1e8, 1e9)  # another 6e17 > 4e17 left
    assert isinstance(BudgetExceeded("x"), ValueError)
    assert lab.spent == pytest.approx(6e17) and lab.runs.equals(before)
    lab.train(1e8, 6e8)  # 3.6e17 still fits
    assert lab.spent == pytest.approx(9.6e17) and len(lab.runs) == 2
    assert list(lab.runs.columns) == ["params", "tokens", "flops", "loss"]
    assert lab.runs["flops"].tolist() == pytest.approx([6e17, 3.6e17])


def test_exactly_the_budget_can_be_spent():
    lab = TrainingLab("besiroglu2024", budget=6e17, target=1e19)
    lab.train(1e8, 1e9)
    assert lab.remaining == 0
    with pytest.raises(BudgetExceeded):
        lab.train(1e6, 1e7)


@pytest.mark.parametrize("params, tokens, reason", [
    (1e3, 1e9, "params = 1e\\+03 is outside this lab's range"),
    (1e8, 1e15, "tokens = 1e\\+15 is outside this lab's range"),
    (-1, 1e9, "params must be positive"),
    (float("nan"), 1e9, "params must be positive"),
    ("big", 1e9, "params must be a positive number"),
])
def test_refused_sizes_say_why_and_charge_nothing(params, tokens, reason):
    lab = load_lab("chinchilla-like").lab(seed=3)
    with pytest.raises(ValueError, match=reason):
        lab.train(params, tokens)
    assert lab.spent == 0 and len(lab.runs) == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(law="hoffmann2022-approach2"), "loss surface"),
    (dict(target=1e17), "target must be above the budget"),
    (dict(noise=-0.1), "noise must be"),
    (dict(noise=0.5), "noise must be"),
    (dict(seed=-1), "seed must be"),
    (dict(seed=1.5), "seed must be"),
    (dict(params_range=(10, 1)), "params_range"),
])
def test_bad_labs_are_refused_by_name(kwargs, match):
    args = dict(law="besiroglu2024", budget=1e18, target=1e19) | kwargs
    with pytest.raises(LabError, match=match):
        TrainingLab(args.pop("law"), args.pop("budget"), args.pop("target"), **args)


# -- the oracle --------------------------------------------------------------------------------------
def test_the_oracle_is_deterministic_for_a_seed_and_differs_between_seeds():
    sizes = [(3e7, 6e8), (1e8, 2e8), (1e7, 1e9)]
    first = TrainingLab("besiroglu2024", 1e19, 1e20, seed=11)
    losses = [first.train(N, D) for N, D in sizes]
    again = TrainingLab("besiroglu2024", 1e19, 1e20, seed=11)
    reversed_order = [again.train(N, D) for N, D in reversed(sizes)][::-1]
    assert reversed_order == losses  # the same run returns the same loss, whatever came before
    assert first.train(*sizes[0]) == losses[0]  # and a rerun in the same lab too
    other = TrainingLab("besiroglu2024", 1e19, 1e20, seed=12)
    assert all(other.train(N, D) != L for (N, D), L in zip(sizes, losses, strict=True))


def test_the_noise_has_its_stated_size():
    lab = TrainingLab("besiroglu2024", 1e22, 1e23, noise=0.02, seed=5)
    N = np.geomspace(1e7, 1e9, 400)
    D = np.full_like(N, 1e9)
    observed = np.array([lab.train(n, d) for n, d in zip(N, D, strict=True)])
    law = get_law("besiroglu2024")
    log_ratio = np.log(observed / law.loss(N, D))
    # 400 draws: the sample std is within 4 standard errors (2% x 4 / sqrt(800)) of 0.02
    assert np.std(log_ratio, ddof=1) == pytest.approx(0.02, abs=4 * 0.02 / math.sqrt(800))
    assert abs(np.mean(log_ratio)) < 4 * 0.02 / math.sqrt(400)


def test_noise_zero_returns_the_law():
    lab = TrainingLab("besiroglu2024", 1e19, 1e20, noise=0)
    E, A, B, alpha, beta = EPOCH.values()
    assert lab.train(1e8, 2e9) == pytest.approx(E + A / 1e8**alpha + B / 2e9**beta, rel=1e-12)


# -- the truth ---------------------------------------------------------------------------------------
def test_reveal_is_the_closed_form_optimum_of_the_hidden_law():
    truth = TrainingLab("besiroglu2024", 2e18, 1e19, noise=0).reveal()
    N, D = chinchilla_optimum(*EPOCH.values(), 1e19)
    assert truth.params == pytest.approx(N, rel=1e-9) and truth.tokens == pytest.approx(D, rel=1e-9)
    E, A, B, alpha, beta = EPOCH.values()
    assert truth.loss == pytest.approx(E + A / N**alpha + B / D**beta, rel=1e-9)
    with pytest.raises(dataclasses_frozen_error()):
        truth.params = 1.0


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_kaplan_truth_is_the_iso_flop_minimum_of_eq_1_5_not_table_6():
    truth = load_lab("kaplan-like").lab(seed=0).reveal()
    law = get_law("kaplan2020")
    N = np.geomspace(1e7, 1e10, 200_001)  # brute force along the 1e19-FLOP line
    best = N[np.argmin(law.loss(N, 1e19 / (6 * N)))]
    assert truth.params == pytest.approx(best, rel=1e-3)
    table6, _ = law.compute_optimal(1e19)
    assert truth.params / table6 > 2  # the early-stopped frontier is a different answer


def test_the_shipped_labs_disagree_about_the_answer():
    a = load_lab("chinchilla-like").lab(seed=0).reveal()
    b = load_lab("kaplan-like").lab(seed=0).reveal()
    assert a.tokens_per_param > 2 * b.tokens_per_param


def test_a_perturbed_law_stays_inside_the_published_intervals_and_follows_the_seed():
    spec = load_lab("chinchilla-like")
    laws = [spec.lab(seed=s).reveal().law for s in range(60)]
    for law in laws:
        for k, (low, high) in EPOCH_CI.items():
            assert low <= getattr(law, k) <= high
    assert spec.lab(seed=7).reveal().law == laws[7]
    assert len({law.A for law in laws}) == len(laws)
    # A and alpha move together in Epoch's bootstrap (a draw with independent coefficients would not)
    logA, alpha = np.log([law.A for law in laws]), [law.alpha for law in laws]
    assert np.corrcoef(logA, alpha)[0, 1] > 0.9


def test_the_hidden_law_is_not_in_the_labs_repr():
    lab = load_lab("chinchilla-like").lab(seed=2)
    law = lab.reveal().law
    text = repr(lab) + repr(load_lab("chinchilla-like"))
    assert f"{law.A:.3g}"[:4] not in text and "besiroglu" not in text.lower()


# -- the fit -----------------------------------------------------------------------------------------
def test_the_fit_covers_the_true_optimum_in_at_least_85_of_100_seeds():
    """Three iso-FLOP budgets of five sizes inside the 2e18 budget: Approach 2's 95% interval at 1e19."""
    spec = load_lab("chinchilla-like")
    covered, picked = 0, set()
    for seed in range(100):
        lab = spec.lab(seed=seed)
        iso_flop_design(lab)
        assert lab.spent <= lab.budget
        fit = lab.fit(predict_loss=False)
        picked.add(fit.approach)
        low, high = fit.params_interval
        covered += low <= lab.reveal().params <= high
    assert picked == {2}
    assert covered >= 85, covered


def test_runs_off_iso_flop_groups_use_approach_3_with_a_bootstrap_interval():
    lab = load_lab("chinchilla-like").lab(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(20):  # budgets spread continuously, sizes scattered around 20 tokens/parameter
        C = 10 ** rng.uniform(15.7, 16.9)
        N = float(f"{math.sqrt(C / 120) * 10 ** rng.uniform(-0.5, 0.5):.3g}")
        lab.train(N, float(f"{C / (6 * N):.3g}"))
    fit = lab.fit(n_bootstrap=100)
    assert fit.approach == 3 and fit.fit.bootstrap is not None
    low, high = fit.params_interval
    assert low < fit.params < high and fit.tokens_interval[0] < fit.tokens < fit.tokens_interval[1]
    assert fit.loss_interval[0] <= fit.loss <= fit.loss_interval[1]
    assert "Approach 3" in fit.report()


def test_too_few_runs_cannot_be_fitted():
    lab = load_lab("chinchilla-like").lab(seed=4)
    lab.train(1e7, 1e9)
    with pytest.raises(ValueError, match="too few runs"):
        lab.fit()
    with pytest.raises(LabError, match="approach must be"):
        fit_runs(lab.runs, 1e19, approach=4)


# -- lab files ---------------------------------------------------------------------------------------
def test_shipped_labs_validate_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((LABS_DIR / "lab.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(list_labs()) >= {"chinchilla-like", "kaplan-like"}
    for name in list_labs():
        jsonschema.validate(json.loads((LABS_DIR / f"{name}.json").read_text()), schema)


def test_shipped_lab_texts_do_not_state_their_coefficients():
    for name in list_labs():
        spec = load_lab(name)
        law = spec.lab(seed=0).reveal().law
        for k in law.coefficients:
            for value in (getattr(law, k), getattr(spec.law, k)):  # the drawn law and its base
                assert f"{value:.3g}" not in spec.text + spec.title


@pytest.mark.parametrize("name", ["../lab", "/etc/passwd", "chinchilla-like.json", "lab.schema", "nope", "", None])
def test_load_lab_opens_shipped_names_only(name):
    with pytest.raises(LabError, match="no shipped lab") as info:
        load_lab(name)
    assert "/etc" not in str(info.value)  # a link never learns about the server's files


def test_a_lecturers_file_opens_by_explicit_path(tmp_path):
    data = json.loads((LABS_DIR / "kaplan-like.json").read_text())
    data.update(title="My lab", law={"form": "parametric", "E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34,
                                    "beta": 0.28}, target=5e19)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    spec = load_lab_file(path)
    assert spec.name == "mine" and spec.title == "My lab"
    truth = spec.lab(seed=1).reveal()
    N, _ = chinchilla_optimum(1.7, 400.0, 400.0, 0.34, 0.28, 5e19)
    assert truth.params == pytest.approx(N, rel=1e-9)
    assert isinstance(truth.law, ParametricLaw)


def test_a_bad_lab_file_lists_every_problem():
    bad = {"title": "", "text": "x", "law": {"form": "parametric", "E": 1.7, "Z": 2}, "noise": "loud",
           "budget": 1e18, "target": 1e19, "colour": "red"}
    with pytest.raises(LabError) as info:
        parse_lab(json.dumps(bad), name="bad")
    message = str(info.value)
    for part in ("unknown key 'colour'", "title: must be non-empty", "unknown coefficient(s) Z", "noise: must be"):
        assert part in message
    with pytest.raises(LabError, match="target must be above the budget"):
        parse_lab(json.dumps({"title": "t", "text": "x", "law": "besiroglu2024", "noise": 0.01, "budget": 1e19,
                              "target": 1e18}))
    with pytest.raises(LabError, match="not valid JSON"):
        parse_lab("{", name="broken")


def test_approach2_interval_at_the_target_matches_the_regression_covariance():
    """Second method: numpy's polyfit covariance of (slope, intercept), propagated to log N at log C."""
    from scipy import stats

    from scaling_explorer.fit import fit_approach2

    lab = load_lab("chinchilla-like").lab(seed=3)
    iso_flop_design(lab, budgets=(1e16, 3e16, 1e17, 2e17))
    fit = fit_approach2(lab.runs)
    x, y = np.log(fit.budgets), np.log(fit.n_opt)
    (slope, intercept), cov = np.polyfit(x, y, 1, cov=True)  # cov scaled by residuals / (n - 2)
    x0 = math.log(1e19)
    se = math.sqrt(np.array([x0, 1.0]) @ cov @ np.array([x0, 1.0]))
    half = stats.t.ppf(0.975, len(x) - 2) * se
    N, (low, high), D, (D_low, D_high) = fit.optimum_interval(1e19)
    centre = slope * x0 + intercept
    assert math.log(N) == pytest.approx(centre, abs=1e-9)
    assert (math.log(low), math.log(high)) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert D == pytest.approx(1e19 / (6 * N))
    assert (D_low, D_high) == pytest.approx((1e19 / (6 * high), 1e19 / (6 * low)))


def test_a_lecturers_lab_directory_is_opened_by_name_only(tmp_path, monkeypatch):
    data = json.loads((LABS_DIR / "kaplan-like.json").read_text())
    data["title"] = "Our own lab"
    (tmp_path / "our-lab.json").write_text(json.dumps(data))
    (tmp_path / "chinchilla-like.json").write_text(json.dumps(data))  # a shipped name: the shipped lab wins
    monkeypatch.setenv("SCALING_EXPLORER_LABS", str(tmp_path))
    assert "our-lab" in list_labs()
    assert load_lab("our-lab").title == "Our own lab"
    assert load_lab("chinchilla-like").title == "Training-budget lab A"
    with pytest.raises(LabError, match="no shipped lab by that name"):
        load_lab(str(tmp_path / "our-lab.json"))
