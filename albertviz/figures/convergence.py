"""Figures for the Convergence page: loss curves, gradient norms, per-use contributions, seeds, step times.

Pure builders: curves, arrays and dicts in, `go.Figure` out. Colours follow the sharing mode so
the same mode looks the same in every chart of the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albertviz.analysis.gradients import UseGradients
from albertviz.figures.axes import log_axis
from albertviz.figures.palette import OKABE_ITO, SERIES, SHARING_COLORS
from albertviz.labels import SHARING as SHARING_LABELS
from albertviz.lessons.convergence import LossCurve

MODE_COLORS = {**SHARING_COLORS,
               # the equal-parameter experiment's arms: unshared as not-shared, shared as all-shared
               "unshared": SHARING_COLORS["none"], "shared": SHARING_COLORS["all"], "tuned": OKABE_ITO["sky blue"],
               "deep": OKABE_ITO["orange"]}
PALETTE = SERIES


def mode_color(mode: str, index: int = 0) -> str:
    return MODE_COLORS.get(mode, PALETTE[index % len(PALETTE)])


def loss_curves_figure(curves: Mapping[str, LossCurve], title: str, show_held_out: bool = True,
                       height: int = 380, per_step: bool = False,
                       reference: tuple[str, float] | None = None,
                       names: Mapping[str, str] | None = None) -> go.Figure:
    """Training loss (lines) and held-out loss (dotted, markers) per sharing mode or arm; keys pick colours.

    `per_step`: the training loss was logged at every step (one small batch each), so it is noisy;
    it is drawn faint and the held-out loss, measured on a fixed set, carries the comparison.
    `reference`: (label, loss) drawn as a grey dashed line, e.g. what frequencies alone achieve.
    `names`: legend names by key (default: the sharing mode's label).
    """
    fig = go.Figure()
    for i, (mode, c) in enumerate(curves.items()):
        color = mode_color(mode, i)
        name = (names or {}).get(mode, SHARING_LABELS.get(mode, mode))
        fig.add_trace(go.Scatter(x=c.steps, y=c.loss, mode="lines", name=f"{name} · train",
                                 line=dict(color=color, width=1 if per_step else 2), legendgroup=mode,
                                 opacity=0.35 if per_step else 1.0,
                                 hovertemplate="step %{x}<br>train loss %{y:.3f}<extra>" + name + "</extra>"))
        if show_held_out and c.held_steps:
            fig.add_trace(go.Scatter(x=c.held_steps, y=c.held_loss, mode="lines+markers",
                                     name=f"{name} · held-out", legendgroup=mode,
                                     line=dict(color=color, dash="dot", width=3 if per_step else 1.5),
                                     marker=dict(size=7),
                                     hovertemplate="step %{x}<br>held-out loss %{y:.3f}<extra>"
                                     + name + "</extra>"))
    if reference is not None:
        fig.add_hline(y=reference[1], line=dict(color="grey", dash="dash", width=1.5),
                      annotation_text=f"{reference[0]} ({reference[1]:.2f})", annotation_position="top right")
    fig.update_layout(title=title, height=height, margin=dict(t=50, b=40, l=60, r=20),
                      xaxis_title="training step", yaxis_title="MLM loss (nats per masked token)",
                      legend=dict(orientation="h", y=-0.2), hovermode="x unified")
    return fig


def grad_norm_figure(series: Mapping[str, tuple[Sequence[int], Sequence[float]]], title: str,
                     highlight: Sequence[str] = (), height: int = 380) -> go.Figure:
    """Gradient L2 norm per component over training, log scale; `highlight` names get thick lines."""
    fig = go.Figure()
    for i, (name, (steps, values)) in enumerate(series.items()):
        thick = name in highlight
        fig.add_trace(go.Scatter(x=list(steps), y=list(values), mode="lines", name=name,
                                 line=dict(width=3.5 if thick else 1.3, color=PALETTE[i % len(PALETTE)]),
                                 opacity=1.0 if thick or not highlight else 0.75,
                                 hovertemplate="step %{x}<br>‖grad‖ %{y:.3g}<extra>" + name + "</extra>"))
    fig.update_layout(title=title, height=height, margin=dict(t=50, b=40, l=60, r=20),
                      xaxis_title="training step", yaxis_title="gradient L2 norm (log scale)",
                      legend=dict(font=dict(size=11)))
    fig.update_yaxes(**log_axis([v for _, values in series.values() for v in values]))
    return fig


def per_use_figure(result: UseGradients, height: int = 360) -> go.Figure:
    """One bar per layer-use of a block, then the norm of their sum and of the real gradient."""
    x = [f"use in layer {layer + 1}" for layer in result.layers] + ["‖sum of uses‖", "‖real gradient‖"]
    y = list(result.use_norms) + [result.sum_norm, result.true_norm]
    colors = ["#9ecae1"] * len(result.layers) + ["#08519c", "#d62728"]
    fig = go.Figure(go.Bar(x=x, y=y, marker_color=colors, text=[f"{v:.3g}" for v in y],
                           textposition="outside", hovertemplate="%{x}<br>L2 norm %{y:.4g}<extra></extra>"))
    arith = sum(result.use_norms)
    fig.add_hline(y=arith, line_dash="dot", line_color="grey",
                  annotation_text=f"sum of the norms = {arith:.3g}", annotation_position="top left")
    fig.update_layout(title=f"Per-use gradient contributions of the {result.label} (one batch)",
                      height=height, margin=dict(t=50, b=40, l=60, r=20),
                      yaxis_title="gradient L2 norm", xaxis_title="term of the shared weight's gradient",
                      yaxis_range=[0, max(y + [arith]) * 1.18])
    return fig


def final_loss_figure(losses: Mapping[str, Mapping[int, float]], names: Mapping[str, str], title: str,
                      reference: tuple[str, float] | None = None, height: int = 340) -> go.Figure:
    """Each arm's final held-out loss: one dot per seed, and the mean ± s.d. over seeds as a bar with whiskers.

    The picture of a verdict: a gap counts only when the bars' difference outlasts the spread of the dots.
    """
    fig = go.Figure()
    for i, (key, by_seed) in enumerate(losses.items()):
        vals = list(by_seed.values())
        mean = sum(vals) / len(vals)
        sd = (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 if len(vals) > 1 else 0.0
        name, color = names.get(key, key), mode_color(key, i)
        fig.add_trace(go.Bar(x=[name], y=[mean], marker_color=color, opacity=0.45, name=name, showlegend=False,
                             error_y=dict(type="data", array=[sd], visible=len(vals) > 1),
                             hovertemplate=f"{name}<br>mean %{{y:.3f}} ± {sd:.3f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[name] * len(vals), y=vals, mode="markers", showlegend=False,
                                 marker=dict(color=color, size=9, line=dict(color="black", width=1)),
                                 text=[f"seed {s}" for s in by_seed], name=name,
                                 hovertemplate="%{text}: %{y:.3f}<extra></extra>"))
    all_vals = [v for by_seed in losses.values() for v in by_seed.values()]
    lo, hi = min(all_vals), max(all_vals)
    if reference is not None:
        fig.add_hline(y=reference[1], line=dict(color="grey", dash="dash", width=1.5),
                      annotation_text=f"{reference[0]} ({reference[1]:.2f})", annotation_position="top right")
        hi = max(hi, reference[1])
    pad = max(0.02, (hi - lo) * 0.25)
    fig.update_layout(title=title, height=height, margin=dict(t=50, b=40, l=60, r=20),
                      yaxis_title="final held-out loss (nats)", yaxis_range=[lo - pad, hi + pad])
    return fig


def step_time_figure(rows: Sequence[Mapping], title: str, height: int = 360) -> go.Figure:
    """Side by side: parameters and measured step time per model, both relative to the baseline model.

    Each row: {"arm", "params", "step_ms"} and optionally "model" (its label); the baseline is the first
    row whose arm is 'none' or 'unshared', else the first row.
    """
    base = next((r for r in rows if r["arm"] in ("none", "unshared")), rows[0])
    names = [r.get("model", SHARING_LABELS.get(r["arm"], r["arm"])) for r in rows]
    base_name = names[rows.index(base)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"parameters (relative to {base_name})",
                                                        f"measured step time (relative to {base_name})"))
    colors = [mode_color(r["arm"], i) for i, r in enumerate(rows)]
    p_rel = [r["params"] / base["params"] for r in rows]
    t_rel = [r["step_ms"] / base["step_ms"] for r in rows]
    fig.add_trace(go.Bar(x=names, y=p_rel, marker_color=colors, showlegend=False,
                         text=[f"{r['params'] / 1e6:.2f}M" for r in rows], textposition="outside",
                         hovertemplate="%{x}<br>%{y:.2f}× the parameters<extra></extra>"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=t_rel, marker_color=colors, showlegend=False,
                         text=[f"{r['step_ms']:.0f} ms" for r in rows], textposition="outside",
                         hovertemplate="%{x}<br>%{y:.2f}× the step time<extra></extra>"), 1, 2)
    top = max(p_rel + t_rel) * 1.2
    fig.update_yaxes(range=[0, top], title_text=f"× {base_name}", row=1, col=1)
    fig.update_yaxes(range=[0, top], row=1, col=2)
    fig.update_layout(title=title, height=height, margin=dict(t=80, b=40, l=60, r=20))
    return fig
