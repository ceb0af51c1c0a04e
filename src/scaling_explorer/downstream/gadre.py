"""Gadre et al. 2024: loss in (N, tokens per parameter) and average top-1 error from loss.

Gadre et al. 2024, "Language models scale reliably with over-training and on downstream tasks",
arXiv:2403.08540; code and 104 runs in ``mlfoundations/scaling`` (MIT licence, shipped subset in
``data/gadre2024_runs.csv``). Two laws, per training set (C4, RedPajama, RefinedWeb):

- Loss (their eq. 4, ``scaling/laws.py`` ``powlaw_ours``), with M = D/N tokens per parameter:
  ``L(N, M) = a·N^η + b·6^(η/2)·(M·N)^η + E``. Since M·N = D this is the Chinchilla form
  E + A/N^α + B/D^α with A = a, B = b·6^(η/2), α = −η (one exponent for both terms), so
  :class:`GadreLaw` is a :class:`~scaling_explorer.laws.ParametricLaw` and the frontier, iso-loss
  curves and everything else come from there. Fitted (``scaling/shared.py`` ``fit_ds``) on five
  small runs: the four smallest shapes at M = 20 and the 11M model at M = 320.
- Error (their eq. 5, ``decay_ours``): ``Err(L) = ε − k·exp(−γ·L)``, average top-1 error over 17
  or 46 tasks, fitted on those five runs plus the 1.4B model at M = 20.

Their loss is **C4-eval loss** (``loss_c4_val``, their GPT-NeoX tokenizer), whatever the training
set: it is not on the scale of Chinchilla's MassiveText loss, so the error laws apply to a Gadre
law's loss only. Their N is ``params`` in the run files, which counts the input embedding
(e.g. 10,569,312 for the smallest shape, 5,727,840 without it): total parameters.

The presets' constants below are this project's own fit (:func:`fit_gadre`, on
:mod:`..fit.least_squares`) of the shipped runs, to the objective of their code (least squares in
loss and in error); ``tests/test_downstream.py`` refits them and compares with the values their
code gives (``reference.md`` A6.3).

Units: N in parameters, D in tokens, loss in nats per token (C4 eval), error as a fraction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib.resources import files

import numpy as np
import pandas as pd

from .._checks import positive
from ..conventions import ParamCount
from ..laws import FittedRange, ParametricLaw

GADRE2024 = (
    "Gadre et al. 2024, Language models scale reliably with over-training and on downstream tasks, "
    "arXiv:2403.08540 (eq. 4 and 5; constants refitted here from their runs, mlfoundations/scaling, MIT)"
)
RUNS_CSV = files("scaling_explorer.data") / "gadre2024_runs.csv"

# Training sets as named in their run files, and the names people use.
TRAINING_SETS = {"c4_original": "C4", "rpj": "RedPajama", "rw_original": "RefinedWeb"}

# mlfoundations/scaling, scaling/constants.py: FRIENDLY_CITATIONS (the 46 tasks) and SUBSET (the 17).
TASKS_46 = (
    "agi_eval_lsat_ar", "agi_eval_lsat_rc", "agi_eval_lsat_lr", "agi_eval_sat_en", "arc_easy", "arc_challenge", "bbq",
    "bigbench_conceptual_combinations", "bigbench_conlang_translation", "bigbench_cs_algorithms",
    "bigbench_dyck_languages", "bigbench_elementary_math_qa", "bigbench_misconceptions",
    "bigbench_language_identification", "bigbench_logical_deduction", "bigbench_novel_concepts", "bigbench_operators",
    "bigbench_repeat_copy_logic", "bigbench_qa_wikidata", "bigbench_strange_stories", "bigbench_strategy_qa",
    "bigbench_understanding_fables", "boolq", "commonsense_qa", "copa", "coqa", "enterprise_pii_classification",
    "hellaswag", "hellaswag_zeroshot", "jeopardy", "lambada_openai", "logi_qa", "math_qa", "mmlu", "mmlu_zeroshot",
    "openbook_qa", "piqa", "pubmed_qa_labeled", "simple_arithmetic_nospaces", "simple_arithmetic_withspaces", "siqa",
    "squad", "winogender_mc_female", "winogender_mc_male", "winograd", "winogrande",
)
TASKS_17 = (
    "bigbench_operators", "pubmed_qa_labeled", "hellaswag_zeroshot", "boolq", "arc_easy", "coqa",
    "bigbench_dyck_languages", "lambada_openai", "bigbench_novel_concepts", "winograd", "bigbench_cs_algorithms",
    "commonsense_qa", "bigbench_qa_wikidata", "hellaswag", "copa", "squad", "piqa",
)
TASK_AVERAGES = {"17": TASKS_17, "46": TASKS_46}

# scaling/shared.py fit_ds: the loss law is fitted on these shapes at M = 20 plus the smallest at M = 320;
# the error law adds the 1.4B shape at M = 20.
LOSS_FIT_SHAPES = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")
LOSS_FIT_EXTRA = ("d=96_l=8_h=4", 320.0)
ERROR_FIT_EXTRA = ("open_lm_1b", 20.0)

# The span of the five loss-fit runs (scaling/constants.py NAME_PARAMS; D = M·N): N from the 11M to the
# 411M shape, M from 20 to 320, so D from 20 x 10,569,312 to 20 x 411,616,256, C = 6ND.
LOSS_FIT_PARAMS = (10_569_312.0, 411_616_256.0)
LOSS_FIT_MULTIPLIERS = (20.0, 320.0)
LOSS_FIT_RANGE = FittedRange(
    LOSS_FIT_PARAMS, (20 * 10_569_312.0, 20 * 411_616_256.0),
    (6 * 10_569_312.0 * 20 * 10_569_312.0, 6 * 411_616_256.0 * 20 * 411_616_256.0),
    "Gadre et al. 2024 fit runs: 11M-411M parameters at M = 20, and 11M at M = 320 (tokens up to 8.2e9)",
)

LOSS_NOTE = ("C4-eval loss (nats per token, GPT-NeoX tokenizer) of Gadre et al.'s runs, whatever the training set: "
             "not on the scale of Chinchilla's or Kaplan's loss, so do not compare the numbers across laws")


class NoDownstreamMap(ValueError):
    """The law has no loss-to-error map (its loss is not on the scale the error law was fitted on)."""


@dataclass(frozen=True)
class ErrorLaw:
    """Average top-1 error from loss, Err(L) = epsilon − k·exp(−gamma·L) (Gadre et al. 2024, eq. 5).

    Attributes
    ----------
    k, gamma, epsilon : float
        Their symbols; epsilon is the error as L grows (near chance), k·exp(−gamma·L) what a lower loss buys.
    tasks : str
        ``"17"`` or ``"46"``: which task average (``TASK_AVERAGES``).
    fitted_loss : tuple of float
        (low, high) C4-eval loss of the runs the law was fitted on; outside it, an extrapolation.
    """

    k: float
    gamma: float
    epsilon: float
    tasks: str
    fitted_loss: tuple[float, float]
    citation: str = GADRE2024

    def error(self, L):
        """Predicted average top-1 error (fraction) at C4-eval loss ``L`` (nats per token)."""
        L = positive("L (loss)", L)
        return self.epsilon - self.k * np.exp(-self.gamma * L)

    def loss_for_error(self, err):
        """C4-eval loss at which the law predicts average error ``err``: L = −ln((epsilon − err) / k) / gamma.

        ``err`` must lie in (0, epsilon): the law never predicts an error at or above epsilon.
        """
        err = positive("err (average error)", err)
        if np.any(err >= self.epsilon):
            raise ValueError(f"err (average error) must be below epsilon = {self.epsilon:.4g}, got "
                             f"{float(np.max(err)):g}")
        return -np.log((self.epsilon - err) / self.k) / self.gamma

    def extrapolated(self, L) -> np.ndarray:
        """True where loss ``L`` lies outside the losses the error law was fitted on."""
        L = np.asarray(L, dtype=float)
        return (L < self.fitted_loss[0]) | (L > self.fitted_loss[1])

    @property
    def label(self) -> str:
        """What the number is, for people."""
        return f"average top-1 error over Gadre et al.'s {self.tasks} tasks"


@dataclass(frozen=True)
class GadreLaw(ParametricLaw):
    """Gadre et al. 2024 loss law for one training set, with its loss-to-error laws.

    A ParametricLaw with alpha = beta = −eta, A = a and B = b·6^(eta/2) (module docstring); build
    one from their symbols with :meth:`from_gadre`.

    Attributes
    ----------
    training_set : str
        ``"C4"``, ``"RedPajama"`` or ``"RefinedWeb"``.
    error_laws : tuple of (str, ErrorLaw)
        Task average (``"17"``, ``"46"``) to its error law; a tuple so the law stays hashable.
    loss_note : str
        What the loss is (C4-eval loss, their tokenizer).
    """

    training_set: str = ""
    error_laws: tuple[tuple[str, ErrorLaw], ...] = ()
    loss_note: str = LOSS_NOTE
    multipliers_fitted: tuple[float, float] = LOSS_FIT_MULTIPLIERS

    @classmethod
    def from_gadre(cls, a: float, b: float, eta: float, E: float, **fields) -> GadreLaw:
        """The law from their symbols: L = a·N^eta + b·6^(eta/2)·D^eta + E, eta < 0."""
        if not (math.isfinite(eta) and eta < 0):
            raise ValueError(f"eta must be negative and finite (loss falls with N and D), got {eta!r}")
        return cls(E=E, A=a, B=b * 6.0 ** (eta / 2), alpha=-eta, beta=-eta, **fields)

    @property
    def gadre(self) -> dict[str, float]:
        """Their coefficients {a, b, eta, E} (eta from alpha; exact only while alpha == beta)."""
        eta = -self.alpha
        return {"a": self.A, "b": self.B / 6.0 ** (eta / 2), "eta": eta, "E": self.E}

    def error_law(self, tasks: str = "17") -> ErrorLaw:
        """The loss-to-error law for task average ``tasks`` (``"17"`` or ``"46"``)."""
        laws = dict(self.error_laws)
        if str(tasks) not in laws:
            raise ValueError(f"tasks must be one of {', '.join(laws) or '(none)'}, got {tasks!r}")
        return laws[str(tasks)]

    def extrapolated(self, N, D) -> np.ndarray:
        """True where (N, D) lies outside the fit runs' N span or tokens-per-parameter span."""
        N, D = positive("N (parameters)", N), positive("D (tokens)", D)
        M = D / N
        lo, hi = self.fitted_range.params if self.fitted_range else (np.nan, np.nan)
        return ~((N >= lo) & (N <= hi) & (M >= self.multipliers_fitted[0]) & (M <= self.multipliers_fitted[1]))


