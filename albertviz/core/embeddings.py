"""Token embeddings: a full table (BERT), a factorized one (ALBERT) or hashed n-grams (EELBERT).

All three produce E-dim word vectors, add trainable position and token-type vectors (also E-dim),
apply LayerNorm, and project E→H when E < H. Only where the word vector comes from differs:
- full / factorized: a trainable V×E table;
- hashed: a fixed function of the token's characters, so no table has to be stored or trained.

Hashing (EELBERT-style). A token is wrapped in boundary marks ("<play>", a WordPiece continuation
"##ing" becomes "ing>" with no start mark) and cut into character n-grams for n in
[hash_ngram_min, hash_ngram_max]. Each n-gram is hashed with BLAKE2b keyed by `hash_seed` —
deterministic across processes and machines, unlike Python's salted `hash()` — and the digest
bytes become an E-dim vector with entries in [-1, 1]. The n-gram vectors are pooled (mean or sum) and,
with `hash_normalize`, scaled to unit length: a mean of n random vectors shrinks like 1/√n, so without
it long words get small vectors and the MLM decoder, tied to these vectors, under-scores them.
Tokens sharing n-grams therefore share vector parts: similarity follows spelling, not meaning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from albertviz.core.config import ConfigError, ModelConfig

_DIGEST_BYTES = 64  # BLAKE2b's largest digest; an E-dim vector takes ceil(E / 64) digests


def token_surface(token: str) -> str:
    """The string that gets hashed: boundary marks added, WordPiece's '##' turned into 'no start'."""
    if token.startswith("##") and len(token) > 2:
        return token[2:] + ">"
    return "<" + token + ">"


def char_ngrams(token: str, n_min: int, n_max: int) -> list[str]:
    """Character n-grams of the marked token; a surface shorter than n_min is used whole."""
    if not token or not token.strip():
        raise ConfigError("A token needs at least one visible character to be hashed.")
    surface = token_surface(token)
    grams = [surface[i:i + n] for n in range(n_min, n_max + 1) for i in range(len(surface) - n + 1)]
    return grams or [surface]


def ngram_hash(gram: str, seed: int) -> int:
    """A 64-bit value naming the n-gram's bucket, shown in the app next to its vector."""
    key = seed.to_bytes(8, "little", signed=True)
    return int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8, key=key).digest(), "little")


def ngram_vector(gram: str, dim: int, seed: int) -> np.ndarray:
    """The E-dim vector of one n-gram: digest bytes mapped from 0..255 to [-1, 1]."""
    return (_ngram_bytes(gram, dim, seed) / 127.5 - 1.0).astype(np.float32)


@dataclass(frozen=True)
class HashedToken:
    """Everything the Embeddings page shows about one token's hashed vector."""

    token: str
    ngrams: list[str]
    hashes: list[int]
    vectors: np.ndarray  # (n_grams, E)
    pooled: np.ndarray  # (E,)


def hash_token(token: str, dim: int, n_min: int = 2, n_max: int = 4, seed: int = 0,
               pooling: str = "mean", normalize: bool = False) -> HashedToken:
    """Compute one token's hashed embedding step by step."""
    if dim < 1:
        raise ConfigError(f"The hashed vector dimension must be at least 1, got {dim}.")
    if not 1 <= n_min <= n_max:
        raise ConfigError(f"n-gram range {n_min}..{n_max} is empty or reversed: need 1 ≤ min ≤ max.")
    grams = char_ngrams(token, n_min, n_max)
    vectors = np.stack([ngram_vector(g, dim, seed) for g in grams])
    pooled = vectors.mean(0) if pooling == "mean" else vectors.sum(0)
    if normalize:
        pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
    return HashedToken(token, grams, [ngram_hash(g, seed) for g in grams], vectors, pooled)


def _ngram_bytes(gram: str, dim: int, seed: int) -> np.ndarray:
    """The `dim` digest bytes (0..255) behind an n-gram's vector, as integers."""
    return _ngram_byte_rows([gram], dim, seed)[0].astype(np.int64)


