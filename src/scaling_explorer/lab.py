"""The training-budget lab: a simulated, metered training service drawn from a hidden law.

The exercise of Stanford's CS336 (spend a small compute budget on training runs, fit a law, predict
the compute-optimal model at a larger target budget), for any classroom. A :class:`TrainingLab`
holds a hidden loss law, a noise model, a FLOP meter, a budget and a target budget:

>>> lab = TrainingLab("besiroglu2024", budget=2e18, target=1e19, seed=7)   # doctest: +SKIP
>>> lab.train(3e7, 6e8)          # one run: its final loss, in nats per token   # doctest: +SKIP
>>> lab.fit()                    # Approach 2 or 3 of scaling_explorer.fit, predicted optimum at the target
>>> lab.reveal()                 # the truth: compute-optimal N, D and loss at the target

The simulated run
-----------------
``loss = law.loss(N, D) * exp(noise * z)``, z standard normal, drawn from a generator seeded by
(seed, N, D): the same run always returns the same loss for the same seed, as a rerun of the same
configuration with the same seed would, and a different seed gives other noise (and, with a
perturbation, another hidden law). ``noise`` is the standard deviation of log loss (0.01 is about
1%, ~0.03 nats at a loss of 3). A run costs ``law.flop_model.flops(N, D)`` (6ND for every shipped
lab, the count the fitters assume). Sizes outside the lab's range are refused with the reason.

The hidden law
--------------
Any law with a loss surface: a preset key, a :class:`~scaling_explorer.laws.Law` object, or a
seeded perturbation of one (:class:`Perturbation`: a Gaussian in (log A, log B, E, alpha, beta) with
a stated covariance, redrawn until every coefficient lies inside the published 95% intervals). The
truth at the target is the iso-FLOP minimum of the law's loss (for Kaplan's law that is not its own
Table-6 frontier, which is a fit to early-stopped runs; see :class:`~scaling_explorer.laws.KaplanLaw`).

Lab files
---------
Shipped labs are JSON files in ``data/labs/`` (package data ``scaling_explorer.data/labs``), with a
JSON Schema beside them (``lab.schema.json``). :func:`load_lab` opens **names only** (what a page link
may name): the shipped labs and those in a directory the lecturer sets where the server starts
(:data:`LECTURER_LABS_ENV`); :func:`load_lab_file` opens a file the lecturer passes explicitly in Python.

Units: N in parameters (what the law's N counts), D in tokens, C in FLOPs, loss in nats per token.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from ._checks import positive_scalar
from .frontier import _iso_flop_optimum
from .laws import KaplanLaw, Law, ParametricLaw, get_law

#: Where shipped labs live (``data/labs/`` in the repository; package data in a wheel).
LABS_DIR = files("scaling_explorer.data") / "labs"
#: A lab name as it may appear in a link: lower-case letters, digits and single dashes.
LAB_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: How far beyond a law's fitted span the lab trains by default (factor in N and in D, each way).
DEFAULT_EXTRAPOLATION = 100.0
#: Largest accepted noise (standard deviation of log loss): beyond ~20% a "loss" says little.
MAX_NOISE = 0.2
#: Most runs a lab accepts (the page draws and lists them all; the fitters have their own limits).
MAX_RUNS = 500
#: Largest lab file read.
MAX_LAB_BYTES = 1_000_000
#: Seeds are whole numbers in [0, 2**32) (they travel in links).
MAX_SEED = 2**32 - 1

RUN_COLUMNS = ("params", "tokens", "flops", "loss")


class LabError(ValueError):
    """A refused run or a bad lab: the message names the argument, the value and the reason."""


class BudgetExceeded(LabError):
    """A run that would spend more than the budget left; nothing was charged."""


# -- the hidden law ------------------------------------------------------------------------------
PERTURBED_COORDINATES = ("log_A", "log_B", "E", "alpha", "beta")


@dataclass(frozen=True)
class Perturbation:
    """A seeded draw of a Chinchilla-form law around a published fit, within its published uncertainty.

    The draw is Gaussian in (log A, log B, E, alpha, beta) centred on the base law with covariance
    ``covariance`` (A and B are strongly correlated in every published fit, so independent draws
    would give laws no data support), redrawn until every coefficient lies inside ``within``.

    Attributes
    ----------
    covariance : tuple of tuple of float
        5 x 5 covariance in the order of :data:`PERTURBED_COORDINATES`.
    within : dict of str to (float, float)
        Interval per coefficient (E, A, B, alpha, beta) a draw must fall in (e.g. published 95% intervals).
    source : str
        Where the covariance and the intervals come from.
    """

    covariance: tuple
    within: dict
    source: str = ""

    def __post_init__(self):
        cov = np.asarray(self.covariance, dtype=float)
        if cov.shape != (5, 5) or not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T):
            raise LabError(f"perturbation covariance must be a symmetric 5x5 matrix of numbers "
                           f"({', '.join(PERTURBED_COORDINATES)}), got shape {cov.shape}")
        if np.linalg.eigvalsh(cov)[0] < -1e-12 * max(1.0, float(np.abs(cov).max())):
            raise LabError("perturbation covariance must be positive semi-definite")
        for name, span in self.within.items():
            if name not in ParametricLaw.coefficients or len(span) != 2 or not 0 < span[0] < span[1]:
                raise LabError(f"perturbation within[{name!r}] must be a coefficient of E, A, B, alpha, beta "
                               f"with 0 < low < high, got {span!r}")
        object.__setattr__(self, "covariance", tuple(tuple(float(v) for v in row) for row in cov))

    def draw(self, law: ParametricLaw, seed: int, max_tries: int = 10_000) -> ParametricLaw:
        """``law`` with coefficients drawn for ``seed`` (deterministic); ``LabError`` if none lands inside."""
        if not isinstance(law, ParametricLaw):
            raise LabError(f"a perturbation needs a Chinchilla-form (parametric) law, got {law.name!r}")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1AB]))
        mean = np.array([math.log(law.A), math.log(law.B), law.E, law.alpha, law.beta])
        for _ in range(max_tries):
            log_A, log_B, E, alpha, beta = rng.multivariate_normal(mean, np.array(self.covariance), method="eigh")
            drawn = {"E": E, "A": math.exp(log_A), "B": math.exp(log_B), "alpha": alpha, "beta": beta}
            if all(lo <= drawn[k] <= hi for k, (lo, hi) in self.within.items()) and min(drawn.values()) > 0:
                return dataclasses.replace(law, **{k: float(v) for k, v in drawn.items()},
                                           name=f"{law.name}, perturbed (seed {seed})")
        raise LabError(f"no draw of the perturbation fell inside {self.within} in {max_tries} tries")


@dataclass(frozen=True)
class Truth:
    """What :meth:`TrainingLab.reveal` shows: the hidden law's compute-optimal model at the target.

    Attributes
    ----------
    target : float
        Target budget (FLOPs).
    params, tokens : float
        The iso-FLOP minimum of the hidden loss at the target (N counts what the law's N counts).
    loss : float
        The hidden law's loss there, without noise (nats per token).
    law : Law
        The hidden law itself.
    """

    target: float
    params: float
    tokens: float
    loss: float
    law: object = field(repr=False)

    @property
    def tokens_per_param(self) -> float:
        """D / N at the optimum."""
        return self.tokens / self.params

    def frontier(self, C):
        """The hidden law's compute-optimal (N, D) at budgets ``C`` (FLOPs): its iso-FLOP minima."""
        return _iso_flop_optimum(self.law, C)


def true_optimum(law, C):
    """(N, D, loss) of lowest loss on the iso-FLOP line of ``C`` FLOPs under ``law`` (no noise)."""
    N, D = _iso_flop_optimum(law, positive_scalar("C (FLOPs)", C))
    return float(N), float(D), float(law.loss(N, D))


def _run_seed(seed: int, N: float, D: float) -> np.random.SeedSequence:
    """A seed sequence from (seed, N, D): the exact float bits of N and D, so a rerun matches."""
    bits = np.array([N, D], dtype=np.float64).view(np.uint64)
    return np.random.SeedSequence([int(seed), 0x2E5, *(int(b) for b in bits)])


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise LabError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def _range(name: str, span) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in span)
    except (TypeError, ValueError):
        raise LabError(f"{name} must be a (low, high) pair of numbers, got {span!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise LabError(f"{name} must satisfy 0 < low < high, got {span!r}")
    return low, high


# -- the lab ---------------------------------------------------------------------------------------
class TrainingLab:
    """A simulated training service with a hidden law, a noise model, a FLOP meter and a budget.

    Parameters
    ----------
    law : str or Law
        The hidden law: a preset or registered key, or any law with a loss surface.
    budget : float
        FLOPs the student may spend on runs.
    target : float
        The budget (FLOPs) at which the student predicts the compute-optimal model; above ``budget``.
    noise : float
        Standard deviation of log loss per run (multiplicative noise; 0.01 is about 1%); 0 for none.
    seed : int
        Seeds the noise (hashed with each run's N and D) and the perturbation, if any.
    perturbation : Perturbation, optional
        Draw the hidden law around ``law`` for this seed.
    params_range, tokens_range : (float, float), optional
        Sizes the lab trains (N in what the law's N counts, D in tokens). Default: the law's fitted
        span widened :data:`DEFAULT_EXTRAPOLATION` times each way.

    Raises
    ------
    LabError
        A law without a loss surface, a target not above the budget, a bad noise, seed or range.
    """

    def __init__(self, law, budget, target, *, noise: float = 0.01, seed: int = 0,
                 perturbation: Perturbation | None = None, params_range=None, tokens_range=None):
        base = get_law(law) if isinstance(law, str) else law
        if not isinstance(base, Law) or not getattr(base, "has_loss", False):
            raise LabError(f"law must have a loss surface (a Chinchilla- or Kaplan-form law), got {law!r}")
        self.budget = positive_scalar("budget (FLOPs)", budget)
        self.target = positive_scalar("target (FLOPs)", target)
        if not self.target > self.budget:
            raise LabError(f"target must be above the budget ({self.budget:.3g} FLOPs), got {self.target:.3g}")
        try:
            noise = float(noise)
        except (TypeError, ValueError):
            raise LabError(f"noise must be a number from 0 to {MAX_NOISE}, got {noise!r}") from None
        if not 0 <= noise <= MAX_NOISE:
            raise LabError(f"noise must be a number from 0 to {MAX_NOISE} (std of log loss), got {noise!r}")
        self.noise = noise
        self.seed = _check_seed(seed)
        self._law = perturbation.draw(base, self.seed) if perturbation is not None else base
        fitted = base.fitted_range
        if params_range is None or tokens_range is None:
            if fitted is None:
                raise LabError(f"{base.name} has no fitted span: give params_range and tokens_range")
        k = DEFAULT_EXTRAPOLATION
        self.params_range = _range("params_range", params_range if params_range is not None
                                   else (fitted.params[0] / k, fitted.params[1] * k))
        self.tokens_range = _range("tokens_range", tokens_range if tokens_range is not None
                                   else (fitted.tokens[0] / k, fitted.tokens[1] * k))
        self.params_meaning = self._law.params_meaning
        self._runs: list[tuple[float, float, float, float]] = []
        self._spent = 0.0

    # the law is kept private and out of repr; reveal() hands it over.
    def __repr__(self) -> str:
        return (f"TrainingLab(budget={self.budget:.3g}, target={self.target:.3g}, noise={self.noise:g}, "
                f"seed={self.seed}, runs={len(self._runs)}, spent={self._spent:.3g})")

    @property
    def spent(self) -> float:
        """FLOPs charged so far."""
        return self._spent

    @property
    def remaining(self) -> float:
        """FLOPs left in the budget."""
        return max(self.budget - self._spent, 0.0)

    @property
    def runs(self) -> pd.DataFrame:
        """The runs bought, in the order trained: params, tokens, flops, loss."""
        return pd.DataFrame(np.array(self._runs, dtype=float).reshape(-1, len(RUN_COLUMNS)), columns=list(RUN_COLUMNS))

    def cost(self, params, tokens) -> float:
        """FLOPs a run of ``params`` parameters on ``tokens`` tokens would cost (the law's FLOP model)."""
        N = positive_scalar("params", params)
        D = positive_scalar("tokens", tokens)
        return float(self._law.flop_model.flops(N, D))

    def check(self, params, tokens) -> float:
        """The cost of a run, or ``LabError`` saying why it would be refused (nothing is charged)."""
        N = positive_scalar("params", params)
        D = positive_scalar("tokens", tokens)
        for name, value, (low, high), unit in (("params", N, self.params_range, "parameters"),
                                               ("tokens", D, self.tokens_range, "tokens")):
            if not low <= value <= high:
                raise LabError(f"{name} = {value:.3g} is outside this lab's range of {low:.3g} to {high:.3g} "
                               f"{unit}: the hidden law says nothing trustworthy there")
        if len(self._runs) >= MAX_RUNS:
            raise LabError(f"this lab accepts at most {MAX_RUNS} runs")
        flops = self.cost(N, D)
        if flops > self.budget - self._spent:
            raise BudgetExceeded(f"a run of {N:.3g} parameters on {D:.3g} tokens costs {flops:.3g} FLOPs, "
                                 f"but only {self.remaining:.3g} of the {self.budget:.3g}-FLOP budget are left; "
                                 "nothing was charged")
        return flops

    def train(self, params, tokens) -> float:
        """Train one model of ``params`` parameters on ``tokens`` tokens; its final loss (nats per token).

        Raises
        ------
        BudgetExceeded
            The run costs more than :attr:`remaining`; nothing is charged.
        LabError
            A size outside the lab's range, or not a positive number; nothing is charged.
        """
        flops = self.check(params, tokens)
        N, D = float(params), float(tokens)
        z = np.random.default_rng(_run_seed(self.seed, N, D)).standard_normal()
        loss = float(self._law.loss(N, D)) * math.exp(self.noise * z)
        self._spent += flops
        self._runs.append((N, D, flops, loss))
        return loss

    def reveal(self) -> Truth:
        """The truth at the target: the hidden law's compute-optimal N, D and loss, and the law."""
        N, D, L = true_optimum(self._law, self.target)
        return Truth(target=self.target, params=N, tokens=D, loss=L, law=self._law)

    def fit(self, *, approach: int | None = None, n_bootstrap: int = 200, level: float = 95.0,
            predict_loss: bool = True) -> LabFit:
        """Fit the runs bought so far and predict the optimum at the target; see :func:`fit_runs`."""
        return fit_runs(self.runs, self.target, approach=approach, n_bootstrap=n_bootstrap, level=level,
                        predict_loss=predict_loss, seed=self.seed)


# -- fitting ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabFit:
    """A fit to a lab's runs and its prediction at the target, with intervals.

    Attributes
    ----------
    approach : int
        2 (iso-FLOP parabolas) or 3 (parametric fit with a bootstrap) for N and D.
    fit : Approach2Fit or Approach3Fit
        The fitter's result (``fit.law`` is the fitted law; ``fit.report()`` prints it).
    target : float
        Target budget (FLOPs).
    params, params_interval : float, (float, float)
        Predicted compute-optimal N at the target and its interval.
    tokens, tokens_interval : float, (float, float)
        The same for D.
    loss, loss_interval : float, (float, float)
        Predicted loss at the target from an Approach-3 fit and its bootstrap (NaN where there is
        none; ``loss_note`` says why).
    level : float
        Interval level in percent.
    loss_fit : Approach3Fit or None
        The Approach-3 fit behind the loss (the same as ``fit`` when approach is 3).
    """

    approach: int
    fit: object = field(repr=False)
    target: float = math.nan
    params: float = math.nan
    params_interval: tuple = (math.nan, math.nan)
    tokens: float = math.nan
    tokens_interval: tuple = (math.nan, math.nan)
    loss: float = math.nan
    loss_interval: tuple = (math.nan, math.nan)
    level: float = 95.0
    loss_note: str = ""
    loss_fit: object = field(default=None, repr=False)

    def frontier(self, C):
        """The fitted compute-optimal (N, D) at budgets ``C`` (FLOPs), the fitted law's own frontier."""
        return self.fit.law.compute_optimal(C)

    def report(self) -> str:
        """Printable summary: the prediction, then the fitter's own report."""
        def span(lo, hi):
            return f"{lo:.3g} to {hi:.3g}"
        lines = [f"Prediction at {self.target:.3g} FLOPs (Approach {self.approach}, {self.level:g}% intervals):",
                 f"  N_opt  {self.params:.3g}  ({span(*self.params_interval)})",
                 f"  D_opt  {self.tokens:.3g}  ({span(*self.tokens_interval)})"]
        if math.isfinite(self.loss):
            lines.append(f"  loss   {self.loss:.4g}  ({span(*self.loss_interval)})")
        else:
            lines.append(f"  loss   not predicted: {self.loss_note}")
        return "\n".join(lines + ["", self.fit.report()])


def _approach3(runs: pd.DataFrame, target: float, n_bootstrap: int, seed: int):
    from .fit import fit_approach3

    return fit_approach3(runs, n_bootstrap=n_bootstrap, seed=seed, at_flops=target)


def _loss_at_target(fit3, target: float, level: float):
    """Loss on the fitted frontier at the target, and its bootstrap percentile interval."""
    loss = float(fit3.law.frontier_loss(target))
    b = fit3.bootstrap
    if b is None or b.n_converged < 2:
        return loss, (math.nan, math.nan)
    ok = np.asarray(b.converged if b.converged is not None else np.ones(b.n_resamples, bool), bool)
    values = []
    for i in np.flatnonzero(ok):
        coefficients = {k: float(b.samples[k][i]) for k in ParametricLaw.coefficients}
        try:
            values.append(float(ParametricLaw(**coefficients).frontier_loss(target)))
        except ValueError:  # a resample with a non-positive coefficient draws no frontier
            continue
    tail = (100.0 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail]) if values else (math.nan, math.nan)
    return loss, (float(low), float(high))


