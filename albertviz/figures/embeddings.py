"""Figures of the Embeddings page: hashed vectors, collisions, sizes and the size/accuracy/latency trade-off."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albertviz.figures.axes import log_axis
from albertviz.figures.palette import OKABE_ITO

EMBEDDING_COLORS = {"full": OKABE_ITO["blue"], "factorized": OKABE_ITO["orange"], "hashed": OKABE_ITO["bluish green"]}
_MARGIN = dict(l=10, r=10, t=60, b=40)


def ngram_heatmap(ngrams: Sequence[str], vectors: np.ndarray, pooled: np.ndarray, max_dims: int = 64) -> go.Figure:
    """One row per n-gram vector and a last row for their pooled mean: the hashed embedding, built up."""
    k = min(max_dims, vectors.shape[1])
    z = np.vstack([vectors[:, :k], pooled[None, :k]])
    labels = [f"{g!r}" for g in ngrams] + ["POOLED"]
    fig = go.Figure(go.Heatmap(z=z, y=labels, x=list(range(k)), colorscale="RdBu", zmid=0, zmin=-1, zmax=1,
                               colorbar=dict(title="value"),
                               hovertemplate="%{y} · dim %{x}: %{z:.3f}<extra></extra>"))
    fig.update_layout(title=f"Each n-gram's hashed vector (first {k} of {vectors.shape[1]} dims) and the pooled one",
                      xaxis_title="dimension", yaxis_title="n-gram", yaxis_autorange="reversed",
                      height=160 + 22 * len(labels), margin=_MARGIN)
    return fig


def vector_strips(vectors: dict[str, np.ndarray]) -> go.Figure:
    """Each labelled vector as a one-row heatmap strip, on a shared colour scale per strip's own range."""
    names = list(vectors)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[f"{n} ({len(vectors[n])} dims)" for n in names],
                        vertical_spacing=0.5 / max(1, len(names)))
    for i, name in enumerate(names, start=1):
        v = np.asarray(vectors[name], dtype=float)
        lim = float(np.abs(v).max()) or 1.0
        fig.add_trace(go.Heatmap(z=v[None, :], x=list(range(len(v))), y=[""], colorscale="RdBu", zmid=0,
                                 zmin=-lim, zmax=lim, showscale=False,
                                 hovertemplate=f"{name} · dim %{{x}}: %{{z:.3f}}<extra></extra>"), row=i, col=1)
    # Strips differ in length, so each keeps its own ticks; one axis title at the bottom leaves room for the
    # next strip's title.
    fig.update_xaxes(title_text="dimension", row=len(names), col=1)
    fig.update_layout(title="The same token: hashed vector vs learned rows (red > 0 > blue, each strip scaled to "
                      "its own max)", height=120 + 110 * len(names), margin=_MARGIN)
    return fig


def nn_cosine_histogram(nn_cos: np.ndarray, threshold: float) -> go.Figure:
    """How close each token's nearest other token is, with the near-collision threshold marked."""
    fig = go.Figure(go.Histogram(x=nn_cos, nbinsx=80, marker_color=EMBEDDING_COLORS["hashed"],
                                 hovertemplate="cosine %{x}: %{y} tokens<extra></extra>"))
    fig.add_vline(x=threshold, line_dash="dash", line_color="crimson",
                  annotation_text=f"threshold {threshold:.2f}", annotation_position="top left")
    fig.update_layout(title="Cosine of every token's hashed vector to its nearest other token",
                      xaxis_title="cosine to the nearest other token", yaxis_title="tokens (log scale)",
                      height=340, margin=_MARGIN, bargap=0.02)
    counts, _ = np.histogram(nn_cos, bins=80)
    fig.update_yaxes(**log_axis([1, *counts]))
    return fig


