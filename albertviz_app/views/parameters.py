"""Parameter explorer: any shape, any sharing mode and embedding type, counted from the real module."""

from typing import NamedTuple

import pandas as pd
import streamlit as st

from albertviz import PRESETS, ModelConfig, count_parameters, labels, lessons, paper
from albertviz.core.config import EMBEDDING_TYPES, SHARE_STRATEGIES, SHARING_MODES
from albertviz.core.params import ADAM_BYTES_PER_PARAM, ParamReport
from albertviz.core.sharing import plan_letters
from albertviz_app.ui.feedback import friendly_errors
from albertviz_app.ui.models import available_models, is_checkpoint, label
from albertviz_app.ui.page import Page, key, start
from albertviz_app.ui.parameter_tables import (
    PAPER_TABLES,
    checkpoint_count,
    components_figure,
    grid_figure,
    grid_table,
    paper_frames,
    paper_sentences,
    paper_tables,
)
from albertviz_app.ui.viewstate import Param

SLUG = "parameters"
SHAPE_KEYS = {"vocab_size": "V (vocabulary)", "embedding_size": "E (embedding size)", "hidden_size": "H (hidden)",
              "num_layers": "L (layers)", "num_heads": "A (heads)", "intermediate_size": "F (FFN size)"}
URL_NAMES = {"vocab_size": "V", "embedding_size": "E", "hidden_size": "H", "num_layers": "L", "num_heads": "A",
             "intermediate_size": "F"}  # the paper's letters: ?preset=albert-base&M=3&strategy=cycle
STRATEGY_LABELS = {"sequence": "sequence (AABBCC)", "cycle": "cycle (ABCABC)", "cycle_rev": "cycle, reversed (ABCCBA)"}
SEQ_LENGTHS = list(range(16, 513, 16))


def k(name: str) -> str:
    return key(SLUG, name)


def load_preset() -> None:
    """Copy the chosen preset into the widgets (a callback, so the widgets can still be edited)."""
    ss = st.session_state
    cfg = PRESETS[ss[k("preset")]]
    for field in SHAPE_KEYS:
        ss[k(field)] = getattr(cfg, field)
    ss[k("embedding")], ss[k("sharing")], ss[k("groups")] = cfg.embedding, cfg.sharing, cfg.num_groups


def keep_e() -> None:
    """With a full table, E follows H (greyed out); the factorized E comes back when the table does."""
    ss = st.session_state
    full_table = ss.get(k("embedding")) == "full"
    was_full = ss.get(k("was_full"), False)
    if full_table and not was_full:
        ss[k("factorized_e")] = ss[k("embedding_size")]
    if full_table:
        ss[k("embedding_size")] = ss[k("hidden_size")]
    elif was_full and k("factorized_e") in ss:
        ss[k("embedding_size")] = ss.pop(k("factorized_e"))
    ss[k("was_full")] = full_table


def preset(field: str):
    """A default that follows the chosen preset: only what differs from the preset goes into the URL."""
    return lambda: getattr(PRESETS[st.session_state[k("preset")]], field)


def shared() -> bool:
    return st.session_state.get(k("sharing")) != "none"


PARAMS = [
    Param("preset", k("preset"), "albert-base", options=list(PRESETS)),
    *[Param(URL_NAMES[f], k(f), preset(f), kind=int, low=1, high=10_000_000,
            active=(lambda: st.session_state.get(k("embedding")) != "full") if f == "embedding_size" else None)
      for f in SHAPE_KEYS],
    Param("embedding", k("embedding"), preset("embedding"), options=EMBEDDING_TYPES),
    Param("sharing", k("sharing"), preset("sharing"), options=SHARING_MODES),
    Param("strategy", k("strategy"), "sequence", options=SHARE_STRATEGIES, active=shared),
    Param("M", k("groups"), preset("num_groups"), kind=int, low=0, high=1000, active=shared),
    Param("seq", k("seq_len"), 128, kind=int, options=SEQ_LENGTHS),
    Param("pooler", k("tables_pooler"), True, kind=bool),
    Param("checkpoint", k("checkpoint"), "", options=lambda: ["", *ready_checkpoints()]),
]


class Settings(NamedTuple):  # not a dataclass: see ui/page.py
    shape: dict[str, int]
    embedding: str
    sharing: str
    strategy: str
    groups: int
    seq_len: int


