"""The Embeddings page's numbers: hashed vectors step by step, collisions, sizes, and their price.

Four questions, one function family each (no Streamlit here, so tests can call them directly):
- How is a hashed (EELBERT-style) vector made? `word_to_token`, `hashed_steps`, `ngram_rows`,
  next to `learned_vectors` of the same token in a trained full or factorized zoo model.
- What does hashing lose? `collision_report` (identical and near-identical vectors over the whole
  vocabulary) and `nearest_neighbours` (hashed neighbours share spelling, learned ones meaning).
- What does it save? `size_rows`, `eelbert_headline`, `uno_candidates` — all from `count_parameters`.
- What does it cost? `measure_latency` (on-the-fly hashing vs table lookups on this CPU) and
  `price_points` (zoo held-out accuracy per cell beside size and latency).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from albertviz.core.config import PRESETS, ConfigError, ModelConfig
from albertviz.core.embeddings import HashedToken, char_ngrams, hash_token, hashed_vectors, ngram_vector
from albertviz.core.params import count_parameters

MAX_DIM = 1024  # beyond this a whole-vocabulary hashed table stops being interactive on a laptop
MAX_NGRAM = 16  # ModelConfig's own bound
SIZE_MODELS = ("bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base", "zoo")
DTYPES = ("fp32", "fp16", "int8")
EELBERT_TARGET_MB = 1.2  # UNO-EELBERT's reported size


# ---------------------------------------------------------------- 1. one token, step by step

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


# ---------------------------------------------------------------- 2. collisions and neighbourhoods

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


# ---------------------------------------------------------------- 3. size

def zoo_shape(embedding: str = "full") -> ModelConfig:
    """The zoo's shape (albertviz.zoo.cells.zoo_config, not-shared; full table unless asked)."""
    from albertviz.zoo.cells import zoo_config

    return zoo_config("none", embedding)


def zoo_factorized_e() -> int:
    """E of the zoo's factorized cells (albertviz.zoo.cells.zoo_config)."""
    from albertviz.zoo.cells import zoo_config

    return zoo_config("none", "factorized").E


def embedding_variant(base: ModelConfig, embedding: str, e_size: int) -> ModelConfig:
    """`base` with a full table, a factorized one at E (capped at H: E ≥ H saves nothing) or hashed H-dim."""
    H = base.hidden_size
    size = {"full": H, "factorized": min(e_size, H), "hashed": H}[embedding]
    return base.with_(embedding=embedding, embedding_size=size)


@dataclass(frozen=True)
class SizeRow:
    model: str
    embedding: str
    config: ModelConfig
    total: int
    embedding_params: int
    mb: dict[str, float]

    @property
    def share(self) -> float:
        return self.embedding_params / self.total

    def record(self) -> dict:
        return {"model": self.model, "embedding": self.embedding, "E": self.config.E,
                "parameters": self.total, "embedding params": self.embedding_params, "embedding share": self.share,
                **{f"MB {d}": self.mb[d] for d in DTYPES}}


def size_row(model: str, config: ModelConfig) -> SizeRow:
    r = count_parameters(config)
    return SizeRow(model, config.embedding, config, r.total, r.by_component["embeddings"], r.sizes_mb)


@lru_cache(maxsize=32)
def size_rows(e_size: int = 128) -> list[SizeRow]:
    """BERT-tiny…base and the zoo shape, each with full, factorized (at E = e_size) and hashed embeddings."""
    if e_size < 1:
        raise ConfigError(f"The factorized embedding size E must be at least 1, got {e_size}.")
    rows = []
    for name in SIZE_MODELS:
        base = zoo_shape() if name == "zoo" else PRESETS[name]
        for emb in ("full", "factorized", "hashed"):
            rows.append(size_row(name, embedding_variant(base, emb, e_size)))
    return rows


def uno_candidates(target_mb: float = EELBERT_TARGET_MB) -> list[dict]:
    """Hashed BERT-tiny variants (fewer layers, narrower FFN, smaller dtype), closest to the target first."""
    tiny = PRESETS["bert-tiny"]
    out = []
    for layers in (1, 2):
        for ffn in (128, 256, 512):
            cfg = tiny.with_(embedding="hashed", num_layers=layers, intermediate_size=ffn)
            r = count_parameters(cfg)
            for dtype in DTYPES:
                mb = r.bytes(dtype) / 1e6
                out.append({"config": cfg, "layers": layers, "ffn": ffn, "dtype": dtype,
                            "parameters": r.total, "MB": mb, "off by": mb / target_mb - 1})
    # Prefer BERT-tiny's own FFN and fp32 when two are equally close: the fewest changes.
    return sorted(out, key=lambda c: (round(abs(c["off by"]), 2), c["ffn"] != 512, c["dtype"] != "fp32"))