def fit_runs(runs, target, *, approach: int | None = None, n_bootstrap: int = 200, level: float = 95.0,
             predict_loss: bool = True, seed: int = 0) -> LabFit:
    """Fit training runs and predict the compute-optimal N, D and loss at ``target`` FLOPs.

    Picks Approach 2 (Hoffmann et al. 2022 §3.2) when the runs form at least three usable iso-FLOP
    groups, Approach 3 (§3.3, App. D.2, with a bootstrap of ``n_bootstrap`` resamples) otherwise;
    ``approach`` forces one. The loss at the target always comes from Approach 3 (Approach 2 has no
    loss surface); if the runs cannot determine it, ``loss`` is NaN and ``loss_note`` says why.

    Parameters
    ----------
    runs : DataFrame
        Columns params, tokens, loss (as :attr:`TrainingLab.runs`).
    target : float
        Budget (FLOPs) to predict at.
    approach : {None, 2, 3}
        None picks as above.
    n_bootstrap : int
        Resamples of the Approach-3 bootstrap (200 is enough for a 95% percentile interval's
        first two digits and keeps a fit on the page under a few seconds).
    level : float
        Interval level in percent.
    predict_loss : bool
        Also fit Approach 3 for the loss when Approach 2 gives N and D.
    seed : int
        Seeds the bootstrap.

    Raises
    ------
    NotIdentifiedError, RunsError
        The runs cannot determine the law (too few, no iso-FLOP groups for a forced Approach 2, ...).
    """
    from .fit import NotIdentifiedError, fit_approach2

    target = positive_scalar("target (FLOPs)", target)
    if approach not in (None, 2, 3):
        raise LabError(f"approach must be 2, 3 or None (pick), got {approach!r}")
    if not 0 < level < 100:
        raise LabError(f"level must be between 0 and 100 percent, got {level!r}")
    fit2 = None
    if approach in (None, 2):
        try:
            fit2 = fit_approach2(runs)
        except NotIdentifiedError:
            if approach == 2:
                raise
    if fit2 is not None:
        N, (N_lo, N_hi), D, (D_lo, D_hi) = fit2.optimum_interval(target, level)
        out = LabFit(2, fit2, target, N, (N_lo, N_hi), D, (D_lo, D_hi), level=level)
        if not predict_loss:
            return dataclasses.replace(out, loss_note="not asked for")
        try:
            fit3 = _approach3(runs, target, n_bootstrap, seed)
        except NotIdentifiedError as exc:
            return dataclasses.replace(out, loss_note=" ".join(exc.problems))
        if not fit3.converged:
            return dataclasses.replace(out, loss_note="the Approach-3 fit did not converge", loss_fit=fit3)
        loss, loss_ci = _loss_at_target(fit3, target, level)
        return dataclasses.replace(out, loss=loss, loss_interval=loss_ci, loss_fit=fit3)
    fit3 = _approach3(runs, target, n_bootstrap, seed)
    if not fit3.converged:
        raise NotIdentifiedError(["the Approach-3 fit did not converge: " + fit3.message])
    N, D = (float(v) for v in fit3.law.compute_optimal(target))
    b = fit3.bootstrap
    if b is not None and b.n_converged >= 2:
        N_lo, N_hi, D_lo, D_hi = (float(v[0]) for v in b.frontier_interval([target], level))
    else:
        N_lo = N_hi = D_lo = D_hi = math.nan
    loss, loss_ci = _loss_at_target(fit3, target, level)
    return LabFit(3, fit3, target, N, (N_lo, N_hi), D, (D_lo, D_hi), loss, loss_ci, level, loss_fit=fit3)


