"""Command line: ``scaling-explorer laws | show | optimal | target | exponent | loss | models | fit | serve``.

Every command that computes takes every Scenario query key as a flag (``--budget``, ``--serve``,
``--count``, ``--flop``, ``--flat``, ``--unique``, ``--target``, ...; generated from the declarations
in :mod:`scaling_explorer.scenario`), plus ``--scenario QUERY`` as a base the flags override. The
values are parsed through :meth:`Scenario.from_query`, so no command can drop one. Old spellings
stay as aliases (``--flops``, ``--inference-tokens``, ``--unique-tokens``, ``--param-count``,
``--flop-model``, ``--flatness``; ``target --loss``).

``show``, ``optimal`` (``show`` for one law) and ``target`` (``show`` with a target loss) print a
:class:`~scaling_explorer.readout.Readout`: ``--json`` is :meth:`Readout.to_dict` (one shape,
``docs/readout.schema.json``), ``--csv`` its frame, and the text is the same flattened record.

Adding a command
----------------
A command lives in its own module exposing ``register(subparsers)``, which adds its parser and
sets its handler; name the module in :data:`COMMAND_MODULES` (one line)::

    # scaling_explorer/downstream.py
    def register(subparsers):
        p = subparsers.add_parser("downstream", help="...")
        cli.add_scenario_options(p)            # every query key as a flag, and --scenario
        p.add_argument("--json", action="store_true")
        p.set_defaults(run=run)                # run(args) -> None; raise cli.CliError for bad input

    def run(args):
        scenario = cli.scenario_from_args(args)   # a validated Scenario
        ...

Bad input exits with status 2 and one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from urllib.parse import parse_qsl, urlencode

import numpy as np

from . import laws, presets

EXIT_USAGE = 2

#: Modules whose ``register(subparsers)`` adds a command, in ``--help`` order. Another command is one
#: more name here.
COMMAND_MODULES: tuple[str, ...] = ("scaling_explorer.cli", "scaling_explorer.cli_downstream",
                                    "scaling_explorer.cli_beyond_pretraining")


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
    if text not in presets.law_keys():
        raise argparse.ArgumentTypeError(f"unknown law {text!r}; choose one of {', '.join(presets.law_keys())}")
    return text


# -- every query key as a flag ---------------------------------------------------------------------


class _QueryValue(argparse.Action):
    """Store a flag's text with the spelling the user typed (an error names the flag as typed)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = dict(getattr(namespace, "query_flags", None) or {})
        key = self.dest.removeprefix("q_")
        if key in given:
            raise CliError(f"{option_string}: given more than once")
        given[key] = (values, option_string)
        namespace.query_flags = given


def add_scenario_options(parser: argparse.ArgumentParser, *, aliases: dict | None = None) -> None:
    """Add ``--scenario QUERY`` and one flag per Scenario query key (and its older ``Choice.flags``) to ``parser``.

    ``aliases`` adds command-specific spellings, {field name: ("--flag", ...)}.
    """
    from .scenario import FIELDS

    group = parser.add_argument_group("scenario (every query key; see docs/api.md)")
    group.add_argument("--scenario", default="", metavar="QUERY",
                       help='a query string as in a link, e.g. "budget=1e24&laws=besiroglu2024"; flags override it')
    for name, c in FIELDS.items():
        flags = [f"--{c.key}", *c.flags, *(aliases or {}).get(name, ())]
        flags = [f for f in dict.fromkeys(flags) if f not in parser._option_string_actions]
        group.add_argument(*flags, dest=f"q_{c.key}", action=_QueryValue, metavar=c.key.upper(),
                           help=f"{c.doc}: {c.describe_range()}".replace("%", "%%"))
    parser.set_defaults(query_flags={})


