"""Hugging Face BERT / ALBERT in: `from_hf`, `head_from_hf`, `masked_lm_from_hf` (out: `albertviz.core.hf_export`).

- In: the mapping is by name, one tensor at a time, and every tensor of our model must be filled, so a
  renamed HF weight fails loudly instead of leaving random values behind. Works for the base models and
  their `…ForMaskedLM` variants (the MLM head maps onto `MLMHead`: dense, activation, LayerNorm, decoder
  tied to the word vectors, bias).
- Out (hf_export): the same mapping read backwards, into a freshly built `BertModel` / `AlbertModel` (or the MLM
  variant), with a check that every HF parameter was written.
- What HF can hold: BERT = no sharing, E = H. ALBERT = factorized (or E = H with an identity projection),
  whole layers shared in consecutive groups (`num_hidden_groups` M: layer i runs group ⌊i·M/L⌋, Takase's
  'sequence'; M = L is ALBERT's own not-shared baseline). Everything else raises `ConfigError` with the reason.
"""

from __future__ import annotations

import torch

from albertviz.core.config import ConfigError, ModelConfig
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.core.sharing import layer_plan

_ACTS = {"gelu": "gelu", "gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "relu": "relu",
         "silu": "silu", "swish": "silu"}


def _activation(hf_config) -> str:
    act = hf_config.hidden_act
    if not isinstance(act, str) or act not in _ACTS:
        raise ConfigError(f"Activation {act!r} of this HF model is not supported.")
    return _ACTS[act]


def base_model(hf_model):
    """The BertModel / AlbertModel inside a …ForMaskedLM (or the model itself)."""
    return getattr(hf_model, "base_model", hf_model)


def albert_group_plan(num_layers: int, num_groups: int) -> list[int]:
    """The group HF's AlbertTransformer runs at each layer (its own float formula, copied on purpose)."""
    return [int(i / (num_layers / num_groups)) for i in range(num_layers)]


def _is_identity(linear) -> bool:
    w, b = linear.weight, linear.bias
    return w.shape[0] == w.shape[1] and torch.equal(w, torch.eye(w.shape[0], dtype=w.dtype)) and not b.any()


def config_from_hf(hf_model) -> ModelConfig:
    """The ModelConfig of an HF BERT or ALBERT (base or …ForMaskedLM): its shape, sharing and pooler."""
    base = base_model(hf_model)
    c = base.config
    if getattr(c, "is_decoder", False) or getattr(c, "add_cross_attention", False):
        raise ConfigError("This HF model is configured as a decoder (is_decoder / cross-attention); "
                          "albertviz shows bidirectional encoders only.")
    if getattr(c, "position_embedding_type", "absolute") != "absolute":
        raise ConfigError(f"position_embedding_type {c.position_embedding_type!r} is not supported; albertviz "
                          "uses BERT's learned absolute positions.")
    common = dict(vocab_size=c.vocab_size, hidden_size=c.hidden_size, num_layers=c.num_hidden_layers,
                  num_heads=c.num_attention_heads, intermediate_size=c.intermediate_size,
                  max_position_embeddings=c.max_position_embeddings, type_vocab_size=c.type_vocab_size,
                  activation=_activation(c), layer_norm_eps=float(c.layer_norm_eps),
                  pooler=getattr(base, "pooler", None) is not None)
    if c.model_type == "bert":
        return ModelConfig(**common)
    if c.model_type != "albert":
        raise ConfigError(f"from_hf supports BERT and ALBERT, not {type(hf_model).__name__} "
                          f"(model_type {c.model_type!r}).")
    L, M = c.num_hidden_layers, c.num_hidden_groups
    if c.inner_group_num != 1:
        raise ConfigError(f"This ALBERT has inner_group_num={c.inner_group_num} (several different layers "
                          "inside each group); only inner_group_num=1, as in the paper, can be loaded.")
    if not 1 <= M <= L:
        raise ConfigError(f"This ALBERT has num_hidden_groups={M} for {L} layers; need 1 ≤ groups ≤ layers.")
    if c.embedding_size > c.hidden_size:
        raise ConfigError(f"This ALBERT has embedding_size {c.embedding_size} > hidden_size {c.hidden_size}; "
                          "factorization needs E ≤ H.")
    if c.embedding_size == c.hidden_size:
        if not _is_identity(base.encoder.embedding_hidden_mapping_in):
            raise ConfigError("This ALBERT has embedding_size = hidden_size but a learned E→H projection; "
                              "albertviz uses no projection when E = H, so it cannot hold these weights.")
        emb = dict(embedding="full")
    else:
        emb = dict(embedding_size=c.embedding_size, embedding="factorized")
    if M == L and L > 1:  # one group per layer: ALBERT's "not-shared" baseline
        cfg = ModelConfig(**common, **emb, sharing="none")
    else:
        cfg = ModelConfig(**common, **emb, sharing="all", num_groups=M, share_strategy="sequence")
    hf_plan = albert_group_plan(L, M)
    if [a for a, _ in layer_plan(cfg)] != hf_plan and cfg.sharing == "all":
        raise ConfigError(f"HF ALBERT runs groups {hf_plan} over its {L} layers, which albertviz's 'sequence' "
                          "strategy does not reproduce for this layer and group count.")
    return cfg


