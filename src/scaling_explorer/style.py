"""Colours, line styles and markers shared by the page and the teaching notebooks.

Okabe-Ito colour-blind-safe palette. Model status is told by marker fill as well as colour, so
it survives colour-blindness and a washed-out projector.
"""

from __future__ import annotations

import zlib

from .catalog import NEAR_OPTIMAL, OVERTRAINED, UNDERTRAINED

LAW_STYLE: dict[str, dict] = {
    "kaplan2020": dict(color="#CC79A7", ls="-"),
    "hoffmann2022-approach1": dict(color="#000000", ls="-"),
    "hoffmann2022-approach2": dict(color="#777777", ls="--"),
    "hoffmann2022-approach3": dict(color="#E69F00", ls="-"),
    "hoffmann2022-approach3-unrounded": dict(color="#E69F00", ls=":"),
    "besiroglu2024": dict(color="#0072B2", ls="-"),
    # Later laws: the Okabe-Ito colours left, then Paul Tol's indigo and teal, each with its own dash
    # so no two laws share colour and line style (and the status colours stay on models).
    "sardana2024": dict(color="#D55E00", ls="--"),
    "muennighoff2023": dict(color="#009E73", ls="-."),
    "llama3-2024": dict(color="#56B4E9", ls="--"),
    "deepseek2024": dict(color="#332288", ls="-."),
    "krajewski2024": dict(color="#44AA99", ls=":"),
    "fit": dict(color="#882255", ls="-."),
}
# For laws the table does not know (a user's or a newly registered one): picked by a stable hash
# of the key, so a law keeps its colour across sessions and pages.
FALLBACK_COLORS = ("#009E73", "#D55E00", "#56B4E9", "#F0E442", "#332288", "#117733", "#AA4499", "#44AA99")
FALLBACK_LINESTYLES = ("-", "--", "-.", ":")

STATUS_COLOR = {UNDERTRAINED: "#D55E00", NEAR_OPTIMAL: "#009E73", OVERTRAINED: "#56B4E9"}
# Fill tells status without colour: hollow = undertrained, filled = near-optimal, half = over-trained.
STATUS_FILL = {UNDERTRAINED: "none", NEAR_OPTIMAL: "full", OVERTRAINED: "top"}
SHADE = {UNDERTRAINED: "#D55E00", OVERTRAINED: "#56B4E9"}
ARCHITECTURE_MARKER = {"dense": "o", "moe": "D"}


def law_style(key: str) -> dict:
    """``color`` and ``ls`` for the law registered as ``key``; a stable fallback for unknown keys."""
    if key in LAW_STYLE:
        return dict(LAW_STYLE[key])
    h = zlib.crc32(key.encode())
    return dict(color=FALLBACK_COLORS[h % len(FALLBACK_COLORS)],
                ls=FALLBACK_LINESTYLES[(h // len(FALLBACK_COLORS)) % len(FALLBACK_LINESTYLES)])


def law_color(key: str) -> str:
    """The colour of the law registered as ``key``."""
    return law_style(key)["color"]
