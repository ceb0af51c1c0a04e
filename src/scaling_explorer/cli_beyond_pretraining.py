"""CLI commands beyond the pre-training budget: ``distill``, ``exchange`` and ``hyper``.

:func:`register` adds the three parsers to ``scaling-explorer``'s subparsers. Handlers raise
``ValueError`` on bad input, which the CLI's ``main`` turns into one line and exit status 2; bad
flags fail in argparse the same way.
"""

from __future__ import annotations

import json
import math

from .cli import _number as _positive  # one parser of positive numbers for every command


def _finite(record: dict) -> dict:
    """Refuse to print numbers that over- or underflowed (JSON has no Infinity)."""
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise ValueError(f"the result is outside floating-point range ({', '.join(bad)}); use less extreme inputs")
    return record


def _teacher(args):
    from .distill import Teacher

    given = [flag for flag, value in (("--teacher-loss", args.teacher_loss), ("--teacher-model", args.teacher_model))
             if value is not None]
    if len(given) > 1:
        raise ValueError(f"give one of --teacher-loss and --teacher-model, not {' and '.join(given)}")
    if args.teacher_model is not None:
        if args.teacher_params is not None or args.teacher_tokens is not None:
            raise ValueError("--teacher-model takes its size and tokens from the catalog; "
                             "drop --teacher-params/--teacher-tokens")
        return Teacher.from_catalog(args.teacher_model)
    if args.teacher_loss is not None:  # a measured loss; size and tokens only count its FLOPs
        return Teacher(args.teacher_loss, args.teacher_params, args.teacher_tokens, name="given loss")
    if args.teacher_params is None or args.teacher_tokens is None:
        raise ValueError("give the teacher as --teacher-params N --teacher-tokens D, --teacher-loss L "
                         "or --teacher-model NAME")
    return Teacher.from_law(args.teacher_params, args.teacher_tokens)


def distill_record(args) -> dict:
    """The ``distill`` command's JSON object."""
    from .distill import distill

    teacher = _teacher(args)
    if args.accounting != "best-case" and teacher.params is None:
        raise ValueError(f"--accounting {args.accounting} counts the teacher's FLOPs: give --teacher-params"
                         + (" and --teacher-tokens" if "pretraining" in args.accounting else ""))
    if "pretraining" in args.accounting and teacher.tokens is None:
        raise ValueError(f"--accounting {args.accounting} counts the teacher's pre-training: give --teacher-tokens")
    d = distill(args.student_params, args.student_tokens, teacher, args.accounting).to_dict()
    d["supervised_tokens_same_flops"] = d.pop("supervised_tokens")
    return _finite({"student_params": args.student_params, "student_tokens": args.student_tokens,
                    "teacher": teacher.name, "teacher_params": teacher.params, "teacher_tokens": teacher.tokens} | d)


def cmd_distill(args) -> None:
    """``distill``: a student's distilled and supervised loss, and the FLOPs of the accounting."""
    from .distill import DISTILLATION_CAVEAT

    r = distill_record(args)
    if args.json:
        print(json.dumps(r))
        return
    print(f"Busbridge et al. 2025: student of {r['student_params']:.4g} non-embedding parameters distilled on "
          f"{r['student_tokens']:.4g} tokens from a teacher of loss {r['teacher_loss']:.4f} ({r['teacher']})")
    print(f"  student_loss      {r['student_loss']:.4f}  (distilled)")
    print(f"  supervised_loss   {r['supervised_loss']:.4f}  (trained directly on the same tokens)")
    print(f"  teacher_loss      {r['teacher_loss']:.4f}")
    print(f"  flops             {r['flops']:.4g}  ({r['accounting']}, Eq. 9)")
    print(f"  same FLOPs trained directly: {r['supervised_tokens_same_flops']:.4g} tokens, loss "
          f"{r['supervised_loss_same_flops']:.4f} -> distilling {'wins' if r['distilling_wins'] else 'loses'} by "
          f"{abs(r['advantage']):.4f} nats")
    print(f"note: {DISTILLATION_CAVEAT}")


