"""Training-compute accounting: FLOPs = 6ND, PF-days, GPU-hours and cost.

Inside the library compute is always in FLOPs, parameters and tokens are counts; PF-days,
GPU-hours and dollars are conversions at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import positive, positive_scalar
from .flops import SIX_ND

#: FLOPs per parameter per training token of the default FLOP model (6ND, flops.SIX_ND).
FLOPS_PER_PARAM_TOKEN = SIX_ND.flops_per_param_token

#: 1 PF-day = 1e15 FLOP/s x 86,400 s (Kaplan et al. 2020 §1.3).
FLOPS_PER_PF_DAY = 1e15 * 86_400

SECONDS_PER_HOUR = 3_600.0


def training_flops(N, D):
    """Training compute C = 6·N·D in FLOPs.

    Parameters
    ----------
    N : array_like
        Parameters (use active parameters for a mixture-of-experts model).
    D : array_like
        Training tokens.
    """
    return SIX_ND.flops(N, D)


def tokens_for(C, N):
    """Training tokens D = C / (6N) that a budget of ``C`` FLOPs buys for ``N`` parameters."""
    return SIX_ND.tokens(C, N)


def params_for(C, D):
    """Parameters N = C / (6D) that a budget of ``C`` FLOPs buys for ``D`` tokens."""
    return SIX_ND.params(C, D)


def to_pf_days(C):
    """Convert FLOPs to PF-days."""
    return positive("C (FLOPs)", C) / FLOPS_PER_PF_DAY


def from_pf_days(pf_days):
    """Convert PF-days to FLOPs."""
    return positive("compute (PF-days)", pf_days) * FLOPS_PER_PF_DAY


@dataclass(frozen=True)
class Hardware:
    """An accelerator and its peak dense 16-bit throughput.

    Attributes
    ----------
    name : str
        Display name.
    peak_flops : float
        Peak dense BF16/FP16 tensor throughput in FLOP/s, without 2:4 sparsity.
    source : str
        Where the peak figure comes from.
    """

    name: str
    peak_flops: float
    source: str


# Peak dense (not 2:4-sparse) tensor throughput per GPU, SXM variants, from NVIDIA datasheets.
HARDWARE: dict[str, Hardware] = {
    "V100": Hardware("NVIDIA V100 SXM2", 125e12, "NVIDIA V100 datasheet: 125 TFLOPS FP16 tensor"),
    "A100": Hardware("NVIDIA A100 SXM", 312e12, "NVIDIA A100 datasheet: 312 TFLOPS BF16 tensor (dense)"),
    "H100": Hardware(
        "NVIDIA H100 SXM", 989e12, "NVIDIA H100 datasheet: 1,979 TFLOPS BF16 with sparsity, i.e. 989 dense"
    ),
    "H200": Hardware(
        "NVIDIA H200 SXM", 989e12, "NVIDIA H200 datasheet: 1,979 TFLOPS BF16 with sparsity, i.e. 989 dense"
    ),
    "B200": Hardware(
        "NVIDIA B200 (HGX, 1000 W)", 2.25e15,
        "NVIDIA HGX B200 datasheet: 4.5 PFLOPS BF16 with sparsity, i.e. 2.25 dense",
    ),
}


def hardware(name: str) -> Hardware:
    """Look up a hardware preset by key (``"A100"``, ``"H100"``, ...)."""
    try:
        return HARDWARE[name]
    except KeyError:
        raise ValueError(f"unknown hardware {name!r}; choose one of {', '.join(HARDWARE)}") from None


def gpu_hours(C, gpu: Hardware | str, mfu: float = 0.4):
    """GPU-hours to spend ``C`` FLOPs at model-FLOPs utilisation ``mfu``.

    Parameters
    ----------
    C : array_like
        Training compute in FLOPs.
    gpu : Hardware or str
        The accelerator, or a key of :data:`HARDWARE`.
    mfu : float
        Achieved fraction of peak throughput, in (0, 1].
    """
    if isinstance(gpu, str):
        gpu = hardware(gpu)
    elif not isinstance(gpu, Hardware):
        raise TypeError(f"gpu must be a Hardware or one of {', '.join(HARDWARE)}, got {gpu!r}")
    mfu = positive_scalar("mfu", mfu)
    if mfu > 1:
        raise ValueError(f"mfu must be in (0, 1], got {mfu!r}")
    return positive("C (FLOPs)", C) / (gpu.peak_flops * mfu) / SECONDS_PER_HOUR


def flops_from_gpu_time(n_gpus, days, gpu: Hardware | str, mfu: float = 0.4):
    """Training FLOPs that ``n_gpus`` GPUs deliver in ``days`` at ``mfu`` (the inverse of :func:`gpu_hours`)."""
    hours = positive("n_gpus", n_gpus) * positive("days", days) * 24
    return hours / float(gpu_hours(1.0, gpu, mfu))


def flops_for_cost(usd, gpu: Hardware | str, mfu: float, usd_per_gpu_hour: float):
    """Training FLOPs that ``usd`` dollars buy at ``usd_per_gpu_hour`` (the inverse of :func:`training_cost_usd`)."""
    return positive("usd", usd) / float(training_cost_usd(1.0, gpu, mfu, usd_per_gpu_hour))


def training_cost_usd(C, gpu: Hardware | str, mfu: float, usd_per_gpu_hour: float):
    """Cost in US dollars of ``C`` FLOPs at ``usd_per_gpu_hour`` (a price the user sets)."""
    return gpu_hours(C, gpu, mfu) * positive_scalar("usd_per_gpu_hour", usd_per_gpu_hour)

