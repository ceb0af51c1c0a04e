"""Inference-aware scaling: train smaller and longer when the model will serve many tokens.

Sardana, Portes, Doubov & Frankle 2024, "Beyond Chinchilla-Optimal: Accounting for Inference in
Language Model Scaling Laws" (ICML 2024, arXiv:2401.00448; authors' code
nikhilsardana/beyond-chinchilla). Training costs k·N·D FLOPs (6ND) and serving T lifetime tokens
costs 2·N·T (a forward pass, 2 FLOPs per parameter per token). For a Chinchilla-form law
L = E + A/N**alpha + B/D**beta:

(a) :func:`optimum_for_loss`: the (N, D) that minimise k N D + 2 N T subject to L(N, D) = loss;
(b) :func:`optimum_for_budget`: the (N, D) with the lowest loss for k N D + 2 N T = C_total.

Both lie on one curve. With x = A/N**alpha and y = B/D**beta the Lagrange condition of either
problem is ``alpha x = beta y (1 + 2T / (k D))``; T = 0 gives Chinchilla's ``alpha x = beta y``
(Hoffmann eq. 4), and the wrappers return the closed form then, exactly. Solved for T it gives the
demand at which a given (N, D) is optimal (:func:`break_even_inference_tokens`):

    T* = (k D / 2) (alpha A N**-alpha / (beta B D**-beta) - 1),

positive only for models trained past their Chinchilla point; undertrained models have none.

Pricing training and serving separately (:class:`ServingCost`, the README's cost-optimal mode)
changes only the two weights: minimise N (p D + q) with p = k·$/training FLOP / MFU and
q = 2 (T_in·$/FLOP / MFU_prefill + T_out·$/FLOP / MFU_decode). The FLOP objective is p = k, q = 2T.

Units: N parameters, D and T tokens, FLOPs, US dollars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._checks import positive, positive_scalar
from ..compute import SECONDS_PER_HOUR, hardware
from ._base import NotApplicable, OverBaseLaw, chinchilla_terms

#: FLOPs per parameter per served token: one forward pass (Kaplan et al. 2020 §2.1; Sardana et al.
#: 2024 §2 and their utils.py FLOPMode.INFERENCE).
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2.0

_TOL = dict(xatol=1e-13, xrtol=1e-15)


def _find_root(f, lo, hi, args):
    """Roots of ``f(x, *args)`` bracketed by ``lo`` and ``hi``, elementwise; returns (x, success).

    A few roots (the page's rows) go through scalar brentq, which costs microseconds where the
    vectorised finder's set-up costs a millisecond; many (a catalog) go through the vectorised one.
    """
    from scipy.optimize import brentq, elementwise  # on first use: ~11 MiB that the page's defaults do not need

    if lo.size <= 8:
        x = np.empty_like(lo)
        for i in range(lo.size):
            x[i] = brentq(f, lo[i], hi[i], args=tuple(a[i] for a in args), xtol=_TOL["xatol"], rtol=1e-15)
        return x, np.ones(lo.shape, dtype=bool)
    res = elementwise.find_root(f, (lo, hi), args=args, tolerances=_TOL)
    return res.x, res.success


def _demand(name: str, value) -> np.ndarray:
    """Non-negative finite numbers (0 means no inference demand)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of tokens, got {value!r}") from None
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise ValueError(f"{name} must be zero or positive and finite, got {float(arr[bad].flat[0]):g}")
    return arr


def _reducible(t, loss) -> np.ndarray:
    loss = positive("loss", loss)
    r = loss - t.E
    if np.any(r <= 0):
        bad = float(loss[r <= 0].flat[0]) if loss.ndim else float(loss)
        raise ValueError(f"loss {bad:g} is not above the law's irreducible loss E = {t.E:g}; no model reaches it")
    return r


def _weighted_optimum_for_loss(t, loss, p, q):
    """(N, D) minimising N (p D + q) subject to E + A/N**alpha + B/D**beta = loss (broadcasts)."""
    r = _reducible(t, loss)
    r, p, q = np.broadcast_arrays(r, np.asarray(p, dtype=float), np.asarray(q, dtype=float))
    shape = r.shape
    r, p, q = (np.atleast_1d(x).astype(float).ravel() for x in (r, p, q))
    a, b = t.alpha, t.beta
    # q = 0: Chinchilla's y = alpha r / (alpha + beta), x = beta r / (alpha + beta), in closed form.
    D0 = (t.B * (a + b) / (a * r)) ** (1.0 / b)
    D = D0.copy()

    # Lagrange condition over alpha r, in u = ln D: falls monotonically from >= 0 at D0.
    def g(u, rr, pp, qq):
        return t.B / (a * rr) * np.exp(-b * u) * (a + b + b * qq * np.exp(-u) / pp) - 1.0

    # A demand too small to move D0 by a rounding step leaves it where it is.
    need = (q > 0) & (g(np.log(D0), r, p, q) > 0)
    if np.any(need):
        rr, pp, qq, d0 = r[need], p[need], q[need], D0[need]
        lo = np.log(d0)
        # At D = D0 M with M**beta = 2**beta (1 + q/(p D0)), g < 0, so the root lies in [D0, D0 M].
        hi = lo + np.log(2.0) + np.log1p(qq / (pp * d0)) / b
        x, success = _find_root(g, lo, hi, (rr, pp, qq))
        if not np.all(success):
            raise ValueError("no inference-aware optimum found (the demand or loss is outside float range)")
        D[need] = np.exp(x)
    y = t.B / D**b
    N = (t.A / (r - y)) ** (1.0 / a)
    return N.reshape(shape), D.reshape(shape)


def _weighted_optimum_for_budget(t, budget, p, q, closed_form):
    """(N, D) with the lowest loss subject to N (p D + q) = budget (broadcasts)."""
    budget, p, q = np.broadcast_arrays(positive("budget", budget), np.asarray(p, dtype=float),
                                       np.asarray(q, dtype=float))
    shape = budget.shape
    budget, p, q = (np.atleast_1d(x).astype(float).ravel() for x in (budget, p, q))
    N, D = (np.array(x, dtype=float, copy=True) for x in closed_form(budget))
    need = q > 0
    if np.any(need):
        cc, pp, qq = budget[need], p[need], q[need]
        a, b = t.alpha, t.beta

        # ln(alpha x) - ln(beta y (1 + q/(pD))) with N = C / (pD + q): rises monotonically in u = ln D.
        def h(u, cc, pp, qq):
            return (np.log(a * t.A) + a * np.log((pp * np.exp(u) + qq) / cc)
                    - np.log(b * t.B) + b * u - np.log1p(qq * np.exp(-u) / pp))

        hi = np.log(cc / pp)  # all of the budget on training tokens (N below one parameter)
        lo = hi - 150.0
        bracketed = (h(lo, cc, pp, qq) < 0) & (h(hi, cc, pp, qq) > 0)
        if not np.all(bracketed):
            raise ValueError(f"a lifetime budget of {float(cc[~bracketed].flat[0]):g} is too small to train and "
                             "serve any model under this demand")
        x, success = _find_root(h, lo, hi, (cc, pp, qq))
        if not np.all(success):
            raise ValueError("no inference-aware optimum found (the budget is outside float range)")
        D[need] = np.exp(x)
        N[need] = cc / (pp * D[need] + qq)
    return N.reshape(shape), D.reshape(shape)


def lifetime_flops(law, N, D, inference_tokens):
    """Training plus inference FLOPs, k·N·D + 2·N·T, of ``N`` parameters trained on ``D`` and serving ``T`` tokens."""
    return law.flop_model.flops(N, D) + INFERENCE_FLOPS_PER_PARAM_TOKEN * positive("N (parameters)", N) * _demand(
        "inference tokens", inference_tokens)


def optimum_for_loss(law, loss, inference_tokens):
    """The (N, D) reaching ``loss`` at the lowest lifetime FLOPs k N D + 2 N T (Sardana et al. 2024, §3).

    Parameters
    ----------
    law : Law
        A Chinchilla-form law (:class:`~scaling_explorer.laws.ParametricLaw` with C = kND).
    loss : array_like
        Target loss in nats per token; must exceed the law's E.
    inference_tokens : array_like
        Lifetime inference tokens T (input plus output); 0 gives the Chinchilla optimum in closed form.

    Returns
    -------
    N, D : ndarray
        Parameters and training tokens.
    """
    t = chinchilla_terms(law, "inference-aware scaling")
    T = _demand("inference tokens", inference_tokens)
    return _weighted_optimum_for_loss(t, loss, t.k, INFERENCE_FLOPS_PER_PARAM_TOKEN * T)


def optimum_for_budget(law, total_flops, inference_tokens):
    """The (N, D) with the lowest loss when training plus inference may spend ``total_flops`` (k N D + 2 N T = C).

    T = 0 returns ``law.compute_optimal(total_flops)`` exactly.
    """
    t = chinchilla_terms(law, "inference-aware scaling")
    T = _demand("inference tokens", inference_tokens)
    return _weighted_optimum_for_budget(t, total_flops, t.k, INFERENCE_FLOPS_PER_PARAM_TOKEN * T,
                                        law.compute_optimal)


def break_even_inference_tokens(law, N, D):
    """Lifetime inference tokens T at which (N, D) is the inference-aware optimum for its own loss.

    From the Lagrange condition, T = (k D / 2) (alpha A N**-alpha / (beta B D**-beta) - 1). NaN
    where that is negative: a model trained short of its Chinchilla point is optimal for no
    demand. 0 for a model exactly at its Chinchilla point.
    """
    t = chinchilla_terms(law, "break-even inference demand")
    N = positive("N (parameters)", N)
    D = positive("D (tokens)", D)
    ratio = (t.alpha * t.A * N ** -t.alpha) / (t.beta * t.B * D ** -t.beta)
    T = t.k * D / INFERENCE_FLOPS_PER_PARAM_TOKEN * np.maximum(ratio - 1.0, 0.0)
    # On the Chinchilla frontier the ratio is 1 to rounding: that model is optimal at T = 0.
    return np.where(ratio >= 1.0 - 1e-12, T, np.nan)


def inference_tokens_from_requests(requests, tokens_per_request) -> float:
    """Lifetime inference tokens T from a request count and the tokens each request reads and writes.

    Parameters
    ----------
    requests : float
        Requests served over the model's life (0 or more).
    tokens_per_request : float
        Input plus output tokens per request (0 or more).

    Returns
    -------
    float
        T = requests x tokens_per_request, in tokens.
    """
    n = _demand("requests", requests)
    per = _demand("tokens per request", tokens_per_request)
    if n.ndim or per.ndim:
        raise ValueError("requests and tokens per request must be single numbers")
    T = float(n) * float(per)
    if not np.isfinite(T):
        raise ValueError(f"{float(n):g} requests x {float(per):g} tokens is beyond float range")
    return T


def band_edge_at_demand(law, loss, ratio: float, inference_tokens: float):
    """Points (N, D) of loss ``loss`` with D / D_opt = ``ratio``, D_opt the inference-aware optimum's D.

    The edge of the near-optimal band relative to a demand, matching
    :func:`~scaling_explorer.catalog.classify_at_demand`: a model is compared with the cheapest model
    of the same loss over its lifetime. Traced over many losses it separates, e.g., models
    over-trained for this demand from the rest. N is NaN where no model reaches ``loss`` on so few
    tokens (D short of what the loss needs even with infinite N).
    """
    t = chinchilla_terms(law, "a band edge under inference demand")
    ratio = positive_scalar("ratio", ratio)
    loss = np.asarray(loss, dtype=float)
    _, D_opt = optimum_for_loss(law, loss, inference_tokens)
    D = D_opt * ratio
    # Solve E + A/N**alpha + B/D**beta = loss for N on the iso-loss curve.
    rest = loss - t.E - t.B / D**t.beta
    with np.errstate(divide="ignore", invalid="ignore"):
        N = np.where(rest > 0, (t.A / np.where(rest > 0, rest, 1.0)) ** (1.0 / t.alpha), np.nan)
    return N, D


@dataclass(frozen=True)
class ServingCost:
    """Prices for training and serving, as in Sardana et al.'s cost-optimal mode (README, cost_optimal.py).

    Dollars per FLOP are ``usd_per_gpu_hour / (3600 · peak_flops)``, divided by the utilisation
    achieved. Decode (output tokens) usually runs at a much lower MFU than prefill (input tokens).

    Attributes
    ----------
    train_peak_flops, train_usd_per_gpu_hour, train_mfu : float
        Training accelerator's peak FLOP/s in the training precision, its price, and MFU.
    inference_peak_flops, inference_usd_per_gpu_hour : float
        Serving accelerator's peak FLOP/s in the serving precision (e.g. int8), and its price.
    prefill_mfu, decode_mfu : float
        Utilisation while reading the prompt and while generating.
    """

    train_peak_flops: float
    train_usd_per_gpu_hour: float
    train_mfu: float
    inference_peak_flops: float
    inference_usd_per_gpu_hour: float
    prefill_mfu: float
    decode_mfu: float

    def __post_init__(self):
        for name in ("train_peak_flops", "train_usd_per_gpu_hour", "inference_peak_flops",
                     "inference_usd_per_gpu_hour"):
            positive_scalar(name, getattr(self, name))
        for name in ("train_mfu", "prefill_mfu", "decode_mfu"):
            if not 0 < positive_scalar(name, getattr(self, name)) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)!r}")

    @classmethod
    def from_hardware(cls, train: str = "H100", inference: str = "H100", *, train_usd_per_gpu_hour: float,
                      inference_usd_per_gpu_hour: float, train_mfu: float = 0.5, prefill_mfu: float = 0.5,
                      decode_mfu: float = 0.1, inference_peak_flops: float | None = None) -> ServingCost:
        """Prices on :data:`~scaling_explorer.compute.HARDWARE` presets (dense 16-bit peaks).

        Pass ``inference_peak_flops`` to serve in another precision (e.g. int8 on an A100: 6.24e14).
        """
        return cls(hardware(train).peak_flops, train_usd_per_gpu_hour, train_mfu,
                   hardware(inference).peak_flops if inference_peak_flops is None else inference_peak_flops,
                   inference_usd_per_gpu_hour, prefill_mfu, decode_mfu)

    @property
    def usd_per_train_flop(self) -> float:
        """Dollars per training FLOP actually spent (at ``train_mfu``)."""
        return self.train_usd_per_gpu_hour / (SECONDS_PER_HOUR * self.train_peak_flops) / self.train_mfu

    def _usd_per_inference_flop(self, mfu: float) -> float:
        return self.inference_usd_per_gpu_hour / (SECONDS_PER_HOUR * self.inference_peak_flops) / mfu

    def weights(self, law, input_tokens, output_tokens):
        """(p, q) of the objective N (p D + q): dollars per parameter-token of training, per parameter of serving."""
        k = law.flop_model.flops_per_param_token
        T_in, T_out = _demand("input tokens", input_tokens), _demand("output tokens", output_tokens)
        q = INFERENCE_FLOPS_PER_PARAM_TOKEN * (T_in * self._usd_per_inference_flop(self.prefill_mfu)
                                               + T_out * self._usd_per_inference_flop(self.decode_mfu))
        return k * self.usd_per_train_flop, q

    def lifetime_usd(self, law, N, D, input_tokens, output_tokens):
        """Dollars to train ``N`` parameters on ``D`` tokens and serve ``input_tokens`` + ``output_tokens``."""
        p, q = self.weights(law, input_tokens, output_tokens)
        return positive("N (parameters)", N) * (p * positive("D (tokens)", D) + q)


