"""The Embeddings page's hashed vectors: one token step by step, and what hashing loses over a vocabulary.

- How is a hashed (EELBERT-style) vector made? `word_to_token`, `hashed_steps`, `ngram_rows`, next to
  `learned_vectors` of the same token in a trained full or factorized zoo model. The vectors are the model's
  own (`albertviz.core.embeddings`); this module adds the page's limits and its sentences for bad settings.
- What does hashing lose? `collision_report` (identical and near-identical vectors over the whole
  vocabulary) and `nearest_neighbours` (hashed neighbours share spelling, learned ones meaning).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from albertviz.core.config import ConfigError
from albertviz.core.embeddings import HashedToken, hash_token, hashed_vectors

MAX_DIM = 1024  # beyond this a whole-vocabulary hashed table stops being interactive on a laptop
MAX_NGRAM = 16  # ModelConfig's own bound


def check_settings(dim: int, n_min: int, n_max: int) -> None:
    """Refuse hashing settings that cannot work, with a sentence that says what to change."""
    if not isinstance(dim, int | np.integer) or dim < 1:
        raise ConfigError(f"The hashed vector dimension must be at least 1, got {dim}.")
    if dim > MAX_DIM:
        raise ConfigError(f"Dimension {dim} is more than this page computes live (at most {MAX_DIM}).")
    if n_min > n_max:
        raise ConfigError(f"n-gram range {n_min}..{n_max} is reversed: the minimum must not exceed the "
                          "maximum.")
    if n_min < 1:
        raise ConfigError(f"n-gram range {n_min}..{n_max} is empty: n-grams need at least 1 character.")
    if n_max > MAX_NGRAM:
        raise ConfigError(f"n-grams longer than {MAX_NGRAM} characters are not supported (got {n_max}).")


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in ("Z", "C")


def word_to_token(text: str, tokenizer=None) -> str:
    """The string to hash for a typed word: stripped, and normalized as the tokenizer would (lowercase).

    Hashing needs no vocabulary, so any word works; normalizing first makes a typed 'Playing' hash to
    the same vector as the vocabulary token 'playing' that the hashed zoo model uses.
    """
    word = "".join(ch for ch in (text or "") if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if not any(_visible(ch) for ch in word):
        raise ConfigError("The word has no visible characters: type at least one letter, digit or sign.")
    if any(ch.isspace() for ch in word):
        raise ConfigError(f"{word!r} has spaces: type a single word (a token has no spaces).")
    if tokenizer is not None and tokenizer.normalizer is not None:
        word = tokenizer.normalizer.normalize_str(word).strip() or word
    return word


def hashed_steps(token: str, dim: int, n_min: int, n_max: int, seed: int = 0,
                 pooling: str = "mean") -> HashedToken:
    """n-grams, their 64-bit hashes, per-n-gram vectors and the pooled vector (validated first)."""
    check_settings(dim, n_min, n_max)
    return hash_token(token, dim, n_min, n_max, seed, pooling)


def ngram_rows(steps: HashedToken, dims: int = 4) -> list[dict]:
    """One table row per n-gram (and one for the pooled result) with the first `dims` coordinates."""
    k = min(dims, steps.pooled.shape[0])
    rows = [{"n-gram": g, "n": len(g), "64-bit hash": f"{h:016x}",
             **{f"v[{i}]": round(float(v[i]), 3) for i in range(k)}}
            for g, h, v in zip(steps.ngrams, steps.hashes, steps.vectors, strict=True)]
    rows.append({"n-gram": "pooled", "n": None, "64-bit hash": "",
                 **{f"v[{i}]": round(float(steps.pooled[i]), 3) for i in range(k)}})
    return rows


@dataclass(frozen=True)
class TokenChoice:
    """Which vocabulary row a (typed) word maps to: itself if it is a token, else its first WordPiece."""

    word: str
    token: str
    token_id: int
    pieces: list[str]

    @property
    def in_vocab(self) -> bool:
        return self.pieces == [self.word]


def vocab_row(word: str, tokenizer) -> TokenChoice:
    """A learned table only has rows for vocabulary tokens; an unknown word is split into pieces."""
    tid = tokenizer.token_to_id(word)
    if tid is not None:
        return TokenChoice(word, word, tid, [word])
    pieces = tokenizer.encode(word, add_special_tokens=False).tokens or ["[UNK]"]
    return TokenChoice(word, pieces[0], tokenizer.token_to_id(pieces[0]), pieces)


@torch.no_grad()
def learned_vectors(embeddings: nn.Module, token_id: int) -> dict[str, np.ndarray]:
    """A token's stored row (E dims) and, when E < H, what the model sends on: projection(LayerNorm(row)).

    Position and token-type vectors are left out on purpose: they depend on where the token stands,
    while this shows what the model stores *for the word*. LayerNorm comes before the projection
    because that is the model's own order (Embeddings.forward).
    """
    row = embeddings.word_matrix()[token_id].detach().float()
    out = {"row": row.numpy().copy()}
    if getattr(embeddings, "projection", None) is not None:
        out["projected"] = embeddings.projection(embeddings.LayerNorm(row)).numpy().copy()
    return out


def hashed_matrix(vocab: Sequence[str], dim: int, n_min: int, n_max: int, seed: int = 0,
                  pooling: str = "mean") -> np.ndarray:
    """V×dim hashed vectors of a vocabulary (the model's own function, cached per setting)."""
    check_settings(dim, n_min, n_max)
    return hashed_vectors(tuple(vocab), dim, n_min, n_max, seed, pooling)


def _unit_rows(matrix: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(matrix, torch.Tensor):  # e.g. a learned table (an nn.Parameter)
        x = matrix.detach().float().clone()
    else:
        x = torch.tensor(np.asarray(matrix, dtype=np.float32))  # a copy: the cached table stays read-only
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def nearest_other(matrix: np.ndarray, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the highest cosine to any *other* row and that row's index.

    Exact: all V² cosines are computed, a block of rows at a time, so the V×V matrix is never held
    (30,522 tokens: ~930M cosines). Row-wise maxima over contiguous memory were the fastest variant
    measured here (faster than the upper triangle with column maxima).
    """
    x = _unit_rows(matrix)
    V = x.shape[0]
    best = torch.empty(V)
    arg = torch.empty(V, dtype=torch.long)
    for r0 in range(0, V, block):
        sims = x[r0:r0 + block] @ x.T  # (b, V)
        local = torch.arange(sims.shape[0])
        sims[local, local + r0] = -2.0  # a token is not its own neighbour
        best[r0:r0 + block], arg[r0:r0 + block] = sims.max(1)
    return best.clamp(-1.0, 1.0).numpy(), arg.numpy()


@dataclass(frozen=True)
class CollisionReport:
    """Identical and near-identical hashed vectors over a vocabulary for one hashing setting."""

    vocab_size: int
    duplicate_groups: int  # sets of ≥ 2 tokens with exactly the same vector
    tokens_in_duplicates: int  # tokens that share their vector with at least one other token
    nn_cos: np.ndarray = field(repr=False)  # (V,) cosine to the nearest other token
    nn_index: np.ndarray = field(repr=False)  # (V,) that token's id

    def near(self, threshold: float) -> int:
        """Tokens whose nearest other token has cosine ≥ threshold (identical vectors included)."""
        return int((self.nn_cos >= threshold - 1e-6).sum())

    def examples(self, vocab: Sequence[str], threshold: float, k: int = 10) -> list[dict]:
        """The closest pairs at or above the threshold, each pair once."""
        rows, seen = [], set()
        for i in np.argsort(-self.nn_cos, kind="stable"):
            if self.nn_cos[i] < threshold - 1e-6 or len(rows) >= k:
                break
            pair = tuple(sorted((int(i), int(self.nn_index[i]))))
            if pair not in seen:
                seen.add(pair)
                rows.append({"token": vocab[pair[0]], "nearest": vocab[pair[1]],
                             "cosine": round(float(self.nn_cos[i]), 4)})
        return rows


def collision_report(matrix: np.ndarray) -> CollisionReport:
    """Count exact duplicates (byte-identical rows) and every token's nearest-other cosine."""
    _, inverse, counts = np.unique(np.ascontiguousarray(matrix), axis=0, return_inverse=True,
                                   return_counts=True)
    shared = counts[inverse.reshape(-1)] > 1
    nn_cos, nn_index = nearest_other(matrix)
    return CollisionReport(len(matrix), int((counts > 1).sum()), int(shared.sum()), nn_cos, nn_index)


def nearest_neighbours(matrix: np.ndarray | torch.Tensor, vocab: Sequence[str], token_id: int,
                       k: int = 8) -> list[dict]:
    """The k tokens with the highest cosine to `token_id` (itself excluded)."""
    x = _unit_rows(matrix)
    sims = x @ x[token_id]
    sims[token_id] = -2.0
    top = sims.topk(min(k, len(vocab) - 1))
    return [{"token": vocab[int(i)], "cosine": round(float(s), 3)} for s, i in zip(*top, strict=True)]