def shared_embedding_names() -> dict[str, str]:
    """The embedding tensors BERT and ALBERT both name exactly as our Encoder does."""
    names = [f"embeddings.{t}_embeddings.weight" for t in ("word", "position", "token_type")]
    return {n: n for n in names + [f"embeddings.LayerNorm.{p}" for p in ("weight", "bias")]}


def bert_mapping(cfg: ModelConfig) -> dict[str, str]:
    """Our Encoder's names → BertModel's names."""
    m = shared_embedding_names()
    for p in ("weight", "bias"):
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


def albert_groups(cfg: ModelConfig) -> int:
    return cfg.num_layers if cfg.sharing == "none" else cfg.num_groups


def albert_mapping(cfg: ModelConfig) -> dict[str, str]:
    """Our Encoder's names → AlbertModel's names; block g is layer group g (one layer per group)."""
    m = shared_embedding_names()
    for p in ("weight", "bias"):
        if cfg.has_projection:
            m[f"embeddings.projection.{p}"] = f"encoder.embedding_hidden_mapping_in.{p}"
        if cfg.pooler:
            m[f"pooler.dense.{p}"] = f"pooler.{p}"
        for g in range(albert_groups(cfg)):
            src = f"encoder.albert_layer_groups.{g}.albert_layers.0."
            for ours, theirs in (("query", "attention.query"), ("key", "attention.key"),
                                 ("value", "attention.value"), ("output", "attention.dense"),
                                 ("LayerNorm", "attention.LayerNorm")):
                m[f"attention_blocks.{g}.{ours}.{p}"] = src + f"{theirs}.{p}"
            for ours, theirs in (("up", "ffn"), ("down", "ffn_output"), ("LayerNorm", "full_layer_layer_norm")):
                m[f"ffn_blocks.{g}.{ours}.{p}"] = src + f"{theirs}.{p}"
    return m


def head_mapping(model_type: str) -> dict[str, str]:
    """Our MLMHead's names → the …ForMaskedLM's names (the decoder is tied, so it has no entry)."""
    pre = "cls.predictions.transform." if model_type == "bert" else "predictions."
    bias = "cls.predictions.bias" if model_type == "bert" else "predictions.bias"
    return {"dense.weight": pre + "dense.weight", "dense.bias": pre + "dense.bias",
            "LayerNorm.weight": pre + "LayerNorm.weight", "LayerNorm.bias": pre + "LayerNorm.bias",
            "bias": bias}


def _fill(module: torch.nn.Module, sources: dict[str, torch.Tensor], mapping: dict[str, str]) -> None:
    """Copy sources[mapping[name]] into every tensor of `module`; all of them must be covered."""
    ours = module.state_dict()
    missing = sorted(set(ours) - set(mapping))
    if missing:
        raise RuntimeError(f"no HF source for: {missing[:5]}")
    with torch.no_grad():
        for name, src in mapping.items():
            if src not in sources:
                raise KeyError(f"HF model has no weight {src!r} (needed for {name!r}).")
            if sources[src].shape != ours[name].shape:
                raise ConfigError(f"HF weight {src!r} has shape {tuple(sources[src].shape)}, but its config "
                                  f"asks for {tuple(ours[name].shape)}.")
            ours[name].copy_(sources[src])


def from_hf(hf_model) -> Encoder:
    """An albertviz Encoder holding a copy of an HF BERT's or ALBERT's weights (base model or …ForMaskedLM)."""
    cfg = config_from_hf(hf_model)
    base = base_model(hf_model)
    mapping = albert_mapping(cfg) if base.config.model_type == "albert" else bert_mapping(cfg)
    enc = Encoder(cfg)
    _fill(enc, base.state_dict(), mapping)
    return enc.eval()


def head_from_hf(hf_mlm, encoder: Encoder) -> MLMHead:
    """The MLM head of an `AlbertForMaskedLM` / `BertForMaskedLM`, on top of `from_hf(hf_mlm)`.

    Our head's decoder is the encoder's word table, so an HF decoder that is not tied to it (and differs)
    is refused rather than silently replaced.
    """
    model_type = base_model(hf_mlm).config.model_type
    decoder = hf_mlm.get_output_embeddings() if hasattr(hf_mlm, "get_output_embeddings") else None
    if decoder is None or base_model(hf_mlm) is hf_mlm:
        raise ConfigError(f"{type(hf_mlm).__name__} has no masked-word head; use AlbertForMaskedLM or "
                          "BertForMaskedLM.")
    if not torch.equal(decoder.weight, encoder.embeddings.word_matrix()):
        raise ConfigError("This checkpoint's MLM decoder is not tied to its word embeddings "
                          "(tie_word_embeddings=false); albertviz's head always reuses the word table.")
    head = MLMHead(encoder.config)
    sources = dict(hf_mlm.state_dict())
    mapping = head_mapping(model_type)
    if decoder.bias is not None:  # what HF's forward adds; tied to predictions.bias in every current version
        sources[mapping["bias"]] = decoder.bias
    _fill(head, sources, mapping)
    return head.eval()


def masked_lm_from_hf(hf_mlm) -> MaskedLM:
    """Encoder + MLM head of an HF `…ForMaskedLM`, as one albertviz MaskedLM (logits equal HF's)."""
    enc = from_hf(hf_mlm)
    head = head_from_hf(hf_mlm, enc)
    with torch.device("meta"):
        lm = MaskedLM(enc.config)
    lm.encoder, lm.head = enc, head
    return lm.eval()