# -- lab files -------------------------------------------------------------------------------------
_LAB_KEYS = {"title", "text", "law", "perturbation", "noise", "budget", "target", "params_range", "tokens_range",
             "lecturer_note", "sources", "$schema"}
_LAW_FORMS = {"parametric": ParametricLaw, "kaplan": KaplanLaw}


@dataclass(frozen=True)
class LabSpec:
    """A lab file, read and validated: everything :meth:`lab` needs to build the :class:`TrainingLab`.

    ``text`` is what students read; ``lecturer_note`` is for the lecturer (the page shows it only
    after Reveal). The hidden law is built in :meth:`lab` and never stored here in shown form.
    """

    name: str
    title: str
    text: str
    law: object = field(repr=False)
    budget: float
    target: float
    noise: float
    perturbation: Perturbation | None = field(default=None, repr=False)
    params_range: tuple | None = None
    tokens_range: tuple | None = None
    lecturer_note: str = field(default="", repr=False)
    sources: tuple = field(default=(), repr=False)

    def lab(self, seed: int = 0) -> TrainingLab:
        """A fresh lab for ``seed`` (one link, one seed: the whole class gets the same hidden law)."""
        return TrainingLab(self.law, self.budget, self.target, noise=self.noise, seed=seed,
                           perturbation=self.perturbation, params_range=self.params_range,
                           tokens_range=self.tokens_range)


