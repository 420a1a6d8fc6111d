"""Load Hugging Face `BertModel` / `AlbertModel` weights into an albertviz `Encoder`.

The mapping is by name, one tensor at a time, and every tensor of our model must be filled, so a
renamed HF weight fails loudly instead of leaving random values behind.
"""

from __future__ import annotations

import torch

from .config import ConfigError, ModelConfig
from .model import Encoder

_ACTS = {"gelu": "gelu", "gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "relu": "relu",
         "silu": "silu", "swish": "silu"}


def _activation(hf_config) -> str:
    act = hf_config.hidden_act
    if act not in _ACTS:
        raise ConfigError(f"Activation {act!r} of this HF model is not supported.")
    return _ACTS[act]


def config_from_hf(hf_model) -> ModelConfig:
    """The ModelConfig of an HF BertModel or AlbertModel (its shape, sharing and pooler)."""
    c = hf_model.config
    common = dict(vocab_size=c.vocab_size, hidden_size=c.hidden_size, num_layers=c.num_hidden_layers,
                  num_heads=c.num_attention_heads, intermediate_size=c.intermediate_size,
                  max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size,
                  activation=_activation(c), layer_norm_eps=float(c.layer_norm_eps),
                  pooler=getattr(hf_model, "pooler", None) is not None)
    if c.model_type == "bert":
        return ModelConfig(**common)
    if c.model_type == "albert":
        if c.num_hidden_groups != 1 or c.inner_group_num != 1:
            raise ConfigError("Only ALBERT with num_hidden_groups=1 and inner_group_num=1 "
                              "(every layer shares one block, as in the paper) can be loaded.")
        if c.embedding_size >= c.hidden_size:
            raise ConfigError("This ALBERT has embedding_size ≥ hidden_size; albertviz uses no "
                              "projection when E = H, so it cannot hold these weights.")
        return ModelConfig(**common, embedding_size=c.embedding_size, embedding="factorized",
                           sharing="all")
    raise ConfigError(f"from_hf supports BertModel and AlbertModel, not {type(hf_model).__name__}.")


def _bert_mapping(cfg: ModelConfig) -> dict[str, str]:
    m = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight",
         "embeddings.position_embeddings.weight": "embeddings.position_embeddings.weight",
         "embeddings.token_type_embeddings.weight": "embeddings.token_type_embeddings.weight"}
    for p in ("weight", "bias"):
        m[f"embeddings.LayerNorm.{p}"] = f"embeddings.LayerNorm.{p}"
        if cfg.pooler:
            m[f"pooler.dense.{p}"] = f"pooler.dense.{p}"
        for i in range(cfg.num_layers):
            src = f"encoder.layer.{i}."
            for ours, theirs in (("query", "attention.self.query"), ("key", "attention.self.key"),
                                 ("value", "attention.self.value"), ("output", "attention.output.dense"),
                                 ("LayerNorm", "attention.output.LayerNorm")):
                m[f"attention_blocks.{i}.{ours}.{p}"] = src + f"{theirs}.{p}"
            for ours, theirs in (("up", "intermediate.dense"), ("down", "output.dense"),
                                 ("LayerNorm", "output.LayerNorm")):
                m[f"ffn_blocks.{i}.{ours}.{p}"] = src + f"{theirs}.{p}"
    return m


def _albert_mapping(cfg: ModelConfig) -> dict[str, str]:
    m = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight",
         "embeddings.position_embeddings.weight": "embeddings.position_embeddings.weight",
         "embeddings.token_type_embeddings.weight": "embeddings.token_type_embeddings.weight"}
    src = "encoder.albert_layer_groups.0.albert_layers.0."
    for p in ("weight", "bias"):
        m[f"embeddings.LayerNorm.{p}"] = f"embeddings.LayerNorm.{p}"
        m[f"embeddings.projection.{p}"] = f"encoder.embedding_hidden_mapping_in.{p}"
        if cfg.pooler:
            m[f"pooler.dense.{p}"] = f"pooler.{p}"
        for ours, theirs in (("query", "attention.query"), ("key", "attention.key"),
                             ("value", "attention.value"), ("output", "attention.dense"),
                             ("LayerNorm", "attention.LayerNorm")):
            m[f"attention_blocks.0.{ours}.{p}"] = src + f"{theirs}.{p}"
        for ours, theirs in (("up", "ffn"), ("down", "ffn_output"), ("LayerNorm", "full_layer_layer_norm")):
            m[f"ffn_blocks.0.{ours}.{p}"] = src + f"{theirs}.{p}"
    return m


def from_hf(hf_model) -> Encoder:
    """An albertviz Encoder holding a copy of an HF BertModel's or AlbertModel's weights."""
    cfg = config_from_hf(hf_model)
    mapping = _bert_mapping(cfg) if cfg.embedding == "full" else _albert_mapping(cfg)
    theirs = hf_model.state_dict()
    enc = Encoder(cfg)
    ours = enc.state_dict()
    missing = sorted(set(ours) - set(mapping))
    if missing:
        raise RuntimeError(f"no HF source for: {missing[:5]}")
    with torch.no_grad():
        for name, src in mapping.items():
            if src not in theirs:
                raise KeyError(f"HF model has no weight {src!r} (needed for {name!r}).")
            ours[name].copy_(theirs[src])
    return enc.eval()
