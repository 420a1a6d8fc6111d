"""Home: the three ideas in a few sentences, and a link to every page."""

import streamlit as st

from albertviz import PRESETS, count_parameters, lessons
from albertviz.zoo import ZooError, list_models
from ui.nav import PAGES

st.title("albertviz — see what parameter sharing does to a transformer")
st.markdown(
    """
**Three ideas, all computed live from real models:**

1. **Cross-layer parameter sharing (ALBERT).** Instead of 12 layers with 12 sets of weights, reuse one set
   12 times — or share only the attention, or only the feed-forward network. Takase & Kiyono generalise
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
)
st.markdown(lessons.sharing_setting_sentence())
st.caption(lessons.albert_choices_sentence())
base, albert = count_parameters(PRESETS["bert-base"]), count_parameters(PRESETS["albert-base"])
c1, c2, c3 = st.columns(3)
c1.metric("BERT-base parameters", f"{base.total / 1e6:.0f}M")
c2.metric("ALBERT-base parameters", f"{albert.total / 1e6:.0f}M",
          delta=f"{albert.total / base.total - 1:.0%}", delta_color="inverse")
c3.metric("FLOPs per token, ALBERT-base vs BERT-base",
          f"{albert.flops_per_token / base.flops_per_token:.2f}×",
          help=lessons.flops_help())

st.subheader("Pages")
for page in PAGES[1:]:
    st.page_link(page.path, label=f"**{page.title}** — {page.blurb}", icon=page.icon)

try:
    zoo_entries = list_models()
except ZooError:
    zoo_entries = []
st.caption(f"{lessons.zoo_training_sentence(zoo_entries)} Everything runs offline.")
