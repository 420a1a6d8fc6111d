"""Embeddings: full vs factorized vs EELBERT-style hashed — how a hashed vector is made, what it loses,
what it saves, and what it costs. Numbers come from albertviz.lessons.embedding_{hashing,sizes,price}; figures
from albertviz.figures. Only the open tab runs and draws (its charts are most of a first visit's time in the
browser); the others' settings are held by ui.viewstate and stay in the URL."""

from collections.abc import Callable
from typing import NamedTuple

import streamlit as st

from albertviz import ConfigError, labels
from albertviz.core.config import SHARING_MODES
from albertviz.core.embeddings import token_surface
from albertviz.data.tokenizer import load_tokenizer, vocab_list
from albertviz.figures import embeddings as figs
from albertviz.lessons import embedding_hashing as hashing
from albertviz.lessons import embedding_price as price
from albertviz.lessons import embedding_sizes as sizes
from albertviz.zoo import ZooError, list_models
from albertviz.zoo.cells import Cell
from albertviz_app.ui.feedback import friendly_errors
from albertviz_app.ui.models import available_models, load_model
from albertviz_app.ui.page import Page, key, start
from albertviz_app.ui.viewstate import Param

SLUG = "embeddings"
DEFAULT_TOKEN = "running"  # a single piece of the zoo's vocabulary, with an ending hashing can show
MODES = ["pick a vocabulary token", "type any word"]
E_SIZES, BATCHES = [16, 32, 64, 128, 256], [256, 1024, 2048, 4096]
ZOO_HASHED = sizes.zoo_shape("hashed")  # the hashing defaults are the zoo's hashed cells' own
TABS = {"① Watch it hash": "hash", "② Collisions & neighbours": "collisions", "③ Size": "size",
        "④ The price": "price"}  # label → its word in a link (`?tab=size`)
TAB_LABELS = list(TABS)


def k(name: str) -> str:
    return key(SLUG, name)


def in_tab(i: int, mode: str | None = None) -> Callable[[], bool]:
    """Param.drawn for a widget of tab i (and, for the token boxes, of one token mode): is it drawn this run?"""
    ss = st.session_state
    return lambda: ss.get(k("tab")) == TAB_LABELS[i] and (mode is None or ss.get(k("mode")) == mode)


@st.cache_data(show_spinner=False)
def headline_sentence() -> str:
    return sizes.headline_sentence()


@st.cache_resource(show_spinner=False)
def vocab() -> tuple[str, ...]:
    return tuple(vocab_list(load_tokenizer()))


@st.cache_data(show_spinner=False, max_entries=16)
def collisions(dim: int, n_min: int, n_max: int, seed: int, pooling: str) -> hashing.CollisionReport:
    return hashing.collision_report(hashing.hashed_matrix(vocab(), dim, n_min, n_max, seed, pooling))


@st.cache_data(show_spinner=False, max_entries=8)
def latencies(n_tokens: int, nonce: int) -> list[price.Latency]:
    return price.measure_latency(price.sample_tokens(load_tokenizer(), n_tokens), vocab())


def learned(sharing: str, embedding: str):
    """The zoo cell's Embeddings module, or None (with a note) while that cell is still training."""
    name = Cell(sharing, embedding).name
    if name not in available_models():
        st.info(f"The zoo cell **{name}** has not been trained yet, so its learned rows are not shown. "
                "Cells land one by one; reload this page later.", icon="⏳")
        return None
    return load_model(name).encoder.embeddings


PARAMS = [
    Param("tab", k("tab"), TAB_LABELS[0], options=TAB_LABELS, words=TABS),
    Param("nmin", k("nmin"), ZOO_HASHED.hash_ngram_min, kind=int, low=1, high=hashing.MAX_NGRAM),
    Param("nmax", k("nmax"), ZOO_HASHED.hash_ngram_max, kind=int, low=1, high=hashing.MAX_NGRAM),
    Param("dim", k("dim"), ZOO_HASHED.hidden_size, kind=int, low=1, high=hashing.MAX_DIM),
    Param("seed", k("seed"), ZOO_HASHED.hash_seed, kind=int, low=-2**31, high=2**31),
    Param("pooling", k("pooling"), ZOO_HASHED.hash_pooling, options=["mean", "sum"]),
    Param("mode", k("mode"), MODES[0], options=MODES, drawn=in_tab(0)),
    Param("token", k("token"), DEFAULT_TOKEN, options=lambda: vocab(), drawn=in_tab(0, MODES[0])),
    Param("word", k("word"), "Shakespearean", drawn=in_tab(0, MODES[1])),
    Param("sharing", k("sharing"), SHARING_MODES[0], options=SHARING_MODES, drawn=in_tab(0)),
    Param("threshold", k("threshold"), 0.95, kind=float, low=0.8, high=1.0, drawn=in_tab(1)),
    Param("k", k("k"), 8, kind=int, low=3, high=20, drawn=in_tab(1)),
    Param("E", k("E"), 128, kind=int, options=E_SIZES, drawn=in_tab(2)),
    Param("dtype", k("dtype"), sizes.DTYPES[0], options=list(sizes.DTYPES), drawn=in_tab(2)),
    Param("batch", k("batch"), 2048, kind=int, options=BATCHES, drawn=in_tab(3)),
]


