"""The Embeddings page's price of hashing: word-vector latency on this CPU and the zoo's accuracy per embedding.

`measure_latency` times on-the-fly hashing against table lookups; `price_points` puts each trained zoo cell's
held-out accuracy beside its size and latency; `embedding_verdict` says what the cells show, in words.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from albertviz.core.config import ModelConfig
from albertviz.core.embeddings import hash_token, ngram_vector
from albertviz.core.params import count_parameters
from albertviz.data.corpus import load_text
from albertviz.lessons.embedding_hashing import hashed_matrix
from albertviz.lessons.embedding_sizes import zoo_factorized_e, zoo_shape

FALLBACK_TEXT = ("Now is the winter of our discontent made glorious summer by this sun of York; and all the "
                 "clouds that loured upon our house in the deep bosom of the ocean buried. ")


def sample_tokens(tokenizer, n: int) -> list[str]:
    """`n` WordPiece tokens of real text (the zoo's Shakespeare when installed), repeated if short."""
    try:
        text = load_text()[:max(20_000, 8 * n)]
    except (RuntimeError, OSError):
        text = FALLBACK_TEXT
    tokens = tokenizer.encode(text, add_special_tokens=False).tokens
    return (tokens * (n // max(1, len(tokens)) + 1))[:n]


def hash_on_the_fly(tokens: Sequence[str], dim: int, n_min: int = 2, n_max: int = 4,
                    seed: int = 0) -> np.ndarray:
    """What a table-free model does per token at run time: cut n-grams, hash each, mean-pool (the model's own
    `hash_token`; a blank token is the bare boundary marks "<>", as in `hashed_vectors`)."""
    out = np.empty((len(tokens), dim), dtype=np.float32)
    for row, tok in enumerate(tokens):
        out[row] = hash_token(tok, dim, n_min, n_max, seed).pooled if tok.strip() else ngram_vector("<>", dim, seed)
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
