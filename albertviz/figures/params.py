"""Figures of the Parameter explorer: where the parameters sit, with and without sharing."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from albertviz.core.params import ParamReport
from albertviz.figures.palette import OKABE_ITO, SHARING_COLORS

# attention and FFN in the colours of the sharing modes that share them
COMPONENT_COLORS = {"embeddings": OKABE_ITO["sky blue"], "attention": SHARING_COLORS["attention"],
                    "ffn": SHARING_COLORS["ffn"], "pooler": OKABE_ITO["orange"], "head": OKABE_ITO["yellow"]}


def component_bars(reports: dict[str, ParamReport]) -> go.Figure:
    """Stacked horizontal bars, one per labelled report, split by component (millions)."""
    labels = list(reports)
    components = [c for c in COMPONENT_COLORS if any(c in r.by_component for r in reports.values())]
    # One constructor call, not add_bar + update_layout: plotly validates each incremental update, and on a
    # cache miss the Parameter explorer builds this figure while the student waits (4× faster this way).
    bars = [go.Bar(y=labels, x=[reports[k].by_component.get(comp, 0) / 1e6 for k in labels], name=comp,
                   orientation="h", marker={"color": COMPONENT_COLORS[comp]},
                   hovertemplate=f"{comp}: %{{x:.2f}}M<extra>%{{y}}</extra>") for comp in components]
    # The unit lives in the title: an x-axis title would collide with the legend below the bars.
    return go.Figure(bars, go.Layout(barmode="stack", title={"text": "Parameters by component (millions)"},
                                     height=140 + 45 * len(labels), margin=dict(l=10, r=10, t=50, b=40),
                                     legend=dict(orientation="h", y=-0.35 if len(labels) < 3 else -0.2),
                                     yaxis={"autorange": "reversed"}))


def grid_bars(rows: list[dict]) -> go.Figure:
    """Grouped bars: unique parameters for each sharing mode (groups) and embedding type (colours)."""
    bars = []
    for emb, color in zip(("full", "factorized", "hashed"),
                          (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish green"]), strict=True):
        sel = [r for r in rows if r["embedding"] == emb]
        if sel:
            bars.append(go.Bar(x=[r["sharing"] for r in sel], y=[r["parameters"] / 1e6 for r in sel],
                               name=f"{emb} (E={sel[0]['E']})", marker={"color": color},
                               text=[f"{r['parameters'] / 1e6:.1f}M" for r in sel], textposition="outside",
                               hovertemplate="%{x}: %{y:.2f}M parameters<extra>" + emb + "</extra>"))
    return go.Figure(bars, go.Layout(barmode="group", title={"text": "Same shape, every sharing mode × embedding type"},
                                     xaxis={"title": {"text": "sharing mode"}},
                                     yaxis={"title": {"text": "unique parameters (millions)"}}, height=380,
                                     margin=dict(l=10, r=10, t=50, b=40)))


def albert_waterfall(names: Sequence[str], counts: Sequence[int], printed: Sequence[int],
                     pooler: bool) -> go.Figure:
    """Home's picture: BERT-base → factorized embedding → all layers shared, as a waterfall (millions).

    `names`, `counts` (parameters) and `printed` (the paper's millions) hold the three configurations in order;
    the two drops between them are the differences of the counts, nothing else.
    """
    first, middle, last = (c / 1e6 for c in counts)
    # two short lines per bar: one long line each made plotly tilt them all
    x = [n.replace(" (", "<br>(") for n in (names[0], "factorize the<br>embedding", names[1], "share all<br>layers",
                                             names[2])]
    y = [first, middle - first, middle, last - middle, last]
    text = [f"{first:.2f}M", f"−{first - middle:.2f}M", f"{middle:.2f}M", f"−{middle - last:.2f}M", f"{last:.2f}M"]
    paper = [f"ALBERT Table 4 prints {printed[0]}M", "", f"Table 4 prints {printed[1]}M", "",
             f"Table 4 prints {printed[2]}M"]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=["absolute", "relative", "total", "relative", "total"], text=text,
        textposition="outside", cliponaxis=False, customdata=paper,
        connector={"line": {"color": "#999999", "dash": "dot"}},
        increasing={"marker": {"color": SHARING_COLORS["none"]}},
        decreasing={"marker": {"color": OKABE_ITO["orange"]}},
        totals={"marker": {"color": SHARING_COLORS["none"]}},
        hovertemplate="%{x}: %{text}<br>%{customdata}<extra></extra>"))
    fig.update_layout(title=f"BERT-base → ALBERT-base ({'with' if pooler else 'without'} the pooler)",
                      yaxis_title="parameters (millions)", height=420, showlegend=False,
                      margin=dict(l=10, r=10, t=60, b=40))
    fig.update_yaxes(range=[0, first * 1.15])
    return fig


def layer_stack(unshared: ParamReport, shared: ParamReport, layers: int) -> go.Figure:
    """12 layers with 12 stored blocks beside 12 layers that all run one stored block (ALBERT).

    Block sizes are the counter's attention + FFN parameters: divided by L without sharing, whole with it.
    """
    block = (unshared.by_component["attention"] + unshared.by_component["ffn"]) / layers / 1e6
    one = (shared.by_component["attention"] + shared.by_component["ffn"]) / 1e6
    fig = go.Figure()
    none_c, all_c = SHARING_COLORS["none"], SHARING_COLORS["all"]
    for i in range(layers):
        y0 = i
        fig.add_shape(type="rect", x0=0, x1=1.6, y0=y0 + 0.08, y1=y0 + 0.92, line=dict(color=none_c),
                      fillcolor=none_c, opacity=0.35 + 0.5 * (i % 2))
        fig.add_annotation(x=0.8, y=y0 + 0.5, text=f"L{i + 1} · block {i + 1}", showarrow=False,
                           font=dict(size=11))
        fig.add_shape(type="rect", x0=2.4, x1=4.0, y0=y0 + 0.08, y1=y0 + 0.92, line=dict(color=all_c),
                      fillcolor=all_c, opacity=0.25)
        fig.add_annotation(x=3.2, y=y0 + 0.5, text=f"L{i + 1} · block 1", showarrow=False, font=dict(size=11))
        fig.add_shape(type="line", x0=4.0, x1=4.8, y0=y0 + 0.5, y1=layers / 2, line=dict(color=all_c, width=1))
    fig.add_shape(type="rect", x0=4.8, x1=6.4, y0=layers / 2 - 1.5, y1=layers / 2 + 1.5, line=dict(color=all_c),
                  fillcolor=all_c, opacity=0.85)
    fig.add_annotation(x=5.6, y=layers / 2, showarrow=False, font=dict(color="white", size=12),
                       text=f"<b>block 1</b><br>{one:.2f}M<br>stored once,<br>run {layers}×")
    fig.add_annotation(x=0.8, y=layers + 0.2, showarrow=False, yanchor="bottom",
                       text=f"<b>BERT-base</b><br>{layers} blocks stored<br>{layers} × {block:.2f}M = "
                            f"{layers * block:.1f}M")
    fig.add_annotation(x=4.4, y=layers + 0.2, showarrow=False, yanchor="bottom",
                       text=f"<b>ALBERT-base</b><br>1 block stored<br>{one:.2f}M, run {layers}×")
    fig.add_trace(go.Scatter(x=[0, 6.4], y=[0, layers + 3], mode="markers", marker=dict(opacity=0),
                             hoverinfo="skip", showlegend=False))
    fig.update_xaxes(visible=False, range=[-0.1, 6.5])
    fig.update_yaxes(visible=False, range=[-0.2, layers + 3.4], autorange=False)
    fig.update_layout(title=f"Same {layers} layers, one stored block", height=420, margin=dict(l=10, r=10, t=60, b=10),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig
