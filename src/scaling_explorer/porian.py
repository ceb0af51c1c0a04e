"""Porian et al. 2024: the Kaplan-to-Chinchilla exponent, one correction at a time (their released data)."""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Porian et al. 2024: the exponent, one correction at a time
# ---------------------------------------------------------------------------------------------

PORIAN = ("Porian, Wortsman, Jitsev, Schmidt & Carmon 2024, Resolving Discrepancies in Compute-Optimal "
          "Scaling of Language Models, arXiv:2406.19146 "
          "(released summary data, formll/resolving-scaling-law-discrepancies)")
PORIAN_COLUMNS = ["sequence", "step", "correction", "dataset", "flop_count", "loss", "warmup", "decay", "hparams",
                  "exponent", "ci_low", "ci_high", "prefactor", "flops_low", "flops_high", "source_url",
                  "source_detail"]


def _data_file(name: str):
    """A file of ``data/``: package data where the package ships it, else the checkout's data/."""
    try:
        from importlib.resources import files

        candidate = files("scaling_explorer.data") / name
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "data" / name


def load_porian_steps(dataset: str | None = "RefinedWeb", sequence: str | None = "main"):
    """Porian et al.'s fitted exponent a (N* ∝ C**a) after each cumulative correction.

    Parameters
    ----------
    dataset : str or None
        ``"RefinedWeb"`` (the paper's Figure 1), ``"OpenWebText2"``, or None for both.
    sequence : str or None
        ``"main"`` (last-layer FLOPs counted at step 1), ``"attention"`` (attention FLOPs counted
        too; it starts from the same step 0), or None for both.

    Returns
    -------
    DataFrame
        One row per step in order, with the columns of ``data/porian2024_steps.csv``
        (see ``data/README.md``).
    """
    import io

    import pandas as pd

    table = pd.read_csv(io.BytesIO(_data_file("porian2024_steps.csv").read_bytes()))
    if list(table.columns) != PORIAN_COLUMNS:
        raise ValueError(f"porian2024_steps.csv: expected columns {PORIAN_COLUMNS}, got {list(table.columns)}")
    if dataset is not None:
        if dataset not in set(table["dataset"]):
            known = ", ".join(sorted(set(table["dataset"])))
            raise ValueError(f"dataset must be one of {known} or None, got {dataset!r}")
        table = table[table["dataset"] == dataset]
    if sequence is not None:
        if sequence not in ("main", "attention"):
            raise ValueError(f"sequence must be 'main', 'attention' or None, got {sequence!r}")
        if sequence == "attention":  # the attention variant shares step 0 with the main sequence
            table = pd.concat([table[(table["sequence"] == "main") & (table["step"] == 0)],
                               table[table["sequence"] == "attention"]])
        else:
            table = table[table["sequence"] == "main"]
    return table.reset_index(drop=True)