class Hashing(NamedTuple):  # not a dataclass: see ui/page.py
    n_min: int
    n_max: int
    dim: int
    seed: int
    pooling: str
    ok: bool  # False: the settings cannot hash (a message says why)

    @property
    def args(self) -> tuple:
        return self.dim, self.n_min, self.n_max, self.seed, self.pooling


def controls(page: Page) -> Hashing:
    with page.controls():
        c = page.side_by_side(5)
        n_min = int(c[0].number_input("Shortest n-gram", step=1, max_value=hashing.MAX_NGRAM, key=k("nmin")))
        n_max = int(c[1].number_input("Longest n-gram", step=1, max_value=hashing.MAX_NGRAM, key=k("nmax")))
        dim = int(c[2].number_input("Hashed dimension", step=16, max_value=hashing.MAX_DIM, key=k("dim")))
        seed = int(c[3].number_input("Hash seed", step=1, min_value=-2**31, max_value=2**31, key=k("seed")))
        pooling = c[4].radio("Pooling", ["mean", "sum"], horizontal=True, key=k("pooling"))
    page.publish()
    ok = False
    z = ZOO_HASHED
    with friendly_errors("the hashing settings", hint=f"The defaults ({z.hash_ngram_min}..{z.hash_ngram_max}, "
                                                      f"dimension {z.hidden_size}) are what the zoo's hashed "
                                                      "models use."):
        hashing.check_settings(dim, n_min, n_max)
        ok = True
    return Hashing(n_min, n_max, dim, seed, pooling, ok)


def draw_hash(page: Page, h: Hashing) -> None:
    """Tab ①: one token's n-grams, hashed and pooled, next to learned rows."""
    mode = st.radio("Token", MODES, horizontal=True, key=k("mode"))
    pick, share = st.columns(2) if page.lecture else (st.container(), st.container())  # the chart higher up
    if mode == MODES[0]:
        raw = pick.selectbox("Vocabulary token (type to search)", vocab(), key=k("token"))
    else:
        raw = pick.text_input("Any word — hashing needs no vocabulary", key=k("word"))
    sharing = share.selectbox("Learned rows from the zoo cells with sharing", SHARING_MODES,
                              format_func=labels.SHARING.get, key=k("sharing"))
    page.publish()
    steps = None
    with friendly_errors("the hashed embedding"):
        word = hashing.word_to_token(raw, load_tokenizer())
        choice = hashing.vocab_row(word, load_tokenizer())
        if h.ok:
            steps = hashing.hashed_steps(word, *h.args)
            page.chart(figs.ngram_heatmap(steps.ngrams, steps.vectors, steps.pooled), key=k("fig_ngrams"))
            page.why(f"'{word}' is wrapped as {token_surface(word)!r} and cut into {len(steps.ngrams)} "
                     f"character n-grams ({h.n_min}..{h.n_max}). Each n-gram's keyed BLAKE2b hash (seed {h.seed}) "
                     f"fills a {h.dim}-dim vector with values in [-1, 1]; the bottom row is their {h.pooling}. "
                     "Nothing here was learned or stored — any string gets a vector, so there is no "
                     "out-of-vocabulary token.")
            page.table(hashing.ngram_rows(steps), key=k("ngram_table"), name=f"ngrams-{word}", hide_index=True)
        if not choice.in_vocab:
            st.info(f"'{word}' is not in the zoo's {len(vocab()):,}-piece vocabulary: WordPiece splits it into "
                    f"{' · '.join(choice.pieces)}. A learned table has rows only for tokens, so the rows below "
                    f"are those of its first piece '{choice.token}'.", icon="🧩")
        strips = {f"hashed '{word}' (pooled)": steps.pooled} if steps is not None else {}
        for emb in ("full", "factorized"):
            if (module := learned(sharing, emb)) is not None:
                rows = hashing.learned_vectors(module, choice.token_id)
                strips[f"{emb}: learned row of '{choice.token}'"] = rows["row"]
                if "projected" in rows:
                    strips[f"{emb}: projection(LayerNorm(row)) to H"] = rows["projected"]
        if strips:
            page.chart(figs.vector_strips(strips), key=k("fig_strips"))
            page.why(f"The full model stores an H={sizes.zoo_shape().hidden_size} row per token; the factorized one "
                     f"an E={sizes.zoo_factorized_e()} row that its learned E→H projection expands (shown after the "
                     "LayerNorm that precedes it in the model; position and segment vectors are left out because "
                     "they depend on where the token stands). Notice the learned rows look like noise to us but "
                     "encode meaning; the hashed one encodes spelling.")