def downstream_map(law) -> dict[str, ErrorLaw]:
    """The loss-to-error laws of ``law`` by task average; :class:`NoDownstreamMap` if it has none."""
    laws = dict(getattr(law, "error_laws", ()) or ())
    if not laws:
        raise NoDownstreamMap(
            f"law {getattr(law, 'name', law)!r} has no downstream map: the loss-to-error laws (Gadre et al. 2024) "
            "were fitted on C4-eval loss with their tokenizer, which only their own loss laws predict; "
            "choose gadre2024-c4, gadre2024-rpj or gadre2024-rw")
    return laws


def has_downstream(law) -> bool:
    """True when ``law`` can give a predicted benchmark error (a Gadre law)."""
    return bool(getattr(law, "error_laws", ()))


@dataclass(frozen=True)
class DownstreamPrediction:
    """Loss and predicted average error for (N, D) under a Gadre law; arrays broadcast like N and D.

    Attributes
    ----------
    loss : numpy.ndarray
        C4-eval loss (nats per token).
    error : dict of str to numpy.ndarray
        Predicted average top-1 error (fraction) by task average (``"17"``, ``"46"``).
    extrapolated : numpy.ndarray of bool
        Outside the loss law's fitted N or M span, or outside an error law's fitted loss span.
    """

    loss: np.ndarray
    error: dict = field(default_factory=dict)
    extrapolated: np.ndarray = field(default_factory=lambda: np.array(False))


