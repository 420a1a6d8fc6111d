"""Figures of the Parameter explorer: where the parameters sit, with and without sharing."""

from __future__ import annotations

import plotly.graph_objects as go

from ..params import ParamReport

COMPONENT_COLORS = {"embeddings": "#4C78A8", "attention": "#F58518", "ffn": "#54A24B", "pooler": "#B279A2",
                    "head": "#9D755D"}


def component_bars(reports: dict[str, ParamReport]) -> go.Figure:
    """Stacked horizontal bars, one per labelled report, split by component (millions)."""
    labels = list(reports)
    fig = go.Figure()
    components = [c for c in COMPONENT_COLORS if any(c in r.by_component for r in reports.values())]
    for comp in components:
        values = [reports[k].by_component.get(comp, 0) / 1e6 for k in labels]
        fig.add_bar(y=labels, x=values, name=comp, orientation="h", marker_color=COMPONENT_COLORS[comp],
                    hovertemplate=f"{comp}: %{{x:.2f}}M<extra>%{{y}}</extra>")
    # The unit lives in the title: an x-axis title would collide with the legend below the bars.
    fig.update_layout(barmode="stack", title="Parameters by component (millions)",
                      height=140 + 45 * len(labels), margin=dict(l=10, r=10, t=50, b=40),
                      legend=dict(orientation="h", y=-0.35 if len(labels) < 3 else -0.2))
    fig.update_yaxes(autorange="reversed")
    return fig


def grid_bars(rows: list[dict]) -> go.Figure:
    """Grouped bars: unique parameters for each sharing mode (groups) and embedding type (colours)."""
    fig = go.Figure()
    for emb, color in zip(("full", "factorized", "hashed"), ("#4C78A8", "#F58518", "#54A24B"), strict=True):
        sel = [r for r in rows if r["embedding"] == emb]
        if not sel:
            continue
        fig.add_bar(x=[r["sharing"] for r in sel], y=[r["parameters"] / 1e6 for r in sel],
                    name=f"{emb} (E={sel[0]['E']})", marker_color=color,
                    text=[f"{r['parameters'] / 1e6:.1f}M" for r in sel], textposition="outside",
                    hovertemplate="%{x}: %{y:.2f}M parameters<extra>" + emb + "</extra>")
    fig.update_layout(barmode="group", title="Same shape, every sharing mode × embedding type",
                      xaxis_title="sharing mode", yaxis_title="unique parameters (millions)", height=380,
                      margin=dict(l=10, r=10, t=50, b=40))
    return fig
