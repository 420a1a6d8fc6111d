"""Home: the whole idea in one computed picture, the three ideas in a few sentences, and a link to every page."""

from typing import NamedTuple

import streamlit as st
from streamlit.errors import StreamlitAPIException

from albertviz import PRESETS, lessons, paper
from albertviz.zoo import ZooError, list_models
from albertviz_app.ui import parameter_tables as tables
from albertviz_app.ui.nav import PAGES
from albertviz_app.ui.page import Page, start
from albertviz_app.ui.viewstate import Param

SLUG = "home"


def ideas() -> str:
    """The three ideas; the layer count is BERT-base's, the model the waterfall starts from."""
    n = PRESETS["bert-base"].num_layers
    return f"""
**Three ideas, all computed live from real models:**

1. **Cross-layer parameter sharing (ALBERT).** Instead of {n} layers with {n} sets of weights, reuse one set
   {n} times — or share only the attention, or only the feed-forward network. Takase & Kiyono generalise
   this to *M* parameter groups placed as `AABBCC`, `ABCABC` or `ABCCBA`.
2. **Cheaper embeddings.** BERT stores a V×H table. ALBERT *factorizes* it into V×E + E×H (E ≪ H).
   EELBERT-style *hashed* embeddings store no table at all: a token's vector is computed from its
   character n-grams.
3. **Why sharing works (Lin et al. 2023).** Their setting is sharing used to add depth at a fixed parameter
   budget: a shared model runs more layers than an unshared one with the same parameters. A shared weight is
   used L times per forward pass, so its gradient sums L contributions; they attribute most of the gain to
   better convergence, only a small part to the extra computation.

Sharing shrinks **parameters and memory — not the arithmetic**: every layer still runs.
"""


class Settings(NamedTuple):  # not a dataclass: see ui/page.py
    pooler: bool


def controls(page: Page) -> Settings:
    with page.controls():
        pooler = st.toggle("Count the pooler", key=page.key("pooler"),
                           help="An H×H layer and bias on [CLS]. ALBERT does not say whether its counts include it.")
    page.publish()
    return Settings(pooler)


def draw_picture(page: Page, s: Settings) -> None:
    left, right = st.columns([1, 1], gap="medium")
    page.chart(tables.home_waterfall(s.pooler), key=page.key("waterfall"), where=left)
    page.chart(tables.home_stack(), key=page.key("stack"), where=right)
    st.markdown(tables.home_sentence(s.pooler))


def draw_ideas(page: Page) -> None:
    if page.lecture:
        st.expander("Why? — the three ideas").markdown(ideas())
    else:
        st.markdown(ideas())
    st.markdown(lessons.sharing_setting_sentence())
    page.why(lessons.albert_choices_sentence())
    base, albert = tables.preset_counts("bert-base", "albert-base")
    c1, c2, c3 = st.columns(3)
    c1.metric("BERT-base parameters", f"{base.total / 1e6:.0f}M")
    c2.metric("ALBERT-base parameters", f"{albert.total / 1e6:.0f}M",
              delta=f"{albert.total / base.total - 1:.0%}", delta_color="inverse")
    c3.metric("FLOPs per token, ALBERT-base vs BERT-base",
              f"{albert.flops_per_token / base.flops_per_token:.2f}×",
              help=lessons.flops_help())
    st.caption(f"These three use the presets as Hugging Face builds them (BERT-base with its "
               f"{PRESETS['bert-base'].vocab_size:,}-piece vocabulary, the pooler counted); the picture above uses "
               f"ALBERT's {paper.ALBERT_VOCAB:,} for both, as the paper does.")


def draw_pages() -> None:
    st.subheader("Pages")
    for info in PAGES[1:]:
        try:
            st.page_link(info.path, label=f"**{info.title}** — {info.blurb}", icon=info.icon)
        except StreamlitAPIException:  # the page run on its own, outside app.py's navigation (tests)
            st.markdown(f"{info.icon} **{info.title}** — {info.blurb}")
    try:
        zoo_entries = list_models()
    except ZooError:
        zoo_entries = []
    st.caption(f"{lessons.zoo_training_sentence(zoo_entries)} Everything runs offline.")


def main() -> None:
    page = start(SLUG, [Param("pooler", f"{SLUG}.pooler", True, kind=bool)])
    st.title("albertviz — see what parameter sharing does to a transformer")
    st.subheader("The whole idea in one picture")
    draw_picture(page, controls(page))
    draw_ideas(page)
    draw_pages()


main()
