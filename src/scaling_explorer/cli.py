"""Command line: ``scaling-explorer laws | show | optimal | target | exponent | loss | models | fit | serve``.

Bad input exits with status 2 and one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict

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
    if text not in laws.law_keys():
        raise argparse.ArgumentTypeError(f"unknown law {text!r}; choose one of {', '.join(laws.law_keys())}")
    return text


def _scenario(text: str):
    from .scenario import Scenario, ScenarioError

    try:
        return Scenario.from_query(text)
    except ScenarioError as exc:  # argparse would replace a ValueError's message with its own
        raise argparse.ArgumentTypeError(f"scenario {exc}") from None


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
        print(f"{d['key']}: {d['name']}\n    {d['citation']}\n    N = {d['params_description']}")


def _extrapolation_note(row) -> str:
    if row.fitted_flops is None:
        return (f"note: {row.key}'s source does not state the FLOPs it was fitted on; "
                "treat this budget as an extrapolation")
    low, high = row.fitted_flops
    return f"note: {row.key} was fitted on {low:.2g} to {high:.2g} FLOPs; this budget is an extrapolation"


def _row_record(row, C: float) -> dict:
    record = {"law": row.key, "flops": C, "params": row.params, "tokens": row.tokens,
              "tokens_per_param": row.tokens_per_param, "loss": row.loss, "params_meaning": row.params_meaning,
              "extrapolated": row.extrapolated,
              "fitted_flops": None if row.fitted_flops is None else list(row.fitted_flops)}
    record.update(_convention_record(row))
    return _require_finite(record)


def _convention_record(row) -> dict:
    """The FLOP model when it is not 6ND, and the near-optimal ranges where the scenario asked for them."""
    out = {} if row.flop_model == "6ND" else {"flop_model": row.flop_model}
    if row.params_range is not None:
        out["params_range"], out["tokens_range"] = list(row.params_range), list(row.tokens_range)
    return out


def _conventions(args) -> dict:
    """Scenario fields from ``--param-count``, ``--flop-model`` and ``--flatness`` (absent: defaults)."""
    return {"param_count": getattr(args, "param_count", None) or "native",
            "flop_model": getattr(args, "flop_model", None) or "6ND",
            "flatness": getattr(args, "flatness", None)}


def optimal_record(name: str, C: float) -> dict:
    """The ``optimal`` command's JSON object for law ``name`` at ``C`` FLOPs (from ``evaluate``)."""
    from .readout import evaluate
    from .scenario import Scenario

    return _row_record(evaluate(Scenario(budget=C, laws=(name,), model="")).rows[0], C)


def cmd_optimal(args) -> None:
    from .readout import evaluate
    from .scenario import Scenario

    row = evaluate(Scenario(budget=args.flops, laws=(args.law,), model="", **_conventions(args))).rows[0]
    record = _row_record(row, args.flops)
    if args.json:
        print(json.dumps(record))
        return
    law = laws.get_law(args.law)
    if row.params_meaning != law.params_meaning.value:
        from .reexpress import reexpress

        law = reexpress(law, row.params_meaning)
    loss = "n/a (allocation law)" if record["loss"] is None else f"{record['loss']:.4f} nats/token"
    print(f"{law.name}: compute-optimal at {args.flops:.3g} FLOPs ({float(to_pf_days(args.flops)):.3g} PF-days)")
    print(f"  N_opt            {record['params']:.4g} parameters ({law.params_meaning.description})")
    print(f"  D_opt            {record['tokens']:.4g} tokens")
    print(f"  tokens/param     {record['tokens_per_param']:.3g}")
    print(f"  predicted loss   {loss}")
    if row.flop_model != "6ND":
        print(f"  FLOPs counted    {row.flop_model} (conventions.FLOP_MODELS)")
    if row.params_range is not None:
        print(f"  within {args.flatness:.2%} of the optimal loss: N {row.params_range[0]:.3g} to "
              f"{row.params_range[1]:.3g}, D {row.tokens_range[0]:.3g} to {row.tokens_range[1]:.3g}")
    if row.extrapolated:
        print(_extrapolation_note(row))


