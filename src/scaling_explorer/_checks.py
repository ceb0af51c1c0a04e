"""Input checks shared by the library: one place that turns bad numbers into clear errors."""

from __future__ import annotations

import numpy as np


def positive(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array, or raise ``ValueError`` naming ``name``.

    Parameters
    ----------
    name : str
        Argument name used in the message (e.g. ``"C (FLOPs)"``).
    value : array_like
        Number(s) that must all be finite and strictly positive.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        first = float(arr[bad].flat[0] if arr.ndim else arr)
        raise ValueError(f"{name} must be positive and finite, got {first:g}")
    return arr


def positive_scalar(name: str, value) -> float:
    """Like :func:`positive` for one number; returns a Python float."""
    arr = positive(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape {arr.shape}")
    return float(arr)