def controls(page: Page) -> Settings:
    ss = st.session_state
    st.selectbox("Start from a preset", list(PRESETS), key=k("preset"), on_change=load_preset)
    cols = page.pairs("shape")
    full_table = ss.get(k("embedding")) == "full"
    keep_e()
    for i, (field, text) in enumerate(SHAPE_KEYS.items()):
        disabled = field == "embedding_size" and full_table
        cols[i % 2].number_input(text, min_value=1, max_value=10_000_000, step=1, key=k(field), disabled=disabled,
                                 help="A full V×H table has E = H and no projection: choose factorized or "
                                      "hashed to set E." if disabled else None)
    embedding = st.radio("Embedding", EMBEDDING_TYPES, key=k("embedding"), horizontal=True,
                         help="full: V×H table · factorized: V×E + E×H · hashed: no table, vectors from n-grams")
    sharing = st.radio("Cross-layer sharing", SHARING_MODES, key=k("sharing"), format_func=labels.sharing_choice)
    strategy = st.selectbox("Where the groups go (Takase & Kiyono)", SHARE_STRATEGIES, key=k("strategy"),
                            disabled=sharing == "none", format_func=STRATEGY_LABELS.get)
    groups = st.number_input("Parameter groups M (1 = ALBERT)", min_value=0, max_value=1000, key=k("groups"),
                             disabled=sharing == "none")
    seq_len = st.slider("Sequence length for FLOPs", 16, 512, step=16, key=k("seq_len"))
    page.publish()
    shape = {f: int(ss[k(f)]) for f in SHAPE_KEYS}
    if embedding == "full":
        shape["embedding_size"] = shape["hidden_size"]
    return Settings(shape, embedding, sharing, strategy, int(groups) if sharing != "none" else 1, int(seq_len))


def build(s: Settings) -> tuple[ModelConfig, ParamReport]:
    config = ModelConfig(**s.shape, embedding=s.embedding, sharing=s.sharing, share_strategy=s.strategy,
                         num_groups=s.groups)
    return config, count_parameters(config, seq_len=s.seq_len)


def pin_buttons(config: ModelConfig) -> ModelConfig | None:
    ss = st.session_state
    pinned = ss.get(k("pinned"))
    b1, b2 = st.columns(2)
    if b1.button("📌 Pin this model for comparison", key=k("pin")):
        ss[k("pinned")] = pinned = config
    if pinned is not None and b2.button("Unpin", key=k("unpin")):
        ss.pop(k("pinned"), None)
        pinned = None
    return pinned


def draw_counts(page: Page, config: ModelConfig, report: ParamReport, seq_len: int) -> None:
    attn_plan, ffn_plan = plan_letters(config)
    st.markdown(f"**{config.describe()}** — attention blocks `{attn_plan}`, FFN blocks `{ffn_plan}`")
    # Four across only at full width: in the right-hand column at 1280 px the labels were cut ("unro…").
    m = st.columns([1, 1.45, 0.9, 1]) if page.lecture else [c for i in range(2) for c in page.pairs(f"metrics{i}")]
    m[0].metric("Unique parameters", f"{report.total / 1e6:,.2f}M")
    m[1].metric("Without sharing (unrolled)", f"{report.unrolled / 1e6:,.2f}M")
    m[2].metric("Saved by sharing", f"{report.saving:.0%}")
    m[3].metric("FLOPs per token", f"{report.flops_per_token / 1e6:,.1f}M",
                help="Forward pass; 2 FLOPs per multiply-add, at the chosen sequence length")
    page.why("Sharing does not change FLOPs per token: a shared block is still run once per layer, so the "
             "arithmetic is the same — the saving is in memory and in what has to be stored or sent.")

    pinned = pin_buttons(config)
    shown = [("this model", config)]
    if config.sharing != "none":
        shown.append((f"same shape, {labels.SHARING['none']}", config.with_(sharing="none")))
    if pinned is not None:
        shown.append(("📌 pinned", pinned))
    bars = {name: count_parameters(c, seq_len=seq_len) for name, c in shown}
    page.chart(components_figure(tuple(shown), seq_len), key=k("components_chart"))
    page.why("Embeddings dominate small models; attention and FFN dominate big ones. Sharing divides the "
             "attention and/or FFN bars by L/M and leaves the embedding bar alone.")

    rows = [{"model": name, "parameters (M)": r.total / 1e6, "fp32 (MB)": r.sizes_mb["fp32"],
             "fp16 (MB)": r.sizes_mb["fp16"], "int8 (MB)": r.sizes_mb["int8"],
             "Adam training (GB)": r.adam_training_bytes / 1e9, "FLOPs/token (M)": r.flops_per_token / 1e6}
            for name, r in bars.items()]
    # One column per model, the measures as rows: seven columns were cut off at 1280 px (FLOPs, Adam).
    sizes = pd.DataFrame(rows).set_index("model").T.rename_axis("per model")
    page.table(sizes, key=k("sizes"), name="sizes", index=True,  # column formats, not a Styler: cheaper to send
               column_config={c: st.column_config.NumberColumn(format="%.2f") for c in sizes.columns})
    page.why("Training memory = fp32 weights + gradients + Adam's two moments "
             f"({ADAM_BYTES_PER_PARAM} bytes per parameter); activations come on top and grow with batch size "
             "and sequence length.")
    if pinned is not None:
        st.markdown(f"📌 pinned: **{pinned.describe()}** ({bars['📌 pinned'].total / 1e6:,.2f}M)")