def cost_optimum_for_loss(law, loss, input_tokens, output_tokens, cost: ServingCost):
    """The (N, D) reaching ``loss`` at the lowest lifetime dollars under ``cost`` (Sardana et al.'s cost mode)."""
    t = chinchilla_terms(law, "inference-aware scaling")
    p, q = cost.weights(law, input_tokens, output_tokens)
    return _weighted_optimum_for_loss(t, loss, p, q)


@dataclass(frozen=True)
class InferenceAware(OverBaseLaw):
    """A Chinchilla-form law whose frontier accounts for ``inference_tokens`` of lifetime demand.

    ``compute_optimal(C)`` reads C as the lifetime budget, training plus inference FLOPs, and
    returns the lowest-loss (N, D) for it (:func:`optimum_for_budget`); ``optimum_for_loss(L)`` is
    the cheapest (N, D) reaching a loss. Loss, iso-loss curves, what N counts and the fitted range
    are the base law's. With ``inference_tokens = 0`` it is the base law.
    """

    base: object
    inference_tokens: float = 0.0
    has_loss: ClassVar[bool] = True
    frontier_minimises_loss: ClassVar[bool] = False  # the frontier minimises loss at fixed *lifetime* FLOPs
    coefficients: ClassVar[tuple[str, ...]] = ("inference_tokens",)

    def __post_init__(self):
        chinchilla_terms(self.base, "inference-aware scaling")
        T = _demand("inference_tokens", self.inference_tokens)
        if T.ndim:
            raise ValueError("inference_tokens must be a single number")
        object.__setattr__(self, "inference_tokens", float(T))

    @property
    def name(self) -> str:
        """The base law's name and what the wrapper adds."""
        return f"{self.base.name}, serving {self.inference_tokens:.3g} tokens"

    @property
    def citation(self) -> str:
        """The base law's citation and the wrapper's source."""
        return f"{self.base.citation}; inference-aware: Sardana et al. 2024, arXiv:2401.00448"


    def loss(self, N, D):
        """The base law's loss (nats per token)."""
        return self.base.loss(N, D)

    def tokens_for_loss(self, N, L):
        """The base law's iso-loss curve."""
        return self.base.tokens_for_loss(N, L)

    def compute_optimal(self, C):
        """Lowest-loss (N, D) for a lifetime budget of ``C`` FLOPs (training plus inference)."""
        return optimum_for_budget(self.base, C, self.inference_tokens)

    def optimum_for_loss(self, L):
        """Cheapest (N, D) over the model's lifetime that reaches loss ``L``."""
        return optimum_for_loss(self.base, L, self.inference_tokens)

    def frontier_loss(self, C):
        """Loss of the lowest-loss allocation for a lifetime budget of ``C`` FLOPs."""
        return self.loss(*self.compute_optimal(C))

    def lifetime_flops(self, N, D):
        """Training plus inference FLOPs of (N, D) under this demand."""
        return lifetime_flops(self.base, N, D, self.inference_tokens)


__all__ = [
    "INFERENCE_FLOPS_PER_PARAM_TOKEN", "InferenceAware", "NotApplicable", "ServingCost", "band_edge_at_demand",
    "break_even_inference_tokens", "cost_optimum_for_loss", "inference_tokens_from_requests", "lifetime_flops",
    "optimum_for_budget", "optimum_for_loss",
]
