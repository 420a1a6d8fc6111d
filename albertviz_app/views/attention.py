"""Attention: per-layer, per-head maps of real models, the layer plan beside them, bertviz, [MASK]."""

import functools
from typing import NamedTuple

import streamlit as st

from albertviz.core.sharing import plan_letters
from albertviz.data.tokenizer import mask_token
from albertviz.figures import attention as fa
from albertviz.zoo.evaluation import N_ATTENTION_CHUNKS
from albertviz_app import heap
from albertviz_app.ui.attention_runs import (
    BERTVIZ_TOKENS,
    LAYER_PARAM,
    bertviz_file,
    bertviz_height,
    bertviz_html,
    grid_figure,
    head_figure,
    mask_figure,
    plan_figure,
    predict,
    run,
    same_weights_sentence,
    summary_figure,
)
from albertviz_app.ui.feedback import MAX_CHARS, clean_text, friendly_errors, sentence_input, truncation_notice
from albertviz_app.ui.models import MINILM, available_models, label, load_model, model_picker, unavailable_models
from albertviz_app.ui.page import Page, key, start
from albertviz_app.ui.viewstate import Param

SLUG = "attention"
DEFAULT_TEXT = "The cat sat on the mat because it was tired."
VIEWS = {"head": "head view (one layer)", "model": "model view (all heads)"}


def k(name: str) -> str:
    return key(SLUG, name)


def chosen() -> list[str]:
    ss = st.session_state
    return [ss[k("model")]] + ([ss[k("model_b")]] if ss.get(k("compare")) else [])


def most(field: str) -> int:
    """The largest layer or head number among the chosen models (validates a link's layer/head)."""
    sizes = []
    for m in chosen():
        try:
            sizes.append(getattr(load_model(m).config, field))
        except Exception:  # noqa: BLE001 - an unloadable pick is explained further down the page
            continue
    return max(sizes, default=1)


def params(models: list[str]) -> list[Param]:
    pickable = models + unavailable_models()
    return [
        Param("text", k("text"), DEFAULT_TEXT),
        Param("pair", k("pair"), ""),
        Param("model", k("model"), models[0], options=pickable),
        Param("compare", k("compare"), False, kind=bool),
        Param("model2", k("model_b"), lambda: MINILM if st.session_state[k("model")] != MINILM else models[0],
              options=pickable, active=lambda: bool(st.session_state.get(k("compare")))),
        Param(LAYER_PARAM, k("layer"), 1, kind=int, low=1, options=lambda: range(1, most("num_layers") + 1)),
        Param("head", k("head"), 1, kind=int, low=1, options=lambda: range(1, most("num_heads") + 1)),
        Param("bertviz", k("bertviz_view"), "head", options=list(VIEWS)),
        Param("mask", k("mask_pos"), 2, kind=int, low=0),  # its real default: settle() in draw_mask
        Param("topk", k("mask_topk"), 5, kind=int, low=1, high=20),
    ]


class Settings(NamedTuple):  # not a dataclass: see ui/page.py
    text: str | None
    pair: str | None
    models: list[str]


def controls(page: Page, models: list[str]) -> Settings:
    with page.controls():
        text = sentence_input("Sentence", key=k("text"), default=DEFAULT_TEXT)
        pair_raw = st.text_input("Optional second sentence (a segment pair, as BERT's next-sentence and ALBERT's "
                                 "sentence-order tasks read them)", key=k("pair"))
        c1, c2 = page.side_by_side(2)
        with c1:
            key_a = model_picker(k("model"), default=models[0], label_text="Model")
        with c2:
            compare = st.toggle("Compare with a second model", key=k("compare"))
            key_b = (model_picker(k("model_b"), default=MINILM if key_a != MINILM else models[0],
                                  label_text="Second model") if compare else None)
    page.publish()
    return Settings(text, clean_text(pair_raw)[:MAX_CHARS].strip() or None, [key_a] + ([key_b] if compare else []))


def run_models(s: Settings) -> dict[str, dict]:
    results = {}
    with st.spinner("Running the model…"):
        for m in s.models:
            with friendly_errors(label(m)):
                results[m] = run(m, s.text, s.pair)
    for r in results.values():
        truncation_notice(r["enc"], r["config"].max_position_embeddings)
    if len({r["config"].vocab_size for r in results.values()}) > 1:
        st.caption("Each model reads the sentence through its own tokenizer ("
                   + " vs ".join(f"{label(m)}: {r['config'].vocab_size:,} pieces, "
                                 f"{len(r['enc'].tokens)} tokens here" for m, r in results.items())
                   + "), so their maps have different rows and columns.")
    return results


