"""Target-loss mode: the compute, parameters and tokens a law needs to reach a loss.

Without inference demand this is the point of the law's own frontier with that loss. For a
Chinchilla-form law it is closed form (Hoffmann eq. 4 read backwards): the reducible loss
r = L - E splits as A/N**alpha = beta r / (alpha + beta) and B/D**beta = alpha r / (alpha + beta).
Other loss laws (Kaplan) go through the numeric root of their frontier loss. With T lifetime
inference tokens the cheapest model of that loss is :func:`.inference.optimum_for_loss`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._checks import positive_scalar
from ..frontier import compute_for_loss
from ._base import NotApplicable, chinchilla_terms
from .inference import INFERENCE_FLOPS_PER_PARAM_TOKEN, _demand, optimum_for_loss


@dataclass(frozen=True)
class Target:
    """What it takes to reach ``loss``.

    Attributes
    ----------
    loss : float
        Target loss, nats per token.
    params, tokens : float
        Parameters and training tokens of the cheapest model reaching it.
    training_flops : float
        Training compute of that model.
    inference_tokens : float
        Lifetime inference demand the model was chosen for (0: training only).
    total_flops : float
        Training plus inference FLOPs, training_flops + 2 N T.
    """

    loss: float
    params: float
    tokens: float
    training_flops: float
    inference_tokens: float
    total_flops: float


def for_loss(law, loss: float, inference_tokens: float = 0.0) -> Target:
    """The cheapest (N, D) reaching ``loss`` under ``law``, for ``inference_tokens`` of lifetime demand.

    Raises
    ------
    NotApplicable
        For allocation laws (no loss), or inference demand on a law that is not Chinchilla-form.
    ValueError
        When the loss is out of the law's reach (at or below its irreducible loss).
    """
    loss = positive_scalar("loss", loss)
    T = float(_demand("inference tokens", inference_tokens))
    if not law.has_loss:
        raise NotApplicable(f"{law.name} is an allocation law without a loss; a target loss needs a loss law")
    try:
        chinchilla_terms(law, "inference demand")
        chinchilla = True
    except NotApplicable:
        chinchilla = False
    if chinchilla:
        N, D = (float(x) for x in optimum_for_loss(law, loss, T))
    elif T > 0:
        raise NotApplicable(f"inference demand needs a Chinchilla-form law; {law.name} is not one")
    else:
        C = float(compute_for_loss(law, loss))
        if not C == C:  # NaN: out of reach within 1e3 to 1e40 FLOPs
            raise ValueError(f"{law.name} does not reach loss {loss:g} within 1e3 to 1e40 FLOPs")
        N, D = (float(x) for x in law.compute_optimal(C))
    training = float(law.flop_model.flops(N, D))
    return Target(loss=loss, params=N, tokens=D, training_flops=training, inference_tokens=T,
                  total_flops=training + INFERENCE_FLOPS_PER_PARAM_TOKEN * N * T)