def cmd_exponent(args) -> None:
    from .frontier import frontier_exponent
    from .scenario import Scenario

    if not args.to > args.from_:
        raise CliError(f"--to ({args.to:g}) must be above --from ({args.from_:g})")
    scenario = Scenario(laws=(args.law,), model="", **_conventions(args))  # the budget plays no part
    law = scenario.law(args.law)
    e = frontier_exponent(law, args.from_, args.to)
    record = {"law": args.law, "from": e.C_from, "to": e.C_to, "params_meaning": law.params_meaning.value,
              "flop_model": scenario.flop_model, "exponent": e.regression, "secant": e.secant,
              "regression": e.regression, "local_min": e.local_min, "local_max": e.local_max}
    if args.json:
        print(json.dumps(record))
        return
    print(f"{law.name}, N counted as {law.params_meaning.value}: N_opt ∝ C^{e.regression:.3f} from "
          f"{e.C_from:.3g} to {e.C_to:.3g} FLOPs (least squares over 100 budgets; secant {e.secant:.3f}; "
          f"local exponent {e.local_min:.3f} to {e.local_max:.3f})")


def cmd_show(args) -> None:
    from .readout import evaluate

    readout = evaluate(args.scenario)
    if args.csv:
        sys.stdout.write(readout.to_csv())
        return
    b = readout.budget
    records = [_row_record(row, b.flops) | _beyond_row(row) for row in readout.rows]
    if args.json:
        print(json.dumps({**readout.to_dict(), "rows": records}))
        return
    print(f"budget {b.flops:.4g} FLOPs = {b.pf_days:.4g} PF-days = {b.gpu_hours:.4g} {b.hardware} GPU-hours "
          f"at {b.mfu:.0%} MFU, about ${b.cost_usd:,.0f} at ${b.usd_per_gpu_hour:g}/GPU-hour")
    if not records:
        print("no laws shown (add some with laws=KEY,KEY)")
        return
    _print_table(records, ["law", "params", "tokens", "tokens_per_param", "loss", "params_meaning"])
    for row in readout.rows:
        if row.extrapolated:
            print(_extrapolation_note(row))


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
    from .catalog import CLI_COLUMNS, NOT_DESCRIBED, classify, load_models

    law = laws.get_law(args.law)
    table = classify(load_models(args.file), law)
    table, columns = _models_at_demand(table, law, args, CLI_COLUMNS)
    if law.params_meaning is laws.NON_EMBEDDING_PARAMS:
        n = int((table["params_basis"] == "non-embedding").sum())
        print(f"note: {law.name} counts non-embedding parameters; N and its FLOP count ({law.flop_model.name}) use the "
              f"published non-embedding count for {n} models and total (or active) parameters for the rest",
              file=sys.stderr)
    records = json.loads(table[columns].to_json(orient="records"))
    if args.json:
        from .downstream.observational import benchmarks  # observed scores (Ruan et al. 2024); None if unobserved

        print(json.dumps([{**r, "benchmarks": benchmarks(r["name"])} for r in records]))
        return
    print(f"flops = training FLOPs by {law.flop_model.name}; efficiency = compute the optimal allocation needs "
          "for the same loss / flops")
    for r in records:
        r["caveats"] = "; ".join(r["caveats"])
    _print_table(records, [c for c in columns if c not in ("source", "not_plotted")])
    refused = sorted({r["not_plotted"] for r in records if r["status"] == NOT_DESCRIBED})
    for reason in refused:
        print(f"not described: {reason}")


def cmd_fit(args) -> None:
    from .fit import NotIdentifiedError

    try:
        _fit(args)
    except NotIdentifiedError as exc:  # say it is a refusal, not a bad file
        raise CliError("these runs cannot determine the law: " + "; ".join(exc.problems)) from None


