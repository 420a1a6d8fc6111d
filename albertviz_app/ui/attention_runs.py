"""The Attention page's model runs, cached per model × sentence: maps, the head grid, bertviz pages, [MASK] guesses.

Kept out of views/attention.py so the page is only its controls and draw functions.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from albertviz.analysis.measures import same_weights_spread
from albertviz.core.sharing import layer_plan
from albertviz.figures import attention as fa
from albertviz.figures import bertviz_offline
from albertviz_app.ui.export import frozen
from albertviz_app.ui.models import label, load_model

GRID_TOKENS = 32  # the grid draws L·heads maps; more tokens than this make the page slow to send
BERTVIZ_TOKENS = 48  # bertviz draws T² lines per head; beyond this it is unreadable anyway


@st.cache_data(max_entries=64, show_spinner=False)
def run(model_key: str, text: str, pair: str | None) -> dict:
    """Tokens and attention (L, heads, T, T) of one model on one sentence (pair)."""
    model = load_model(model_key)
    enc, out = model.run(text, pair)
    attn = np.stack([a[0].float().numpy() for a in out.attentions])
    return {"enc": enc, "attn": attn, "config": model.config, "summary": fa.layer_summary(attn, enc.tokens)}


@st.cache_resource(max_entries=16, show_spinner=False)
def grid_figure(model_key: str, text: str, pair: str | None):
    r = run(model_key, text, pair)
    return frozen(fa.attention_grid(r["attn"], r["enc"].tokens, max_tokens=GRID_TOKENS, title=label(model_key)))


# Figures are cached across sessions too (same model + sentence + view → the same figure): building them
# (plotly's make_subplots above all) was most of an Attention rerun's CPU. Streamlit only reads them.
@st.cache_resource(max_entries=16, show_spinner=False)
def plan_figure(model_key: str, text: str, pair: str | None):
    r = run(model_key, text, pair)
    return frozen(fa.layer_plan_figure(r["config"], r["summary"]["entropy"], title=f"Layer plan — {label(model_key)}"))


@st.cache_resource(max_entries=16, show_spinner=False)
def summary_figure(model_key: str, text: str, pair: str | None):
    r = run(model_key, text, pair)
    return frozen(fa.summary_figure(r["summary"], title=f"Per-layer summary — {label(model_key)}"))


@st.cache_resource(max_entries=64, show_spinner=False)
def head_figure(model_key: str, text: str, pair: str | None, layer: int, head: int):
    r = run(model_key, text, pair)
    return frozen(fa.head_heatmap(r["attn"][layer, head], r["enc"].tokens, layer, head,
                                  title=f"{label(model_key)} — layer {layer + 1}, head {head + 1}"))


@st.cache_resource(max_entries=64, show_spinner=False)
def mask_figure(model_key: str, masked_text: str, top_k: int, hidden: str):
    p = predict(model_key, masked_text, top_k, hidden)[0]
    return frozen(fa.mask_predictions_figure(p["tokens"], p["probs"], label(model_key), hidden=hidden.lower()))


def bertviz_height(r: dict, view: str) -> int:
    """The frame height that shows bertviz_html's whole view (the tokens drawn, a pair's extra select)."""
    n = min(len(r["enc"].tokens), BERTVIZ_TOKENS)
    cfg = r["config"]
    return bertviz_offline.frame_height(view, cfg.num_layers, cfg.num_heads, n, 1 in r["enc"].type_ids[:n])


LAYER_PARAM = "layer"  # the page's URL parameter for its layer (views/attention.py); the head view follows it


def _bertviz_input(model_key: str, text: str, pair: str | None) -> tuple:
    """What bertviz draws: the first BERTVIZ_TOKENS tokens' attention, and where sentence B starts."""
    r = run(model_key, text, pair)
    n = min(len(r["enc"].tokens), BERTVIZ_TOKENS)
    b_start = r["enc"].type_ids.index(1) if 1 in r["enc"].type_ids[:n] else None
    return r["attn"][:, :, :n, :n], r["enc"].tokens[:n], b_start


@st.cache_data(max_entries=32, show_spinner=False)
def bertviz_html(model_key: str, text: str, pair: str | None, view: str) -> str:
    """The frame's page for one model and sentence, the same for every layer: the head view follows the page's
    `?layer=`, redrawing inside the frame (a reload per layer switch cost 0.6 s at 48 tokens)."""
    attn, tokens, b_start = _bertviz_input(model_key, text, pair)
    return bertviz_offline.render(view, attn, tokens, b_start, follow=LAYER_PARAM if view == "head" else None)


def bertviz_file(model_key: str, text: str, pair: str | None, view: str, layer: int) -> str:
    """The download: d3 and jQuery inlined (it opens from disk with no server), on the page's layer; built only
    when a student clicks."""
    attn, tokens, b_start = _bertviz_input(model_key, text, pair)
    return bertviz_offline.render(view, attn, tokens, b_start, layer=layer if view == "head" else None,
                                  assets="inline", title=f"bertviz {view} view — {label(model_key)}")


def same_weights_sentence(cfg, entropy) -> str:
    """What this sentence's maps show about shared attention blocks, computed (never a fixed claim)."""
    spread = same_weights_spread(layer_plan(cfg), entropy)
    if not spread:
        return "**On this sentence:** every layer has attention weights of its own (no block is shared)."
    widest = max(spread, key=lambda b: b["max"] - b["min"])
    return (f"**On this sentence:** layers {', '.join(map(str, widest['layers']))} run the very same attention "
            f"block, yet their entropies range from {widest['min']:.2f} to {widest['max']:.2f} — same weights, "
            "different attention, because each layer gets a different input.")


@st.cache_data(max_entries=64, show_spinner=False)
def predict(model_key: str, masked_text: str, top_k: int, hidden: str) -> list[dict]:
    return load_model(model_key).predict_masked(masked_text, top_k=top_k, target=hidden)