def layer_head(page: Page, results: dict[str, dict]) -> tuple[int, int]:
    """The layer and head selectors (0-based values), bounded by the largest chosen model."""
    top = {"layer": max(r["config"].num_layers for r in results.values()),
           "head": max(r["config"].num_heads for r in results.values())}
    for name, n in top.items():
        if st.session_state.get(k(name), 1) > n:  # a smaller model was picked: keep the selector valid
            st.session_state[k(name)] = n
    with page.controls():
        s1, s2 = st.columns(2)
        layer = s1.selectbox("Layer", list(range(1, top["layer"] + 1)), key=k("layer")) - 1
        head = s2.selectbox("Head", list(range(1, top["head"] + 1)), key=k("head")) - 1
    page.publish()
    return layer, head


def columns(n: int) -> list:
    return st.columns(n) if n > 1 else [st.container()]


def draw_plans(page: Page, results: dict[str, dict], s: Settings, layer: int, head: int) -> None:
    st.subheader("Layer plan and the chosen head")
    for col, (m, r) in zip(columns(len(results)), results.items(), strict=True):
        cfg = r["config"]
        with col, friendly_errors(f"the maps of {label(m)}"):
            lay, h = min(layer, cfg.num_layers - 1), min(head, cfg.num_heads - 1)
            inner = st.columns([2, 3]) if len(results) == 1 else [st.container(), st.container()]
            with inner[0]:
                page.chart(plan_figure(m, s.text, s.pair), key=k(f"plan.{m}"))
                attn_letters, ffn_letters = plan_letters(cfg)
                st.caption(f"Attention blocks per layer: `{attn_letters}`, FFN blocks: `{ffn_letters}`. Same "
                           "colour = same weights. Bars: attention entropy of each layer on this sentence.")
                st.markdown(same_weights_sentence(cfg, r["summary"]["entropy"]))
            with inner[1]:
                page.chart(head_figure(m, s.text, s.pair, lay, h), key=k(f"head_map.{m}"))
                note = (f" (this model has only {cfg.num_layers} layers and {cfg.num_heads} heads: layer "
                        f"{lay + 1}, head {h + 1} is shown)" if (lay, h) != (layer, head) else "")
                page.why("Row = the token that looks, column = the token it looks at; each row sums to 1. "
                         f"Dark vertical stripes on [CLS]/[SEP] are heads that 'park' attention{note}.")


def draw_grids(page: Page, results: dict[str, dict], s: Settings) -> None:
    st.subheader("Every head in every layer")
    for col, m in zip(columns(len(results)), results, strict=True):
        with col, friendly_errors(f"the head grid of {label(m)}"):
            page.chart(grid_figure(m, s.text, s.pair), key=k(f"grid.{m}"))
            page.why("One small map per layer (rows) and head (columns), on one colour scale. In a shared model "
                     "the rows use the same weights: compare their patterns — diagonal (previous/next token), "
                     "vertical stripes ([CLS]/[SEP]) or spread out.")


def draw_summaries(page: Page, results: dict[str, dict], s: Settings) -> None:
    st.subheader("Per-layer summary")
    for col, m in zip(columns(len(results)), results, strict=True):
        with col, friendly_errors(f"the summary of {label(m)}"):
            page.chart(summary_figure(m, s.text, s.pair), key=k(f"summary.{m}"))
            page.why("Averaged over heads and tokens. Entropy 1 means attention spread evenly (dotted: with "
                     "[CLS]/[SEP] left out); distance is how many positions away a token looks on average; the "
                     "last panel is the share of attention parked on [CLS]/[SEP].")
            entry = load_model(m).entry
            kl, kl0 = entry.get("kl_to_minilm_per_layer"), entry.get("kl_to_minilm_at_init_per_layer")
            if kl and kl0:
                st.caption(f"{label(m)} was trained with no teacher. How far its head-averaged attention is from "
                           f"MiniLM's on {N_ATTENTION_CHUNKS} held-out chunks (KL per layer in nats, MiniLM's maps "
                           "carried over to the zoo's word pieces), before → after training: "
                           + ", ".join(f"L{i + 1} {a:.2f} → {b:.2f}"
                                       for i, (a, b) in enumerate(zip(kl0, kl, strict=True)))
                           + ". Smaller after means it moved towards MiniLM's pattern on its own.")


