"""Number formatting for the page: one way everywhere.

On the page a number has three significant digits: counts with SI-style words up to trillions
(``72.1 B``, ``1.34 T``), anything larger or any FLOP count in short scientific notation
(``5.76e23``). Exports (CSV, JSON, code) keep the exact values; a box the user types into shows
the shortest text that reads back as the same float (:func:`scaling_explorer.app.bind.fmt_exact`).
"""

from __future__ import annotations

import math
import string

from matplotlib.ticker import FuncFormatter

_WORDS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def fmt_sci(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, scientific when large or small: 5.76e23, 0.4, 1e-05 -> 1e-5."""
    if x is None or not math.isfinite(x):
        return "—"
    text = f"{x:.{digits}g}"
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_power_of_ten(x: float, pos: int | None = None) -> str:
    r"""A log axis's tick in plain text: ``10²³``, ``3×10²³``.

    Matplotlib's default (``$\mathdefault{10^{23}}$``) goes through mathtext, whose parser costs
    every new kernel about 0.5 CPU-s (a sixth of its first page build) for a dozen tick labels.
    ``pos`` is unused (the ``matplotlib.ticker.FuncFormatter`` signature).
    """
    if not (x > 0 and math.isfinite(x)):
        return ""
    exponent = math.floor(math.log10(x) + 1e-9)
    mantissa = x / 10.0**exponent
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if abs(mantissa - 1) < 1e-6 else f"{mantissa:.3g}×{power}"


def log_ticks_as_text(*axes) -> None:
    """Label the ticks of each of ``axes`` (``ax.xaxis``, ``ax.yaxis``) with :func:`fmt_power_of_ten`."""
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(fmt_power_of_ten))


def fmt_flops(x: float | None) -> str:
    """A FLOP count: 5.76e23 (``—`` for none)."""
    return "—" if x is None else fmt_sci(x)


def fmt_count(x: float, unit: str = "") -> str:
    """A count to three significant digits with SI-style words: 72.1 B, 1.34 T; from 1e15 up 1.81e20 (+ unit)."""
    if x is None or not math.isfinite(x):
        return "—"
    rounded = float(f"{x:.3g}")  # 999.7e9 is 1.00 T, not "1e+03 B"
    if abs(rounded) >= 1e15:
        return f"{fmt_sci(x)} {unit}".strip()
    for scale, suffix in _WORDS:
        if abs(rounded) >= scale:
            return f"{rounded / scale:.3g} {suffix}{unit}"
    return f"{fmt_sci(x)} {unit}".strip()


class _PageFormatter(string.Formatter):
    """``str.format`` with one more spec, ``count``: a count as :func:`fmt_count` writes it."""

    def format_field(self, value, format_spec: str) -> str:
        return fmt_count(value) if format_spec == "count" else super().format_field(value, format_spec)


_FORMATTER = _PageFormatter()


class _FieldsOf(dict):
    def __init__(self, scenario):
        super().__init__()
        self.scenario = scenario

    def __missing__(self, name: str):
        return getattr(self.scenario, name)


def fill(template: str, scenario) -> str:
    """A template over the scenario's fields (an extra's caption), written as the page writes numbers.

    ``fill("with U = {unique_tokens:count} unique tokens", s)`` gives ``with U = 200 B unique tokens``.
    """
    return _FORMATTER.vformat(template, (), _FieldsOf(scenario))
