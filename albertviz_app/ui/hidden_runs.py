"""The Hidden states page's model runs and figures, cached per model × sentence (and per surgery).

Kept out of views/hidden_states.py so the page is only its controls and draw functions. Figures are cached
across sessions (frozen: Streamlit only reads them): building them — a PCA and plotly's validation above all —
was most of a warm rerun after a model switch, although the arrays behind them were already cached.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from albertviz.analysis import surgery
from albertviz.analysis.measures import input_output_distance, layer_cka_matrix, layer_cosine_matrix
from albertviz.figures import hidden as figs
from albertviz.lessons.surgery_effect import surgery_effect
from albertviz.zoo.fig1 import held_out_fig1
from albertviz_app.ui.export import FrozenFigure, frozen
from albertviz_app.ui.models import label, load_model


@st.cache_data(max_entries=64, show_spinner=False)
def hidden_views(model_key: str, text: str) -> dict:
    """Everything the charts need from one model on one sentence, as arrays (cached per model × text)."""
    model = load_model(model_key)
    enc, out = model.run(text)
    hs = tuple(h[0] for h in out.hidden_states)  # L+1 × (T, H)
    return {"encoded": enc, "max_len": model.config.max_position_embeddings, "config": model.config,
            "fig1": input_output_distance(hs), "cosine": layer_cosine_matrix(hs), "cka": layer_cka_matrix(hs),
            "states": np.stack([h.numpy() for h in hs]), "sha256": model.entry.get("sha256")}


def held_out(models: tuple[str, ...], text: str) -> dict[str, dict | None]:
    """Each model's precomputed held-out Fig. 1 average (None where there is none yet), by label."""
    return {label(m): held_out_fig1(m, hidden_views(m, text)["sha256"]) for m in models}


@st.cache_resource(max_entries=16, show_spinner=False)
def fig1_figure(models: tuple[str, ...], text: str) -> FrozenFigure:
    return frozen(figs.fig1_figure({label(m): hidden_views(m, text)["fig1"] for m in models}, held_out(models, text)))


@st.cache_resource(max_entries=32, show_spinner=False)
def similarity_figure(model_key: str, text: str, metric: str) -> FrozenFigure:
    v = hidden_views(model_key, text)
    return frozen(figs.similarity_heatmap(v["cosine"] if metric == "cosine" else v["cka"], label(model_key), metric))


@st.cache_resource(max_entries=32, show_spinner=False)
def trajectory_figure(model_key: str, text: str, index: int) -> FrozenFigure:
    v = hidden_views(model_key, text)
    tokens = v["encoded"].tokens
    return frozen(figs.trajectory_figure(v["states"], tokens, min(index, len(tokens) - 1), label(model_key)))


@st.cache_resource(max_entries=4, show_spinner="Finding the singular directions of the embedding…")
def embedding_basis(model_key: str) -> surgery.EmbeddingBasis:
    return surgery.embedding_basis(load_model(model_key).encoder)


@st.cache_resource(max_entries=4, show_spinner=False)
def operated(model_key: str, op: str, layer: int, E: int) -> surgery.SurgeryResult:  # noqa: N803 - the paper's E
    basis = embedding_basis(model_key) if op == "factorize" else None
    return surgery.apply(load_model(model_key).encoder, op, k=layer, E=E, basis=basis)


@st.cache_resource(max_entries=16, show_spinner=False)
def original_run(model_key: str, text: str):
    return load_model(model_key).run(text)


@st.cache_data(max_entries=64, show_spinner=False)
def surgery_view(model_key: str, op: str, layer: int, E: int, text: str) -> dict:  # noqa: N803
    enc, base = original_run(model_key, text)
    result = operated(model_key, op, layer, E)
    effect = surgery_effect(load_model(model_key), result, enc, base)
    return {"effect": effect, "config": result.config, "description": result.description,
            "kept": result.variance_kept}


@st.cache_resource(max_entries=16, show_spinner=False)
def drift_figures(model_key: str, op: str, layer: int, E: int, text: str) -> tuple[FrozenFigure, FrozenFigure]:  # noqa: N803
    """Per token and per layer, how far the operated model moved (the surgery's two charts)."""
    e = surgery_view(model_key, op, layer, E, text)["effect"]
    return frozen(figs.token_drift_figure(e.tokens, e.cosine)), frozen(figs.attention_drift_figure(e.tv))
