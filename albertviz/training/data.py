"""Token chunks with a fixed train/held-out split, and the fixed masked held-out batch every run is scored on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from albertviz.data.corpus import make_chunks, split
from albertviz.data.tokenizer import load_tokenizer
from albertviz.training.masking import mask_tokens, special_mask


@dataclass
class Data:
    """Token chunks with a fixed train/held-out split."""

    chunks: torch.Tensor  # (N, T) int64
    train_idx: np.ndarray
    held_idx: np.ndarray
    special: torch.Tensor  # (V,) bool: tokens never masked
    mask_id: int


def held_out_batch(data: Data, vocab_size: int, n_chunks: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed masked held-out set (seed 1234) every run and every test is scored on."""
    idx = data.held_idx[:n_chunks]
    return mask_tokens(data.chunks[idx], data.special, data.mask_id, vocab_size,
                       torch.Generator().manual_seed(1234))


def load_data(seq_len: int = 64) -> Data:
    """The zoo corpus as chunks of the zoo tokenizer, with the fixed train/held-out split."""
    tok = load_tokenizer()
    chunks = make_chunks(tok, seq_len)
    train_idx, held_idx = split(chunks)
    mask_id = tok.token_to_id("[MASK]")
    if mask_id is None:
        raise ValueError("The zoo tokenizer has no [MASK] token.")
    return Data(torch.from_numpy(chunks).long(), train_idx, held_idx, special_mask(tok, tok.get_vocab_size()), mask_id)