def draw_grid(page: Page, config: ModelConfig) -> None:
    st.subheader("Every sharing mode × embedding type for this shape")
    page.chart(grid_figure(config), key=k("grid_chart"))
    millions = {e: st.column_config.NumberColumn(format="%.2fM") for e in EMBEDDING_TYPES}
    page.table(grid_table(config), key=k("grid"), name="sharing-x-embedding-millions", index=True,
               column_config=millions)
    page.why("Read across a row to see what the embedding choice saves; down a column for sharing.")


def draw_paper(page: Page) -> None:
    st.subheader("ALBERT's Tables 1, 3 and 4, recomputed")
    page.why(f"Each paper figure next to count_parameters for the same configuration, with ALBERT's "
             f"{paper.ALBERT_VOCAB:,}-piece vocabulary for every model (its own BERTs included, §4.1). The paper "
             "prints whole millions and does not say whether its counts include the pooler (an H×H layer and "
             "bias on [CLS]); switch it to see which figures each setting reproduces.")
    with_pooler = st.toggle("Count the pooler", key=k("tables_pooler"))
    page.publish()
    reps, frames = paper_tables(), paper_frames(with_pooler)
    for (title, name, note), frame in zip(PAPER_TABLES, frames, strict=True):
        st.markdown(f"**{title}** — {note}")
        page.table(frame, key=k(name), name=f"albert-{title}-{'with' if with_pooler else 'without'}-pooler",
                   hide_index=True)
        st.markdown(lessons.reproduction_sentence(title, reps[name], with_pooler))
        for sentence in paper_sentences()[name]:
            st.markdown(sentence)


def ready_checkpoints() -> list[str]:
    return [m for m in available_models() if is_checkpoint(m)]


def draw_checkpoint(page: Page) -> None:
    st.subheader("Count this checkpoint")
    ready = ready_checkpoints()
    if not ready:
        st.info("No checkpoint of your own was found when the server started. Start it with "
                "`albertviz serve --models DIR` (or set ALBERTVIZ_MODELS) to count one here.", icon="ℹ️")
        return
    picked = st.selectbox("Checkpoint", ["", *ready], key=k("checkpoint"),
                          format_func=lambda m: label(m) if m else "choose one of your checkpoints…")
    page.publish()
    if not picked:
        return
    with friendly_errors("the checkpoint count"), st.spinner("Loading and counting…"):
        c = checkpoint_count(picked)
        rows = [{"count": "summed over the loaded modules", "parameters": c.loaded},
                {"count": "count_parameters for this shape", "parameters": c.formula},
                {"count": "numbers stored in the safetensors files", "parameters": c.stored}]
        if c.preset is not None:
            rows.append({"count": f"preset {c.preset.name} (same layers)", "parameters": c.preset.total})
        page.table(pd.DataFrame(rows).style.format({"parameters": "{:,}"}), key=k("checkpoint_counts"),
                   name="checkpoint-count", hide_index=True)
        st.caption(" · ".join(f"{name}={v:,}" for name, v in c.config_numbers.items()) + " (from its config.json)")
        st.markdown(c.caption())


def main() -> None:
    page = start(SLUG, PARAMS)
    st.title("🧮 Parameter explorer")
    page.why("Every number here is counted from the real albertviz module built on PyTorch's meta device "
             "(shapes without memory), so it always agrees with the models on the other pages.")
    left, right = (page.controls(), st.container()) if page.lecture else st.columns([1, 2.2], gap="large")
    with left:
        settings = controls(page)
    built = None
    with right, friendly_errors("the parameter count", lead="This shape cannot be built: "):
        built = build(settings)
    if built is None:
        st.stop()
    with right:
        draw_counts(page, *built, settings.seq_len)
    draw_grid(page, built[0])
    draw_paper(page)
    draw_checkpoint(page)


main()
