"""Hugging Face BERT / ALBERT in and out: `from_hf`, `masked_lm_from_hf`, `to_hf`, `export_hf_folder`.

- In: the mapping is by name, one tensor at a time, and every tensor of our model must be filled, so a
  renamed HF weight fails loudly instead of leaving random values behind. Works for the base models and
  their `…ForMaskedLM` variants (the MLM head maps onto `MLMHead`: dense, activation, LayerNorm, decoder
  tied to the word vectors, bias).
- Out: the same mapping read backwards, into a freshly built `BertModel` / `AlbertModel` (or the MLM
  variant), with a check that every HF parameter was written.
- What HF can hold: BERT = no sharing, E = H. ALBERT = factorized (or E = H with an identity projection),
  whole layers shared in consecutive groups (`num_hidden_groups` M: layer i runs group ⌊i·M/L⌋, Takase's
  'sequence'; M = L is ALBERT's own not-shared baseline). Everything else raises `ConfigError` with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from albertviz.core.config import ConfigError, ModelConfig
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.core.sharing import layer_plan, plan_letters

_ACTS = {"gelu": "gelu", "gelu_new": "gelu_new", "gelu_pytorch_tanh": "gelu_new", "relu": "relu",
         "silu": "silu", "swish": "silu"}
_HF_ACTS = {"gelu": "gelu", "gelu_new": "gelu_new", "relu": "relu", "silu": "silu"}  # ours → HF's name


def _activation(hf_config) -> str:
    act = hf_config.hidden_act
    if not isinstance(act, str) or act not in _ACTS:
        raise ConfigError(f"Activation {act!r} of this HF model is not supported.")
    return _ACTS[act]


def _base(hf_model):
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
    base = _base(hf_model)
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


def _bert_mapping(cfg: ModelConfig) -> dict[str, str]:
    """Our Encoder's names → BertModel's names."""
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


def _albert_groups(cfg: ModelConfig) -> int:
    return cfg.num_layers if cfg.sharing == "none" else cfg.num_groups


def _albert_mapping(cfg: ModelConfig) -> dict[str, str]:
    """Our Encoder's names → AlbertModel's names; block g is layer group g (one layer per group)."""
    m = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight",
         "embeddings.position_embeddings.weight": "embeddings.position_embeddings.weight",
         "embeddings.token_type_embeddings.weight": "embeddings.token_type_embeddings.weight"}
    for p in ("weight", "bias"):
        m[f"embeddings.LayerNorm.{p}"] = f"embeddings.LayerNorm.{p}"
        if cfg.has_projection:
            m[f"embeddings.projection.{p}"] = f"encoder.embedding_hidden_mapping_in.{p}"
        if cfg.pooler:
            m[f"pooler.dense.{p}"] = f"pooler.{p}"
        for g in range(_albert_groups(cfg)):
            src = f"encoder.albert_layer_groups.{g}.albert_layers.0."
            for ours, theirs in (("query", "attention.query"), ("key", "attention.key"),
                                 ("value", "attention.value"), ("output", "attention.dense"),
                                 ("LayerNorm", "attention.LayerNorm")):
                m[f"attention_blocks.{g}.{ours}.{p}"] = src + f"{theirs}.{p}"
            for ours, theirs in (("up", "ffn"), ("down", "ffn_output"), ("LayerNorm", "full_layer_layer_norm")):
                m[f"ffn_blocks.{g}.{ours}.{p}"] = src + f"{theirs}.{p}"
    return m


def _head_mapping(model_type: str) -> dict[str, str]:
    """Our MLMHead's names → the …ForMaskedLM's names (the decoder is tied, so it has no entry)."""
    pre = "cls.predictions.transform." if model_type == "bert" else "predictions."
    bias = "cls.predictions.bias" if model_type == "bert" else "predictions.bias"
    return {"dense.weight": pre + "dense.weight", "dense.bias": pre + "dense.bias",
            "LayerNorm.weight": pre + "LayerNorm.weight", "LayerNorm.bias": pre + "LayerNorm.bias",
            "bias": bias}


def _is_albert_shape(cfg: ModelConfig) -> bool:
    return cfg.embedding == "factorized" or cfg.sharing != "none"


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
    base = _base(hf_model)
    mapping = _albert_mapping(cfg) if base.config.model_type == "albert" else _bert_mapping(cfg)
    enc = Encoder(cfg)
    _fill(enc, base.state_dict(), mapping)
    return enc.eval()


def head_from_hf(hf_mlm, encoder: Encoder) -> MLMHead:
    """The MLM head of an `AlbertForMaskedLM` / `BertForMaskedLM`, on top of `from_hf(hf_mlm)`.

    Our head's decoder is the encoder's word table, so an HF decoder that is not tied to it (and differs)
    is refused rather than silently replaced.
    """
    model_type = _base(hf_mlm).config.model_type
    decoder = hf_mlm.get_output_embeddings() if hasattr(hf_mlm, "get_output_embeddings") else None
    if decoder is None or _base(hf_mlm) is hf_mlm:
        raise ConfigError(f"{type(hf_mlm).__name__} has no masked-word head; use AlbertForMaskedLM or "
                          "BertForMaskedLM.")
    if not torch.equal(decoder.weight, encoder.embeddings.word_matrix()):
        raise ConfigError("This checkpoint's MLM decoder is not tied to its word embeddings "
                          "(tie_word_embeddings=false); albertviz's head always reuses the word table.")
    head = MLMHead(encoder.config)
    sources = dict(hf_mlm.state_dict())
    mapping = _head_mapping(model_type)
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


# ---------------------------------------------------------------- out to HF

def hf_config(cfg: ModelConfig, **extra):
    """The `BertConfig` / `AlbertConfig` of an albertviz shape, or ConfigError saying why HF has none."""
    from transformers import AlbertConfig, BertConfig

    if cfg.embedding == "hashed":
        raise ConfigError("Hashed (EELBERT) embeddings compute each word vector from the token's characters; "
                          "HF BERT and ALBERT need a stored word table, so this model has no HF equivalent.")
    if cfg.sharing in ("ffn", "attention"):
        other = "attention" if cfg.sharing == "ffn" else "FFN"
        raise ConfigError(f"This model shares only its {cfg.sharing} blocks and keeps one {other} block per "
                          "layer; HF ALBERT shares whole layers (attention and FFN together) and BERT shares "
                          "nothing, so neither can hold it.")
    common = dict(vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
                  num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
                  max_position_embeddings=cfg.max_position_embeddings, type_vocab_size=cfg.type_vocab_size,
                  hidden_act=_HF_ACTS[cfg.activation], layer_norm_eps=cfg.layer_norm_eps,
                  attn_implementation="eager", **extra)
    if not _is_albert_shape(cfg):
        return BertConfig(**common)
    groups = _albert_groups(cfg)
    hf_plan = albert_group_plan(cfg.num_layers, groups)
    ours = layer_plan(cfg)
    if ours != [(g, g) for g in hf_plan]:
        letters = plan_letters(cfg)[0]
        want = "".join(chr(ord("A") + g) for g in hf_plan)
        raise ConfigError(f"This model's layers use blocks {letters} ({cfg.share_strategy}, M={cfg.num_groups}); "
                          f"HF ALBERT can only run consecutive groups ({want}: Takase's 'sequence'), so "
                          "it cannot hold this plan.")
    return AlbertConfig(**common, embedding_size=cfg.E, num_hidden_groups=groups, inner_group_num=1)


def _model_classes(model_type: str):
    from transformers import AlbertForMaskedLM, AlbertModel, BertForMaskedLM, BertModel

    return {"bert": (BertModel, BertForMaskedLM), "albert": (AlbertModel, AlbertForMaskedLM)}[model_type]


def to_hf(encoder: Encoder, head: MLMHead | None = None, **config_extra):
    """A `transformers` BertModel / AlbertModel (…ForMaskedLM with a head) computing what `encoder` does.

    Eval mode, eager attention (so it returns attention maps). With a head the HF MLM class has no pooler,
    so an encoder's pooler is left out. `config_extra` goes to the HF config (e.g. pad_token_id).
    """
    cfg = encoder.config
    hf_cfg = hf_config(cfg, **config_extra)
    base_cls, mlm_cls = _model_classes(hf_cfg.model_type)
    hf = mlm_cls(hf_cfg) if head is not None else base_cls(hf_cfg, add_pooling_layer=cfg.pooler)
    base = _base(hf)
    mapping = _albert_mapping(cfg) if hf_cfg.model_type == "albert" else _bert_mapping(cfg)
    if head is not None:
        mapping = {k: v for k, v in mapping.items() if not k.startswith("pooler.")}
    ours = encoder.state_dict()
    written: set[int] = set()
    with torch.no_grad():
        for name, dst in mapping.items():
            p = base.get_parameter(dst)
            p.copy_(ours[name])
            written.add(id(p))
        if hf_cfg.model_type == "albert" and not cfg.has_projection:  # E = H: the projection is the identity
            proj = base.encoder.embedding_hidden_mapping_in
            proj.weight.copy_(torch.eye(cfg.hidden_size))
            proj.bias.zero_()
            written |= {id(proj.weight), id(proj.bias)}
        if head is not None:
            head_state = head.state_dict()
            for name, dst in _head_mapping(hf_cfg.model_type).items():
                p = hf.get_parameter(dst)
                p.copy_(head_state[name])
                written.add(id(p))
            decoder = hf.get_output_embeddings()
            for p, src in ((decoder.weight, encoder.embeddings.word_matrix()), (decoder.bias, head.bias)):
                if id(p) not in written:  # tied in current transformers; copy anyway if a version unties them
                    p.copy_(src)
                    written.add(id(p))
    unwritten = [n for n, p in hf.named_parameters() if id(p) not in written]
    if unwritten:
        raise RuntimeError(f"to_hf left HF weights unset: {unwritten[:5]}")
    return hf.eval()


def export_hf_folder(encoder: Encoder, head: MLMHead | None, tokenizer, out_dir: str | Path,
                     description: str = "") -> Path:
    """Write a standard HF folder: config.json, model.safetensors, tokenizer.json (+ tokenizer_config.json).

    `AutoModel.from_pretrained(out_dir)` / `AutoModelForMaskedLM` / `AutoTokenizer` load it offline.
    """
    out = Path(out_dir)
    specials = {name: tok for name, tok in (("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("mask_token", "[MASK]"),
                                            ("unk_token", "[UNK]"), ("pad_token", "[PAD]"))
                if tokenizer is not None and tokenizer.token_to_id(tok) is not None}
    extra = {"pad_token_id": tokenizer.token_to_id(specials["pad_token"])} if "pad_token" in specials else {}
    if tokenizer is not None and tokenizer.get_vocab_size() > encoder.config.vocab_size:
        raise ConfigError(f"The tokenizer has {tokenizer.get_vocab_size()} tokens but the model only "
                          f"{encoder.config.vocab_size} word vectors.")
    hf = to_hf(encoder, head, **extra)
    out.mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(str(out), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save(str(out / "tokenizer.json"))
        meta = {"tokenizer_class": "PreTrainedTokenizerFast",
                "model_max_length": encoder.config.max_position_embeddings, **specials}
        (out / "tokenizer_config.json").write_text(json.dumps(meta, indent=1) + "\n")
    if description:
        (out / "README.md").write_text(f"# {out.name}\n\n{description}\n")
    return out
