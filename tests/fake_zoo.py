"""A tiny *fake zoo* for page tests: untrained cells written and read by the real zoo code.

Pages then rerun fast and do not depend on which real cells exist. Cells are named like the zoo's
('all-hashed'); each gets 3 layers, H=32, 2 heads, and E=16 when factorized.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
import torch
from safetensors.torch import save_file

from albertviz import MaskedLM, ModelConfig, zoo
from albertviz.data.tokenizer import load_tokenizer, vocab_list


def fake_config(name: str, layers: int = 3) -> ModelConfig:
    sharing, embedding = name.split("-")
    return ModelConfig(vocab_size=load_tokenizer().get_vocab_size(), hidden_size=32,
                       embedding_size=16 if embedding == "factorized" else 32,
                       num_layers=layers, num_heads=2, intermediate_size=64, max_position_embeddings=64,
                       sharing=sharing, embedding=embedding, pooler=False)


def clear_caches() -> None:
    zoo.manifest.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def write_fake_zoo(root: Path, cells: list[str], prepare: Callable[[MaskedLM], None] | None = None,
                   entry: Callable[[str], dict] | None = None) -> None:
    """Weights (fp16 safetensors) and a manifest for `cells`; `prepare` may change a model's weights
    before saving, `entry` adds fields to a cell's manifest entry."""
    models = {}
    for i, name in enumerate(cells):
        cfg = fake_config(name)
        torch.manual_seed(i)
        model = MaskedLM(cfg, vocab_list(load_tokenizer()) if cfg.embedding == "hashed" else None)
        if prepare is not None:
            prepare(model)
        path = root / "weights" / f"{name}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(path))
        models[name] = {"name": name, "config": cfg.to_dict(), "file": f"weights/{name}.safetensors",
                        "sha256": zoo.file_sha256(path), **(entry(name) if entry else {})}
    (root / zoo.MANIFEST_NAME).write_text(json.dumps({"models": models}))


@contextlib.contextmanager
def zoo_at(root: Path):
    """Swap the zoo folder for `root` (and clear every cache that remembers the old one)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zoo, "ZOO_DIR", root)
        clear_caches()
        yield root
    clear_caches()
