"""Figures for the Hidden states page: ALBERT Fig. 1, layer-similarity maps, token paths, surgery drift.

Pure builders: numpy arrays (per-layer series, (L+1)×(L+1) matrices, (L+1, T, H) hidden states)
and token strings in, `go.Figure` out. Token strings come from users, so they are HTML-escaped
before plotly sees them (plotly renders a subset of HTML in labels and hover text).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from albertviz.analysis.measures import pca_2d
from albertviz.figures.palette import SERIES
from albertviz.figures.panels import row_of_panels

COLORS = SERIES  # Okabe-Ito: the models picked on the page, in order


def _esc(tokens: Sequence[str]) -> list[str]:
    return [html.escape(str(t), quote=False) for t in tokens]


def layer_names(num_layers: int) -> list[str]:
    """'emb', 'L1', …: hidden state 0 is the embedding output, state i the output of layer i."""
    return ["emb"] + [f"L{i}" for i in range(1, num_layers + 1)]


def fig1_figure(sentence: Mapping[str, Mapping[str, np.ndarray]],
                held_out: Mapping[str, Mapping[str, Sequence[float]] | None] | None = None) -> go.Figure:
    """ALBERT Fig. 1: per layer, L2 distance (left) and angle in degrees (right) between input and output.

    `sentence` maps a model label to {"l2", "degrees"} (L values each) for this sentence: solid lines.
    `held_out` maps the same labels to the precomputed held-out averages (dashed, ± 1 s.d. bars).
    """
    panels = row_of_panels(2, spacing=0.1, titles=("L2 distance, input → output",
                                                   "Angle between input and output (degrees)"))
    traces = []
    for i, (name, series) in enumerate(sentence.items()):
        color = COLORS[i % len(COLORS)]
        label = html.escape(name, quote=False)
        for col, metric in ((1, "l2"), (2, "degrees")):
            y = np.asarray(series[metric], dtype=float)
            x = np.arange(1, len(y) + 1)
            traces.append(go.Scatter(x=x, y=y.round(4), mode="lines+markers", name=f"{label} · this sentence",
                                     legendgroup=f"s{i}", showlegend=col == 1, line={"color": color},
                                     hovertemplate=f"{label}<br>layer %{{x}}: %{{y:.3f}}<extra></extra>",
                                     **panels.refs(col)))
            avg = (held_out or {}).get(name)
            if avg is not None:
                ya = np.asarray(avg[metric], dtype=float)
                sd = np.asarray(avg.get(f"{metric}_std", np.zeros_like(ya)), dtype=float)
                traces.append(go.Scatter(
                    x=np.arange(1, len(ya) + 1), y=ya.round(4), mode="lines+markers",
                    name=f"{label} · held-out mean", legendgroup=f"h{i}", showlegend=col == 1,
                    line={"color": color, "dash": "dash"}, marker={"symbol": "diamond"},
                    error_y={"type": "data", "array": sd.round(4), "visible": True, "thickness": 1},
                    hovertemplate=f"{label} (held-out mean)<br>layer %{{x}}: %{{y:.3f}}<extra></extra>",
                    **panels.refs(col)))
    for col, unit in ((1, "L2 distance (hidden-state units)"), (2, "angle (degrees)")):
        panels.xaxis(col, title={"text": "layer"}, dtick=1)
        panels.yaxis(col, title={"text": unit}, rangemode="tozero")
    return go.Figure(data=traces, layout=dict(**panels.layout, title="How much each layer changes its input "
                                              "(ALBERT Fig. 1)", height=420, legend={"orientation": "h", "y": -0.22},
                                              margin={"t": 80}))


def similarity_heatmap(matrix: np.ndarray, title: str, metric: str) -> go.Figure:
    """(L+1)×(L+1) similarity between the hidden states of every pair of layers (emb = embeddings)."""
    names = layer_names(matrix.shape[0] - 1)
    fig = go.Figure(go.Heatmap(z=np.round(matrix, 4), x=names, y=names, zmin=min(0.0, float(matrix.min())),
                               zmax=1.0, colorscale="Viridis", colorbar={"title": metric},
                               texttemplate="%{z:.2f}",
                               hovertemplate=f"%{{y}} vs %{{x}}<br>{metric}: %{{z:.3f}}<extra></extra>"))
    fig.update_layout(title=html.escape(title, quote=False), height=380, margin={"t": 60})
    fig.update_xaxes(title_text="hidden state (layer output)")
    fig.update_yaxes(title_text="hidden state (layer output)", autorange="reversed")
    return fig


def trajectory_figure(states: np.ndarray, tokens: Sequence[str], index: int, title: str) -> go.Figure:
    """One token's path through the layers in the 2-D PCA plane of all tokens' states at all layers.

    `states` is (L+1, T, H). The PCA is fitted on every (layer, token) point, so the faint cloud shows
    where the sentence lives and the bold path shows how far this token travels and whether it settles.
    """
    n_states, T, H = states.shape
    proj = pca_2d(states.reshape(-1, H).astype(np.float64)).reshape(n_states, T, 2)
    names = layer_names(n_states - 1)
    toks = _esc(tokens)
    cloud_text = [f"{toks[t]} @ {names[s]}" for s in range(n_states) for t in range(T)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=proj[..., 0].ravel().round(4), y=proj[..., 1].ravel().round(4), mode="markers",
                             name="all tokens, all layers", text=cloud_text, hoverinfo="text",
                             marker={"color": "lightgray", "size": 5}))
    path = proj[:, index]  # (L+1, 2)
    # Label a layer only where it does not land on one already labelled (hover names every point): layers
    # that barely move the token sat on top of each other as "L2L3L4".
    span = float(np.ptp(proj.reshape(-1, 2), axis=0).max()) or 1.0
    shown: list[int] = []
    for i in [0, n_states - 1, *range(1, n_states - 1)]:
        if all(np.linalg.norm(path[i] - path[j]) > 0.06 * span for j in shown):
            shown.append(i)
    labels = [names[i] if i in shown else "" for i in range(n_states)]
    fig.add_trace(go.Scatter(x=path[:, 0].round(4), y=path[:, 1].round(4), mode="lines+markers+text",
                             name=f"'{toks[index]}' through the layers", text=labels, customdata=names,
                             textposition=[("top " if i % 2 else "bottom ") + ("right" if i % 4 < 2 else "left")
                                           for i in range(n_states)], textfont={"size": 11},
                             marker={"size": 9, "color": np.arange(n_states), "colorscale": "Plasma"},
                             line={"color": "black", "width": 1.5},
                             hovertemplate=f"'{toks[index]}' at %{{customdata}}<extra></extra>"))
    fig.update_layout(title=html.escape(title, quote=False), height=400, margin={"t": 60},
                      legend={"orientation": "h", "y": -0.2})
    fig.update_xaxes(title_text="principal component 1")
    fig.update_yaxes(title_text="principal component 2")
    return fig


def token_drift_figure(tokens: Sequence[str], cosine: np.ndarray) -> go.Figure:
    """Per token: cosine between the changed model's last hidden state and the original's."""
    x = [f"{i}:{t}" for i, t in enumerate(_esc(tokens))]
    fig = go.Figure(go.Bar(x=x, y=np.round(cosine, 4), marker={"color": cosine, "colorscale": "RdYlGn",
                                                               "cmin": 0, "cmax": 1},
                           hovertemplate="%{x}<br>cosine %{y:.3f}<extra></extra>"))
    fig.update_layout(title="Final hidden state vs. original, per token", height=340,
                      margin={"t": 60})
    fig.update_xaxes(title_text="token (position:token)")
    fig.update_yaxes(title_text="cosine similarity to original", range=[min(0.0, float(cosine.min())), 1.02])
    return fig


def attention_drift_figure(tv: np.ndarray) -> go.Figure:
    """Per layer: mean total-variation distance between the original's and the new attention rows."""
    x = np.arange(1, len(tv) + 1)
    fig = go.Figure(go.Bar(x=x, y=np.round(tv, 4), marker={"color": "indianred"},
                           hovertemplate="layer %{x}<br>TV distance %{y:.3f}<extra></extra>"))
    fig.update_layout(title="How much attention moved, per layer", height=340, margin={"t": 60})
    fig.update_xaxes(title_text="layer", dtick=1)
    fig.update_yaxes(title_text="mean TV distance (0 = same, 1 = disjoint)", range=[0, 1])
    return fig


def spectrum_figure(energy: np.ndarray, rank: int) -> go.Figure:
    """Cumulative share of the centred embedding's energy kept by the first r singular directions."""
    kept = np.cumsum(energy) / energy.sum()
    r = np.arange(1, len(kept) + 1)
    fig = go.Figure(go.Scatter(x=r, y=kept.round(5), mode="lines", name="energy kept",
                               hovertemplate="rank %{x}: %{y:.1%}<extra></extra>"))
    if rank > 0:
        fig.add_vline(x=rank, line_dash="dash", line_color="red",
                      annotation_text=f"kept: {rank} directions ({kept[rank - 1]:.0%})")
    fig.update_layout(title="Singular spectrum of MiniLM's embedding (word + position + type)", height=340,
                      margin={"t": 60})
    fig.update_xaxes(title_text="number of singular directions kept")
    fig.update_yaxes(title_text="share of energy kept", range=[0, 1.02], tickformat=".0%")
    return fig