def size_bars(records: Sequence[dict], dtype: str = "fp32") -> go.Figure:
    """Stacked bars per model × embedding type: MB held by embeddings vs the rest of the encoder."""
    x = [[r["model"] for r in records], [r["embedding"] for r in records]]
    emb = [r["embedding params"] / r["parameters"] * r[f"MB {dtype}"] for r in records]
    rest = [r[f"MB {dtype}"] - e for r, e in zip(records, emb, strict=True)]
    fig = go.Figure()
    fig.add_bar(x=x, y=emb, name="embeddings", marker_color="#E45756",
                hovertemplate="embeddings: %{y:.2f} MB<extra></extra>")
    fig.add_bar(x=x, y=rest, name="everything else", marker_color="#BAB0AC",
                text=[f"{r[f'MB {dtype}']:.1f}" for r in records], textposition="outside",
                hovertemplate="rest: %{y:.2f} MB<extra></extra>")
    fig.update_layout(barmode="stack", title=f"Encoder size in {dtype}: embeddings vs the rest",
                      yaxis_title=f"MB ({dtype}, log scale)", height=420, margin=_MARGIN,
                      legend=dict(orientation="h", y=1.08, x=1, xanchor="right"))
    fig.update_yaxes(**log_axis([*emb, *(r[f"MB {dtype}"] for r in records)]))
    return fig


def latency_bars(methods: Sequence[str], us_per_token: Sequence[float], n_tokens: int) -> go.Figure:
    """Measured time per token for each way of getting word vectors (log scale: they differ by 100×+)."""
    fig = go.Figure(go.Bar(y=list(methods), x=list(us_per_token), orientation="h",
                           marker_color=["#4C78A8", "#F58518", "#9ECF8F", "#54A24B"][:len(methods)],
                           text=[f"{u:.2f} µs" for u in us_per_token], textposition="outside",
                           hovertemplate="%{y}: %{x:.3f} µs per token<extra></extra>"))
    fig.update_layout(title=f"Word vectors for a batch of {n_tokens:,} tokens on this CPU",
                      xaxis_title="µs per token (median, log scale)", height=300, margin=_MARGIN)
    fig.update_xaxes(**log_axis(us_per_token))
    fig.update_yaxes(autorange="reversed")
    return fig


LABEL_SIDES = {"none": "top center", "all": "bottom center", "ffn": "middle right", "attention": "middle left"}


def price_chart(points: Sequence[dict]) -> go.Figure:
    """Zoo cells: size (x), held-out MLM accuracy (y), embedding latency (bubble area), by embedding type."""
    fig = go.Figure()
    lat = [p["ms per batch"] for p in points if p["ms per batch"]]
    scale = max(lat) if lat else 1.0
    for emb, color in EMBEDDING_COLORS.items():
        sel = [p for p in points if p["embedding"] == emb]
        if not sel:
            continue
        sizes = [14 + 46 * np.sqrt((p["ms per batch"] or 0) / scale) for p in sel]
        fig.add_scatter(x=[p["MB"] for p in sel], y=[100 * p["held-out accuracy"] for p in sel], mode="markers+text",
                        name=emb, marker=dict(size=sizes, color=color, opacity=0.7, line=dict(width=1)),
                        text=[p["sharing"] for p in sel],
                        # one side per sharing mode: cells of one embedding type sit close together, and
                        # labels all on the right ran into each other
                        textposition=[LABEL_SIDES.get(p["sharing"], "middle right") for p in sel],
                        customdata=[[p["cell"], p["ms per batch"] or float("nan"), p["parameters"]] for p in sel],
                        hovertemplate="%{customdata[0]}<br>%{x:.2f} MB · %{customdata[2]:,} params<br>"
                                      "held-out accuracy %{y:.1f}%<br>embedding: %{customdata[1]:.2f} ms per batch"
                                      "<extra></extra>")
    fig.update_layout(title="The price: size vs held-out MLM accuracy (bubble area = embedding latency)",
                      xaxis_title="model size, encoder + MLM head (MB, fp32)", yaxis_title="held-out MLM accuracy (%)",
                      height=440, margin=_MARGIN, legend_title="embedding")
    return fig