def scenario_from_args(args, **fields) -> Scenario:  # noqa: F821  (imported lazily)
    """The Scenario of ``--scenario`` with the flags over it (and ``fields``, by field name, over both)."""
    from .scenario import Scenario, ScenarioError, query_key

    pairs = dict(parse_qsl(getattr(args, "scenario", "") or "", keep_blank_values=True))
    spelled = {}
    for key, (text, option) in (getattr(args, "query_flags", None) or {}).items():
        pairs[key] = text
        spelled[key] = option
    for name, value in fields.items():
        pairs[query_key(name)] = value
    try:
        return Scenario.from_query(urlencode(list(pairs.items())))
    except ScenarioError as exc:
        option = spelled.get(exc.field)
        raise CliError(str(exc) if option is None else f"{option}{str(exc).removeprefix(exc.field)}") from None


def _law_scenario(args, **fields):
    """The scenario of a one-law command: ``--law`` is shown and, with a loss, is the surface."""
    if getattr(args, "law", None) is not None:
        if _given(args, "laws"):
            raise CliError("--law and --laws (or laws= in --scenario): give one")
        fields["laws"] = args.law
        if presets.get_law(args.law).has_loss and "surface" not in (args.query_flags or {}):
            fields["surface"] = args.law
    return scenario_from_args(args, **fields)


def _given(args, key: str) -> bool:
    return key in (args.query_flags or {}) or key in dict(parse_qsl(args.scenario or ""))