#: Environment variable naming a directory of the lecturer's own lab files, set where the server
#: starts (never by a link). A link names a lab in it the same way as a shipped one.
LECTURER_LABS_ENV = "SCALING_EXPLORER_LABS"


def _lab_files() -> dict:
    """Lab name -> file: the lecturer's directory (if set) first, then the shipped labs, which win a tie."""
    files_by_name = {}
    own = os.environ.get(LECTURER_LABS_ENV, "")
    for directory in ([Path(own)] if own and Path(own).is_dir() else []) + [LABS_DIR]:
        for p in directory.iterdir():
            name = p.name[:-5]
            if p.name.endswith(".json") and not p.name.endswith(".schema.json") and LAB_NAME.match(name):
                files_by_name[name] = p
    return files_by_name


def list_labs() -> tuple[str, ...]:
    """Names of the labs a link may open: the shipped ones, and the lecturer's (see :data:`LECTURER_LABS_ENV`)."""
    return tuple(sorted(_lab_files()))


def load_lab(name: str) -> LabSpec:
    """A lab by name (shipped, or in the lecturer's directory). Never a path: a link can only name a lab."""
    available = _lab_files()
    if not isinstance(name, str) or not LAB_NAME.match(name) or name not in available:
        called = f"called {name!r}" if isinstance(name, str) and LAB_NAME.match(name) else "by that name"
        raise LabError(f"no shipped lab {called}; shipped: {', '.join(sorted(available))}")
    path = available[name]
    if isinstance(path, Path) and path.stat().st_size > MAX_LAB_BYTES:  # the lecturer's files
        raise LabError(f"lab {name!r} is larger than {MAX_LAB_BYTES:,} bytes")
    return parse_lab(path.read_text(encoding="utf-8"), name=name)


