"""Solutions to the exercises of notebooks/06-beyond-chinchilla.ipynb (library calls only)."""

from scaling_explorer import Scenario, evaluate, get_law
from scaling_explorer.wrappers import DataConstrained, for_loss, lifetime_flops


def exercise_1():
    """500M requests a day for a year, 800 tokens each, against Chinchilla's loss at 5.76e23 FLOPs."""
    law = get_law("besiroglu2024")
    T = 500e6 * 365 * 800
    loss = float(law.frontier_loss(5.76e23))
    plain, served = for_loss(law, loss), for_loss(law, loss, T)
    before = float(lifetime_flops(law, plain.params, plain.tokens, T))
    print(f"T = {T:.3g} tokens; training-only N {plain.params:.3g}, D {plain.tokens:.3g}, lifetime {before:.3g} FLOPs")
    print(f"cheapest over the lifetime: N {served.params:.3g}, D {served.tokens:.3g} "
          f"({served.tokens / served.params:.0f} tokens/param), lifetime {served.total_flops:.3g} FLOPs, "
          f"saving {1 - served.total_flops / before:.1%}")
    assert served.params < plain.params and served.total_flops < before
    return served


def exercise_2():
    """100B unique tokens and 1e23 FLOPs under Muennighoff et al.'s C4 fit."""
    law = get_law("muennighoff2023")
    constrained = DataConstrained(law, 100e9)
    N, D = constrained.compute_optimal(1e23)
    lost = float(constrained.loss(N, D)) - float(law.frontier_loss(1e23))
    print(f"best allocation: N {float(N):.3g}, D {float(D):.3g}, {float(constrained.epochs(D)):.2f} epochs; "
          f"unlimited data would lower the loss by {lost:.4f} nats")
    assert lost >= 0
    return float(constrained.epochs(D)), lost


def exercise_3():
    """Models that pay off only beyond 5e13 lifetime tokens under sardana2024."""
    table = evaluate(Scenario(surface="sardana2024")).all_models
    heavy = table[table["break_even_inference_tokens"] > 5e13]
    print(heavy[["name", "compute_params", "tokens", "tokens_per_param", "break_even_inference_tokens"]]
          .to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print("They are small models, or MoE models with few active parameters, trained on many trillions of tokens: "
          "hundreds to thousands of tokens per (active) parameter.")
    assert len(heavy) and (heavy["tokens_per_param"] > 300).all()
    return list(heavy["name"])