def _fit(args) -> None:
    from .fit import fit_approach2, fit_approach3, read_runs

    if args.bootstrap < 0 or args.exclude_highest_loss < 0:
        raise CliError("--bootstrap and --exclude-highest-loss must be 0 or more")
    runs = read_runs(args.runs)
    if args.approach == 2:
        if args.bootstrap or args.exclude_highest_loss:
            raise CliError("--bootstrap and --exclude-highest-loss apply to --approach 3 only")
        result = fit_approach2(runs)
    else:
        result = fit_approach3(runs, exclude_highest_loss=args.exclude_highest_loss, n_bootstrap=args.bootstrap,
                               seed=args.seed)
        if not result.converged:
            print("scaling-explorer: warning: the fit did not converge; its numbers are not an optimum",
                  file=sys.stderr)
    print(json.dumps(result.to_dict()) if args.json else result.report())


def cmd_serve(args) -> None:
    from .serve import serve

    status = serve(port=args.port, pool_size=args.pool_size)
    if status:
        raise CliError(f"voila exited with status {status} (see its messages above)")


def _add_convention_options(p) -> None:
    from .conventions import FLOP_MODELS

    p.add_argument("--param-count", choices=["total", "non-embedding"], default=None,
                   help="re-count every law's N this way (default: each law's own; non-embedding budgets "
                        "are Kaplan's 6 N_nonemb D)")
    p.add_argument("--flop-model", choices=list(FLOP_MODELS), default=None,
                   help="how training FLOPs are counted (default 6ND)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scaling-explorer", description="Compute-optimal scaling laws for language models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("laws", help="list the laws and their citations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_laws)

    p = sub.add_parser("show", help="every number of a scenario (the page's query string)")
    p.add_argument("--scenario", type=_scenario, default="",
                   help='query string, e.g. "budget=1e24&laws=besiroglu2024,kaplan2020" (keys: see the README)')
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true")
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("optimal", help="compute-optimal N and D for a budget")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--flops", type=_number, required=True, help="training compute in FLOPs, e.g. 5.76e23")
    p.add_argument("--json", action="store_true")
    _add_convention_options(p)
    p.add_argument("--flatness", type=_number, default=None, metavar="TOL",
                   help="also give the N and D range within TOL of the optimal loss (0.01 = 1%%)")
    p.set_defaults(run=cmd_optimal)

    p = sub.add_parser("exponent", help="the frontier's exponent a of N_opt ∝ C^a over a range of budgets")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--from", dest="from_", type=_number, required=True, metavar="C1", help="lowest budget, FLOPs")
    p.add_argument("--to", type=_number, required=True, metavar="C2", help="highest budget, FLOPs")
    p.add_argument("--json", action="store_true")
    _add_convention_options(p)
    p.set_defaults(run=cmd_exponent)

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

    p = sub.add_parser("fit", help="fit L = E + A/N^alpha + B/D^beta (Approach 3) or iso-FLOP profiles (Approach 2)")
    p.add_argument("runs", help="CSV with columns params, tokens (or flops), loss; comma, semicolon or tab")
    p.add_argument("--approach", type=int, choices=(2, 3), default=3,
                   help="3: parametric fit (default); 2: a parabola per iso-FLOP budget (needs >= 3 budgets)")
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
    _add_beyond_chinchilla(sub)
    __import__("scaling_explorer.cli_beyond_pretraining", fromlist=["register"]).register(sub)  # distill exchange hyper
    __import__("scaling_explorer.cli_downstream", fromlist=["register"]).register(sub)  # issue 21
    return parser


