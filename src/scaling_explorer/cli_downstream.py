"""``scaling-explorer downstream``: C4-eval loss and predicted average benchmark error under a Gadre et al. 2024 law.

Kept in its own module so the command survives a rewrite of ``cli.py``: :func:`register` adds the
parser and its handler to any ``argparse`` subparsers object. Bad input raises ``ValueError`` (a law
without a downstream map raises :class:`~scaling_explorer.downstream.NoDownstreamMap`), which the CLI's
``main`` turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math

from .cli import _number as _positive  # one parser of positive numbers for every command


def downstream_record(law_key: str, N: float, D: float) -> dict:
    """Everything the command prints, JSON-ready: loss, 17- and 46-task error, extrapolated, the trust note."""
    from .compute import training_flops
    from .downstream import TRUST_NOTE, predict_downstream
    from .laws import get_law

    law = get_law(law_key)
    prediction = predict_downstream(law, N, D)  # NoDownstreamMap for a law without one
    record = {
        "law": law_key,
        "params": N,
        "tokens": D,
        "tokens_per_param": D / N,
        "flops": float(training_flops(N, D)),
        "loss": float(prediction.loss),
        "error_17": float(prediction.error["17"]),
        "error_46": float(prediction.error["46"]),
        "extrapolated": bool(prediction.extrapolated),
        "loss_note": law.loss_note,
        "trust_note": TRUST_NOTE,
    }
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise ValueError(f"the result is outside floating-point range ({', '.join(bad)}); use less extreme inputs")
    return record


def cmd_downstream(args) -> None:
    """Print :func:`downstream_record` as text or JSON."""
    from .laws import get_law

    record = downstream_record(args.law, args.params, args.tokens)
    if args.json:
        print(json.dumps(record))
        return
    law = get_law(args.law)
    print(f"{law.name}: N = {args.params:.4g}, D = {args.tokens:.4g} ({record['tokens_per_param']:.3g} tokens "
          f"per parameter), C = {record['flops']:.4g} FLOPs")
    print(f"  C4-eval loss                       {record['loss']:.4f} nats/token")
    print(f"  average top-1 error over 17 tasks  {record['error_17']:.4f}")
    print(f"  average top-1 error over 46 tasks  {record['error_46']:.4f}")
    print(f"  extrapolated                       {'yes' if record['extrapolated'] else 'no'}")
    print(f"note: {record['loss_note']}")
    print(f"note: {record['trust_note']}")


def register(subparsers) -> None:
    """Add the ``downstream`` command to an ``argparse`` subparsers object."""
    from .laws import law_keys

    def law_name(text: str) -> str:
        if text not in law_keys():
            raise argparse.ArgumentTypeError(f"unknown law {text!r}; choose one of {', '.join(law_keys())}")
        return text

    p = subparsers.add_parser(
        "downstream", help="C4-eval loss and predicted average benchmark error for N parameters on D tokens "
                           "(Gadre et al. 2024 laws)")
    p.add_argument("--law", type=law_name, default="gadre2024-rpj",
                   help="a law with a downstream map: gadre2024-c4, gadre2024-rpj (default) or gadre2024-rw")
    p.add_argument("--params", type=_positive, required=True, help="parameters N (their count, embeddings in)")
    p.add_argument("--tokens", type=_positive, required=True, help="training tokens D")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_downstream)