def load_lab_file(path) -> LabSpec:
    """A lecturer's own lab file, by an explicit path (Python API only; no link opens a path)."""
    path = Path(path)
    if path.suffix != ".json" or not path.is_file():
        raise LabError(f"path must name an existing .json lab file, got {str(path)!r}")
    if path.stat().st_size > MAX_LAB_BYTES:
        raise LabError(f"lab file {str(path)!r} is larger than {MAX_LAB_BYTES:,} bytes")
    return parse_lab(path.read_text(encoding="utf-8"), name=path.stem)


def _law_from_json(value, problems: list[str]):
    if isinstance(value, str):
        try:
            return get_law(value)
        except ValueError as exc:
            problems.append(f"law: {exc}")
            return None
    if not isinstance(value, dict):
        problems.append("law: must be a law key such as \"besiroglu2024\" or an object with a \"form\"")
        return None
    form = value.get("form")
    cls = _LAW_FORMS.get(form)
    if cls is None:
        problems.append(f"law: form must be one of {', '.join(_LAW_FORMS)}, got {form!r}")
        return None
    allowed = set(cls.coefficients) | ({"c_over_c_min"} if cls is KaplanLaw else set())
    coefficients = {k: v for k, v in value.items() if k not in ("form", "name", "citation")}
    unknown = sorted(set(coefficients) - allowed)
    if unknown:
        problems.append(f"law: unknown coefficient(s) {', '.join(unknown)} for form {form!r}; "
                        f"it has {', '.join(cls.coefficients)}")
        return None
    try:
        return cls(**coefficients, name=str(value.get("name", "the lecturer's law")),
                   citation=str(value.get("citation", "the lecturer's coefficients")))
    except (TypeError, ValueError) as exc:
        problems.append(f"law: {exc}")
        return None