# -- output ----------------------------------------------------------------------------------------
def _require_finite(value, path: str = "") -> None:
    """Refuse to print numbers that over- or underflowed (JSON has no Infinity)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _require_finite(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _require_finite(v, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise CliError(f"the result is outside floating-point range ({path}); use less extreme inputs")


def _print_json(record) -> None:
    _require_finite(record)
    print(json.dumps(record))


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
    """``laws``: the presets with their citations."""
    described = [{"key": key, **laws.describe(law)} for key, law in presets.PRESETS.items()]
    if args.json:
        print(json.dumps(described, indent=2))
        return
    for d in described:
        print(f"{d['key']}: {d['name']}\n    {d['citation']}\n    N = {d['params_description']}")


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" + (f" {unit}" if unit else "")
    return str(value)


def print_readout(readout, *, heading: str | None = None) -> None:
    """Print a Readout as text, the same flattened record as the JSON.

    The budget with its FLOP model, one line per law (its answer), then per law the compute-optimal
    allocation when the answer is another, every extra, the reasons and the warnings; last, each
    extra's note once (:attr:`~scaling_explorer.readout.Readout.notes`).
    """
    from .readout import EXTRAS, OPTIMUM_UNITS, row_record

    b, s = readout.budget, readout.scenario
    print(heading or f"budget {b.flops:.4g} FLOPs counted as {s.flop_model} = {b.pf_days:.4g} PF-days = "
          f"{b.gpu_hours:.4g} {b.hardware} GPU-hours at {b.mfu:.0%} MFU, about ${b.cost_usd:,.0f} at "
          f"${b.usd_per_gpu_hour:g}/GPU-hour")
    records = [row_record(r) for r in readout.rows]
    _require_finite(records)
    if not records:
        print("no laws shown (add some with --laws KEY,KEY)")
        return
    for rec in records:
        rec["law"] = rec["key"]
    _print_table(records, ["law", "answer", "params", "tokens", "tokens_per_param", "loss", "params_meaning"])
    for rec in records:
        lines = []
        if "compute_optimal" in rec:
            co = rec["compute_optimal"]
            lines.append(f"compute-optimal (training only, unconstrained): N {_fmt(co['params'])}  D "
                         f"{_fmt(co['tokens'])}  loss {_fmt(co['loss'])}")
        for name, values in rec["extras"].items():
            extra = EXTRAS[name]
            shown = "  ".join(f"{v.replace('_', ' ')} {_fmt(values[v], extra.units.get(v, ''))}"
                              for v in extra.values if v in values and v not in ("extrapolated",))
            lines.append(f"{extra.label}: {shown}")
        lines += [f"not given: {r}" for r in dict.fromkeys(rec["reasons"].values())]
        lines += [f"note: {w}" for w in rec["warnings"]]
        if lines:
            print(f"{rec['key']} ({OPTIMUM_UNITS['params']} counted as {rec['params_meaning']}):")
            for line in lines:
                print(f"  {line}")
    for name, note in readout.notes.items():  # once, beside the numbers it qualifies
        print(f"note on {EXTRAS[name].label}: {note}")


def _emit(readout, args, heading: str | None = None) -> None:
    if getattr(args, "csv", False):
        sys.stdout.write(readout.to_csv())
    elif args.json:
        _print_json(readout.to_dict())
    else:
        print_readout(readout, heading=heading)


def cmd_show(args) -> None:
    """``show``: every number of the scenario."""
    from .readout import evaluate

    _emit(evaluate(_law_scenario(args)), args)


def cmd_optimal(args) -> None:
    """``show`` for one law; a budget is required."""
    from .readout import evaluate

    if not _given(args, "budget"):
        raise CliError("the following arguments are required: --budget (or --flops)")
    readout = evaluate(_law_scenario(args))
    _refuse_reasons(readout)  # one law asked for: an option it cannot take is an error, not a footnote
    _emit(readout, args)


def cmd_target(args) -> None:
    """``show`` for one law with a target loss: the cheapest model reaching it (over the lifetime with demand)."""
    from .readout import evaluate

    if not _given(args, "target"):
        raise CliError("the following arguments are required: --loss (or --target)")
    readout = evaluate(_law_scenario(args))
    _refuse_reasons(readout)
    row, s = readout.rows[0], readout.scenario
    served = f", serving {s.inference_tokens:.3g} tokens" if s.inference_tokens else ""
    _emit(readout, args, heading=f"{row.name}: reaching loss {s.target_loss:g} nats/token{served} "
                                 f"(FLOPs counted as {s.flop_model})")


def _refuse_reasons(readout) -> None:
    for row in readout.rows:
        if row.reasons:
            raise CliError(f"{row.key}: " + "; ".join(row.notes))


def cmd_exponent(args) -> None:
    """``exponent``: the frontier's exponent over a range of budgets."""
    from .frontier import frontier_exponent

    if not args.to > args.from_:
        raise CliError(f"--to ({args.to:g}) must be above --from ({args.from_:g})")
    scenario = _law_scenario(args)  # the budget plays no part
    law = scenario.law(args.law)
    e = frontier_exponent(law, args.from_, args.to)
    fitted = law.fitted_range
    extrapolated = bool(fitted is not None and not np.all(fitted.contains_flops([e.C_from, e.C_to])))
    record = {"law": args.law, "from": e.C_from, "to": e.C_to, "params_meaning": law.params_meaning.value,
              "flop_model": scenario.flop_model, "exponent": e.regression, "secant": e.secant,
              "regression": e.regression, "local_min": e.local_min, "local_max": e.local_max,
              "extrapolated": extrapolated}
    if args.json:
        _print_json(record)
        return
    print(f"{law.name}, N counted as {law.params_meaning.value}, FLOPs counted as {scenario.flop_model}: "
          f"N_opt ∝ C^{e.regression:.3f} from {e.C_from:.3g} to {e.C_to:.3g} FLOPs (least squares over 100 budgets; "
          f"secant {e.secant:.3f}; local exponent {e.local_min:.3f} to {e.local_max:.3f})")
    if extrapolated:
        print("note: the range reaches outside the FLOPs the law was fitted on; the exponent there is an "
              "extrapolation")