# -- beyond Chinchilla: inference demand, unique-token budgets, target loss, granularity -------------
def _tokens(text: str) -> float:
    """Parse a token count that may be zero (no inference demand)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or a positive, finite number of tokens")
    return value


def _beyond_row(row) -> dict:
    from .readout import _beyond_row as beyond

    return beyond(row)


def _refuse_notes(row) -> None:
    """Options the law cannot use exit 2 naming why (the readout's notes for this row)."""
    if row.notes:
        raise CliError(f"{row.key}: " + "; ".join(row.notes))


def cmd_optimal_beyond(args) -> None:
    """``optimal`` with ``--inference-tokens`` and/or ``--unique-tokens``; plain ``optimal`` otherwise."""
    T, U = args.inference_tokens, args.unique_tokens
    if not T and U is None:
        return cmd_optimal(args)
    from .readout import evaluate
    from .scenario import Scenario

    row = evaluate(Scenario(budget=args.flops, laws=(args.law,), model="", inference_tokens=T or 0.0,
                            unique_tokens=U)).rows[0]
    _refuse_notes(row)
    record = _row_record(row, args.flops) | {"inference_tokens": T or 0.0, "unique_tokens": U}
    if T:
        record |= {"total_flops": row.total_flops, "inference_aware": asdict(row.inference_aware)}
    if U is not None:
        record |= {"epochs": row.epochs, "data_constrained": asdict(row.data_constrained)}
    if args.json:
        print(json.dumps(record))
        return
    law = laws.get_law(args.law)
    print(f"{law.name} at {args.flops:.3g} training FLOPs ({law.params_meaning.description})")
    print(f"  training-only optimum   N {row.params:.4g}  D {row.tokens:.4g}  loss {_loss_text(row.loss)}")
    if T:
        ia = row.inference_aware
        print(f"  serving {T:.3g} tokens: lifetime FLOPs {row.total_flops:.4g}")
        print(f"  inference-aware, same loss   N {ia.params:.4g}  D {ia.tokens:.4g}  training FLOPs "
              f"{ia.training_flops:.4g}  lifetime FLOPs {ia.total_flops:.4g} ({ia.total_flops / row.total_flops:.1%})")
    if U is not None:
        dc = row.data_constrained
        print(f"  {U:.3g} unique tokens: training-only optimum repeats them {row.epochs:.3g} times")
        print(f"  data-constrained optimum     N {dc.params:.4g}  D {dc.tokens:.4g}  epochs {dc.epochs:.3g}  "
              f"loss {dc.loss:.4f}")
    if row.extrapolated:
        print(_extrapolation_note(row))


def _loss_text(loss) -> str:
    return "n/a (allocation law)" if loss is None else f"{loss:.4f}"


def cmd_target(args) -> None:
    """Compute, N and D a law needs to reach ``--loss`` (with ``--inference-tokens``: cheapest over the lifetime)."""
    from .wrappers import for_loss

    law = laws.get_law(args.law)
    plain = for_loss(law, args.loss)
    served = for_loss(law, args.loss, args.inference_tokens) if args.inference_tokens else None
    record = _require_finite({"law": args.law, "loss": args.loss, "params": plain.params, "tokens": plain.tokens,
                              "tokens_per_param": plain.tokens / plain.params, "flops": plain.training_flops,
                              "params_meaning": law.params_meaning.value}) | {"inference_tokens": args.inference_tokens}
    if served is not None:
        record["total_flops"] = plain.training_flops + 2 * plain.params * args.inference_tokens
        record["inference_aware"] = {"params": served.params, "tokens": served.tokens,
                                     "tokens_per_param": served.tokens / served.params,
                                     "flops": served.training_flops, "total_flops": served.total_flops}
    if args.json:
        print(json.dumps(record))
        return
    print(f"{law.name}: reaching loss {args.loss:g} nats/token ({law.params_meaning.description})")
    print(f"  training-only   N {plain.params:.4g}  D {plain.tokens:.4g}  training FLOPs {plain.training_flops:.4g}")
    if served is not None:
        print(f"  serving {args.inference_tokens:.3g} tokens: that model's lifetime FLOPs {record['total_flops']:.4g}")
        print(f"  inference-aware N {served.params:.4g}  D {served.tokens:.4g}  training FLOPs "
              f"{served.training_flops:.4g}  lifetime FLOPs {served.total_flops:.4g} "
              f"({served.total_flops / record['total_flops']:.1%})")


def cmd_loss_beyond(args) -> None:
    """``loss`` with ``--unique-tokens`` and/or ``--granularity`` (and every MoE law); plain ``loss`` otherwise."""
    from .wrappers import DataConstrained, FineGrainedMoELaw

    law = laws.get_law(args.law)
    moe = isinstance(law, FineGrainedMoELaw)
    if args.unique_tokens is None and args.granularity is None and not moe:
        return cmd_loss(args)
    if args.granularity is not None:
        if not moe:
            raise CliError(f"--granularity needs a fine-grained MoE law (krajewski2024); {args.law} has no experts")
        law = law.at_granularity(args.granularity)
    if args.unique_tokens is not None:
        law = DataConstrained(law, args.unique_tokens)  # NotApplicable (exit 2) for non-Chinchilla-form laws
    record = {"law": args.law, "params": args.params, "tokens": args.tokens,
              "flops": float(law.flop_model.flops(args.params, args.tokens)),
              "loss": float(law.loss(args.params, args.tokens))}
    if args.unique_tokens is not None:
        record |= {"unique_tokens": args.unique_tokens, "epochs": args.tokens / args.unique_tokens}
    if moe:
        record |= {"granularity": law.granularity, "active_params": float(law.active_params(args.params))}
    _require_finite(record)
    if args.json:
        print(json.dumps(record))
        return
    extra = f", {record['epochs']:.3g} epochs over {args.unique_tokens:.4g} unique tokens" if "epochs" in record else ""
    if moe:
        extra += f", granularity {law.granularity:g}, {record['active_params']:.4g} active parameters"
    print(f"{law.name}: N = {args.params:.4g}, D = {args.tokens:.4g}{extra} -> "
          f"C = {record['flops']:.4g} FLOPs, loss = {record['loss']:.4f} nats/token")


def _models_at_demand(table, law, args, columns):
    """With ``--inference-tokens``: each model's break-even demand and standing at that demand."""
    T = getattr(args, "inference_tokens", None)
    if T is None:
        return table, columns
    from .catalog import classify_at_demand

    table = classify_at_demand(table, law, T)  # NotApplicable (exit 2) for non-Chinchilla-form laws
    return table, [*columns[:-1], "break_even_inference_tokens", "d_over_d_opt_at_demand", "status_at_demand",
                   columns[-1]]


def _add_beyond_chinchilla(sub) -> None:
    """Options and the ``target`` command for inference demand, unique-token budgets and MoE granularity."""
    p = sub.choices["optimal"]
    p.add_argument("--inference-tokens", type=_tokens, default=0.0, metavar="T",
                   help="lifetime inference tokens the model will serve (adds the inference-aware optimum)")
    p.add_argument("--unique-tokens", type=_number, default=None, metavar="U",
                   help="unique training tokens available (adds the data-constrained optimum)")
    p.set_defaults(run=cmd_optimal_beyond)

    p = sub.choices["loss"]
    p.add_argument("--unique-tokens", type=_number, default=None, metavar="U",
                   help="unique tokens the D training tokens are drawn from (Muennighoff et al. 2023)")
    p.add_argument("--granularity", type=_number, default=None, metavar="G",
                   help="MoE granularity d_ff / d_expert (krajewski2024 only)")
    p.set_defaults(run=cmd_loss_beyond)

    p = sub.choices["models"]
    p.add_argument("--inference-tokens", type=_tokens, default=None, metavar="T",
                   help="lifetime inference demand: adds break_even_inference_tokens and each model's standing at T")

    p = sub.add_parser("target", help="compute, N and D a law needs to reach a loss")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--loss", type=_number, required=True, help="target loss in nats per token")
    p.add_argument("--inference-tokens", type=_tokens, default=0.0, metavar="T",
                   help="lifetime inference tokens (adds the cheapest model over training plus inference)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_target)


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
