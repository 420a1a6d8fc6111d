"""A row of side-by-side panels, laid out the way plotly's `make_subplots(rows=1, cols=n)` does — without it.

make_subplots validates every axis and annotation it creates through plotly's property machinery: 90–150 ms on
this CPU for one or two rows of panels, more than the rest of the figure. The Attention and Hidden states pages
rebuild such figures for every new sentence a student types, so those figures take their layout from here: plain
dicts with the same domains, anchors, shared axes and title annotations (tests/unit/test_panels.py compares them
with make_subplots' own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import plotly.graph_objects as go

TITLE_FONT = 16  # make_subplots' subplot-title size


def _suffix(col: int) -> str:
    return "" if col == 1 else str(col)


@dataclass
class Panels:
    """One row of panels: `layout` holds the axes and the titles; columns count from 1, as in plotly."""

    layout: dict = field(default_factory=dict)

    def refs(self, col: int) -> dict[str, str]:
        """A trace's axis references for panel `col` (`go.Scatter(..., **panels.refs(2))`)."""
        return {"xaxis": f"x{_suffix(col)}", "yaxis": f"y{_suffix(col)}"}

    def xaxis(self, col: int, **props) -> dict:
        """Panel `col`'s x-axis dict in `layout`, updated with `props`."""
        axis = self.layout[f"xaxis{_suffix(col)}"]
        axis.update(props)
        return axis

    def yaxis(self, col: int, **props) -> dict:
        axis = self.layout[f"yaxis{_suffix(col)}"]
        axis.update(props)
        return axis


def row_of_panels(n: int, titles: Sequence[str] = (), spacing: float | None = None,
                  widths: Sequence[float] | None = None, shared_y: bool = False,
                  title_size: int = TITLE_FONT) -> Panels:
    """What `make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=spacing,
    column_widths=widths, shared_yaxes=shared_y)` puts in its layout."""
    spacing = 0.2 / n if spacing is None else spacing
    widths = list(widths) if widths is not None else [1.0] * n
    if len(widths) != n:
        raise ValueError(f"{n} panels need {n} widths, not {len(widths)}")
    room = 1 - spacing * (n - 1)
    layout: dict = {}
    titles = list(titles)
    annotations = []
    start = 0.0
    for col in range(1, n + 1):
        width = room * widths[col - 1] / sum(widths)
        sfx = _suffix(col)
        domain = [start, min(1.0, start + width)]
        layout[f"xaxis{sfx}"] = {"anchor": f"y{sfx}", "domain": domain}
        layout[f"yaxis{sfx}"] = {"anchor": f"x{sfx}", "domain": [0.0, 1.0]}
        if shared_y and col > 1:
            layout[f"yaxis{sfx}"].update(matches="y", showticklabels=False)
        if col <= len(titles) and titles[col - 1]:
            annotations.append({"font": {"size": title_size}, "showarrow": False, "text": titles[col - 1],
                                "x": (domain[0] + domain[1]) / 2, "xanchor": "center", "xref": "paper",
                                "y": 1.0, "yanchor": "bottom", "yref": "paper"})
        start += width + spacing
    if annotations:
        layout["annotations"] = annotations
    return Panels(layout)


def unvalidated(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts without plotly's property checks, which are most of building a small figure
    (a 128-token head map: ~25 ms of a rerun's CPU). Spell every property out as the checks would leave it:
    `marker=dict(color=…)`, never `marker_color`; titles as {"text": …}; colour scales as lists. Tests compare
    each such builder's JSON with a validated copy's."""
    traces = [{name: value for name, value in trace.items() if value is not None} for trace in data]
    return go.Figure(_validate=False, data=traces, layout=layout)