def predict_downstream(law, N, D, loss=None) -> DownstreamPrediction:
    """Loss, predicted 17- and 46-task average error and ``extrapolated`` for N parameters on D tokens.

    ``loss``, when given, is the C4-eval loss at (N, D) to map instead of ``law.loss(N, D)``: e.g. the
    loss of a data-constrained run that repeats its data (:class:`~scaling_explorer.wrappers.DataConstrained`).

    Raises
    ------
    NoDownstreamMap
        ``law`` has no loss-to-error map.
    ValueError
        N or D not positive and finite.
    """
    maps = downstream_map(law)
    L = np.asarray(law.loss(N, D) if loss is None else positive("loss", loss))
    extrapolated = np.asarray(law.extrapolated(N, D))
    error = {}
    for tasks, error_law in maps.items():
        error[tasks] = error_law.error(L)
        extrapolated = extrapolated | error_law.extrapolated(L)
    return DownstreamPrediction(loss=L, error=error, extrapolated=extrapolated)


def at_optimum(law, C) -> DownstreamPrediction:
    """:func:`predict_downstream` at the law's compute-optimal (N, D) for ``C`` FLOPs (vectorised over C)."""
    downstream_map(law)  # refuse before computing the frontier
    return predict_downstream(law, *law.compute_optimal(C))


