"""Attention: per-layer, per-head maps of real models, the layer plan beside them, bertviz, [MASK]."""

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from albertviz.analysis.measures import same_weights_spread
from albertviz.core.sharing import layer_plan, plan_letters
from albertviz.data.tokenizer import mask_token
from albertviz.figures import attention as fa
from albertviz.figures import bertviz_offline
from albertviz.zoo.evaluation import N_ATTENTION_CHUNKS
from albertviz_app.ui.feedback import MAX_CHARS, clean_text, friendly_errors, sentence_input, truncation_notice
from albertviz_app.ui.models import MINILM, available_models, label, load_model, model_picker, unavailable_models
from albertviz_app.ui.page import start
from albertviz_app.ui.viewstate import Param

N_HELD_OUT = N_ATTENTION_CHUNKS
GRID_TOKENS = 32  # the grid draws L·heads maps; more tokens than this make the page slow to send
BERTVIZ_TOKENS = 48  # bertviz draws T² lines per head; beyond this it is unreadable anyway
DEFAULT_TEXT = "The cat sat on the mat because it was tired."


@st.cache_data(max_entries=64, show_spinner=False)
def run(key: str, text: str, pair: str | None) -> dict:
    """Tokens and attention (L, heads, T, T) of one model on one sentence (pair)."""
    model = load_model(key)
    enc, out = model.run(text, pair)
    attn = np.stack([a[0].float().numpy() for a in out.attentions])
    return {"enc": enc, "attn": attn, "config": model.config, "summary": fa.layer_summary(attn, enc.tokens)}


@st.cache_resource(max_entries=16, show_spinner=False)
def grid_figure(key: str, text: str, pair: str | None):
    r = run(key, text, pair)
    return fa.attention_grid(r["attn"], r["enc"].tokens, max_tokens=GRID_TOKENS, title=label(key))


@st.cache_data(max_entries=32, show_spinner=False)
def bertviz_html(key: str, text: str, pair: str | None, view: str, layer: int) -> str:
    r = run(key, text, pair)
    n = min(len(r["enc"].tokens), BERTVIZ_TOKENS)
    b_start = r["enc"].type_ids.index(1) if 1 in r["enc"].type_ids[:n] else None
    attn = r["attn"][:, :, :n, :n]
    if view == "head":
        return bertviz_offline.head_view_html(attn, r["enc"].tokens[:n], b_start, layer=layer)
    return bertviz_offline.model_view_html(attn, r["enc"].tokens[:n], b_start)


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
def predict(key: str, masked_text: str, top_k: int, hidden: str) -> list[dict]:
    return load_model(key).predict_masked(masked_text, top_k=top_k, target=hidden)


def chosen() -> list[str]:
    ss = st.session_state
    return [ss["attention.model"]] + ([ss["attention.model_b"]] if ss.get("attention.compare") else [])


def most(field: str) -> int:
    """The largest layer or head number among the chosen models (validates a link's layer/head)."""
    sizes = []
    for k in chosen():
        try:
            sizes.append(getattr(load_model(k).config, field))
        except Exception:  # noqa: BLE001 - an unloadable pick is explained further down the page
            continue
    return max(sizes, default=1)


models = available_models()
pickable = models + unavailable_models()
page = start("attention", [
    Param("text", "attention.text", DEFAULT_TEXT),
    Param("pair", "attention.pair", ""),
    Param("model", "attention.model", models[0], options=pickable),
    Param("compare", "attention.compare", False, kind=bool),
    Param("model2", "attention.model_b",
          lambda: MINILM if st.session_state["attention.model"] != MINILM else models[0], options=pickable,
          active=lambda: bool(st.session_state.get("attention.compare"))),
    Param("layer", "attention.layer", 1, kind=int, low=1, options=lambda: range(1, most("num_layers") + 1)),
    Param("head", "attention.head", 1, kind=int, low=1, options=lambda: range(1, most("num_heads") + 1)),
    Param("bertviz", "attention.bertviz_view", "head", options=["head", "model"]),
    Param("mask", "attention.mask_pos", 2, kind=int, low=0),  # its real default: settle() below
    Param("topk", "attention.mask_topk", 5, kind=int, low=1, high=20),
])

st.title("👀 Attention")
page.intro(
    "Each layer of a transformer mixes every token with the others; **attention weights** say how much. "
    "With cross-layer sharing several layers run **the very same attention weights** — yet their maps "
    "differ, because each layer sees a different input. Pick a model, a layer and a head."
)
with page.controls():
    text = sentence_input("Sentence", key="attention.text", default=DEFAULT_TEXT)
    pair_raw = st.text_input("Optional second sentence (a segment pair, as BERT's next-sentence and ALBERT's "
                             "sentence-order tasks read them)", key="attention.pair")
    pair = clean_text(pair_raw)[:MAX_CHARS].strip() or None
    c1, c2 = (st.container(), st.container()) if page.lecture else st.columns(2)
    with c1:
        key_a = model_picker("attention.model", default=models[0], label_text="Model")
    with c2:
        compare = st.toggle("Compare with a second model", key="attention.compare")
        key_b = (model_picker("attention.model_b", default=MINILM if key_a != MINILM else models[0],
                              label_text="Second model") if compare else None)
