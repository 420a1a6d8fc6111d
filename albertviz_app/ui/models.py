"""Cached model loading and the model picker every page uses.

Keys: zoo cells ('all-hashed'), the pretrained MiniLM ('minilm-l6'), and checkpoints found at server start
in ALBERTVIZ_MODELS or the local Hugging Face cache ('hf:<folder name>', see albertviz.checkpoints). Pages
only pass keys around, so a checkpoint appears on every page that uses this picker.
"""

from __future__ import annotations

import streamlit as st

from albertviz import checkpoints, labels, zoo
from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES
from albertviz.lessons.embedding_sizes import zoo_factorized_e
from albertviz.zoo.cells import Cell

MINILM = "minilm-l6"
SHARING_LABELS = labels.SHARING  # the pages import both from here
EMBEDDING_LABELS = {k: labels.embedding_label(k, zoo_factorized_e()) for k in labels.EMBEDDING}


def is_checkpoint(key: str) -> bool:
    return key.startswith(checkpoints.KEY_PREFIX)


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def load_model(key: str) -> zoo.ZooModel:
    """A zoo cell ('all-hashed'), the pretrained MiniLM ('minilm-l6') or a checkpoint ('hf:…'), once per server."""
    if key == MINILM:
        return zoo.load_pretrained(MINILM)
    if is_checkpoint(key):
        return checkpoints.load(key)
    cell = Cell.parse(key)
    return zoo.load(sharing=cell.sharing, embedding=cell.embedding)


def _checkpoints(ready: bool) -> list[str]:
    return [c.key for c in checkpoints.discover().checkpoints if c.available == ready]


def available_models() -> list[str]:
    """Keys of every trained zoo cell in grid order, then MiniLM, then loadable checkpoints."""
    try:
        trained = {e["name"] for e in zoo.list_models()}
    except zoo.ZooError:
        trained = set()
    cells = [Cell(s, e).name for e in EMBEDDING_TYPES for s in SHARING_MODES if Cell(s, e).name in trained]
    return cells + [MINILM] + _checkpoints(ready=True)


def unavailable_models() -> list[str]:
    """Checkpoints found but not loadable (pytorch_model.bin only, over the memory cap…), listed with why."""
    return _checkpoints(ready=False)


def label(key: str) -> str:
    if key == MINILM:
        return labels.PRETRAINED[MINILM]
    if is_checkpoint(key):
        try:
            c = checkpoints.find(key)
        except checkpoints.CheckpointError:
            return key[len(checkpoints.KEY_PREFIX):]
        kind = {"albert": "ALBERT", "bert": "BERT"}.get(c.model_type or "", c.model_type or "?")
        where = "HF cache" if c.source == "HF cache" else "your folder"
        text = f"{c.name} ({kind} {c.shape}, {where})"
        return text if c.available else f"{c.name} — {c.status}: {c.short}"
    try:
        cell = Cell.parse(key)
    except ValueError:
        return key  # not a model key this app knows (a stale link): shown as typed
    return labels.cell_label(cell.sharing, cell.embedding, zoo_factorized_e())


def model_picker(key: str, default: str = Cell("none", "full").name, label_text: str = "Model",
                 include_minilm: bool = True) -> str:
    """A selectbox over zoo cells (+ MiniLM) and checkpoints; returns the chosen key.

    Unavailable checkpoints are listed last: picking one shows why it cannot be loaded.
    """
    options = [k for k in available_models() + unavailable_models() if include_minilm or k != MINILM]
    # A key already in session_state (seeded from the URL by ui.viewstate) decides; a second default would
    # make Streamlit warn that the value was set twice.
    index = 0 if key in st.session_state else options.index(default) if default in options else 0
    return st.selectbox(label_text, options, index=index, format_func=label, key=key)