def cmd_loss(args) -> None:
    """Loss at N parameters and D tokens under the scenario's law (edits, count, FLOP model, unique tokens)."""
    from .wrappers import DataConstrained, FineGrainedMoELaw

    scenario = _law_scenario(args)
    law = scenario.law(args.law)
    if not law.has_loss:
        raise CliError(f"{args.law} is an allocation law without a loss; use one of "
                       + ", ".join(k for k, v in presets.PRESETS.items() if v.has_loss))
    moe = isinstance(law, FineGrainedMoELaw)
    if args.granularity is not None:
        if not moe:
            raise CliError(f"--granularity needs a fine-grained MoE law (krajewski2024); {args.law} has no experts")
        law = law.at_granularity(args.granularity)
    fitted = law.fitted_range
    N, D, U = args.params, args.tokens, scenario.unique_tokens
    if U is not None:
        law = DataConstrained(law, U)  # NotApplicable (exit 2) for non-Chinchilla-form laws
    record = {"law": args.law, "params": N, "tokens": D, "params_meaning": law.params_meaning.value,
              "flop_model": scenario.flop_model, "flops": float(law.flop_model.flops(N, D)),
              "loss": float(law.loss(N, D)),
              # outside the N and D the law was fitted on (an unknown span counts as outside)
              "extrapolated": bool(fitted is not None and not fitted.contains(N, D)),
              "fitted_params": None if fitted is None else list(fitted.params),
              "fitted_tokens": None if fitted is None else list(fitted.tokens)}
    if U is not None:
        record |= {"unique_tokens": U, "epochs": D / U}
    if moe:
        record |= {"granularity": law.granularity, "active_params": float(law.active_params(N))}
    record = {k: (None if isinstance(v, list) and not all(map(math.isfinite, v)) else v) for k, v in record.items()}
    _require_finite(record)
    if not (record["flops"] > 0 and record["loss"] > 0):
        raise CliError("the result is outside floating-point range; use less extreme inputs")
    if args.json:
        _print_json(record)
        return
    extra = f", {record['epochs']:.3g} epochs over {U:.4g} unique tokens" if U is not None else ""
    if moe:
        extra += f", granularity {law.granularity:g}, {record['active_params']:.4g} active parameters"
    print(f"{law.name}: N = {N:.4g}, D = {D:.4g}{extra} -> C = {record['flops']:.4g} FLOPs "
          f"(counted as {scenario.flop_model}), loss = {record['loss']:.4f} nats/token")
    if record["extrapolated"]:
        print(f"note: N = {N:.3g}, D = {D:.3g} lie outside what {args.law} was fitted on "
              f"(N {_span(record['fitted_params'])}, D {_span(record['fitted_tokens'])}): an extrapolation")


def _span(span) -> str:
    return "unknown" if span is None else f"{span[0]:.2g} to {span[1]:.2g}"


def cmd_models(args) -> None:
    """``models``: the catalog judged by one law under the scenario."""
    from .catalog import CLI_COLUMNS, NOT_DESCRIBED, classify, load_models
    from .readout import judge, status_condition

    scenario = _law_scenario(args)
    key = args.law or scenario.surface
    law = scenario.law(key)
    table = classify(load_models(args.file), law, near_optimal_band=(1 / scenario.band, scenario.band))
    # As the page judges them; a condition the law cannot take (demand on a non-Chinchilla law) is exit 2.
    table = judge(table, law, scenario, strict=True)
    columns = list(CLI_COLUMNS)
    condition = status_condition(scenario, table)
    if condition is not None:
        columns[columns.index("status"):columns.index("status") + 1] = [*condition.columns, "status",
                                                                         "status_training"]
    columns.insert(columns.index("caveats"), "extrapolated")
    if law.params_meaning is laws.NON_EMBEDDING_PARAMS:
        n = int((table["params_basis"] == "non-embedding").sum())
        print(f"note: {law.name} counts non-embedding parameters; N and its FLOP count ({law.flop_model.name}) use the "
              f"published non-embedding count for {n} models and total (or active) parameters for the rest",
              file=sys.stderr)
    records = json.loads(table[columns].to_json(orient="records"))
    if args.json:
        from .downstream.observational import benchmarks  # observed scores (Ruan et al. 2024); None if unobserved

        _print_json([{**r, "benchmarks": benchmarks(r["name"])} for r in records])
        return
    print(f"judged by {law.name}; flops = training FLOPs by {law.flop_model.name}; efficiency = compute the optimal "
          "allocation needs for the same loss / flops")
    for r in records:
        r["caveats"] = "; ".join(r["caveats"])
    _print_table(records, [c for c in columns if c not in ("source", "not_plotted")])
    refused = sorted({r["not_plotted"] for r in records if r["status"] == NOT_DESCRIBED})
    for reason in refused:
        print(f"not described: {reason}")


