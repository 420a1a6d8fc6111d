"""The one WordPiece tokenizer every zoo model shares, trained on the zoo's own text.

8,192 pieces, learned with `tokenizers` from the zoo corpus (Shakespeare + State of the Union + Moby-Dick) with
BERT's normalisation (lower case, accents stripped) and pre-tokenisation. Why not bert-base-uncased's 30,522:
the word table is most of a tiny model (30,522 × 128 = 3.9M of 5.2M parameters), so three seeds of the full
cells would not fit the zoo's 96 MB, and on this text the large table kept MLM on the unigram plateau far longer.
The pretrained MiniLM keeps its own (bert-base-uncased) tokenizer; pages that compare the two say each model
shows its own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

TOKENIZER_PATH = Path(__file__).resolve().parent.parent / "zoo" / "tokenizer.json"
ZOO_VOCAB_SIZE = 8192
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def train_wordpiece(texts: list[str], vocab_size: int = ZOO_VOCAB_SIZE) -> Tokenizer:
    """A BERT-style uncased WordPiece tokenizer learned from `texts` (deterministic for the same input)."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                        min_frequency=2, show_progress=False)
    tok.train_from_iterator((line for text in texts for line in text.split("\n")), trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


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
