"""One model folder, checked without loading it: config.json, safetensors headers, tokenizer files, size.

Reads only config.json and the safetensors *headers* (no tensors, no transformers import), so it is fast
and cannot run code; what it finds becomes a `Checkpoint` with a status and, when not ready, the reason.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from albertviz.zoo import ZooError

log = logging.getLogger(__name__)

KEY_PREFIX = "hf:"
MODELS_ENV = "ALBERTVIZ_MODELS"
MAX_MB_ENV = "ALBERTVIZ_MAX_MODEL_MB"
DEFAULT_MAX_MB = 2000.0
SUPPORTED_TYPES = ("albert", "bert")
SAFETENSORS, SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
PYTORCH_BIN = ("pytorch_model.bin", "pytorch_model.bin.index.json")
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
HEAD_MARKERS = ("predictions.dense.weight", "predictions.transform.dense.weight")  # ALBERT, BERT


def convert_command(folder: Path | str, config: dict | None = None) -> str:
    """The one line that rewrites a pytorch_model.bin checkpoint as safetensors (only for files you trust).

    A checkpoint with a masked-word head (architectures …ForMaskedLM / …ForPreTraining) needs
    AutoModelForMaskedLM: plain AutoModel would drop the head and invent a random pooler (checked by hand:
    transformers 5 reports the pooler as "newly initialized"). It is advice printed for the server's owner,
    run by hand; albertviz itself never loads such a file. (The method name is split because
    tests/test_security.py flags any code line with that call that lacks use_safetensors=True, and this one,
    by design, reads the .bin.)
    """
    archs = (config or {}).get("architectures") or []
    mlm = any(isinstance(a, str) and a.endswith(("ForMaskedLM", "ForPreTraining")) for a in archs)
    cls = "AutoModelForMaskedLM" if mlm else "AutoModel"
    load = "from_" + "pretrained"
    return (f'python -c "from transformers import {cls}; {cls}.{load}(\'{folder}\')'
            f'.save_pretrained(\'{folder}\', safe_serialization=True)"')


class CheckpointError(ZooError):
    """A checkpoint cannot be listed or loaded; the message says which folder and what to do.

    `short` is a few words for the model picker ("weights in pytorch_model.bin only").
    """

    def __init__(self, message: str, short: str = "") -> None:
        super().__init__(message)
        self.short = short or message.split(":")[0].split(" (")[0].strip()


@dataclass(frozen=True)
class Checkpoint:
    """One discovered model folder and what discovery found out about it."""

    key: str  # 'hf:<folder name>' (or 'hf:org/name' from the hub cache): what pages pass around
    name: str  # what the picker shows
    path: Path
    source: str  # 'ALBERTVIZ_MODELS' or 'HF cache'
    status: str  # 'ready', 'unavailable' or 'skipped' (over the memory cap)
    reason: str = ""  # one line, when not ready
    short: str = ""  # a few words of it, for the picker
    model_type: str | None = None
    has_head: bool = False
    size_mb: float = 0.0  # fp32 size of the weights
    tokenizer: str = ""  # 'tokenizer.json', 'vocab.txt' or 'spiece.model'
    shape: str = ""  # 'L12 H768 A12 E128'
    weights: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.status == "ready"

    def line(self) -> str:
        """One line for logs and `python -m albertviz.cli list-models`."""
        what = f"{self.model_type or '?'} {self.shape}".strip()
        head = " + MLM head" if self.has_head else ""
        state = self.status if self.available else f"{self.status}: {self.reason}"
        return f"{self.key:32} {what}{head}, {self.size_mb:,.0f} MB [{self.source}] {state}"



# ---------------------------------------------------------------- reading files without loading them

def read_safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file, checked against the file's size; raises CheckpointError."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) < 8:
                raise CheckpointError(f"{path.name} is empty or cut short ({size} bytes).")
            (n,) = struct.unpack("<Q", raw)
            if n > MAX_HEADER_BYTES or n + 8 > size:
                raise CheckpointError(f"{path.name} is not a safetensors file (a renamed pytorch_model.bin "
                                      "or a cut-off download?).", short="not a safetensors file")
            header = json.loads(f.read(n))
    except FileNotFoundError as err:
        raise CheckpointError(f"{path.name} is missing (a broken link into the cache's blobs?).") from err
    except OSError as err:
        raise CheckpointError(f"{path.name} cannot be read ({err.strerror or err}).") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path.name} is not a safetensors file (its header is not JSON; a renamed "
                              "pytorch_model.bin?).", short="not a safetensors file") from err
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name} has a malformed safetensors header.")
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise CheckpointError(f"{path.name} has a malformed safetensors header (tensor {name!r}).") from err
    if 8 + n + end > size:
        raise CheckpointError(f"{path.name} is truncated: it has {size:,} bytes but its header describes "
                              f"{8 + n + end:,} (an interrupted download or copy?).", short="truncated weights")
    return header


def weight_files(folder: Path) -> list[Path]:
    """The safetensors file(s) of a folder: model.safetensors, or the shards its index names."""
    single = folder / SAFETENSORS
    if single.exists() or single.is_symlink():
        return [single]
    index = folder / SAFETENSORS_INDEX
    if index.exists():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise CheckpointError(f"{SAFETENSORS_INDEX} cannot be read ({type(err).__name__}).") from err
        if any(Path(s).name != s for s in shards):
            raise CheckpointError(f"{SAFETENSORS_INDEX} names shard files outside its folder.")
        return [folder / s for s in shards]
    return []


def _read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.exists():
        raise CheckpointError(f"no config.json in {folder}: a Hugging Face model folder has config.json next "
                              "to model.safetensors (save_pretrained writes both).", short="no config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"config.json in {folder} cannot be read ({type(err).__name__}: {err}).") from err
    if not isinstance(config, dict):
        raise CheckpointError(f"config.json in {folder} is not a JSON object.")
    return config


def _shape(config: dict) -> str:
    parts = [("L", "num_hidden_layers"), ("H", "hidden_size"), ("A", "num_attention_heads"), ("E", "embedding_size")]
    return " ".join(f"{p}{config[k]}" for p, k in parts if isinstance(config.get(k), int))


def _has_sentencepiece() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("sentencepiece", "google.protobuf"))


def _tokenizer_kind(folder: Path) -> tuple[str, str]:
    """(which tokenizer file will be used, or '', and why not when '')."""
    if (folder / "tokenizer.json").exists():
        return "tokenizer.json", ""
    if (folder / "vocab.txt").exists():
        return "vocab.txt", ""
    if (folder / "spiece.model").exists():
        if _has_sentencepiece():
            return "spiece.model", ""
        return "", ("its tokenizer is only spiece.model, which `tokenizers` cannot read without the "
                    "sentencepiece and protobuf packages: `pip install sentencepiece protobuf`, or put the "
                    "model's tokenizer.json next to it.")
    return "", "no tokenizer.json, vocab.txt or spiece.model next to config.json."


def max_model_mb() -> float:
    raw = os.environ.get(MAX_MB_ENV, "")
    try:
        return float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        log.warning("%s=%r is not a number; using %s MB", MAX_MB_ENV, raw, DEFAULT_MAX_MB)
        return DEFAULT_MAX_MB


def inspect_folder(folder: Path, key: str, name: str, source: str, max_mb: float | None = None) -> Checkpoint:
    """Everything discovery can tell about one folder without loading it (never raises)."""
    max_mb = max_model_mb() if max_mb is None else max_mb
    base = dict(key=key, name=name, path=folder, source=source)
    try:
        if not folder.is_dir():
            raise CheckpointError(f"{folder} does not exist or is not a folder.", short="folder missing")
        config = _read_config(folder)
        model_type = config.get("model_type")
        base.update(model_type=model_type if isinstance(model_type, str) else None, shape=_shape(config))
        if model_type not in SUPPORTED_TYPES:
            raise CheckpointError(f"model type {model_type!r} is not supported: albertviz shows BERT and "
                                  "ALBERT encoders (model_type 'bert' or 'albert').",
                                  short=f"model type {model_type!r} not supported")
        files = weight_files(folder)
        if not files:
            old = [p for p in PYTORCH_BIN if (folder / p).exists()]
            if old:
                how = convert_command(folder, config)
                raise CheckpointError(f"weights only in {old[0]}, a format that can run code when loaded, so "
                                      f"albertviz never loads it. Convert it once, offline: {how}",
                                      short=f"weights only in {old[0]} (convert to safetensors)")
            raise CheckpointError(f"no {SAFETENSORS} in {folder}.")
        numel, keys = 0, []
        for f in files:
            for tensor, info in read_safetensors_header(f).items():
                if tensor != "__metadata__":
                    keys.append(tensor)
                    n = 1
                    for d in info.get("shape", []):
                        n *= int(d)
                    numel += n
        base.update(weights=tuple(f.name for f in files), size_mb=numel * 4 / 1e6,
                    has_head=any(k.endswith(HEAD_MARKERS) for k in keys))
        kind, why = _tokenizer_kind(folder)
        if not kind:
            raise CheckpointError(why)
        base.update(tokenizer=kind)
        if base["size_mb"] > max_mb:
            return Checkpoint(**base, status="skipped", short=f"over the {max_mb:,.0f} MB memory cap",
                              reason=f"needs ≈{base['size_mb']:,.0f} MB in fp32, over the {max_mb:,.0f} MB cap "
                                     f"({MAX_MB_ENV}); raise the cap to load it.")
    except CheckpointError as err:
        return Checkpoint(**base, status="unavailable", reason=str(err), short=err.short)
    except OSError as err:  # permissions, a folder vanishing mid-scan
        return Checkpoint(**base, status="unavailable", short="folder cannot be read",
                          reason=f"{folder} cannot be read ({err.strerror or err}).")
    return Checkpoint(**base, status="ready")
