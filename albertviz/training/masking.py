"""BERT's masking, the short-window warm-up, the learning-rate schedule and the batch order (pure functions)."""

from __future__ import annotations

import numpy as np
import torch

from albertviz.data.tokenizer import SPECIAL_TOKENS
from albertviz.training.config import TrainConfig


def mask_tokens(ids: torch.Tensor, special: torch.Tensor, mask_id: int, vocab_size: int,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: 15% of ordinary tokens are targets; 80% → [MASK], 10% → random, 10% kept."""
    labels = ids.clone()
    chosen = (torch.rand(ids.shape, generator=generator) < 0.15) & ~special[ids]
    labels[~chosen] = -100
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=generator)
    inputs[chosen & (roll < 0.8)] = mask_id
    rand_pos = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[rand_pos] = torch.randint(vocab_size, ids.shape, generator=generator)[rand_pos]
    return inputs, labels


def special_mask(tokenizer, vocab_size: int) -> torch.Tensor:
    special = torch.zeros(vocab_size, dtype=torch.bool)
    for t in SPECIAL_TOKENS:
        special[tokenizer.token_to_id(t)] = True
    return special


def short_windows(chunks: torch.Tensor, short_len: int) -> torch.Tensor:
    """(B, T) chunks → (B · (T // short_len), short_len) windows: [CLS] + short_len - 2 pieces + [SEP] each.

    The windows reuse each chunk's own [CLS]/[SEP] ids and its pieces in order (the tail that does not fill a
    window is dropped), so the warm-up reads the same text as the rest of training, only in shorter pieces.
    """
    B, T = chunks.shape
    body, k = short_len - 2, T // short_len
    out = torch.empty((B, k, short_len), dtype=chunks.dtype)
    out[:, :, 0], out[:, :, -1] = chunks[:, :1], chunks[:, -1:]
    out[:, :, 1:-1] = chunks[:, 1:1 + k * body].reshape(B, k, body)
    return out.reshape(B * k, short_len)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to `lr`, then linear decay to 10% of it."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (1.0 - 0.9 * min(1.0, frac))


def batch_indices(cfg: TrainConfig, train_idx: np.ndarray, step: int) -> np.ndarray:
    """Which training chunks step `step` uses: a pure function of the seed and the step (resumable)."""
    return np.random.default_rng([cfg.seed, step]).choice(train_idx, size=cfg.batch_size, replace=False)