def chosen() -> tuple[hashing.TokenChoice | None, str]:
    """Tab ①'s token (None if the typed word cannot be one) and sharing mode, read from session_state: tab ① is
    not drawn while ② is open, and ui.viewstate holds its widgets' values meanwhile."""
    ss = st.session_state
    raw = ss[k("token")] if ss[k("mode")] == MODES[0] else ss[k("word")]
    try:
        return hashing.vocab_row(hashing.word_to_token(raw, load_tokenizer()), load_tokenizer()), ss[k("sharing")]
    except ConfigError:
        return None, ss[k("sharing")]


def draw_collisions(page: Page, h: Hashing) -> None:
    if not h.ok:
        st.info("Fix the hashing settings above to scan the vocabulary.")
        return
    threshold = st.slider("Near-collision threshold (cosine)", 0.80, 1.00, step=0.01, key=k("threshold"))
    n = st.slider("Neighbours to list", 3, 20, key=k("k"))
    page.publish()
    with friendly_errors("the collision scan"):
        with st.spinner(f"Comparing all {len(vocab()):,} tokens with each other "
                        f"(~{len(vocab()) ** 2 / 2 / 1e6:,.0f}M cosines)…"):
            rep = collisions(*h.args)
        m = st.columns(3)
        m[0].metric("Tokens scanned", f"{rep.vocab_size:,}")
        m[1].metric("Identical vectors", f"{rep.tokens_in_duplicates:,} tokens",
                    help=f"in {rep.duplicate_groups:,} groups of tokens with exactly the same vector")
        m[2].metric(f"Nearest other ≥ {threshold:.2f}", f"{rep.near(threshold):,} tokens")
        page.chart(figs.nn_cosine_histogram(rep.nn_cos, threshold), key=k("fig_nn"))
        page.why(f"For each vocabulary token, the cosine between its hashed vector (n-grams {h.n_min}..{h.n_max}, "
                 f"{h.dim} dims) and the closest other token's. Tokens right of the line are near-collisions the "
                 "model can hardly tell apart. Try 1..1 (anagrams collide exactly) or a tiny dimension.")
        if pairs := rep.examples(vocab(), threshold, n):
            page.table(pairs, key=k("pairs"), name="near-collisions", hide_index=True)
        else:
            st.caption(f"No two tokens' hashed vectors reach cosine {threshold:.2f} here: no pairs to list.")
        choice, sharing = chosen()
        if choice is None:
            st.info("The word typed in ① is not a single token, so no neighbours are listed for it.", icon="🧩")
            return
        st.markdown(f"**Nearest neighbours of '{choice.token}'** — hashed (spelling) vs learned (meaning)")
        left, right = st.columns(2)
        hashed = hashing.hashed_matrix(vocab(), *h.args)
        page.table(hashing.nearest_neighbours(hashed, vocab(), choice.token_id, n), key=k("nn_hashed"),
                   name=f"hashed-neighbours-{choice.token}", where=left, hide_index=True)
        if (module := learned(sharing, "full")) is not None:
            learned_nn = hashing.nearest_neighbours(module.word_matrix(), vocab(), choice.token_id, n)
            page.table(learned_nn, key=k("nn_learned"),
                       name=f"learned-neighbours-{choice.token}", where=right, hide_index=True)
        page.why("Left: hashed neighbours share n-grams (same stem or ending). Right: the trained full "
                 f"table of the {labels.SHARING[sharing]} zoo cell, where neighbours are tokens "
                 "used in similar contexts. Hashing gives spelling for free; meaning must be learned by the layers.")


