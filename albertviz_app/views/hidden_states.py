"""Hidden states: ALBERT Fig. 1, layer-similarity maps, a token's path, and live surgery on a pretrained model."""

from typing import NamedTuple

import streamlit as st

from albertviz.analysis import surgery
from albertviz.figures import hidden as figs
from albertviz.lessons import fig1
from albertviz.zoo.cells import Cell, zoo_config
from albertviz.zoo.fig1 import N_CHUNKS, held_out_fig1_seeds
from albertviz_app.ui import hidden_runs as runs
from albertviz_app.ui.feedback import friendly_errors, sentence_input, truncation_notice
from albertviz_app.ui.models import (
    MINILM,
    available_models,
    is_checkpoint,
    label,
    load_model,
    model_picker,
    unavailable_models,
)
from albertviz_app.ui.page import Page, key, start
from albertviz_app.ui.viewstate import Param

SLUG = "hidden_states"
DEFAULT_TEXT = "The ghost of the king walks the castle walls at midnight."
UNSHARED, SHARED = Cell("none", "full").name, Cell("all", "full").name  # Fig. 1's pair: BERT-like vs ALBERT-like


def k(name: str) -> str:
    return key(SLUG, name)


def surgery_models() -> list[str]:
    """MiniLM and every loadable checkpoint: the pretrained models worth operating on."""
    return [MINILM] + [m for m in available_models() if is_checkpoint(m)]


@st.cache_data(show_spinner=False)
def fig1_verdict() -> str:
    """The zoo's answer to Fig. 1 over every trained seed of all-shared vs not-shared (held-out averages)."""
    curves = {c: [e["degrees"] for e in held_out_fig1_seeds(c).values()] for c in (SHARED, UNSHARED)}
    if not curves[SHARED] or not curves[UNSHARED]:
        return "No held-out Fig. 1 averages for the zoo yet (`python -m albertviz.zoo.fig1` writes them)."
    entry = load_model(UNSHARED).entry
    return fig1.verdict(curves[SHARED], curves[UNSHARED], entry["config"]["num_layers"], entry.get("tokens_seen"))


def pickable() -> list[str]:
    return available_models() + unavailable_models()


def first_of(model_key: str):
    return lambda: model_key if model_key in pickable() else pickable()[0]


PARAMS = [
    Param("text", k("sentence"), DEFAULT_TEXT),
    Param("modelA", k("model_a"), first_of(UNSHARED), options=pickable),
    Param("modelB", k("model_b"), first_of(SHARED), options=pickable),
    Param("similarity", k("similarity"), "cosine", options=["cosine", "linear CKA"]),
    Param("token", k("token"), ""),  # "1: ghost"; its real default and choices: settle() in draw_path
    Param("surgery", k("surgery_op"), next(iter(surgery.OPERATIONS)), options=list(surgery.OPERATIONS)),
    Param("surgery_model", k("surgery_model"), MINILM, options=surgery_models),
    Param("tie", k("tie_k"), 1, kind=int, low=1, high=1024),
    Param("E", k("rank"), 128, kind=int, low=2, high=16384),
]


class Settings(NamedTuple):  # not a dataclass: see ui/page.py
    text: str | None
    models: tuple[str, ...]  # one or two keys


def controls(page: Page) -> Settings:
    with page.controls():
        text = sentence_input("Sentence", key=k("sentence"), default=DEFAULT_TEXT)
        col_a, col_b = page.side_by_side(2)
        with col_a:
            key_a = model_picker(k("model_a"), default=UNSHARED, label_text="Model A")
        with col_b:
            key_b = model_picker(k("model_b"), default=SHARED, label_text="Model B")
    page.publish()
    return Settings(text, tuple(dict.fromkeys([key_a, key_b])))


def run_models(s: Settings) -> dict[str, dict]:
    views = {}
    with friendly_errors("the hidden states"), st.spinner("Running both models…"):
        for model_key in s.models:
            views[model_key] = runs.hidden_views(model_key, s.text)
            truncation_notice(views[model_key]["encoded"], views[model_key]["max_len"])
    return views


