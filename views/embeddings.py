"""Embeddings: full vs factorized vs EELBERT-style hashed — how a hashed vector is made, what it loses,
what it saves, and what it costs. Numbers come from albertviz.embedding_lab; figures from albertviz.figures."""

import streamlit as st

from albertviz import ConfigError
from albertviz import embedding_lab as lab
from albertviz.config import SHARING_MODES
from albertviz.embeddings import token_surface
from albertviz.figures import embeddings as figs
from albertviz.tokenizer import load_tokenizer, vocab_list
from albertviz.zoo import ZooError, list_models
from ui.feedback import friendly_errors
from ui.models import SHARING_LABELS, available_models, load_model

S = "embeddings"
DEFAULT_TOKEN = "running"  # a single piece of the zoo's vocabulary, with an ending hashing can show


@st.cache_resource(show_spinner=False)
def vocab() -> tuple[str, ...]:
    return tuple(vocab_list(load_tokenizer()))


@st.cache_data(show_spinner=False, max_entries=16)
def collisions(dim: int, n_min: int, n_max: int, seed: int, pooling: str) -> lab.CollisionReport:
    return lab.collision_report(lab.hashed_matrix(vocab(), dim, n_min, n_max, seed, pooling))


@st.cache_data(show_spinner=False, max_entries=8)
def latencies(n_tokens: int, nonce: int) -> list[lab.Latency]:
    return lab.measure_latency(lab.sample_tokens(load_tokenizer(), n_tokens), vocab())


def learned(key: str):
    """The zoo cell's Embeddings module, or None (with a note) while that cell is still training."""
    if key not in available_models():
        st.info(f"The zoo cell **{key}** has not been trained yet, so its learned rows are not shown. "
                "Cells land one by one; reload this page later.", icon="⏳")
        return None
    return load_model(key).encoder.embeddings


st.title("🔤 Embeddings: a table, a factorized table, or no table at all")
st.markdown("BERT stores one learned **V×H** row per token; ALBERT stores **V×E + E×H** (E ≪ H); EELBERT-style "
            "**hashed** embeddings store nothing: a token's vector is *computed* from its character n-grams. "
            "For small models the table is most of the model — here is how hashing works, and what it costs.")
c = st.columns(5)
n_min = int(c[0].number_input("Shortest n-gram", value=2, step=1, max_value=16, key=f"{S}_nmin"))
n_max = int(c[1].number_input("Longest n-gram", value=4, step=1, max_value=16, key=f"{S}_nmax"))
dim = int(c[2].number_input("Hashed dimension", value=128, step=16, max_value=lab.MAX_DIM, key=f"{S}_dim"))
seed = int(c[3].number_input("Hash seed", value=0, step=1, min_value=-2**31, max_value=2**31, key=f"{S}_seed"))
pooling = c[4].radio("Pooling", ["mean", "sum"], horizontal=True, key=f"{S}_pooling")
try:
    lab.check_settings(dim, n_min, n_max)
    settings_ok = True
except ConfigError as err:
    st.error(f"{err} The defaults (2..4, dimension 128) are what the zoo's hashed models use.", icon="⚠️")
    settings_ok = False

tab_hash, tab_coll, tab_size, tab_price = st.tabs(
    ["① Watch it hash", "② Collisions & neighbours", "③ Size", "④ The price"])
