"""Command line: ``scaling-explorer laws | optimal | loss | models | fit | serve``.

Bad input exits with status 2 and one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from . import laws
from .compute import to_pf_days, training_flops

EXIT_USAGE = 2


class CliError(Exception):
    """A problem with the user's input, reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the whole usage block; one line is enough
        raise CliError(message)


def _number(text: str) -> float:
    """Parse a positive finite number such as ``5.76e23``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number")
    return value


def _law_name(text: str) -> str:
    if text not in laws.PRESETS:
        raise argparse.ArgumentTypeError(f"unknown law {text!r}; choose one of {', '.join(laws.PRESETS)}")
    return text


def _float(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _require_finite(record: dict) -> dict:
    """Refuse to print numbers that over- or underflowed (JSON has no Infinity, and 0 FLOPs is a lie)."""
    bad = [k for k, v in record.items() if isinstance(v, float) and not (math.isfinite(v) and v > 0)]
    if bad:
        raise CliError(f"the result is outside floating-point range ({', '.join(bad)}); use less extreme inputs")
    return record


def _print_table(rows: list[dict], columns: list[str]) -> None:
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    text = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) if text else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for t in text:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)))


def cmd_laws(args) -> None:
    described = [{"key": key, **laws.describe(law)} for key, law in laws.PRESETS.items()]
    if args.json:
        print(json.dumps(described, indent=2))
        return
    for d in described:
        print(f"{d['key']}: {d['name']}\n    {d['citation']}\n    N = {d['params_meaning']}")


def optimal_record(name: str, C: float) -> dict:
    """The ``optimal`` command's JSON object for law ``name`` at ``C`` FLOPs."""
    law = laws.get_law(name)
    N, D = law.compute_optimal(C)
    return {
        "law": name,
        "flops": C,
        "params": float(N),
        "tokens": float(D),
        "tokens_per_param": float(D / N),
        "loss": _float(law.loss(N, D)) if law.has_loss else None,
    }


def cmd_optimal(args) -> None:
    record = _require_finite(optimal_record(args.law, args.flops))
    if args.json:
        print(json.dumps(record))
        return
    law = laws.get_law(args.law)
    loss = "n/a (allocation law)" if record["loss"] is None else f"{record['loss']:.4f} nats/token"
    print(f"{law.name}: compute-optimal at {args.flops:.3g} FLOPs ({float(to_pf_days(args.flops)):.3g} PF-days)")
    print(f"  N_opt            {record['params']:.4g} parameters ({law.params_meaning})")
    print(f"  D_opt            {record['tokens']:.4g} tokens")
    print(f"  tokens/param     {record['tokens_per_param']:.3g}")
    print(f"  predicted loss   {loss}")


def cmd_loss(args) -> None:
    law = laws.get_law(args.law)
    if not law.has_loss:
        raise CliError(f"{args.law} is an allocation law without a loss; use one of "
                       + ", ".join(k for k, v in laws.PRESETS.items() if v.has_loss))
    record = {
        "law": args.law,
        "params": args.params,
        "tokens": args.tokens,
        "flops": float(training_flops(args.params, args.tokens)),
        "loss": float(law.loss(args.params, args.tokens)),
    }
    _require_finite(record)
    if args.json:
        print(json.dumps(record))
    else:
        print(f"{law.name}: N = {args.params:.4g}, D = {args.tokens:.4g} -> "
              f"C = {record['flops']:.4g} FLOPs, loss = {record['loss']:.4f} nats/token")


def cmd_models(args) -> None:
    from .catalog import CLI_COLUMNS, classify, load_models

    law = laws.get_law(args.law)
    table = classify(load_models(args.file), law)
    if law.params_meaning == laws.NON_EMBEDDING_PARAMS:
        n = int((table["params_basis"] == "non-embedding").sum())
        print(f"note: {law.name} counts non-embedding parameters; N and 6ND use the published non-embedding "
              f"count for {n} models and total (or active) parameters for the rest", file=sys.stderr)
    records = json.loads(table[CLI_COLUMNS].to_json(orient="records"))
    if args.json:
        print(json.dumps(records))
        return
    print("flops = 6ND estimate; efficiency = compute the optimal allocation needs for the same loss / flops")
    _print_table(records, CLI_COLUMNS[:-1])


def cmd_fit(args) -> None:
    from .fit import fit_approach3, read_runs

    if args.bootstrap < 0 or args.exclude_highest_loss < 0:
        raise CliError("--bootstrap and --exclude-highest-loss must be 0 or more")
    result = fit_approach3(read_runs(args.runs), exclude_highest_loss=args.exclude_highest_loss,
                           n_bootstrap=args.bootstrap, seed=args.seed)
    print(json.dumps(result.to_dict()) if args.json else result.report())


def cmd_serve(args) -> None:
    from .serve import serve

    status = serve(port=args.port, pool_size=args.pool_size)
    if status:
        raise CliError(f"voila exited with status {status} (see its messages above)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scaling-explorer", description="Compute-optimal scaling laws for language models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("laws", help="list the laws and their citations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_laws)

    p = sub.add_parser("optimal", help="compute-optimal N and D for a budget")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--flops", type=_number, required=True, help="training compute in FLOPs, e.g. 5.76e23")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_optimal)

    p = sub.add_parser("loss", help="predicted loss for N parameters and D tokens")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--params", type=_number, required=True)
    p.add_argument("--tokens", type=_number, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_loss)

    p = sub.add_parser("models", help="classify published models against a law")
    p.add_argument("--law", type=_law_name, default="besiroglu2024")
    p.add_argument("--file", default=None, help="your own CSV in the schema of data/models.csv")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_models)

    p = sub.add_parser("fit", help="fit L = E + A/N^alpha + B/D^beta to training runs (Approach 3)")
    p.add_argument("runs", help="CSV with columns params, tokens (or flops), loss")
    p.add_argument("--bootstrap", type=int, default=0, metavar="K", help="bootstrap resamples for intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--exclude-highest-loss", type=int, default=0, metavar="K",
                   help="drop the K highest-loss runs (Epoch drop 5 of the Chinchilla runs)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_fit)

    p = sub.add_parser("serve", help="serve the explorer page with Voila on 127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--pool-size", type=int, default=0, help="preheated kernels (for a class)")
    p.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        with np.errstate(all="ignore"):
            args.run(args)
    except (CliError, ValueError, TypeError, OSError) as exc:
        problems = getattr(exc, "problems", None)
        message = f"{len(problems)} problem(s): " + "; ".join(problems) if problems else " ".join(str(exc).split())
        print(f"scaling-explorer: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