def cmd_fit(args) -> None:
    """``fit``: a law fitted to the user's runs."""
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
    """``serve``: the page on 127.0.0.1 (needs the app extra)."""
    import importlib.util

    if importlib.util.find_spec("voila") is None or importlib.util.find_spec("ipywidgets") is None:
        raise CliError("serving the page needs the widget stack: pip install 'scaling-explorer[app]'")
    from .serve import serve

    status = serve(port=args.port, pool_size=args.pool_size)
    if status:
        raise CliError(f"voila exited with status {status} (see its messages above)")


def register(sub) -> None:
    """The built-in commands."""
    p = sub.add_parser("laws", help="list the laws and their citations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_laws)

    def readout_command(name: str, help: str, run, aliases: dict | None = None, law_required: bool = False):
        p = sub.add_parser(name, help=help)
        p.add_argument("--law", type=_law_name, required=law_required, help="show this law alone")
        out = p.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true", help="the Readout's JSON (docs/readout.schema.json)")
        out.add_argument("--csv", action="store_true")
        add_scenario_options(p, aliases=aliases)
        p.set_defaults(run=run)

    readout_command("show", "every number of a scenario (the page's numbers)", cmd_show)
    readout_command("optimal", "compute-optimal N and D for a budget: show for one law", cmd_optimal,
                    law_required=True)
    readout_command("target", "compute, N and D a law needs to reach a loss: show with a target", cmd_target,
                    aliases={"target_loss": ("--loss",)}, law_required=True)

    p = sub.add_parser("exponent", help="the frontier's exponent a of N_opt ∝ C^a over a range of budgets")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--from", dest="from_", type=_number, required=True, metavar="C1", help="lowest budget, FLOPs")
    p.add_argument("--to", type=_number, required=True, metavar="C2", help="highest budget, FLOPs")
    p.add_argument("--json", action="store_true")
    add_scenario_options(p)
    p.set_defaults(run=cmd_exponent)

    p = sub.add_parser("loss", help="predicted loss for N parameters and D tokens")
    p.add_argument("--law", type=_law_name, required=True)
    p.add_argument("--params", type=_number, required=True)
    p.add_argument("--tokens", type=_number, required=True)
    p.add_argument("--granularity", type=_number, default=None, metavar="G",
                   help="MoE granularity d_ff / d_expert (krajewski2024 only)")
    p.add_argument("--json", action="store_true")
    add_scenario_options(p)
    p.set_defaults(run=cmd_loss)

    p = sub.add_parser("models", help="classify published models against a law")
    p.add_argument("--law", type=_law_name, default=None, help="the law to judge by (default: the surface law)")
    p.add_argument("--file", default=None, help="your own CSV in the schema of data/models.csv")
    p.add_argument("--json", action="store_true")
    add_scenario_options(p)
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
    from .serve import DEFAULT_POOL_SIZE  # standard library only: cheap to import here

    p.add_argument("--pool-size", type=int, default=DEFAULT_POOL_SIZE,
                   help=f"preheated kernels (default {DEFAULT_POOL_SIZE}; for a class, the class size)")
    p.set_defaults(run=cmd_serve)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command: each module in :data:`COMMAND_MODULES` registers its own."""
    parser = _Parser(prog="scaling-explorer", description="Compute-optimal scaling laws for language models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
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