def draw_fig1(page: Page, views: dict[str, dict], text: str) -> None:
    st.subheader("ALBERT Fig. 1: how much each layer changes its input")
    models = tuple(views)
    held = runs.held_out(models, text)
    page.chart(runs.fig1_figure(models, text), key=k("fig1"))
    sizes = ", ".join(f"{label(m)} H={v['config'].hidden_size}" for m, v in views.items())
    page.why("Per layer, the L2 distance and the angle between the layer's input and output, averaged over "
             f"this sentence's tokens (solid) and over {N_CHUNKS} held-out chunks of the zoo's text (dashed, "
             "±1 s.d.). ALBERT's Fig. 1 (BERT-large vs ALBERT-large) found the shared model's curves smoother, "
             f"oscillating rather than converging to 0. L2 grows with the hidden size (here {sizes}; the zoo's "
             f"H={zoo_config('none', 'full').hidden_size}): compare angles across sizes, not distances.")
    st.markdown(fig1_verdict())
    if missing := [n for n, h in held.items() if h is None]:
        st.info(f"No precomputed held-out average for {', '.join(missing)} yet (it appears after "
                "`python -m albertviz.zoo.fig1`); showing this sentence only.", icon="ℹ️")


def draw_similarity(page: Page, views: dict[str, dict], text: str) -> None:
    st.subheader("Layer × layer similarity of hidden states")
    metric = st.radio("Similarity", ["cosine", "linear CKA"], horizontal=True, key=k("similarity"))
    page.publish()
    for col, slot, m in zip(st.columns(len(views)), "ab", views, strict=False):
        page.chart(runs.similarity_figure(m, text, metric), key=k(f"sim_{slot}"), where=col)
    page.why("Each cell compares the hidden states after two layers (emb = embedding output): mean per-token "
             "cosine, or linear CKA (Kornblith et al.), which compares whole token geometries and ignores "
             "rotation and scale. **What to notice:** how fast similarity fades away from the diagonal. A "
             "shared block is the same function at every depth, yet its input keeps changing, so its layers "
             "need not stay alike: compare how far the last layer is from the embedding in each model.")


def draw_path(page: Page, views: dict[str, dict], text: str) -> None:
    st.subheader("One token's path through the layers")
    tokens = next(iter(views.values()))["encoded"].tokens
    # The labels themselves are the options: a new sentence then gives new options, and the box cannot keep
    # showing the previous sentence's token (with integer options the browser kept the old label).
    choices = [f"{i}: {t}" for i, t in enumerate(tokens)]
    page.view.settle("token", choices, choices[min(1, len(choices) - 1)])
    picked = st.selectbox("Token", choices, key=k("token"))
    page.publish()
    index = choices.index(picked) if picked in choices else min(1, len(choices) - 1)
    for col, slot, m in zip(st.columns(len(views)), "ab", views, strict=False):
        page.chart(runs.trajectory_figure(m, text, index), key=k(f"traj_{slot}"), where=col)
    page.why("The chosen token's hidden state after each layer, projected onto the two main directions of "
             "all tokens at all layers (grey). **What to notice:** does the path take long steps and settle, "
             "or keep circling? Repeatedly applying one shared layer often gives a looping, oscillating path.")


def surgery_controls(page: Page, layers: int, hidden: int) -> tuple[str, int, int]:
    op = st.radio("Operation", list(surgery.OPERATIONS), format_func=surgery.OPERATIONS.get, horizontal=True,
                  key=k("surgery_op"))
    layer, E = 0, 128  # noqa: N806 - the paper's E
    clamp(k("tie_k"), 1, layers)  # another model may have had more layers or a wider hidden state
    clamp(k("rank"), 2, hidden)
    if op == "tie":
        layer = st.slider("Layer k whose weights every layer reuses", 1, layers, key=k("tie_k")) - 1
    elif op == "factorize":
        E = st.slider("Embedding rank E", 2, hidden, key=k("rank"))  # noqa: N806
    page.publish()
    return op, layer, E


def clamp(state_key: str, low: int, high: int) -> None:
    if state_key in st.session_state:
        st.session_state[state_key] = min(max(int(st.session_state[state_key]), low), high)