def predicted_error(law, N, D, tasks: str = "17"):
    """Predicted average top-1 error (fraction) over ``tasks`` for N parameters on D tokens, vectorised."""
    maps = downstream_map(law)
    if str(tasks) not in maps:
        raise ValueError(f"tasks must be one of {', '.join(maps)}, got {tasks!r}")
    return maps[str(tasks)].error(law.loss(N, D))


# --- the runs and the fits --------------------------------------------------------------------------

def load_runs(path=None) -> pd.DataFrame:
    """Gadre et al.'s 104 runs: one row each, with ``err_17`` and ``err_46`` (average top-1 error) added.

    Columns: run, dataset (``c4_original``, ``rpj``, ``rw_original``), model (shape), params (their N),
    params_no_embed, tokens, token_multiplier (M), loss_c4_val, acc_<task> for the 46 tasks, err_17, err_46.
    """
    runs = pd.read_csv(RUNS_CSV if path is None else path)
    missing = [f"acc_{t}" for t in TASKS_46 if f"acc_{t}" not in runs.columns]
    if missing:
        raise ValueError(f"runs table lacks task columns {missing[:3]}")
    for tasks, names in TASK_AVERAGES.items():
        runs[f"err_{tasks}"] = 1.0 - runs[[f"acc_{t}" for t in names]].mean(axis=1)
    return runs


