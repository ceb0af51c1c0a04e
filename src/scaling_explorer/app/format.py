"""Number formatting for display."""

import numpy as np


def fmt_count(x: float, unit: str = "") -> str:
    """1.33e12 -> '1.33 T' (+ unit)."""
    if not np.isfinite(x):
        return "—"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {suffix}{unit}"
    return f"{x:.3g} {unit}".strip()
