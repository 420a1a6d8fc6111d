"""Figures for the Attention page: head grids, one large head, the layer plan, per-layer summaries.

All builders are pure: numpy arrays (attention of one sentence, `(L, heads, T, T)`, rows sum to 1),
token strings and configs in, `go.Figure` out. Token strings come from users, so they are HTML-escaped
before plotly sees them (plotly renders a small subset of HTML in labels).
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import get_colorscale, qualitative

from albertviz.analysis.measures import attention_entropy, attention_share, mean_attention_distance
from albertviz.core.config import ModelConfig
from albertviz.core.sharing import layer_plan, plan_letters
from albertviz.figures.panels import row_of_panels, unvalidated

SPECIAL_TOKENS = ("[CLS]", "[SEP]")
COLORSCALE = "Blues"
PALETTE = qualitative.Alphabet  # 26 distinct colours, one per block id
DECIMALS = 4  # weights are shown to 3 places; 4 keeps the payload small and rows summing to 1 ± T·5e-5
MAX_TICKS = 40  # token labels per axis of the big single-head map (head_heatmap)


def escape_tokens(tokens: list[str]) -> list[str]:
    """Tokens as plotly-safe label text: markup is shown, never interpreted."""
    return [html.escape(str(t), quote=False) for t in tokens]


def special_mask(tokens: list[str]) -> np.ndarray:
    """True for [CLS]/[SEP] positions, the columns attention often parks on."""
    return np.array([t in SPECIAL_TOKENS for t in tokens], dtype=bool)


def layer_summary(attentions: np.ndarray, tokens: list[str]) -> dict[str, np.ndarray]:
    """Per layer, averaged over heads and query tokens: how spread out attention is, how far it looks,
    and how much of it parks on [CLS]/[SEP]. Each value is an array of length L."""
    attn = torch.as_tensor(np.asarray(attentions), dtype=torch.float64)  # (L, heads, T, T)
    special = torch.as_tensor(special_mask(tokens))
    out = {
        "entropy": attention_entropy(attn).mean(dim=(-1, -2)).numpy(),
        "distance": mean_attention_distance(attn).mean(dim=(-1, -2)).numpy(),
        "special_share": attention_share(attn, special).mean(dim=(-1, -2)).numpy(),
    }
    if special.any() and not special.all():
        out["entropy_no_special"] = attention_entropy(attn, exclude=special).mean(dim=(-1, -2)).numpy()
    return out


def grid_gap(n: int) -> int:
    """Blank cells between two panels of the head grid: about a tenth of a panel, at least one."""
    return max(1, round(n / 10))


def attention_grid(attentions: np.ndarray, tokens: list[str], max_tokens: int = 32,
                   title: str = "Attention of every head in every layer") -> go.Figure:
    """L rows × heads columns of small maps (query rows, key columns) on one shared colour scale.

    Drawn as ONE heatmap, a mosaic with blank (NaN) gaps between panels: L·heads separate heatmaps, each on its
    own pair of axes, cost the browser up to 0.9 s per draw on this CPU; one image costs a fraction of that.
    Each row and column is a category whose name says where it sits ("layer 3 · query #5", "head 2 · key #7"),
    so hover names the layer, head and token pair without per-cell text. Only the first `max_tokens` tokens
    are drawn, so L·heads·T² stays small enough to send.
    """
    attn = np.asarray(attentions, dtype=np.float64)
    L, H, T, _ = attn.shape
    n = min(T, max_tokens)
    g = grid_gap(n)
    step = n + g
    mosaic = np.full((L * step - g, H * step - g), np.nan)
    for layer in range(L):
        for head in range(H):
            mosaic[layer * step:layer * step + n, head * step:head * step + n] = attn[layer, head, :n, :n]
    mosaic = np.round(mosaic, DECIMALS).astype(np.float32)  # as sent: 4 bytes a cell

    def names(count: int, outer: str, inner: str) -> list[str]:
        return [f"{outer} {i // step + 1} · {inner} #{i % step}" if i % step < n else f"gap {i}"
                for i in range(count * step - g)]

    def centre(i: int, size: int) -> float:  # panel i's middle, as a fraction of the axis
        return (i * step + n / 2) / size

    width, height = mosaic.shape[1], mosaic.shape[0]
    titles = [dict(text=f"head {c + 1}" if c == 0 or H <= 6 else str(c + 1), x=centre(c, width), y=1.0,
                   xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                   font={"size": 11}) for c in range(H)]
    titles += [dict(text=f"layer {r + 1}", x=1.0, y=1 - centre(r, height), xref="paper", yref="paper",
                    xanchor="left", yanchor="middle", textangle=90, showarrow=False, font={"size": 11})
               for r in range(L)]
    axis = dict(type="category", showticklabels=False, ticks="", showgrid=False, zeroline=False)
    cut = f" (first {n} of {T} tokens)" if n < T else ""
    peak = float(np.nanmax(mosaic)) if n else 1.0
    return unvalidated(
        [dict(type="heatmap", z=mosaic, x=names(H, "head", "key"), y=names(L, "layer", "query"), hoverongaps=False,
              colorscale=get_colorscale(COLORSCALE), zmin=0.0, zmax=peak,
              colorbar=dict(title=dict(text="weight"), thickness=12, x=1.04),
              hovertemplate="%{y} → %{x}<br>weight %{z:.3f}<extra></extra>")],
        dict(title={"text": f"{title}{cut}"}, height=max(320, 70 + 95 * L), annotations=titles,
             xaxis=axis, yaxis=dict(axis, autorange="reversed"), plot_bgcolor="white",
             margin=dict(l=10, r=90, t=80, b=10)))


def head_heatmap(attention: np.ndarray, tokens: list[str], layer: int, head: int,
                 title: str | None = None) -> go.Figure:
    """One head's (T, T) map, large, tokens on both axes: row = the token that looks, column = where.

    Rows and columns are categories named "token (#position)", so hover names both tokens of a cell from 2·T
    names: per-cell hover text was T² strings, 0.3 MB at 128 tokens, on every layer switch.
    """
    attn = np.round(np.asarray(attention, dtype=np.float64), DECIMALS)
    T = attn.shape[-1]
    labels = escape_tokens(tokens)
    names = [f"{t} (#{i})" for i, t in enumerate(labels)]
    # Every token's label on both axes cost the browser ~1 s per draw at 128 tokens (a layer switch on a paragraph
    # waited on it twice); at most MAX_TICKS labels, every step-th token, take ~0.1 s. Hover still names each token.
    step = -(-T // MAX_TICKS)
    tick = dict(type="category", tickmode="array", tickvals=names[::step], ticktext=labels[::step],
                tickfont=dict(size=11 if T <= 40 else 8))
    size = int(min(900, max(420, 140 + 22 * T)))
    return unvalidated(
        [dict(type="heatmap", z=attn, x=names, y=names, colorscale=get_colorscale(COLORSCALE), zmin=0.0,
              zmax=max(float(attn.max()), 1e-6), hovertemplate="%{y} → %{x}<br>weight %{z:.3f}<extra></extra>",
              colorbar=dict(title=dict(text="weight"), thickness=12))],
        dict(title=dict(text=title or f"Layer {layer + 1}, head {head + 1}"), height=size,
             margin=dict(l=10, r=10, t=60, b=10),
             xaxis=dict(title=dict(text="key (attended-to token)"), tickangle=-60, **tick),
             yaxis=dict(title=dict(text="query (token that looks)"), autorange="reversed", **tick)))


def _block_colors(n: int) -> list[list]:
    """A stepped colour scale: value i (of n) gets PALETTE[i]."""
    scale = []
    for i in range(n):
        color = PALETTE[i % len(PALETTE)]
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def layer_plan_figure(config: ModelConfig, entropy: np.ndarray | None = None,
                      title: str = "Layer plan: which weights each layer runs") -> go.Figure:
    """Layers as rows; attention and FFN block coloured by block id (same colour = same weights).

    With `entropy` (one value per layer), a bar per layer beside the plan, coloured like its attention
    block: equal colours with unequal bars is "same weights, different attention".
    """
    plan = layer_plan(config)
    L = len(plan)
    n_attn = max(a for a, _ in plan) + 1
    n_colors = n_attn + max(f for _, f in plan) + 1
    letters_a, letters_f = plan_letters(config)
    z = [[a, n_attn + f] for a, f in plan]  # FFN ids after attention ids: different blocks, different colours
    text = [[f"attn {letters_a[i]}", f"FFN {letters_f[i]}"] for i in range(L)]
    def users(column: int, block: int) -> str:
        return ", ".join(str(i + 1) for i, ids in enumerate(plan) if ids[column] == block)

    hover = [[f"layer {i + 1}: attention block {letters_a[i]} (run by layers {users(0, a)})",
              f"layer {i + 1}: FFN block {letters_f[i]} (run by layers {users(1, f)})"]
             for i, (a, f) in enumerate(plan)]
    rows = [f"layer {i + 1}" for i in range(L)]
    heat = dict(type="heatmap", z=z, x=["attention", "FFN"], y=rows, text=text, texttemplate="%{text}",
                customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                colorscale=_block_colors(n_colors), zmin=-0.5, zmax=n_colors - 0.5, showscale=False, xgap=3, ygap=3)
    traces = [heat]
    if entropy is None:
        layout: dict = dict(yaxis=dict(autorange="reversed"))
    else:
        panels = row_of_panels(2, titles=("blocks", "attention entropy"), spacing=0.04, widths=[0.45, 0.55],
                               shared_y=True)
        panels.yaxis(1, autorange="reversed")
        panels.xaxis(2, title={"text": "normalized entropy (1 = uniform)"}, range=[0, 1.15])
        ent = np.asarray(entropy, dtype=float)
        traces.append(dict(type="bar", x=ent, y=rows, orientation="h",
                           marker=dict(color=[PALETTE[a % len(PALETTE)] for a, _ in plan]),
                           text=[f"{v:.2f}" for v in ent], textposition="outside",
                           hovertemplate="%{y}: entropy %{x:.3f} (1 = uniform)<extra></extra>", **panels.refs(2)))
        heat.update(panels.refs(1))
        layout = dict(**panels.layout, showlegend=False)
    layout.update(title=dict(text=title), height=max(260, 90 + 42 * L), margin=dict(l=10, r=10, t=80, b=40))
    return unvalidated(traces, layout)


SUMMARY_PANELS = (  # titles on two short lines: side by side in compare mode one line each overlapped
    ("entropy", "attention<br>entropy", "normalized entropy (1 = uniform)"),
    ("distance", "mean attention<br>distance", "tokens"),
    ("special_share", "share on<br>[CLS]/[SEP]", "fraction of attention"),
)


def summary_figure(summary: dict[str, np.ndarray], title: str = "Per-layer attention summary") -> go.Figure:
    """Three small line charts over layers: entropy (± without [CLS]/[SEP]), distance, special share."""
    panels = row_of_panels(3, titles=[p[1] for p in SUMMARY_PANELS], spacing=0.11, title_size=12)
    L = len(summary["entropy"])
    layers = list(range(1, L + 1))
    traces = []
    for col, (key, name, unit) in enumerate(SUMMARY_PANELS, start=1):
        traces.append(dict(type="scatter", x=layers, y=np.asarray(summary[key], dtype=float), mode="lines+markers",
                           name=name.replace("<br>", " "), **panels.refs(col),
                           hovertemplate=f"layer %{{x}}: %{{y:.3f}} {unit}<extra></extra>"))
        panels.yaxis(col, title={"text": unit}, rangemode="tozero")
        panels.xaxis(col, title={"text": "layer"}, dtick=1)
    if "entropy_no_special" in summary:
        traces.append(dict(type="scatter", x=layers, y=np.asarray(summary["entropy_no_special"], dtype=float),
                           mode="lines+markers", line=dict(dash="dot"), name="without [CLS]/[SEP]",
                           hovertemplate="layer %{x}: %{y:.3f} without [CLS]/[SEP]<extra></extra>",
                           **panels.refs(1)))
    panels.yaxis(1, range=[0, 1.05])
    panels.yaxis(3, range=[0, 1.05])
    return unvalidated(traces, dict(**panels.layout, title=dict(text=title), height=350, showlegend=False,
                                    margin=dict(l=10, r=10, t=100, b=40)))


def mask_predictions_figure(tokens: list[str], probs: list[float], title: str,
                            hidden: str | None = None) -> go.Figure:
    """Top-k fillers for one [MASK] as horizontal bars, most likely on top, on a fixed 0-100% axis.

    The axis never rescales, so two models' bars compare at a glance; the hidden word's bar, if among them,
    is drawn in another colour.
    """
    labels = escape_tokens(tokens)
    colours = ["#D55E00" if hidden is not None and t == hidden else "#0072B2" for t in tokens]
    rows = list(range(len(labels)))
    return unvalidated(
        [dict(type="bar", x=list(probs), y=rows, orientation="h", marker=dict(color=colours),
              text=[f"{p:.1%}" for p in probs], textposition="outside", cliponaxis=False, customdata=labels,
              hovertemplate="%{customdata}: %{x:.2%}<extra></extra>")],
        dict(title=dict(text=title), height=120 + 28 * len(labels), margin=dict(l=10, r=30, t=60, b=40),
             yaxis=dict(tickmode="array", tickvals=rows, ticktext=labels, autorange="reversed"),
             xaxis=dict(title=dict(text="probability"), tickformat=".0%", range=[0, 1], dtick=0.25)))
