"""Axis conventions shared by the figures.

Plotly's automatic log ticks label the 2s and 5s between decades with their leading digit only, so an axis
read "5, 2, 1, 5, 2, 0.1". `log_axis` asks for whole numbers instead: one tick per decade when the data span
two decades or more, plotly's finer ticks (now written out, "0.2", "0.5") when they span less.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def log_axis(values: Iterable[float]) -> dict:
    """Keyword arguments for `update_xaxes`/`update_yaxes` (or a layout axis dict) of a readable log axis."""
    positive = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    axis: dict[str, Any] = {"type": "log", "tickformat": "~g", "minor": {"showgrid": True, "ticks": ""}}
    if positive and math.log10(max(positive)) - math.log10(min(positive)) >= 2:
        axis["dtick"] = 1
    return axis