def _ngram_byte_rows(grams: Sequence[str], dim: int, seed: int) -> np.ndarray:
    """(len(grams), dim) digest bytes: BLAKE2b keyed by the seed, one salted digest per 64 dims."""
    key = seed.to_bytes(8, "little", signed=True)
    salts = [block.to_bytes(16, "little") for block in range(-(-dim // _DIGEST_BYTES))]
    raw = b"".join(hashlib.blake2b(g.encode("utf-8"), digest_size=_DIGEST_BYTES, key=key, salt=salt).digest()
                   for g in grams for salt in salts)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(grams), -1)[:, :dim]


@lru_cache(maxsize=8)
def hashed_vectors(vocab: tuple[str, ...], dim: int, n_min: int = 2, n_max: int = 4, seed: int = 0,
                   pooling: str = "mean", normalize: bool = False) -> np.ndarray:
    """V×dim hashed vectors of a vocabulary, computed once per setting (read-only, cached).

    The n-gram bytes are summed as integers before one division, so the result does not depend on
    the order of a token's n-grams: two tokens with the same n-grams (anagrams under 1-grams) get
    bit-identical vectors, and float rounding never decides what counts as a collision.
    """
    grams_per_token = [char_ngrams(t, n_min, n_max) if t.strip() else ["<>"] for t in vocab]
    index: dict[str, int] = {}
    cols = [index.setdefault(g, len(index)) for grams in grams_per_token for g in grams]
    counts = np.array([len(grams) for grams in grams_per_token], dtype=np.float64)[:, None]
    rows = np.repeat(np.arange(len(vocab)), counts[:, 0].astype(np.int64))
    # token × n-gram incidence times the n-grams' bytes: integer sums, exact in float64
    indices = torch.from_numpy(np.stack([rows, np.asarray(cols)]))
    incidence = torch.sparse_coo_tensor(indices, torch.ones(len(cols), dtype=torch.float64),
                                        (len(vocab), len(index)), check_invariants=False)
    unique_bytes = torch.from_numpy(_ngram_byte_rows(list(index), dim, seed).astype(np.float64))
    acc = torch.sparse.mm(incidence, unique_bytes).numpy()
    pooled = acc / (127.5 * counts) - 1.0 if pooling == "mean" else acc / 127.5 - counts  # bytes → [-1, 1]
    if normalize:
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    table = pooled.astype(np.float32)
    table.setflags(write=False)
    return table


def hashed_table(vocab: Sequence[str], config: ModelConfig) -> torch.Tensor:
    """The V×E matrix of every vocabulary token's hashed vector (computed once per process)."""
    table = hashed_vectors(tuple(vocab), config.E, config.hash_ngram_min, config.hash_ngram_max,
                           config.hash_seed, config.hash_pooling, config.hash_normalize)
    return torch.from_numpy(table.copy())


def default_vocab(size: int) -> list[str]:
    """Stand-in token strings ('tok0', 'tok1', ...) for hashed shapes built without a tokenizer."""
    return [f"tok{i}" for i in range(size)]


def _embedding(n: int, dim: int) -> nn.Embedding:
    """nn.Embedding, without its random init on the meta device (counting parameters, loading weights):
    torch's meta `normal_` imports its compiler stack on first use, which cost 1-3 s per process."""
    if torch.empty(0).device.type == "meta":
        return nn.Embedding(n, dim, _weight=torch.empty(n, dim))
    return nn.Embedding(n, dim)


class Embeddings(nn.Module):
    """Word + position + token-type vectors in E dims, LayerNorm, then E→H if E < H."""

    hashed_table: torch.Tensor  # a buffer, registered in __init__ for hashed embeddings only

    def __init__(self, config: ModelConfig, vocab: Sequence[str] | None = None) -> None:
        super().__init__()
        self.config = config
        E = config.E
        if config.embedding == "hashed":
            # Fixed, recomputable from the vocabulary: a non-persistent buffer, never a parameter
            # and never saved in a checkpoint.
            if torch.empty(0).device.type == "meta":
                table = torch.empty(config.vocab_size, E)
            else:
                words = list(vocab) if vocab is not None else default_vocab(config.vocab_size)
                if len(words) != config.vocab_size:
                    raise ConfigError(f"The vocabulary has {len(words)} tokens but vocab_size is "
                                      f"{config.vocab_size}.")
                table = hashed_table(words, config)
            self.register_buffer("hashed_table", table, persistent=False)
            self.word_embeddings = None
        else:
            self.word_embeddings = _embedding(config.vocab_size, E)
        self.position_embeddings = _embedding(config.max_position_embeddings, E)
        self.token_type_embeddings = _embedding(config.type_vocab_size, E)
        self.LayerNorm = nn.LayerNorm(E, eps=config.layer_norm_eps)
        self.projection = nn.Linear(E, config.hidden_size) if config.has_projection else None

    def word_matrix(self) -> torch.Tensor:
        """The V×E matrix of word vectors: learned table or fixed hashed vectors."""
        return self.hashed_table if self.word_embeddings is None else self.word_embeddings.weight

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        T = input_ids.shape[1]
        if T > self.config.max_position_embeddings:
            raise ValueError(f"{T} tokens exceed the model's maximum of "
                             f"{self.config.max_position_embeddings}; truncate the input first.")
        positions = torch.arange(T, device=input_ids.device)
        words = nn.functional.embedding(input_ids, self.word_matrix())
        x = words + self.position_embeddings(positions)[None] + self.token_type_embeddings(token_type_ids)
        x = self.LayerNorm(x)  # (B, T, E)
        return self.projection(x) if self.projection is not None else x  # (B, T, H)
