"""Loading a discovered checkpoint: safetensors only, offline, checked against its config.json.

Loading briefly holds two copies (the HF model and albertviz's), so peak memory is about twice the fp32 size.
"""

from __future__ import annotations

import contextlib
import os

import torch
from safetensors import SafetensorError

from albertviz.checkpoints.discovery import find
from albertviz.checkpoints.inspection import Checkpoint, CheckpointError, inspect_folder
from albertviz.checkpoints.tokenizer import load_checkpoint_tokenizer
from albertviz.core.config import ConfigError
from albertviz.core.hf import from_hf, masked_lm_from_hf
from albertviz.zoo import ZooModel


@contextlib.contextmanager
def _quiet_transformers():
    """No load reports or progress bars in the server log while a checkpoint loads."""
    from transformers.utils import logging as hf_logging  # local: transformers takes seconds to import

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


_IGNORABLE = ("pooler", "seq_relationship", "sop_classifier", "classifier", "qa_outputs", "position_ids",
              "predictions.")  # other heads: fine to leave out of an encoder view


def _check_loading_info(info: dict, c: Checkpoint) -> bool:
    """Raise CheckpointError if the file and config.json disagree; True if only the pooler is missing."""
    mismatched = sorted(info.get("mismatched_keys") or [], key=lambda t: str(t[0]))
    if mismatched:
        name, in_file, in_config = mismatched[0]
        more = f" (and {len(mismatched) - 1} more)" if len(mismatched) > 1 else ""
        raise CheckpointError(f"{c.name}: config.json and the weights disagree: {name} is {tuple(in_file)} in "
                              f"the file but config.json asks for {tuple(in_config)}{more}.")
    missing = sorted(info.get("missing_keys") or [])
    if [k for k in missing if "pooler" not in k]:
        real = [k for k in missing if "pooler" not in k]
        raise CheckpointError(f"{c.name}: the weights lack {len(real)} tensor(s) config.json describes, e.g. "
                              f"{real[0]} (does num_hidden_layers match the file?).")
    extra = [k for k in sorted(info.get("unexpected_keys") or []) if not any(s in k for s in _IGNORABLE)]
    if extra:
        raise CheckpointError(f"{c.name}: the weights hold {len(extra)} tensor(s) config.json does not describe, "
                              f"e.g. {extra[0]} (does num_hidden_layers match the file?).")
    return bool(missing)


def load(key: str) -> ZooModel:
    """A discovered checkpoint as a ZooModel (encoder, its own MLM head if it has one, its tokenizer)."""
    found = find(key)
    if not found.available:
        raise CheckpointError(f"{found.name} is {found.status}: {found.reason}")
    c = inspect_folder(found.path, found.key, found.name, found.source)  # the folder may have changed since start
    if not c.available:
        gone = not found.path.exists()
        raise CheckpointError(f"{c.name}: its folder {c.path} is gone since the server started; restore it or "
                              "restart the server." if gone else f"{c.name} is {c.status}: {c.reason}")
    os.environ["HF_HUB_OFFLINE"] = "1"
    # local: transformers takes seconds to import, and only loading a checkpoint needs it (discovery does not)
    from transformers import AlbertForMaskedLM, AlbertModel, BertForMaskedLM, BertModel

    classes = {("albert", False): AlbertModel, ("albert", True): AlbertForMaskedLM,
               ("bert", False): BertModel, ("bert", True): BertForMaskedLM}
    cls = classes[(c.model_type, c.has_head)]
    try:
        with _quiet_transformers():
            hf, info = cls.from_pretrained(str(c.path), local_files_only=True, use_safetensors=True,
                                           attn_implementation="eager", dtype=torch.float32,
                                           ignore_mismatched_sizes=True, output_loading_info=True)
    except (OSError, ValueError, RuntimeError, SafetensorError, KeyError, TypeError) as err:
        raise CheckpointError(f"{c.name} cannot be loaded: {type(err).__name__}: {str(err).splitlines()[0]}") from err
    if _check_loading_info(info, c):  # no pooler weights in the file: show the encoder without a pooler
        hf.base_model.pooler = None
    hf.eval()
    try:
        if c.has_head:
            lm = masked_lm_from_hf(hf)
            encoder, head = lm.encoder, lm.head
        else:
            lm, encoder, head = None, from_hf(hf), None
    except ConfigError as err:
        raise CheckpointError(f"{c.name}: {err}") from err
    del hf
    tok = load_checkpoint_tokenizer(c.path, c.tokenizer)
    if tok.get_vocab_size() > encoder.config.vocab_size:
        raise CheckpointError(f"{c.name}: its tokenizer has {tok.get_vocab_size():,} tokens but the model only "
                              f"{encoder.config.vocab_size:,} word vectors.")
    entry = {"name": c.key, "source": f"{c.path} ({c.source})", "config": encoder.config.to_dict(), "sha256": None,
             "checkpoint": {"model_type": c.model_type, "tokenizer": c.tokenizer, "has_head": c.has_head,
                            "size_mb": round(c.size_mb, 1)}}
    return ZooModel(c.key, encoder, head, tok, entry, lm=lm)
