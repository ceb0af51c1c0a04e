"""Learning rate and batch size at an optimum: Step Law (Li et al. 2025) and DeepSeek LLM's compute laws.

Two published fits that disagree on purpose-worthy points (a lesson in itself): Step Law's
learning rate falls with N but *rises* with D, and its batch depends on D alone; DeepSeek's
depend on the compute C only, so at fixed C they cannot tell a big model on little data from a
small model on much data.

Both are fits to their authors' setups (optimizer, schedule, tokenizer, data): starting points
for a sweep, not settings to copy. Batch sizes are in tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import positive

STEP_LAW_CITATION = (
    "Li et al. 2025, Predictable Scale: Part I, Step Law - Optimal Hyperparameter Scaling Law in Large Language "
    "Model Pretraining, arXiv:2503.04715 (eta = 1.79 N^-0.713 D^0.307, B = 0.58 D^0.571)"
)
DEEPSEEK_CITATION = (
    "DeepSeek-AI 2024, DeepSeek LLM: Scaling Open-Source Language Models with Longtermism, arXiv:2401.02954 "
    "§3.1 eq. 1 (eta_opt = 0.3118 C^-0.1250, B_opt = 0.2920 C^0.3271, C = M D)"
)


@dataclass(frozen=True)
class Hyperparameters:
    """A learning rate and a batch size in tokens."""

    learning_rate: object
    batch_tokens: object


@dataclass(frozen=True)
class StepLaw:
    """Step Law: η = lr_prefactor · N**lr_params_exponent · D**lr_tokens_exponent, B = batch_prefactor · D**b.

    b is ``batch_tokens_exponent``.

    The authors' README writes the same fit as lr = exp(intercept)·N^coefN·D^coefD and
    bs = exp(intercept)·D^coefD (steplaw repository, README "Data Files"); the paper prints the
    rounded prefactors used here. N counts non-embedding parameters, D training tokens; B is in tokens.
    """

    # Li et al. 2025, abstract and §3 (Step Law). The bootstrap mean of the authors' fitted
    # parameters (data/1004_fitted_lr_bs_scaling_model_parameters.csv, not shipped: no licence) is
    # exp(0.5863) = 1.797, -0.7129, 0.3075; exp(-0.5435) = 0.581, 0.5709: these, rounded.
    lr_prefactor: float = 1.79
    lr_params_exponent: float = -0.713
    lr_tokens_exponent: float = 0.307
    batch_prefactor: float = 0.58
    batch_tokens_exponent: float = 0.571
    name: str = "Step Law (Li et al. 2025)"
    citation: str = STEP_LAW_CITATION

    def learning_rate(self, N, D):
        """Optimal peak learning rate for ``N`` non-embedding parameters trained on ``D`` tokens."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return self.lr_prefactor * N**self.lr_params_exponent * D**self.lr_tokens_exponent

    def batch_tokens(self, N, D):
        """Optimal batch size in tokens; independent of ``N`` (checked, and broadcast against ``D``)."""
        N = positive("N (parameters)", N)
        D = positive("D (tokens)", D)
        return self.batch_prefactor * D**self.batch_tokens_exponent * np.ones(np.broadcast_shapes(N.shape, D.shape))

    def at(self, N, D) -> Hyperparameters:
        """Learning rate and batch size (tokens) for ``N`` parameters and ``D`` tokens."""
        return Hyperparameters(self.learning_rate(N, D), self.batch_tokens(N, D))


@dataclass(frozen=True)
class ComputeHyperLaw:
    """η = lr_prefactor · C**lr_exponent and B = batch_prefactor · C**batch_exponent (tokens), C in FLOPs.

    DeepSeek LLM counts C = M·D with M the non-embedding FLOPs per token including attention
    (72 n_layer d² + 12 n_layer d l_seq, §3.2). From N parameters alone M ≈ 6N (attention left
    out, as the ``deepseek2024`` allocation preset does); pass ``flops_per_token`` for the exact M.
    """

    lr_prefactor: float = 0.3118
    lr_exponent: float = -0.1250
    batch_prefactor: float = 0.2920
    batch_exponent: float = 0.3271
    name: str = "DeepSeek LLM 2024 (compute only)"
    citation: str = DEEPSEEK_CITATION

    def learning_rate_for_flops(self, C):
        """Optimal learning rate for a budget of ``C`` FLOPs (C = M·D)."""
        return self.lr_prefactor * positive("C (FLOPs)", C) ** self.lr_exponent

    def batch_tokens_for_flops(self, C):
        """Optimal batch size in tokens for a budget of ``C`` FLOPs."""
        return self.batch_prefactor * positive("C (FLOPs)", C) ** self.batch_exponent

    def flops(self, N, D, flops_per_token=None):
        """C = M·D with M = ``flops_per_token`` when given, else 6N."""
        M = 6.0 * positive("N (parameters)", N) if flops_per_token is None else positive(
            "flops_per_token (M)", flops_per_token)
        return M * positive("D (tokens)", D)

    def learning_rate(self, N, D, flops_per_token=None):
        """Optimal learning rate for ``N`` parameters on ``D`` tokens (through C only)."""
        return self.learning_rate_for_flops(self.flops(N, D, flops_per_token))

    def batch_tokens(self, N, D, flops_per_token=None):
        """Optimal batch size in tokens for ``N`` parameters on ``D`` tokens (through C only)."""
        return self.batch_tokens_for_flops(self.flops(N, D, flops_per_token))

    def at(self, N, D, flops_per_token=None) -> Hyperparameters:
        """Learning rate and batch size (tokens) for ``N`` parameters and ``D`` tokens."""
        C = self.flops(N, D, flops_per_token)
        return Hyperparameters(self.learning_rate_for_flops(C), self.batch_tokens_for_flops(C))


STEP_LAW = StepLaw()
DEEPSEEK_HYPER = ComputeHyperLaw()

#: The hyperparameter laws by key, in the order the table shows them.
HYPER_LAWS: dict[str, StepLaw | ComputeHyperLaw] = {"li2025-steplaw": STEP_LAW, "deepseek2024": DEEPSEEK_HYPER}


def hyperparameters(N, D, laws: dict | None = None) -> dict[str, Hyperparameters]:
    """Learning rate and batch (tokens) under every law in ``laws`` (default :data:`HYPER_LAWS`); broadcasts."""
    return {key: law.at(N, D) for key, law in (HYPER_LAWS if laws is None else laws).items()}


__all__ = ["DEEPSEEK_HYPER", "HYPER_LAWS", "STEP_LAW", "ComputeHyperLaw", "Hyperparameters", "StepLaw",
           "hyperparameters"]