def draw_bertviz(page: Page, results: dict[str, dict], s: Settings, layer: int) -> None:
    st.subheader("bertviz: head view and model view")
    view = st.radio("View", list(VIEWS), horizontal=True, key=k("bertviz_view"), format_func=VIEWS.get)
    page.publish()
    for col, (m, r) in zip(columns(len(results)), results.items(), strict=True):
        with col, friendly_errors(f"bertviz for {label(m)}"):
            lay = min(layer, r["config"].num_layers - 1)
            height = bertviz_height(r, view)  # the whole view, no blank: sized from its layers, heads and tokens
            # the same page for every layer: the head view follows the page's ?layer= without reloading
            st.iframe(bertviz_html(m, s.text, s.pair, view), height=height, alt=f"bertviz {view} view of {label(m)}")
            heap.forget_parsed_urls()  # st.iframe left the whole page in urlsplit's cache (albertviz_app/heap.py)
            n = len(r["enc"].tokens)
            cut = f" Only the first {BERTVIZ_TOKENS} of {n} tokens are drawn." if n > BERTVIZ_TOKENS else ""
            st.download_button("⬇️ This bertviz view as an offline HTML file",
                               functools.partial(bertviz_file, m, s.text, s.pair, view, lay), mime="text/html",
                               file_name=f"albertviz-bertviz-{view}-{m}.html", key=k(f"bertviz_html.{m}"),
                               on_click="ignore", type="tertiary")
            page.why("bertviz (Jesse Vig) running fully offline: d3 and jQuery come from local Python packages. "
                     "Head view: hover a token to see where it looks; colours are heads; bertviz counts layers "
                     f"from 0, so its layer {lay} is layer {lay + 1} here. Model view: every head of every layer; "
                     f"click one to enlarge.{cut}")


def draw_mask(page: Page, models: list[str], text: str) -> None:
    st.subheader("Mask a token")
    mask_models = [m for m in models if load_model(m).head is not None]  # the models picked above that can guess
    for m in (m for m in models if m not in mask_models):
        why = " (all-MiniLM-L6-v2 is a sentence-embedding model)" if m == MINILM else ""
        st.info(f"{label(m)} has no masked-language-model head{why}, so it cannot fill in [MASK] and is left "
                "out below.", icon="🙅")
    if not mask_models:
        return
    base = load_model(mask_models[0])
    enc_a = base.encode(text)
    choices = [i for i, t in enumerate(enc_a.tokens) if t not in fa.SPECIAL_TOKENS]
    if not choices:
        st.info("The sentence has no ordinary token to mask.")
        return
    page.view.settle("mask", choices, choices[min(len(choices) - 1, 1)])  # a new sentence, or a link's position
    m1, m2 = st.columns([3, 1])
    pos = m1.selectbox("Token to hide", choices, format_func=lambda i: f"{i}: {enc_a.tokens[i]}", key=k("mask_pos"))
    top_k = int(m2.number_input("Top-k", 1, 20, key=k("mask_topk")))
    page.publish()
    masked = mask_token(base.tokenizer, text, pos)
    begin, end = base.tokenizer.encode(text).offsets[pos]
    hidden = text[begin:end]
    st.markdown(f"The models read (first sentence only; hidden: `{hidden.replace('`', '')}`):")
    st.container(border=True).text(masked)  # not st.code: its highlighter is 1.5 MB of JavaScript for one line
    for col, m in zip(columns(len(mask_models)) if len(mask_models) == len(models) else [st.container()],
                      mask_models, strict=False):
        with col, friendly_errors(f"the guesses of {label(m)}"):
            preds = predict(m, masked, top_k, hidden)
            if not preds:
                st.warning(f"The [MASK] lies beyond what {label(m)} reads; pick an earlier token.")
                continue
            p = preds[0]
            page.chart(mask_figure(m, masked, top_k, hidden), key=k(f"mask_chart.{m}"))
            if p["target_rank"] is None:
                where = f"'{hidden}' is not a single piece of this model's vocabulary, so it has no rank."
            else:
                where = (f"The hidden word '{hidden}' gets {p['target_prob']:.1%} — rank {p['target_rank']:,} of "
                         f"{load_model(m).config.vocab_size:,} pieces.")
            page.why(f"The {top_k} pieces {label(m)} finds most likely in place of the hidden one, with its "
                     f"own probabilities (axis fixed at 0–100%). {where}")


def main() -> None:
    models = available_models()
    page = start(SLUG, params(models))
    st.title("👀 Attention")
    page.intro("Each layer of a transformer mixes every token with the others; **attention weights** say how much. "
               "With cross-layer sharing several layers run **the very same attention weights** — yet their maps "
               "differ, because each layer sees a different input. Pick a model, a layer and a head.")
    settings = controls(page, models)
    if len(models) == 1:
        st.info("No zoo model is trained yet; the real pretrained MiniLM is shown. Zoo cells appear here as they "
                "finish training.", icon="⏳")
    if settings.text is None:
        st.stop()
    results = run_models(settings)
    if not results:
        st.stop()
    layer, head = layer_head(page, results)
    draw_plans(page, results, settings, layer, head)
    draw_grids(page, results, settings)
    draw_summaries(page, results, settings)
    draw_bertviz(page, results, settings, layer)
    draw_mask(page, list(results), settings.text)


main()
