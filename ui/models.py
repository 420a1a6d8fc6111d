"""Cached model loading and the model picker every page uses."""

from __future__ import annotations

import streamlit as st

from albertviz import zoo
from albertviz.config import EMBEDDING_TYPES, SHARING_MODES
from albertviz.embedding_lab import zoo_factorized_e

MINILM = "minilm-l6"
SHARING_LABELS = {"none": "not shared", "all": "all-shared", "ffn": "shared FFN", "attention": "shared attention"}
EMBEDDING_LABELS = {"full": "full table", "factorized": f"factorized (E={zoo_factorized_e()})",
                    "hashed": "hashed (EELBERT)"}


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def load_model(key: str) -> zoo.ZooModel:
    """A zoo cell ('all-hashed') or the pretrained MiniLM ('minilm-l6'), loaded once per server."""
    if key == MINILM:
        return zoo.load_pretrained(MINILM)
    sharing, embedding = key.split("-", 1)
    return zoo.load(sharing=sharing, embedding=embedding)


def available_models() -> list[str]:
    """Keys of every trained zoo cell in grid order, then MiniLM. Empty zoo → just MiniLM."""
    try:
        trained = {e["name"] for e in zoo.list_models()}
    except zoo.ZooError:
        trained = set()
    cells = [f"{s}-{e}" for e in EMBEDDING_TYPES for s in SHARING_MODES if f"{s}-{e}" in trained]
    return cells + [MINILM]


def label(key: str) -> str:
    if key == MINILM:
        return "MiniLM-L6 (real pretrained BERT)"
    sharing, embedding = key.split("-", 1)
    return f"{SHARING_LABELS[sharing]} · {EMBEDDING_LABELS[embedding]}"


def model_picker(key: str, default: str = "none-full", label_text: str = "Model",
                 include_minilm: bool = True) -> str:
    """A selectbox over zoo cells (+ MiniLM); returns the chosen key."""
    options = [k for k in available_models() if include_minilm or k != MINILM]
    index = options.index(default) if default in options else 0
    return st.selectbox(label_text, options, index=index, format_func=label, key=key)