steps = choice = None
with tab_hash:
    mode = st.radio("Token", ["pick a vocabulary token", "type any word"], horizontal=True, key=f"{S}_mode")
    if mode == "pick a vocabulary token":
        raw = st.selectbox("Vocabulary token (type to search)", vocab(), index=vocab().index(DEFAULT_TOKEN),
                           key=f"{S}_token")
    else:
        raw = st.text_input("Any word — hashing needs no vocabulary", value="Shakespearean", key=f"{S}_word")
    sharing = st.selectbox("Learned rows from the zoo cells with sharing", SHARING_MODES,
                           format_func=SHARING_LABELS.get, key=f"{S}_sharing")
    with friendly_errors("the hashed embedding"):
        word = lab.word_to_token(raw, load_tokenizer())
        choice = lab.vocab_row(word, load_tokenizer())
        if settings_ok:
            steps = lab.hashed_steps(word, dim, n_min, n_max, seed, pooling)
            st.plotly_chart(figs.ngram_heatmap(steps.ngrams, steps.vectors, steps.pooled), key=f"{S}_fig_ngrams")
            st.caption(f"'{word}' is wrapped as {token_surface(word)!r} and cut into {len(steps.ngrams)} "
                       f"character n-grams ({n_min}..{n_max}). Each n-gram's keyed BLAKE2b hash (seed {seed}) fills "
                       f"a {dim}-dim vector with values in [-1, 1]; the bottom row is their {pooling}. Nothing here "
                       "was learned or stored — any string gets a vector, so there is no out-of-vocabulary token.")
            st.dataframe(lab.ngram_rows(steps), hide_index=True, key=f"{S}_ngram_table")
        if not choice.in_vocab:
            st.info(f"'{word}' is not in the zoo's {len(vocab()):,}-piece vocabulary: WordPiece splits it into "
                    f"{' · '.join(choice.pieces)}. A learned table has rows only for tokens, so the rows below "
                    f"are those of its first piece '{choice.token}'.", icon="🧩")
        strips = {f"hashed '{word}' (pooled)": steps.pooled} if steps is not None else {}
        for emb in ("full", "factorized"):
            module = learned(f"{sharing}-{emb}")
            if module is not None:
                rows = lab.learned_vectors(module, choice.token_id)
                strips[f"{emb}: learned row of '{choice.token}'"] = rows["row"]
                if "projected" in rows:
                    strips[f"{emb}: projection(LayerNorm(row)) to H"] = rows["projected"]
        if strips:
            st.plotly_chart(figs.vector_strips(strips), key=f"{S}_fig_strips")
            st.caption(f"The full model stores an H={lab.zoo_shape().hidden_size} row per token; the factorized one an "
                       f"E={lab.zoo_factorized_e()} row that its learned "
                       "E→H projection expands (shown after the LayerNorm that precedes it in the model; position "
                       "and segment vectors are left out because they depend on where the token stands). Notice "
                       "the learned rows look like noise to us but encode meaning; the hashed one encodes spelling.")

with tab_coll:
    if not settings_ok:
        st.info("Fix the hashing settings above to scan the vocabulary.")
    else:
        threshold = st.slider("Near-collision threshold (cosine)", 0.80, 1.00, 0.95, 0.01, key=f"{S}_threshold")
        k = st.slider("Neighbours to list", 3, 20, 8, key=f"{S}_k")
        with friendly_errors("the collision scan"):
            with st.spinner(f"Comparing all {len(vocab()):,} tokens with each other "
                            f"(~{len(vocab()) ** 2 / 2 / 1e6:,.0f}M cosines)…"):
                rep = collisions(dim, n_min, n_max, seed, pooling)
            m = st.columns(3)
            m[0].metric("Tokens scanned", f"{rep.vocab_size:,}")
            m[1].metric("Identical vectors", f"{rep.tokens_in_duplicates:,} tokens",
                        help=f"in {rep.duplicate_groups:,} groups of tokens with exactly the same vector")
            m[2].metric(f"Nearest other ≥ {threshold:.2f}", f"{rep.near(threshold):,} tokens")
            st.plotly_chart(figs.nn_cosine_histogram(rep.nn_cos, threshold), key=f"{S}_fig_nn")
            st.caption(f"For each vocabulary token, the cosine between its hashed vector (n-grams {n_min}..{n_max}, "
                       f"{dim} dims) and the closest other token's. Tokens right of the line are near-collisions the "
                       "model can hardly tell apart. Try 1..1 (anagrams collide exactly) or a tiny dimension.")
            st.dataframe(rep.examples(vocab(), threshold, k), hide_index=True, key=f"{S}_pairs")
            if choice is not None:
                st.markdown(f"**Nearest neighbours of '{choice.token}'** — hashed (spelling) vs learned (meaning)")
                left, right = st.columns(2)
                hashed = lab.hashed_matrix(vocab(), dim, n_min, n_max, seed, pooling)
                left.dataframe(lab.nearest_neighbours(hashed, vocab(), choice.token_id, k), hide_index=True,
                               key=f"{S}_nn_hashed")
                module = learned(f"{sharing}-full")
                if module is not None:
                    right.dataframe(lab.nearest_neighbours(module.word_matrix(), vocab(), choice.token_id, k),
                                    hide_index=True, key=f"{S}_nn_learned")
                st.caption("Left: hashed neighbours share n-grams (same stem or ending). Right: the trained full "
                           f"table of the {SHARING_LABELS[sharing]} zoo cell, where neighbours are tokens "
                           "used in similar contexts. Hashing gives spelling for free; meaning must be learned by "
                           "the layers.")

