"""Every display name, spelled once: sharing modes, embedding types, zoo cells, the pretrained models.

Keys are the library's own values (`ModelConfig.sharing`, `ModelConfig.embedding`, zoo model keys); pages, figures,
tables, verdicts and quiz questions all read their words from here.
"""

from __future__ import annotations

SHARING = {"none": "not shared", "all": "all-shared", "ffn": "shared FFN", "attention": "shared attention"}
# Hyphenated, as ALBERT's Tables 3 and 4 name their rows, and as an adjective ("a shared-FFN model").
SHARING_ADJECTIVE = {"none": "not-shared", "all": "all-shared", "ffn": "shared-FFN", "attention": "shared-attention"}
# The model each extreme is known as (the Parameter explorer's radio).
SHARING_ORIGIN = {"none": "BERT", "all": "ALBERT"}
EMBEDDING = {"full": "full table", "factorized": "factorized", "hashed": "hashed (EELBERT)"}
PRETRAINED = {"minilm-l6": "MiniLM-L6 (pretrained sentence encoder)"}


def sharing_choice(mode: str) -> str:
    """'all-shared (ALBERT)': a sharing mode with the model it is known as, where there is one."""
    origin = SHARING_ORIGIN.get(mode)
    return f"{SHARING[mode]} ({origin})" if origin else SHARING[mode]


def embedding_label(kind: str, embedding_size: int | None = None) -> str:
    """'factorized (E=48)' when the size is known; the plain name otherwise."""
    if kind == "factorized" and embedding_size is not None:
        return f"{EMBEDDING[kind]} (E={embedding_size})"
    return EMBEDDING[kind]


def cell_label(sharing: str, embedding: str, embedding_size: int | None = None) -> str:
    """A zoo cell as the pickers show it: 'all-shared · factorized (E=48)'."""
    return f"{SHARING[sharing]} · {embedding_label(embedding, embedding_size)}"
