"""Parameter counts, sizes, training memory and FLOPs, from the real module on the meta device.

Counting builds the actual modules the `Encoder` is made of (embeddings, one attention block, one FFN
block, pooler, MLM head) with `torch.device("meta")`: shapes without storage, so ALBERT-xxlarge costs no
memory, and a count can never disagree with the model the other pages run. The layer plan says how many
blocks of each kind exist; `unrolled` is the price of the layers if every one had its own weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch

from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES, ModelConfig
from albertviz.core.embeddings import Embeddings
from albertviz.core.model import AttentionBlock, FeedForwardBlock, MLMHead, Pooler
from albertviz.core.sharing import num_blocks

BYTES_PER_PARAM = {"fp32": 4, "fp16": 2, "int8": 1}
# Adam keeps fp32 weights, gradients and two moment estimates: 4 numbers of 4 bytes per parameter.
ADAM_BYTES_PER_PARAM = 16


@dataclass(frozen=True)
class ParamReport:
    total: int  # unique trainable parameters, as sum(p.numel() for p in model.parameters())
    unrolled: int  # the same shape with no sharing
    by_component: dict[str, int] = field(default_factory=dict)
    flops_per_token: int = 0  # forward pass, 2 FLOPs per multiply-add, at `seq_len`
    seq_len: int = 128

    @property
    def saving(self) -> float:
        """Fraction of the unrolled parameters that sharing removes."""
        return 1.0 - self.total / self.unrolled if self.unrolled else 0.0

    def bytes(self, dtype: str = "fp32") -> int:
        return self.total * BYTES_PER_PARAM[dtype]

    @property
    def sizes_mb(self) -> dict[str, float]:
        return {d: self.bytes(d) / 1e6 for d in BYTES_PER_PARAM}

    @property
    def adam_training_bytes(self) -> int:
        """Weights + gradients + 2 Adam moments in fp32 (activations excluded: they scale with batch)."""
        return self.total * ADAM_BYTES_PER_PARAM


def _numel(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def _module_sizes(config: ModelConfig, include_head: bool) -> dict[str, int]:
    """Parameters of one of each module (a fresh dict: callers may change it, the cache keeps its own)."""
    return dict(_cached_module_sizes(config, include_head))


# Building the modules, even on the meta device, costs ≈8 ms a config (measured on the busy 2-core machine), and
# the Parameter explorer asks for ≈27 configs on every rerun (its grid, ALBERT's tables, the pinned model). A frozen
# ModelConfig hashes by value, so equal shapes share one entry; a config's counts never change, so the cache cannot
# go stale; 4,096 entries of a few ints each bound its memory.
@lru_cache(maxsize=4096)
def _cached_module_sizes(config: ModelConfig, include_head: bool) -> tuple[tuple[str, int], ...]:
    """Parameters of one of each module, built on the meta device (blocks of a kind are identical)."""
    with torch.device("meta"):
        sizes = {"embeddings": _numel(Embeddings(config)), "attention": _numel(AttentionBlock(config)),
                 "ffn": _numel(FeedForwardBlock(config)), "pooler": _numel(Pooler(config)) if config.pooler else 0}
        if include_head:
            sizes["head"] = _numel(MLMHead(config))
    return tuple(sizes.items())


def flops_per_token(config: ModelConfig, seq_len: int = 128) -> int:
    """Forward FLOPs for one token: every layer runs, shared or not, so sharing changes nothing here.

    Per layer: Q, K, V, O projections 4·H² multiply-adds, FFN 2·H·F, attention scores and the
    weighted sum 2·T·H; plus the E→H projection when embeddings are factorized.
    """
    H, F, L = config.hidden_size, config.intermediate_size, config.num_layers
    macs = L * (4 * H * H + 2 * H * F + 2 * seq_len * H)
    if config.has_projection:
        macs += config.E * H
    return 2 * macs


def count_parameters(config: ModelConfig, include_head: bool = False, seq_len: int = 128) -> ParamReport:
    """Count unique parameters of `Encoder(config)` (pooler included when configured).

    With `include_head`, the MLM head's own parameters (dense, LayerNorm, output bias; the decoder
    is tied to the word vectors) are added as `head`.
    """
    sizes = _module_sizes(config, include_head)
    n_attn, n_ffn = num_blocks(config)
    parts = {**sizes, "attention": n_attn * sizes["attention"], "ffn": n_ffn * sizes["ffn"]}
    total = sum(parts.values())
    L = config.num_layers
    unrolled = total + (L - n_attn) * sizes["attention"] + (L - n_ffn) * sizes["ffn"]
    return ParamReport(total=total, unrolled=unrolled, by_component=parts,
                       flops_per_token=flops_per_token(config, seq_len), seq_len=seq_len)


def sharing_embedding_grid(config: ModelConfig) -> list[dict]:
    """Unique parameters of the current shape for every sharing mode × embedding type.

    Factorized uses the config's E when it is factorized, else ALBERT's 128 (at most H/2); hashed keeps
    the config's E when hashed, else computes H-dim vectors directly as EELBERT does.
    """
    H = config.hidden_size
    sizes = {"full": H,
             "factorized": config.E if config.embedding == "factorized" else max(1, min(128, H // 2)),
             "hashed": config.E if config.embedding == "hashed" else H}
    rows = []
    for embedding in EMBEDDING_TYPES:
        E = sizes[embedding]
        for sharing in SHARING_MODES:
            cfg = config.with_(embedding=embedding, embedding_size=E, sharing=sharing)
            r = count_parameters(cfg)
            rows.append({"embedding": embedding, "E": E, "sharing": sharing, "parameters": r.total,
                         "embedding share": r.by_component["embeddings"] / r.total})
    return rows