with tab_size:
    e_size = st.select_slider("Factorized E", [16, 32, 64, 128, 256], value=128, key=f"{S}_E")
    dtype = st.radio("Chart in", lab.DTYPES, horizontal=True, key=f"{S}_dtype")
    with friendly_errors("the size table"):
        records = [r.record() for r in lab.size_rows(e_size)]
        st.dataframe(records, hide_index=True, key=f"{S}_sizes", column_config={
            "embedding share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            **{f"MB {d}": st.column_config.NumberColumn(format="%.2f") for d in lab.DTYPES}})
        st.plotly_chart(figs.size_bars(records, dtype), key=f"{S}_fig_sizes")
        st.caption(f"Every number is count_parameters() on the real module. Factorized uses E={e_size} (capped at H: "
                   "E ≥ H saves nothing); hashed computes H-dim vectors directly, keeping only position and segment "
                   "vectors. The smaller the model, the bigger the embeddings' share.")
        h = lab.eelbert_headline()
        u = h.uno
        st.markdown(
            f"**EELBERT's headline, recomputed.** BERT-tiny: **{h.bert_tiny.total / 1e6:.2f}M** parameters = "
            f"**{h.bert_tiny.mb['fp32']:.1f} MB** fp32, **{h.bert_tiny.share:.0%}** of it embeddings. "
            f"EELBERT-tiny (same shape, no table): {h.eelbert_tiny.total:,} parameters = "
            f"{h.eelbert_tiny.mb['fp32']:.2f} MB fp32 ({h.bert_tiny.total / h.eelbert_tiny.total:.1f}× smaller). "
            "UNO-EELBERT is 1.2 MB; of the hashed BERT-tiny variants searched (1–2 layers, FFN 128–512, "
            f"fp32/fp16/int8) the closest is **{u['layers']} layer(s), FFN {u['ffn']}, {u['dtype']}**: "
            f"{u['parameters']:,} parameters = **{u['MB']:.2f} MB**, {h.shrink:.1f}× smaller than BERT-tiny. "
            "(The paper's exact recipe is not reproduced here; this is a configuration that reaches that size.)")

with tab_price:
    n_tokens = st.select_slider("Batch (tokens)", [256, 1024, 2048, 4096], value=2048, key=f"{S}_batch")
    if st.button("Measure again", key=f"{S}_remeasure"):
        st.session_state[f"{S}_nonce"] = st.session_state.get(f"{S}_nonce", 0) + 1
    with friendly_errors("the latency measurement"):
        with st.spinner("Timing four ways to get word vectors on this CPU…"):
            lats = latencies(n_tokens, st.session_state.get(f"{S}_nonce", 0))
        st.plotly_chart(figs.latency_bars([x.method for x in lats], [x.us_per_token for x in lats], n_tokens),
                        key=f"{S}_fig_latency")
        fly, look = lats[-1], lats[0]
        st.caption(f"Zoo shape (H={lab.zoo_shape().hidden_size}), real tokens of the zoo's text. "
                   "Hashing each token from its string costs "
                   f"{fly.us_per_token:.1f} µs vs {look.us_per_token:.2f} µs for a lookup "
                   f"(~{fly.ms_per_batch / max(look.ms_per_batch, 1e-6):,.0f}×): the price of storing no table. "
                   "A model that may keep a table in RAM can precompute it and pay only the lookup.")
        try:
            entries = list_models()
        except ZooError:
            entries = []
        if not entries:
            st.info("No zoo cell has finished training yet, so there is no accuracy to plot.", icon="⏳")
        else:
            st.plotly_chart(figs.price_chart(lab.price_points(entries, lats)), key=f"{S}_fig_price")
            out_table = lab.hashed_output_table_params()
            st.caption("Each bubble is a trained zoo cell (label: sharing mode): its encoder's size from "
                       "count_parameters, its held-out masked-token accuracy from the manifest, and the measured "
                       "embedding time of its type (hashed: on the fly). The hashed cells were pre-trained with a "
                       f"learned {out_table:,}-parameter output table in their MLM head (tying the decoder to the "
                       "fixed hashed vectors made them guess by spelling); like BERT's MLM head — which BERT-tiny's "
                       "4.39M leaves out too — it is used only to pre-train, so the sizes here count the encoder "
                       "alone. " + lab.embedding_verdict(entries))
            st.dataframe(lab.accuracy_by_embedding(entries), hide_index=True, key=f"{S}_acc")
