"""The model zoo: small encoders this project trained itself, plus the real pretrained MiniLM.

Twelve cells — sharing {none, all, ffn, attention} × embedding {full, factorized, hashed} — share
one shape, one tokenizer and one training recipe (see `albertviz.training.trainer`), so differences between
them come from sharing and embeddings alone. The four full-embedding cells come in three seeds, so
pages can show a difference next to the spread that seeds alone make. Weights are fp16 safetensors
listed in `manifest.json` with their SHA-256, so a damaged file is caught before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from albertviz.core.config import ModelConfig
from albertviz.core.embeddings import hashed_table
from albertviz.core.model import MaskedLM
from albertviz.data.corpus import cache_dir
from albertviz.data.tokenizer import load_tokenizer, vocab_list
from albertviz.zoo.cells import Cell
from albertviz.zoo.manifest_file import (
    MANIFEST_NAME,
    WEIGHTS_DIR,
    ZOO_DIR,
    ZooError,
    clear_manifest_cache,
    file_sha256,
    manifest_mtime,
    read_manifest,
)
from albertviz.zoo.model import ZooModel
from albertviz.zoo.pretrained import PRETRAINED, load_pretrained, minilm_path

HASHED_CACHE = cache_dir() / "hashed"
EMBEDDINGS_SOURCE = ZOO_DIR.parent / "core" / "embeddings.py"

__all__ = ["EMBEDDINGS_SOURCE", "HASHED_CACHE", "MANIFEST_NAME", "PRETRAINED", "WEIGHTS_DIR", "ZOO_DIR", "Cell",
           "ZooError", "ZooModel", "cached_hashed_table", "file_sha256", "list_models", "load", "load_pretrained",
           "manifest", "manifest_version", "minilm_path", "rebuild_command", "seed_entries"]


def CACHE_SUBDIR(name: str) -> Path:  # noqa: N802 - reads as a constant path
    """A folder of the user cache (never inside the package: an installed copy must not write there)."""
    return cache_dir() / name


def rebuild_command(cell: Cell, seed: int = 0) -> str:
    return (f"python -m albertviz.zoo.build --sharing {cell.sharing} --embedding {cell.embedding}"
            + (f" --seed {seed}" if seed else ""))


def manifest() -> dict:
    """The zoo's manifest (ZOO_DIR, read here so tests can point it elsewhere), re-read when the file changes;
    ZooError when it is missing or unreadable."""
    return read_manifest(ZOO_DIR)


manifest.cache_clear = clear_manifest_cache  # type: ignore[attr-defined]  # a fresh read even within one mtime tick


def manifest_version() -> float:
    """The manifest's modification time (0 when absent): a cache key that changes when a cell lands."""
    return manifest_mtime(ZOO_DIR)


def list_models() -> list[dict]:
    """Manifest entries (without the training log) of every trained zoo cell, seed 0."""
    return [{k: v for k, v in e.items() if k != "log"} for e in manifest()["models"].values()]


def seed_entries(name: str) -> dict[int, dict]:
    """Every trained seed of a cell: {seed: manifest entry}; seed 0 is the entry `list_models` shows."""
    m = manifest()
    out = {0: m["models"][name]} if name in m["models"] else {}
    out.update({int(k): v for k, v in m.get("seeds", {}).get(name, {}).items()})
    return dict(sorted(out.items()))


def _read_weights(path: Path, cell: Cell, expected_sha: str | None) -> dict[str, torch.Tensor]:
    how = f"Rebuild it with `{rebuild_command(cell)}` (or restore it with `git checkout -- {path.name}`)."
    if not path.exists():
        raise ZooError(f"Weight file {path} is missing. {how}")
    if expected_sha is not None and file_sha256(path) != expected_sha:
        raise ZooError(f"Weight file {path} is corrupted (its checksum does not match the manifest). {how}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ZooError(f"Weight file {path} cannot be read ({err}). {how}") from err


def cached_hashed_table(vocab: list[str], cfg: ModelConfig) -> torch.Tensor:
    """`hashed_table`, kept in .cache/ once computed: hashing 30k tokens' n-grams takes ~0.5 s per process.

    The key covers the vocabulary, every hashing setting and the hashing code itself, so a change to any
    of them computes afresh; a cache that cannot be written is simply skipped.
    """
    fields = [cfg.E, cfg.hash_ngram_min, cfg.hash_ngram_max, cfg.hash_seed, cfg.hash_pooling, cfg.hash_normalize]
    key = hashlib.sha256(json.dumps(fields).encode() + EMBEDDINGS_SOURCE.read_bytes() + "\n".join(vocab).encode())
    path = HASHED_CACHE / f"hashed-{key.hexdigest()[:16]}.npy"
    try:
        return torch.from_numpy(np.load(path, allow_pickle=False))
    except (OSError, ValueError):
        table = hashed_table(vocab, cfg)
    try:
        HASHED_CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, table.numpy())
        tmp.replace(path)
    except OSError:
        pass
    return table


def load(sharing: str = "none", embedding: str = "full", seed: int = 0) -> ZooModel:
    """A trained zoo cell (seed 0 unless asked), in fp32 and eval mode."""
    cell = Cell(sharing, embedding)
    name = cell.name
    models = manifest()["models"]
    if name not in models:
        raise ZooError(f"The zoo has no model {name!r} (trained: {', '.join(models)}). "
                       f"Train it with `{rebuild_command(cell)}`.")
    seeds = seed_entries(name)
    if seed not in seeds:
        raise ZooError(f"The zoo has no seed {seed} of {name} (trained seeds: {', '.join(map(str, seeds))}). "
                       f"Train it with `{rebuild_command(cell, seed)}`.")
    entry = seeds[seed]
    cfg = ModelConfig.from_dict(entry["config"])
    tok = load_tokenizer()
    state = _read_weights(ZOO_DIR / entry["file"], cell, entry.get("sha256"))
    with torch.device("meta"):  # shapes only: no random init that the weights would overwrite anyway
        model = MaskedLM(cfg)
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, assign=True)
    except RuntimeError as err:
        raise ZooError(f"Weight file {ZOO_DIR / entry['file']} does not fit the model "
                       f"{name}: {err}. Rebuild it with `{rebuild_command(cell)}`.") from err
    if cfg.embedding == "hashed":  # not in the weight file: recomputed from the vocabulary
        model.encoder.embeddings.hashed_table = cached_hashed_table(vocab_list(tok), cfg)
    model.eval()
    return ZooModel(name, model.encoder, model.head, tok, entry, lm=model)