def parse_lab(text: str, name: str = "lab") -> LabSpec:
    """Read and validate a lab's JSON text (schema: ``data/labs/lab.schema.json``); ``name`` is its key."""
    def fail(problems):
        raise LabError(f"{len(problems)} problem(s) in lab {name!r}:\n  " + "\n  ".join(problems))

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        fail([f"not valid JSON ({exc})"])
    if not isinstance(data, dict):
        fail([f"expected a JSON object, got {type(data).__name__}"])
    problems = [f"unknown key {k!r}; known: {', '.join(sorted(_LAB_KEYS))}" for k in sorted(set(data) - _LAB_KEYS)]
    for key in ("title", "text"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"{key}: must be non-empty text")
    for key in ("lecturer_note",):
        if not isinstance(data.get(key, ""), str):
            problems.append(f"{key}: must be text")
    law = _law_from_json(data.get("law"), problems)
    numbers = {}
    for key in ("budget", "target", "noise"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{key}: must be a number, got {value!r}")
        else:
            numbers[key] = float(value)
    ranges = {}
    for key in ("params_range", "tokens_range"):
        if key in data:
            try:
                ranges[key] = _range(key, data[key])
            except LabError as exc:
                problems.append(str(exc))
    perturbation = None
    raw = data.get("perturbation")
    if raw is not None:
        if not isinstance(raw, dict) or set(raw) - {"covariance", "within", "source"} or "covariance" not in raw:
            problems.append("perturbation: must be an object with covariance, within and source")
        else:
            try:
                perturbation = Perturbation(covariance=tuple(map(tuple, raw["covariance"])),
                                            within={k: tuple(v) for k, v in raw.get("within", {}).items()},
                                            source=str(raw.get("source", "")))
            except (LabError, TypeError, ValueError) as exc:
                problems.append(f"perturbation: {exc}")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) and isinstance(s.get("text"), str)
                                                and isinstance(s.get("url", ""), str)
                                                and s.get("url", "https://").startswith(("https://", "http://"))
                                                for s in sources):
        problems.append("sources: must be a list of {\"text\": ..., \"url\": \"https://...\"}")
        sources = []
    if problems:
        fail(problems)
    spec = LabSpec(name=name, title=data["title"].strip(), text=data["text"].strip(), law=law,
                   budget=numbers["budget"], target=numbers["target"], noise=numbers["noise"],
                   perturbation=perturbation, params_range=ranges.get("params_range"),
                   tokens_range=ranges.get("tokens_range"), lecturer_note=data.get("lecturer_note", "").strip(),
                   sources=tuple((s["text"], s.get("url", "")) for s in sources))
    try:
        spec.lab(seed=0)  # the numbers and the law together (target above budget, a range, a draw)
    except (LabError, ValueError) as exc:
        fail([str(exc)])
    return spec


__all__ = [
    "BudgetExceeded", "LabError", "LabFit", "LabSpec", "Perturbation", "TrainingLab", "Truth", "fit_runs",
    "list_labs", "load_lab", "load_lab_file", "parse_lab", "true_optimum",
]
