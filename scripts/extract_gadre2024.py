"""Rebuild data/gadre2024_runs.csv from a checkout of mlfoundations/scaling (MIT licence).

Usage: python scripts/extract_gadre2024.py /path/to/mlfoundations/scaling > data/gadre2024_runs.csv

One row per run (104): the run's name, training set, model shape, parameters (``params``, which
is what Gadre et al. call N, and ``params_no_embed``), training tokens, the token multiplier
M = 20 x chinchilla_multiplier (their ``tok_mult``), the C4-eval loss (their ``loss_c4_val``) and
the top-1 accuracy on each of the 46 downstream tasks (their ``exp_data/evals``). Task averages
are computed in scaling_explorer.downstream, not here. Standard library only.
"""

import csv
import json
import sys
from pathlib import Path

# The 46 tasks of the paper (scaling/constants.py FRIENDLY_CITATIONS keys), in their order.
TASKS_46 = (
    "agi_eval_lsat_ar agi_eval_lsat_rc agi_eval_lsat_lr agi_eval_sat_en arc_easy arc_challenge bbq "
    "bigbench_conceptual_combinations bigbench_conlang_translation bigbench_cs_algorithms bigbench_dyck_languages "
    "bigbench_elementary_math_qa bigbench_misconceptions bigbench_language_identification bigbench_logical_deduction "
    "bigbench_novel_concepts bigbench_operators bigbench_repeat_copy_logic bigbench_qa_wikidata "
    "bigbench_strange_stories bigbench_strategy_qa bigbench_understanding_fables boolq commonsense_qa copa coqa "
    "enterprise_pii_classification hellaswag hellaswag_zeroshot jeopardy lambada_openai logi_qa math_qa mmlu "
    "mmlu_zeroshot openbook_qa piqa pubmed_qa_labeled simple_arithmetic_nospaces simple_arithmetic_withspaces siqa "
    "squad winogender_mc_female winogender_mc_male winograd winogrande"
).split()


def main(root: str) -> None:
    root = Path(root)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["run", "dataset", "model", "params", "params_no_embed", "tokens", "token_multiplier",
                  "loss_c4_val"] + [f"acc_{t}" for t in TASKS_46])
    rows = []
    for path in sorted((root / "exp_data" / "models").glob("*.json")):
        run = json.loads(path.read_text())
        hp = run["hyperparameters"]
        losses = {r["val_data"][0].split("/")[-2]: r["loss"] for r in run["results"]}
        evals = json.loads((root / "exp_data" / "evals" / f"evaluation_{path.stem}_heavy.json").read_text())
        icl = evals["eval_metrics"]["icl"]
        rows.append([run["name"], run["dataset_name"], hp["model"].split("/")[-1].removesuffix(".json"),
                     hp["params"], hp["params_no_embed"], hp["tokens"], float(20 * hp["chinchilla_multiplier"]),
                     repr(losses["c4_val"])] + [repr(icl[t]) for t in TASKS_46])
    out.writerows(sorted(rows, key=lambda r: (r[1], r[3], r[6])))


if __name__ == "__main__":
    main(sys.argv[1])