def cmd_exchange(args) -> None:
    """``exchange``: how much more inference a smaller model may spend at equal FLOPs (Snell et al. §7)."""
    from .testtime import SNELL_FINDING, inference_multiplier

    record = _finite({"size_ratio": args.size_ratio, "inference_ratio": args.inference_ratio,
                      "inference_multiplier": float(inference_multiplier(args.size_ratio, args.inference_ratio))})
    if args.json:
        print(json.dumps(record))
        return
    print(f"A model {args.size_ratio:g}x larger costs the same FLOPs as the smaller one spending "
          f"{record['inference_multiplier']:.4g}x its inference compute (R = D_inf/D_pre = {args.inference_ratio:g}; "
          "Snell et al. 2024 §7)")
    print(f"finding: {SNELL_FINDING}")


def hyper_record(args) -> dict:
    """The ``hyper`` command's JSON object: both laws' learning rate and batch (tokens)."""
    from .hyper import DEEPSEEK_HYPER, STEP_LAW

    step = STEP_LAW.at(args.params, args.tokens)
    deep = DEEPSEEK_HYPER.at(args.params, args.tokens, args.flops_per_token)
    flops = float(DEEPSEEK_HYPER.flops(args.params, args.tokens, args.flops_per_token))
    return {"params": args.params, "tokens": args.tokens,
            "li2025-steplaw": _finite({"learning_rate": float(step.learning_rate),
                                       "batch_tokens": float(step.batch_tokens)}),
            "deepseek2024": _finite({"flops": flops,
                                     "learning_rate": float(deep.learning_rate),
                                     "batch_tokens": float(deep.batch_tokens)})}


def cmd_hyper(args) -> None:
    """``hyper``: learning rate and batch at (N, D) under Step Law and DeepSeek LLM's laws."""
    from .hyper import DEEPSEEK_HYPER, STEP_LAW

    r = hyper_record(args)
    if args.json:
        print(json.dumps(r))
        return
    print(f"N = {args.params:.4g} parameters, D = {args.tokens:.4g} tokens")
    s, d = r["li2025-steplaw"], r["deepseek2024"]
    print(f"  {STEP_LAW.name:<36} learning rate {s['learning_rate']:.3g}  batch {s['batch_tokens']:.3g} tokens")
    print(f"  {DEEPSEEK_HYPER.name:<36} learning rate {d['learning_rate']:.3g}  batch {d['batch_tokens']:.3g} tokens "
          f"(C = {d['flops']:.3g} FLOPs)")
    print("note: each is a fit to its authors' optimizer, schedule and data; start a sweep there, do not copy them")


def register(subparsers) -> None:
    """Add ``distill``, ``exchange`` and ``hyper`` to ``subparsers``; each sets ``run`` to its handler."""
    from .distill import Accounting

    p = subparsers.add_parser("distill", help="a distilled student's loss (Busbridge et al. 2025)")
    p.add_argument("--student-params", type=_positive, required=True, metavar="N",
                   help="student non-embedding parameters")
    p.add_argument("--student-tokens", type=_positive, required=True, metavar="D", help="distillation tokens")
    p.add_argument("--teacher-params", type=_positive, default=None, metavar="NT",
                   help="teacher non-embedding parameters (with --teacher-tokens: L_T from their supervised law)")
    p.add_argument("--teacher-tokens", type=_positive, default=None, metavar="DT", help="teacher training tokens")
    p.add_argument("--teacher-loss", type=_positive, default=None, metavar="LT",
                   help="the teacher's loss directly (their C4 cross-entropy)")
    p.add_argument("--teacher-model", default=None, metavar="NAME", help="a catalog model as teacher")
    p.add_argument("--accounting", choices=[a.value for a in Accounting], default=Accounting.BEST_CASE.value,
                   help="which teacher costs the FLOPs count (their Table 2); default best-case")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_distill)

    p = subparsers.add_parser("exchange", help="test-time compute against an M-times larger model (Snell et al. 2024)")
    p.add_argument("--size-ratio", type=_positive, required=True, metavar="M", help="how many times larger, M >= 1")
    p.add_argument("--inference-ratio", type=_positive, required=True, metavar="R",
                   help="R = inference tokens / pre-training tokens")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_exchange)

    p = subparsers.add_parser("hyper", help="learning rate and batch at (N, D): Step Law and DeepSeek LLM")
    p.add_argument("--params", type=_positive, required=True, metavar="N", help="non-embedding parameters")
    p.add_argument("--tokens", type=_positive, required=True, metavar="D", help="training tokens")
    p.add_argument("--flops-per-token", type=_positive, default=None, metavar="M",
                   help="DeepSeek's non-embedding FLOPs per token M (default 6N)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_hyper)