@dataclass(frozen=True)
class Headline:
    bert_tiny: SizeRow
    eelbert_tiny: SizeRow
    uno: dict

    @property
    def shrink(self) -> float:
        return self.bert_tiny.mb["fp32"] / self.uno["MB"]


def eelbert_headline() -> Headline:
    """BERT-tiny (≈4.39M params, 17.5 MB fp32, ~90% embeddings), without its table, and a ~1.2 MB variant."""
    tiny = PRESETS["bert-tiny"]
    return Headline(size_row("bert-tiny", tiny), size_row("eelbert-tiny", tiny.with_(embedding="hashed")),
                    uno_candidates()[0])


# ---------------------------------------------------------------- 4. the price

FALLBACK_TEXT = ("Now is the winter of our discontent made glorious summer by this sun of York; and all the "
                 "clouds that loured upon our house in the deep bosom of the ocean buried. ")


def sample_tokens(tokenizer, n: int) -> list[str]:
    """`n` WordPiece tokens of real text (the zoo's Shakespeare when installed), repeated if short."""
    try:
        from albertviz.data.corpus import load_text

        text = load_text()[:max(20_000, 8 * n)]
    except (RuntimeError, OSError):
        text = FALLBACK_TEXT
    tokens = tokenizer.encode(text, add_special_tokens=False).tokens
    return (tokens * (n // max(1, len(tokens)) + 1))[:n]


def hash_on_the_fly(tokens: Sequence[str], dim: int, n_min: int = 2, n_max: int = 4,
                    seed: int = 0) -> np.ndarray:
    """What a table-free model does per token at run time: cut n-grams, hash each, mean-pool."""
    out = np.empty((len(tokens), dim), dtype=np.float32)
    for row, tok in enumerate(tokens):
        grams = char_ngrams(tok, n_min, n_max) if tok.strip() else ["<>"]
        out[row] = np.mean([ngram_vector(g, dim, seed) for g in grams], axis=0)
    return out


@dataclass(frozen=True)
class Latency:
    method: str
    embedding: str  # which zoo embedding type pays this cost at run time
    ms_per_batch: float  # median over repeats
    n_tokens: int

    @property
    def us_per_token(self) -> float:
        return 1000 * self.ms_per_batch / self.n_tokens


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: first calls pay for allocation and thread start-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


@torch.no_grad()
def measure_latency(tokens: Sequence[str], vocab: Sequence[str], config: ModelConfig | None = None,
                    e_size: int | None = None, repeats: int = 7) -> list[Latency]:
    """Word vectors for one batch of tokens, four ways, timed on this CPU (median of `repeats`).

    Tables hold random numbers: a lookup's speed does not depend on what was learned. The hashed
    on-the-fly path starts from the token *strings*, as a model with no stored table must. The
    factorized E defaults to the zoo's factorized cells'.
    """
    cfg = config or zoo_shape()
    e_size = e_size or zoo_factorized_e()
    H, n = cfg.hidden_size, len(tokens)
    index = {t: i for i, t in enumerate(vocab)}
    ids = torch.tensor([index.get(t, 0) for t in tokens])
    full = torch.randn(len(vocab), H)
    small, proj = torch.randn(len(vocab), e_size), nn.Linear(e_size, H)
    cached = torch.tensor(hashed_matrix(vocab, H, cfg.hash_ngram_min, cfg.hash_ngram_max, cfg.hash_seed,
                                        cfg.hash_pooling))

    def fly() -> np.ndarray:
        return hash_on_the_fly(tokens, H, cfg.hash_ngram_min, cfg.hash_ngram_max, cfg.hash_seed)

    return [
        Latency("full table lookup (V×H)", "full", _median_ms(lambda: F.embedding(ids, full), repeats), n),
        Latency(f"factorized lookup (V×E, E={e_size}) + E→H projection", "factorized",
                _median_ms(lambda: proj(F.embedding(ids, small)), repeats), n),
        Latency("hashed, precomputed table lookup", "hashed (cached)",
                _median_ms(lambda: F.embedding(ids, cached), repeats), n),
        Latency("hashed on the fly from token strings", "hashed", _median_ms(fly, max(1, repeats // 3)), n),
    ]


def hashed_output_table_params() -> int:
    """Parameters of the learned V×E output table a hashed zoo cell's MLM head carries for pre-training only."""
    cfg = zoo_shape(embedding="hashed")
    return count_parameters(cfg, include_head=True).by_component["head"] - count_parameters(
        dataclasses.replace(cfg, embedding="full"), include_head=True).by_component["head"]


def price_points(entries: Sequence[dict], latencies: Sequence[Latency], dtype: str = "fp32") -> list[dict]:
    """One point per trained zoo cell: encoder size (count_parameters; the MLM head, which only pre-trains, is
    left out as BERT-tiny's 4.39M leaves it out), accuracy, latency."""
    per_type = {lat.embedding: lat for lat in latencies}
    points = []
    for e in entries:
        cfg = ModelConfig.from_dict(e["config"])
        r = count_parameters(cfg)
        lat = per_type.get(cfg.embedding)
        points.append({"cell": e["name"], "embedding": cfg.embedding, "sharing": cfg.sharing,
                       "MB": r.bytes(dtype) / 1e6, "parameters": r.total,
                       "held-out accuracy": e["held_out_accuracy"],
                       "baseline": e.get("unigram_baseline_accuracy"),
                       "ms per batch": lat.ms_per_batch if lat else None})
    return points


def accuracy_by_embedding(entries: Sequence[dict]) -> list[dict]:
    """Mean held-out MLM accuracy per embedding type over the trained cells (and how many there are)."""
    groups: dict[str, list[float]] = {}
    for e in entries:
        groups.setdefault(e["config"]["embedding"], []).append(e["held_out_accuracy"])
    return [{"embedding": k, "cells": len(v), "mean held-out accuracy": float(np.mean(v)),
             "best": float(np.max(v))} for k, v in groups.items()]


def embedding_verdict(entries: Sequence[dict]) -> str:
    """What the trained cells show per embedding type, in accuracy and in loss, phrased from the means.

    Held-out top-1 accuracy and held-out loss can disagree: a cell can rank the right word first more often
    yet put less probability on it on average. The sentence reports both orders and, for hashed cells, what
    they pay against each other type — whichever way the numbers come out.
    """
    groups: dict[str, list[dict]] = {}
    for e in entries:
        if e.get("held_out_accuracy") is not None and e.get("held_out_loss") is not None:
            groups.setdefault(e["config"]["embedding"], []).append(e)
    if not groups:
        return "No trained cell has held-out numbers yet."
    acc = {k: float(np.mean([e["held_out_accuracy"] for e in v])) for k, v in groups.items()}
    loss = {k: float(np.mean([e["held_out_loss"] for e in v])) for k, v in groups.items()}
    order = [k for k in ("full", "factorized", "hashed") if k in groups] + sorted(set(groups) - {
        "full", "factorized", "hashed"})
    by_acc = sorted(order, key=lambda k: -acc[k])
    by_loss = sorted(order, key=lambda k: loss[k])
    text = ("Mean over the trained cells — held-out top-1: "
            + ", ".join(f"{k} {acc[k]:.1%}" for k in by_acc)
            + "; held-out loss (lower is better): "
            + ", ".join(f"{k} {loss[k]:.2f}" for k in by_loss) + " nats.")
    if "hashed" not in groups or len(groups) < 2:
        return text
    eps_acc, eps_loss = 0.0005, 0.005  # differences below the printed precision count as a tie
    acc_words = {1: "higher top-1", 0: "the same top-1", -1: "lower top-1"}
    loss_words = {1: "lower loss", 0: "the same loss", -1: "higher loss"}
    tails = {(1, -1): " — they rank the right word first more often yet give it a lower log-probability on average",
             (-1, 1): " — they rank the right word first less often yet give it a higher log-probability on average",
             (-1, -1): " — they pay on both", (1, 1): " — better on both"}
    clauses = []
    for other in (k for k in order if k != "hashed"):
        d_acc, d_loss = acc["hashed"] - acc[other], loss[other] - loss["hashed"]  # both: > 0 means hashed is better
        sign = (int(d_acc > eps_acc) - int(d_acc < -eps_acc), int(d_loss > eps_loss) - int(d_loss < -eps_loss))
        clauses.append(f"against {other}, {acc_words[sign[0]]} and {loss_words[sign[1]]}{tails.get(sign, '')}")
    return text + " Hashed cells: " + "; ".join(clauses) + "."