def loss_fit_runs(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The five runs Gadre et al. fit the loss law on for ``dataset`` (``scaling/shared.py`` ``fit_ds``)."""
    mine = runs[runs["dataset"] == dataset]
    at20 = mine[mine["model"].isin(LOSS_FIT_SHAPES) & (mine["token_multiplier"] == 20.0)]
    extra = mine[(mine["model"] == LOSS_FIT_EXTRA[0]) & (mine["token_multiplier"] == LOSS_FIT_EXTRA[1])]
    picked = pd.concat([at20, extra])
    if len(picked) != 5:
        raise ValueError(f"expected 5 loss-fit runs for dataset {dataset!r}, found {len(picked)}")
    return picked


def error_fit_runs(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The six runs of the error law: the loss-fit runs plus the 1.4B model at M = 20."""
    mine = runs[runs["dataset"] == dataset]
    extra = mine[(mine["model"] == ERROR_FIT_EXTRA[0]) & (mine["token_multiplier"] == ERROR_FIT_EXTRA[1])]
    picked = pd.concat([loss_fit_runs(runs, dataset), extra])
    if len(picked) != 6:
        raise ValueError(f"expected 6 error-fit runs for dataset {dataset!r}, found {len(picked)}")
    return picked


# Their start grid (scaling/laws.py curve_fit_powlaw_ours): a, b in {1e2, 3e2, 1e3, 3e3}, eta in {-0.1, -0.3},
# E in {0, 1, 2, 10}; 128 starts. Their error fit starts scipy's curve_fit at (1, 1, 1); a small grid
# around it (24 starts).
_LOSS_STARTS = np.array([(a, b, eta, E) for a in (1e2, 3e2, 1e3, 3e3) for b in (1e2, 3e2, 1e3, 3e3)
                         for eta in (-0.1, -0.3) for E in (0.0, 1.0, 2.0, 10.0)])
_ERROR_STARTS = np.array([(k, g, e) for k in (0.5, 1.0, 2.0, 5.0) for g in (0.3, 1.0, 3.0) for e in (0.75, 1.0)])
RESIDUAL_SCALE = 1e-3  # a thousandth of a nat, or of an error fraction: the size of these fits' residuals


@dataclass(frozen=True)
class GadreFit:
    """The project's refit of one training set's two Gadre laws.

    Attributes
    ----------
    dataset : str
        Run-file name of the training set.
    loss : dict of str to float
        {a, b, eta, E} of the loss law.
    error : dict of str to dict
        Task average to {k, gamma, epsilon}.
    converged : bool
        Every fit passed its gradient or Newton-step check.
    loss_residuals : numpy.ndarray
        Fitted minus observed C4-eval loss of the five runs.
    fitted_loss : dict of str to tuple
        Task average to the (low, high) loss of the six error-fit runs.
    """

    dataset: str
    loss: dict
    error: dict
    converged: bool
    loss_residuals: np.ndarray = field(repr=False)
    fitted_loss: tuple = ()

    def law(self, **fields) -> GadreLaw:
        """The fitted law as a :class:`GadreLaw` with both error laws."""
        errors = tuple((t, ErrorLaw(**e, tasks=t, fitted_loss=self.fitted_loss)) for t, e in self.error.items())
        name = TRAINING_SETS.get(self.dataset, self.dataset)
        fields = {"name": f"Gadre et al. 2024 ({name})", "citation": GADRE2024, "training_set": name,
                  "params_meaning": ParamCount.TOTAL, "fitted_range": LOSS_FIT_RANGE, **fields}
        return GadreLaw.from_gadre(**self.loss, error_laws=errors, **fields)


def _fit_loss_law(N, D, L):
    from ..fit.least_squares import fit_least_squares

    logN, logD = np.log(N), np.log(D) + 0.5 * math.log(6.0)  # 6^(eta/2) D^eta = (sqrt(6) D)^eta
    muN, muD = logN.mean(), logD.mean()
    s = np.concatenate([logN - muN, logD - muD]).std()
    xN, xD = (logN - muN) / s, (logD - muD) / s

    def rj(theta):
        p, q, h, E = (theta[:, i : i + 1] for i in range(4))
        T1, T2 = np.exp(p + h * xN), np.exp(q + h * xD)
        r = T1 + T2 + E - L
        J = np.stack([T1, T2, T1 * xN + T2 * xD, np.ones_like(T1)], axis=-1)
        return r, J

    a, b, eta, E = _LOSS_STARTS.T
    starts = np.stack([np.log(a) + eta * muN, np.log(b) + eta * muD, eta * s, E], axis=1)
    fit = fit_least_squares(rj, starts, residual_scale=RESIDUAL_SCALE)
    p, q, h, E = fit.theta
    eta = h / s
    return {"a": math.exp(p - eta * muN), "b": math.exp(q - eta * muD), "eta": float(eta), "E": float(E)}, fit


def _fit_error_law(L, err):
    from ..fit.least_squares import fit_least_squares

    mu = L.mean()
    x = L - mu

    def rj(theta):
        kappa, g, e = (theta[:, i : i + 1] for i in range(3))
        T = np.exp(kappa - g * x)
        r = e - T - err
        J = np.stack([-T, T * x, np.ones_like(T)], axis=-1)
        return r, J

    k, g, e = _ERROR_STARTS.T
    fit = fit_least_squares(rj, np.stack([np.log(k) - g * mu, g, e], axis=1), residual_scale=RESIDUAL_SCALE)
    kappa, g, e = fit.theta
    return {"k": math.exp(kappa + g * mu), "gamma": float(g), "epsilon": float(e)}, fit


def fit_gadre(runs: pd.DataFrame | None = None, dataset: str = "rpj") -> GadreFit:
    """Refit Gadre et al.'s loss law and both error laws for one training set, as their code does.

    Their objective (``scaling/laws.py``, ``scaling/shared.py``): least squares of the loss on the five
    loss-fit runs, and of the 17- or 46-task average error against loss on the six error-fit runs;
    minimised here by :func:`~scaling_explorer.fit.least_squares.fit_least_squares` from their start grid.

    Parameters
    ----------
    runs : pandas.DataFrame, optional
        :func:`load_runs` output; default the shipped runs.
    dataset : str
        ``"c4_original"``, ``"rpj"`` or ``"rw_original"``.
    """
    if dataset not in TRAINING_SETS:
        raise ValueError(f"dataset must be one of {', '.join(TRAINING_SETS)}, got {dataset!r}")
    runs = load_runs() if runs is None else runs
    lf = loss_fit_runs(runs, dataset)
    loss, lfit = _fit_loss_law(lf["params"].to_numpy(float), lf["tokens"].to_numpy(float),
                               lf["loss_c4_val"].to_numpy(float))
    ef = error_fit_runs(runs, dataset)
    L = ef["loss_c4_val"].to_numpy(float)
    error, converged = {}, lfit.converged
    for tasks in TASK_AVERAGES:
        error[tasks], efit = _fit_error_law(L, ef[f"err_{tasks}"].to_numpy(float))
        converged = converged and efit.converged
    return GadreFit(dataset=dataset, loss=loss, error=error, converged=converged, loss_residuals=lfit.residuals,
                    fitted_loss=(float(L.min()), float(L.max())))


# --- presets ------------------------------------------------------------------------------------------
# This project's fit (fit_gadre) of the shipped runs, to 7 significant digits; tests/test_downstream.py
# refits them and checks them against the values Gadre et al.'s own code gives (reference.md A6.3:
# RedPajama a 166.2, b 366.7, eta -0.2729, E 1.8366; 17-task k 2.206, gamma 0.7146, epsilon 0.8570).
# fitted_loss: the C4-eval loss span of the six error-fit runs.
_FITTED = {
    "c4_original": dict(loss=dict(a=113.6926, b=189.5155, eta=-0.2424722, E=1.508261),
                        error={"17": dict(k=2.078899, gamma=0.7561191, epsilon=0.8497423),
                               "46": dict(k=1.288514, gamma=0.9721636, epsilon=0.7589495)},
                        fitted_loss=(2.656859, 5.220676)),
    "rpj": dict(loss=dict(a=166.2110, b=366.6872, eta=-0.2728507, E=1.836648),
                error={"17": dict(k=2.206491, gamma=0.7145907, epsilon=0.8569919),
                       "46": dict(k=1.322907, gamma=0.8907103, epsilon=0.7608494)},
                fitted_loss=(2.768757, 5.387021)),
    "rw_original": dict(loss=dict(a=125.0957, b=246.2067, eta=-0.2543948, E=1.734462),
                        error={"17": dict(k=2.214816, gamma=0.7070487, epsilon=0.8652795),
                               "46": dict(k=1.128076, gamma=0.8215233, epsilon=0.7676792)},
                        fitted_loss=(2.763351, 5.271892)),
}
PRESET_KEYS = {"c4_original": "gadre2024-c4", "rpj": "gadre2024-rpj", "rw_original": "gadre2024-rw"}

GADRE_PRESETS: dict[str, GadreLaw] = {
    PRESET_KEYS[dataset]: GadreFit(dataset=dataset, converged=True, loss_residuals=np.array([]), **fitted).law()
    for dataset, fitted in _FITTED.items()
}
