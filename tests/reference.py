"""Closed-form parameter counts of a BERT/ALBERT encoder, written from the papers' definitions.

The independent oracle the tests compare `albertviz.core.params.count_parameters` (and every number
derived from it) against. It imports nothing from albertviz on purpose: a config is read only through
its plain fields, and sharing is counted from its definition (a shared sublayer stores one block per
parameter group, an unshared one a block per layer), not from albertviz.core.sharing's layer plan.

Per layer (Devlin et al. 2019; Lan et al. 2020), with hidden size H and FFN size F:
  attention  Q, K, V and output projections 4·(H² + H), plus its LayerNorm 2H
  FFN        H·F + F (up) + F·H + H (down), plus its LayerNorm 2H
Embeddings with width E: word table V·E (none when hashed: the vectors are computed, not stored),
positions P·E, token types T·E, LayerNorm 2E, and when E ≠ H the E→H projection E·H + H.
Pooler: H² + H.
"""

from __future__ import annotations

SHARES_ATTENTION = ("all", "attention")
SHARES_FFN = ("all", "ffn")


def attention_params(H: int) -> int:
    return 4 * (H * H + H) + 2 * H


def ffn_params(H: int, F: int) -> int:
    return H * F + F + F * H + H + 2 * H


def embedding_params(cfg) -> int:
    V, E, H = cfg.vocab_size, cfg.E, cfg.hidden_size
    words = 0 if cfg.embedding == "hashed" else V * E
    projection = E * H + H if E != H else 0
    return words + cfg.max_position_embeddings * E + cfg.type_vocab_size * E + 2 * E + projection


def pooler_params(cfg) -> int:
    H = cfg.hidden_size
    return H * H + H if cfg.pooler else 0


def stored_blocks(cfg) -> tuple[int, int]:
    """(attention, FFN) blocks stored: M groups for a shared sublayer, L for an unshared one."""
    n_attn = cfg.num_groups if cfg.sharing in SHARES_ATTENTION else cfg.num_layers
    n_ffn = cfg.num_groups if cfg.sharing in SHARES_FFN else cfg.num_layers
    return n_attn, n_ffn


def param_count(cfg) -> int:
    """Every parameter of the encoder a config describes (no MLM head)."""
    H, F = cfg.hidden_size, cfg.intermediate_size
    n_attn, n_ffn = stored_blocks(cfg)
    return embedding_params(cfg) + n_attn * attention_params(H) + n_ffn * ffn_params(H, F) + pooler_params(cfg)


def unrolled_count(cfg) -> int:
    """What the same shape costs with every layer its own weights."""
    H, F, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_layers
    return embedding_params(cfg) + L * (attention_params(H) + ffn_params(H, F)) + pooler_params(cfg)