page.publish()
keys = [key_a] + ([key_b] if compare else [])
if len(models) == 1:
    st.info("No zoo model is trained yet; the real pretrained MiniLM is shown. Zoo cells appear here as they "
            "finish training.", icon="⏳")
if text is None:
    st.stop()

results = {}
with st.spinner("Running the model…"):
    for key in keys:
        with friendly_errors(label(key)):
            results[key] = run(key, text, pair)
keys = [k for k in keys if k in results]
if not keys:
    st.stop()
for key in keys:
    truncation_notice(results[key]["enc"], results[key]["config"].max_position_embeddings)
vocabularies = {results[k]["config"].vocab_size for k in keys}
if len(vocabularies) > 1:
    st.caption("Each model reads the sentence through its own tokenizer ("
               + " vs ".join(f"{label(k)}: {results[k]['config'].vocab_size:,} pieces, "
                             f"{len(results[k]['enc'].tokens)} tokens here" for k in keys)
               + "), so their maps have different rows and columns.")

max_layers = max(results[k]["config"].num_layers for k in keys)
max_heads = max(results[k]["config"].num_heads for k in keys)
for name, top in (("attention.layer", max_layers), ("attention.head", max_heads)):
    if st.session_state.get(name, 1) > top:  # a smaller model was picked: keep the selector valid
        st.session_state[name] = top
with page.controls():
    s1, s2 = st.columns(2)
    layer = s1.selectbox("Layer", list(range(1, max_layers + 1)), key="attention.layer") - 1
    head = s2.selectbox("Head", list(range(1, max_heads + 1)), key="attention.head") - 1
page.publish()


def columns():
    return st.columns(len(keys)) if len(keys) > 1 else [st.container()]


st.subheader("Layer plan and the chosen head")
for col, key in zip(columns(), keys, strict=True):
    r, cfg = results[key], results[key]["config"]
    with col, friendly_errors(f"the maps of {label(key)}"):
        lay, h = min(layer, cfg.num_layers - 1), min(head, cfg.num_heads - 1)
        inner = st.columns([2, 3]) if len(keys) == 1 else [st.container(), st.container()]
        with inner[0]:
            plan = fa.layer_plan_figure(cfg, r["summary"]["entropy"], title=f"Layer plan — {label(key)}")
            page.chart(plan, key=f"attention.plan.{key}")
            attn_letters, ffn_letters = plan_letters(cfg)
            st.caption(f"Attention blocks per layer: `{attn_letters}`, FFN blocks: `{ffn_letters}`. Same colour "
                       "= same weights. Bars: attention entropy of each layer on this sentence.")
            st.markdown(same_weights_sentence(cfg, r["summary"]["entropy"]))
        with inner[1]:
            page.chart(fa.head_heatmap(r["attn"][lay, h], r["enc"].tokens, lay, h,
                                       title=f"{label(key)} — layer {lay + 1}, head {h + 1}"),
                       key=f"attention.head_map.{key}")
            note = (f" (this model has only {cfg.num_layers} layers and {cfg.num_heads} heads: layer {lay + 1}, "
                    f"head {h + 1} is shown)" if (lay, h) != (layer, head) else "")
            page.why("Row = the token that looks, column = the token it looks at; each row sums to 1. "
                     f"Dark vertical stripes on [CLS]/[SEP] are heads that 'park' attention{note}.")

st.subheader("Every head in every layer")
for col, key in zip(columns(), keys, strict=True):
    with col, friendly_errors(f"the head grid of {label(key)}"):
        page.chart(grid_figure(key, text, pair), key=f"attention.grid.{key}")
        page.why("One small map per layer (rows) and head (columns), on one colour scale. In a shared model "
                 "the rows use the same weights: compare their patterns — diagonal (previous/next token), "
                 "vertical stripes ([CLS]/[SEP]) or spread out.")