def draw_sizes(page: Page) -> None:
    e_size = st.select_slider("Factorized E", E_SIZES, key=k("E"))
    dtype = st.radio("Chart in", sizes.DTYPES, horizontal=True, key=k("dtype"))
    page.publish()
    with friendly_errors("the size table"):
        records = [r.record() for r in sizes.size_rows(e_size)]
        page.table(records, key=k("sizes"), name=f"embedding-sizes-E{e_size}", hide_index=True, column_config={
            "embedding share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            **{f"MB {d}": st.column_config.NumberColumn(format="%.2f") for d in sizes.DTYPES}})
        page.chart(figs.size_bars(records, dtype), key=k("fig_sizes"))
        page.why(f"Every number is count_parameters() on the real module. Factorized uses E={e_size} (capped at H: "
                 "E ≥ H saves nothing); hashed computes H-dim vectors directly, keeping only position and segment "
                 "vectors. The smaller the model, the bigger the embeddings' share.")
        st.markdown(headline_sentence())


def draw_price(page: Page) -> None:
    n_tokens = st.select_slider("Batch (tokens)", BATCHES, key=k("batch"))
    page.publish()
    ss = st.session_state
    if st.button("Measure again", key=k("remeasure")):
        ss[k("nonce")] = ss.get(k("nonce"), 0) + 1
    with friendly_errors("the latency measurement"):
        with st.spinner("Timing each way to get word vectors on this CPU…"):
            lats = latencies(n_tokens, ss.get(k("nonce"), 0))
        page.chart(figs.latency_bars([x.method for x in lats], [x.us_per_token for x in lats], n_tokens),
                   key=k("fig_latency"))
        fly, look = lats[-1], lats[0]
        page.why(f"Zoo shape (H={sizes.zoo_shape().hidden_size}), real tokens of the zoo's text. "
                 f"Hashing each token from its string costs {fly.us_per_token:.1f} µs vs {look.us_per_token:.2f} µs "
                 f"for a lookup (~{fly.ms_per_batch / max(look.ms_per_batch, 1e-6):,.0f}×): the price of storing "
                 "no table. A model that may keep a table in RAM can precompute it and pay only the lookup.")
        try:
            entries = list_models()
        except ZooError:
            entries = []
        if not entries:
            st.info("No zoo cell has finished training yet, so there is no accuracy to plot.", icon="⏳")
            return
        page.chart(figs.price_chart(price.price_points(entries, lats)), key=k("fig_price"))
        tiny_m = sizes.eelbert_headline().bert_tiny.total / 1e6
        page.why("Each bubble is a trained zoo cell (label: sharing mode): its encoder's size from "
                 "count_parameters, its held-out masked-token accuracy from the manifest, and the measured "
                 "embedding time of its type (hashed: on the fly). The hashed cells were pre-trained with a "
                 f"learned {sizes.hashed_output_table_params():,}-parameter output table in their MLM head (tying the "
                 "decoder to the fixed hashed vectors made them guess by spelling); like BERT's MLM head — which "
                 f"BERT-tiny's {tiny_m:.2f}M leaves out too — it is used only to pre-train, so the sizes here count "
                 "the encoder alone. " + price.embedding_verdict(entries))
        page.table(price.accuracy_by_embedding(entries), key=k("acc"), name="accuracy-by-embedding", hide_index=True)


def main() -> None:
    page = start(SLUG, PARAMS)
    st.title("🔤 Embeddings: a table, a factorized table, or no table at all")
    page.intro("BERT stores one learned **V×H** row per token; ALBERT stores **V×E + E×H** (E ≪ H); EELBERT-style "
               "**hashed** embeddings store nothing: a token's vector is *computed* from its character n-grams. "
               "For small models the table is most of the model — here is how hashing works, and what it costs.")
    h = controls(page)
    tabs = st.tabs(TAB_LABELS, key=k("tab"), on_change="rerun")  # tracked: a hidden tab's .open is False
    page.publish()  # the URL follows the open tab
    draws = [lambda: draw_hash(page, h), lambda: draw_collisions(page, h), lambda: draw_sizes(page),
             lambda: draw_price(page)]
    for tab, draw in zip(tabs, draws, strict=True):
        if tab.open:
            with tab:
                draw()


main()
