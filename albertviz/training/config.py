"""The knobs of one training run, as data: every run's manifest entry and checkpoint key is `asdict(TrainConfig)`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.01
    # The first `short_steps` steps read each chosen chunk as 64 // short_len windows of short_len tokens.
    short_steps: int = 700
    short_len: int = 16
    seed: int = 0
    log_every: int = 25
    eval_every: int = 100
    eval_chunks: int = 256
    checkpoint_every: int = 250
    # Init std of a factorized (E < H) word table: with BERT's 0.02 the tied decoder starts with a fraction of a
    # full table's logit scale, and factorized cells sat on the unigram plateau far longer (README, "Model zoo").
    factorized_word_std: float = 0.08
