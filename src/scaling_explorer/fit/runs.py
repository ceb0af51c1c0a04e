"""Reading training runs: CSV parsing and validation, nothing written to disk or executed.

Units: N in parameters, D in tokens, C = 6ND in FLOPs, loss in nats per token.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pandas as pd

from ..compute import tokens_for, training_flops

N_PARAMETERS = 5  # E, A, B, alpha, beta

_COLUMN_ALIASES = {
    "params": ("params", "model size", "parameters", "n", "n_params"),
    "tokens": ("tokens", "d", "n_tokens", "training tokens"),
    "flops": ("flops", "training flop", "training flops", "c", "compute"),
    "loss": ("loss", "final loss", "l"),
}
_MAX_LISTED = 8  # rows listed per problem in a RunsError


class RunsError(ValueError):
    """Bad runs table; ``problems`` lists every problem found, and the message shows them all."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(self._lead + "\n  - " + "\n  - ".join(self.problems))

    _lead = "cannot use these runs:"


class NotIdentifiedError(RunsError):
    """The runs cannot determine the law (constant loss, one size, a parameter pinned at a bound, ...).

    Raised instead of returning coefficients that would look like a result; never drawn.
    """

    _lead = "these runs cannot determine the law:"


class FitCancelled(Exception):
    """The caller's ``should_stop`` asked a fit or bootstrap to stop; nothing is returned."""


def _read_bytes(source, max_bytes: int) -> bytes:
    limit = f"{max_bytes:,} bytes"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        size = os.path.getsize(source)
        if size > max_bytes:
            raise RunsError([f"file is too large: {size:,} bytes, the limit is {limit}"])
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(f"source must be a path, bytes or a file-like object, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise RunsError([f"file is too large: more than {limit}, the limit is {limit}"])
    return data


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab, whichever the header line and the first rows use (csv.Sniffer)."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:  # one column, or no consistent delimiter: let the column check explain
        return ","


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask) + 1  # 1-based data rows (the header is not counted)
    listed = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}"


def read_runs(source, *, max_bytes: int = 10_000_000) -> pd.DataFrame:
    """Read a table of training runs into columns ``params``, ``tokens``, ``loss``, ``flops``.

    Parameters
    ----------
    source : str, os.PathLike, bytes or file-like
        CSV text (comma-, semicolon- or tab-separated) with columns params, tokens, loss, or params,
        flops, loss (tokens = flops / 6N), case-insensitive; Epoch's ``svg_extracted_data.csv``
        (``Model Size``, ``Training FLOP``, ``loss``) is accepted as is. Bytes are parsed in memory,
        never written or executed.
    max_bytes : int
        Size limit; larger input is refused.

    Returns
    -------
    pandas.DataFrame
        One row per run; ``flops = 6 * params * tokens``. If both tokens and flops are given,
        tokens are used.

    Raises
    ------
    RunsError
        Listing every problem found (row numbers count data rows from 1, header excluded).
    """
    data = _read_bytes(source, max_bytes)
    if b"\x00" in data:
        raise RunsError(["not a CSV text file: the input contains binary (NUL) bytes"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RunsError([f"not a CSV text file: not valid UTF-8 at byte {exc.start}"]) from None
    if not text.strip():
        raise RunsError(["the file is empty"])
    try:
        raw = pd.read_csv(io.StringIO(text), sep=_delimiter(text), dtype=str, keep_default_na=False,
                          skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise RunsError([f"not parseable as CSV: {str(exc).strip()}"]) from None

    lower = {str(c).strip().lower(): c for c in raw.columns}
    found = {}
    for name, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[name] = lower[alias]
                break
    problems = []
    missing = [n for n in ("params", "loss") if n not in found]
    if "tokens" not in found and "flops" not in found:
        missing.append("tokens or flops")
    if missing:
        problems.append(
            f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(found: {', '.join(map(str, raw.columns)) or 'none'}; "
            "need params, tokens, loss or params, flops, loss)"
        )
        raise RunsError(problems)

    used = ["params", "tokens" if "tokens" in found else "flops", "loss"]
    values = {}
    for name in used:
        column = found[name]
        text_values = raw[column].astype(str).str.strip()
        numbers = pd.to_numeric(text_values, errors="coerce").to_numpy(dtype=float)
        empty = (text_values == "").to_numpy() | text_values.str.lower().isin(["nan", "na", "n/a", "null"]).to_numpy()
        non_numeric = np.isnan(numbers) & ~empty
        bad_sign = ~np.isnan(numbers) & ~(np.isfinite(numbers) & (numbers > 0))
        label = f"column {column!r}"
        if empty.any():
            problems.append(f"{label}: missing value (empty or NaN) in {_rows(empty)}")
        if non_numeric.any():
            first = text_values[non_numeric].iloc[0]
            problems.append(f"{label}: not a number in {_rows(non_numeric)} (e.g. {first!r})")
        if bad_sign.any():
            problems.append(f"{label}: must be positive and finite in {_rows(bad_sign)}")
        values[name] = numbers
    if len(raw) < N_PARAMETERS:
        problems.append(f"too few runs: {len(raw)}, need at least {N_PARAMETERS} (one per fitted parameter)")
    if problems:
        raise RunsError(problems)

    params = values["params"]
    if "tokens" in values:
        tokens = values["tokens"]
    else:
        tokens = tokens_for(values["flops"], params)  # Besiroglu et al. 2024: D = C / 6N
    return pd.DataFrame(
        {"params": params, "tokens": tokens, "loss": values["loss"], "flops": training_flops(params, tokens)}
    )


def as_runs(runs) -> pd.DataFrame:
    """``runs`` as a checked runs table (a DataFrame as is, a path or text read by :func:`read_runs`)."""
    if isinstance(runs, pd.DataFrame):
        missing = [c for c in ("params", "tokens", "loss") if c not in runs.columns]
        if missing:
            raise RunsError([f"missing columns: {', '.join(missing)} (use read_runs to load a CSV)"])
        try:
            out = runs[["params", "tokens", "loss"]].astype(float).reset_index(drop=True)
        except (TypeError, ValueError) as exc:
            raise RunsError([f"params, tokens and loss must be numbers ({exc})"]) from None
        bad = ~np.isfinite(out.to_numpy()) | (out.to_numpy() <= 0)
        if bad.any():
            raise RunsError([f"params, tokens and loss must be positive and finite ({_rows(bad.any(axis=1))})"])
        out["flops"] = training_flops(out["params"], out["tokens"])
        return out
    return read_runs(runs)


def drop_highest_loss(runs: pd.DataFrame, k: int) -> pd.DataFrame:
    """``runs`` without its ``k`` highest-loss rows (ties broken by order), as the fit uses them."""
    if k < 0 or k != int(k):
        raise ValueError(f"exclude_highest_loss must be a non-negative integer, got {k!r}")
    if k == 0:
        return runs
    keep = runs["loss"].rank(method="first", ascending=False) > k
    return runs[keep].reset_index(drop=True)

