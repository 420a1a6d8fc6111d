"""albertviz models out to Hugging Face: `to_hf` (a transformers model) and `export_hf_folder` (a saved folder).

Only this module imports transformers at the top (seconds to import): nothing at app start imports it.
The name mapping is `albertviz.core.hf`'s, read backwards; every HF parameter must be written. Only shapes HF
can hold are exported (see `hf_config`); everything else raises `ConfigError` with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AlbertConfig, AlbertForMaskedLM, AlbertModel, BertConfig, BertForMaskedLM, BertModel

from albertviz.core.config import ConfigError, ModelConfig
from albertviz.core.hf import albert_group_plan, albert_groups, albert_mapping, base_model, bert_mapping, head_mapping
from albertviz.core.model import Encoder, MLMHead
from albertviz.core.sharing import layer_plan, plan_letters

_HF_ACTS = {"gelu": "gelu", "gelu_new": "gelu_new", "relu": "relu", "silu": "silu"}  # ours → HF's name


def _is_albert_shape(cfg: ModelConfig) -> bool:
    return cfg.embedding == "factorized" or cfg.sharing != "none"


def hf_config(cfg: ModelConfig, **extra):
    """The `BertConfig` / `AlbertConfig` of an albertviz shape, or ConfigError saying why HF has none."""
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
    groups = albert_groups(cfg)
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
    base = base_model(hf)
    mapping = albert_mapping(cfg) if hf_cfg.model_type == "albert" else bert_mapping(cfg)
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
            for name, dst in head_mapping(hf_cfg.model_type).items():
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