def draw_surgery(page: Page, text: str) -> None:
    st.divider()
    st.subheader("Live surgery on a pretrained model")
    with friendly_errors("the surgery"):
        model_key = st.selectbox("Model to operate on", surgery_models(), format_func=label, key=k("surgery_model"))
        page.publish()
        cfg = load_model(model_key).config
        name = label(model_key)
        st.markdown(f"Change {name} ({cfg.num_layers} layers, H={cfg.hidden_size}) into an ALBERT-shaped model "
                    "*without retraining*, and measure how far its outputs move on the sentence above.")
        op, layer, E = surgery_controls(page, cfg.num_layers, cfg.hidden_size)  # noqa: N806
        with st.spinner("Operating…"):
            s = runs.surgery_view(model_key, op, layer, E, text)
        e = s["effect"]
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Parameters after surgery", f"{e.after:,}", delta=f"{e.after - e.before:+,}",
                  delta_color="inverse", help=f"Before: {e.before:,} (count_parameters of the loaded shape).")
        c2.metric("Saving", f"{e.saving:.1%}", help=f"The model as loaded has {e.before:,} parameters.")
        c3.metric("Mean cosine to original", f"{e.cosine.mean():.3f}", help="Last hidden state, mean over tokens.")
        if e.loss_after is not None and e.loss_before is not None:
            change = round(e.loss_after.mean_nll - e.loss_before.mean_nll, 2) + 0.0  # + 0.0: no "-0.00"
            c4.metric("Masked-word loss (nats)", f"{e.loss_after.mean_nll:.2f}", delta=f"{change:+.2f}",
                      delta_color="inverse",
                      help="Each word piece masked in turn, scored by the model's own MLM head.")
        else:
            c4.metric("Mean attention change (TV)", f"{e.tv.mean():.3f}")
        st.caption(f"{s['description']} New shape: {s['config'].describe()}.")
        d1, d2 = st.columns(2)
        drift_tokens, drift_attention = runs.drift_figures(model_key, op, layer, E, text)
        page.chart(drift_tokens, key=k("drift_tokens"), where=d1)
        page.chart(drift_attention, key=k("drift_attention"), where=d2)
        page.why("Left: per token, how close the changed model's final hidden state stays to the original's (1 = "
                 "unchanged). Right: per layer, how much attention moved (total-variation distance, 0 = same "
                 f"rows). **On this sentence:** {e.sentence(name)} ALBERT's shared layers work because they are "
                 "*trained* shared, not cut from an unshared model.")
        if op == "factorize":
            draw_spectrum(page, model_key, E, cfg.hidden_size)


def draw_spectrum(page: Page, model_key: str, E: int, H: int) -> None:  # noqa: N803
    energy = runs.embedding_basis(model_key).energy.numpy()
    page.chart(figs.spectrum_figure(energy, E - 1), key=k("spectrum"))
    kept = float(energy[:E - 1].sum() / energy.sum())
    page.why("How much of the embedding's (centred) energy the first E−1 singular directions hold: E−1, "
             f"because the E-dim LayerNorm removes one direction. **Here:** the embedding keeps "
             f"{kept:.0%} at E−1 = {E - 1}. Two reference points: a random matrix of this shape has an "
             f"almost flat spectrum and would keep ≈{(E - 1) / H:.0%} ((E−1)/H), while a matrix of rank "
             f"≤ {E - 1} would keep 100%. The closer to the random case, the more a small E costs.")


def main() -> None:
    page = start(SLUG, PARAMS)
    st.title("Hidden states: what reused layers do to a token")
    page.intro("Run one sentence through two models and watch the hidden state change layer by layer. "
               "**Shared layers apply the same function again and again**: does the state keep moving, settle, "
               "or oscillate? Below, *live surgery* turns a real pretrained model (MiniLM or your own checkpoint) into "
               "an ALBERT-shaped model.")
    settings = controls(page)
    if settings.text is None:
        st.stop()
    if views := run_models(settings):
        draw_fig1(page, views, settings.text)
        draw_similarity(page, views, settings.text)
        draw_path(page, views, settings.text)
    draw_surgery(page, settings.text)


main()