st.subheader("Per-layer summary")
for col, key in zip(columns(), keys, strict=True):
    with col, friendly_errors(f"the summary of {label(key)}"):
        page.chart(fa.summary_figure(results[key]["summary"], title=f"Per-layer summary — {label(key)}"),
                   key=f"attention.summary.{key}")
        page.why("Averaged over heads and tokens. Entropy 1 means attention spread evenly (dotted: with "
                 "[CLS]/[SEP] left out); distance is how many positions away a token looks on average; the "
                 "last panel is the share of attention parked on [CLS]/[SEP].")
        entry = load_model(key).entry
        kl, kl0 = entry.get("kl_to_minilm_per_layer"), entry.get("kl_to_minilm_at_init_per_layer")
        if kl and kl0:
            st.caption(f"{label(key)} was trained with no teacher. How far its head-averaged attention is from "
                       f"MiniLM's on {N_HELD_OUT} held-out chunks (KL per layer in nats, MiniLM's maps carried "
                       "over to the zoo's word pieces), before → after training: "
                       + ", ".join(f"L{i + 1} {a:.2f} → {b:.2f}" for i, (a, b) in enumerate(zip(kl0, kl, strict=True)))
                       + ". Smaller after means it moved towards MiniLM's pattern on its own.")

st.subheader("bertviz: head view and model view")
view = st.radio("View", ["head", "model"], horizontal=True, key="attention.bertviz_view",
                format_func=lambda v: {"head": "head view (one layer)", "model": "model view (all heads)"}[v])
page.publish()
for col, key in zip(columns(), keys, strict=True):
    with col, friendly_errors(f"bertviz for {label(key)}"):
        html_page = bertviz_html(key, text, pair, view, min(layer, results[key]["config"].num_layers - 1))
        height = 620 if view == "head" else 900
        if hasattr(st, "iframe"):  # Streamlit ≥ 1.5x; components.v1.html is deprecated there
            st.iframe(html_page, height=height, alt=f"bertviz {view} view of {label(key)}")
        else:
            components.html(html_page, height=height, scrolling=True)
        n = len(results[key]["enc"].tokens)
        cut = f" Only the first {BERTVIZ_TOKENS} of {n} tokens are drawn." if n > BERTVIZ_TOKENS else ""
        st.download_button("⬇️ This bertviz view as an offline HTML file", html_page, mime="text/html",
                           file_name=f"albertviz-bertviz-{view}-{key}.html", key=f"attention.bertviz_html.{key}",
                           on_click="ignore", type="tertiary")
        page.why("bertviz (Jesse Vig) running fully offline: d3 and jQuery come from local Python packages. "
                 "Head view: hover a token to see where it looks; colours are heads. Model view: every head "
                 f"of every layer; click one to enlarge.{cut}")

st.subheader("Mask a token")
mask_keys = [k for k in keys if load_model(k).head is not None]  # the models picked above that can guess
for key in (k for k in keys if k not in mask_keys):
    why = (" (all-MiniLM-L6-v2 is a sentence-embedding model)" if key == MINILM else "")
    st.info(f"{label(key)} has no masked-language-model head{why}, so it cannot fill in [MASK] and is left "
            "out below.", icon="🙅")
if not mask_keys:
    st.stop()
base = load_model(mask_keys[0])
enc_a = base.encode(text)
choices = [i for i, t in enumerate(enc_a.tokens) if t not in fa.SPECIAL_TOKENS]
if not choices:
    st.info("The sentence has no ordinary token to mask.")
    st.stop()
page.view.settle("mask", choices, choices[min(len(choices) - 1, 1)])  # a new sentence, or a link's position
m1, m2 = st.columns([3, 1])
pos = m1.selectbox("Token to hide", choices, format_func=lambda i: f"{i}: {enc_a.tokens[i]}",
                   key="attention.mask_pos")
top_k = m2.number_input("Top-k", 1, 20, key="attention.mask_topk")
page.publish()
masked = mask_token(base.tokenizer, text, pos)
start, end = base.tokenizer.encode(text).offsets[pos]
hidden = text[start:end]
st.markdown(f"The models read (first sentence only; hidden: `{hidden.replace('`', '')}`):")
st.code(masked, language=None)
for col, key in zip(columns() if len(mask_keys) == len(keys) else [st.container()], mask_keys, strict=False):
    with col, friendly_errors(f"the guesses of {label(key)}"):
        preds = predict(key, masked, int(top_k), hidden)
        if not preds:
            st.warning(f"The [MASK] lies beyond what {label(key)} reads; pick an earlier token.")
            continue
        p = preds[0]
        page.chart(fa.mask_predictions_figure(p["tokens"], p["probs"], label(key), hidden=hidden.lower()),
                   key=f"attention.mask_chart.{key}")
        if p["target_rank"] is None:
            where = f"'{hidden}' is not a single piece of this model's vocabulary, so it has no rank."
        else:
            where = (f"The hidden word '{hidden}' gets {p['target_prob']:.1%} — rank {p['target_rank']:,} of "
                     f"{load_model(key).config.vocab_size:,} pieces.")
        page.why(f"The {int(top_k)} pieces {label(key)} finds most likely in place of the hidden one, with its "
                 f"own probabilities (axis fixed at 0–100%). {where}")
