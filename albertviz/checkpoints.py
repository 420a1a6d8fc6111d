"""Your own BERT / ALBERT checkpoints: found offline at server start, checked, loaded lazily.

- Where: folders in `ALBERTVIZ_MODELS` (os.pathsep-separated; a model folder, or a folder of model
  folders) and the local Hugging Face hub cache (`HF_HUB_CACHE`, else `HF_HOME`/hub, else
  ~/.cache/huggingface/hub), whose `models--org--name/snapshots/<hash>/` folders are read, never written.
- What: a folder whose config.json says `model_type` albert or bert. Discovery reads only config.json and
  the safetensors *headers* (no tensors, no transformers import), so it is fast and cannot run code.
- Safety: weights are loaded from safetensors only; a checkpoint with only pytorch_model.bin (pickle) is
  listed as unavailable with the command that converts it. Nothing is fetched: `local_files_only=True`
  and `HF_HUB_OFFLINE=1`.
- Size: a model whose fp32 weights exceed `ALBERTVIZ_MAX_MODEL_MB` (default 2000) is listed as skipped.
  Loading briefly holds two copies (the HF model and albertviz's), so peak memory is about twice that.
The list is fixed when first read (`discover()` is cached): the UI offers keys, never paths.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import struct
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram, WordPiece

from albertviz.core.config import ConfigError
from albertviz.zoo import ZooError, ZooModel

log = logging.getLogger(__name__)

KEY_PREFIX = "hf:"
MODELS_ENV = "ALBERTVIZ_MODELS"
MAX_MB_ENV = "ALBERTVIZ_MAX_MODEL_MB"
DEFAULT_MAX_MB = 2000.0
SUPPORTED_TYPES = ("albert", "bert")
SAFETENSORS, SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
PYTORCH_BIN = ("pytorch_model.bin", "pytorch_model.bin.index.json")
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
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


@dataclass(frozen=True)
class Discovery:
    checkpoints: tuple[Checkpoint, ...]
    notes: tuple[str, ...] = field(default=())  # problems with the places searched (unreadable cache…)


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


def _weight_files(folder: Path) -> list[Path]:
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
        files = _weight_files(folder)
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


# ---------------------------------------------------------------- discovery

def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps its cache on this machine (the same precedence it uses)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def _cache_snapshot(repo_dir: Path) -> Path | None:
    """The snapshot refs/main points at, else the newest one."""
    snaps = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    with contextlib.suppress(OSError):
        chosen = snaps / ref.read_text().strip()
        if chosen.is_dir():
            return chosen
    try:
        candidates = [p for p in snaps.iterdir() if p.is_dir()]
    except OSError:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime, default=None)


def _scan_cache(cache: Path, max_mb: float, notes: list[str]) -> list[Checkpoint]:
    if not cache.exists():
        return []
    try:
        repos = sorted(p for p in cache.iterdir() if p.name.startswith("models--"))
    except OSError as err:  # not a folder, no permission
        notes.append(f"The Hugging Face cache {cache} cannot be read ({err.strerror or err}); its models are "
                     "not listed.")
        return []
    found = []
    for repo in repos:
        snap = _cache_snapshot(repo)
        if snap is None:
            continue
        try:
            model_type = json.loads((snap / "config.json").read_text(encoding="utf-8")).get("model_type")
        except (OSError, ValueError, AttributeError):
            continue  # not a model we could show; the cache holds all kinds of repos
        if model_type not in SUPPORTED_TYPES:
            continue
        repo_id = "/".join(repo.name.split("--")[1:])
        found.append(inspect_folder(snap, KEY_PREFIX + repo_id, repo_id, "HF cache", max_mb))
    return found


def _scan_folder(root: Path, max_mb: float) -> list[Checkpoint]:
    """A model folder, or a folder whose sub-folders are model folders."""
    if root.is_dir() and not (root / "config.json").exists():
        try:
            subs = sorted(p for p in root.iterdir() if p.is_dir() and (p / "config.json").exists())
        except OSError:
            subs = []
        if subs:
            return [inspect_folder(p, KEY_PREFIX + p.name, p.name, MODELS_ENV, max_mb) for p in subs]
    return [inspect_folder(root, KEY_PREFIX + root.name, root.name, MODELS_ENV, max_mb)]


def scan(folders: list[Path], cache: Path | None, max_mb: float) -> Discovery:
    """Every checkpoint in `folders` (named by whoever starts the server) and in the hub cache."""
    notes: list[str] = []
    found = [c for root in folders for c in _scan_folder(root, max_mb)]
    if cache is not None:
        found += _scan_cache(cache, max_mb, notes)
    unique, seen = [], set()
    for c in found:
        key, n = c.key, 2
        while key in seen:  # two folders with one name: 'hf:model', 'hf:model-2'
            key, n = f"{c.key}-{n}", n + 1
        seen.add(key)
        unique.append(c if key == c.key else replace(c, key=key, name=key[len(KEY_PREFIX):]))
    return Discovery(tuple(unique), tuple(notes))


def configured_folders() -> list[Path]:
    raw = os.environ.get(MODELS_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


@lru_cache(maxsize=1)
def discover() -> Discovery:
    """The checkpoints of this server, read once (call `discover.cache_clear()` to rescan, e.g. in tests)."""
    scan_cache = os.environ.get("ALBERTVIZ_SCAN_HF_CACHE", "1") not in ("0", "false", "no")
    d = scan(configured_folders(), hub_cache_dir() if scan_cache else None, max_model_mb())
    for note in d.notes:
        log.warning(note)
    for c in d.checkpoints:
        (log.info if c.available else log.warning)("checkpoint %s", c.line())
    return d


def find(key: str) -> Checkpoint:
    for c in discover().checkpoints:
        if c.key == key:
            return c
    raise CheckpointError(f"No checkpoint {key!r} was found when the server started "
                          f"(set {MODELS_ENV} and restart it to add one).")


# ---------------------------------------------------------------- tokenizers

def _tokenizer_options(folder: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        opts = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        if isinstance(opts, dict):
            return opts
    return {}


def _special(opts: dict, name: str, default: str) -> str:
    v = opts.get(name, default)
    if isinstance(v, dict):  # AddedToken serialised as {"content": …}
        v = v.get("content", default)
    return v if isinstance(v, str) else default


def wordpiece_tokenizer(folder: Path) -> Tokenizer:
    """BERT's pipeline around a vocab.txt (what transformers' BertTokenizer builds), from `tokenizers` parts."""
    opts = _tokenizer_options(folder)
    names = {n: _special(opts, f"{n}_token", d) for n, d in
             (("unk", "[UNK]"), ("sep", "[SEP]"), ("cls", "[CLS]"), ("pad", "[PAD]"), ("mask", "[MASK]"))}
    tok = Tokenizer(WordPiece.from_file(str(folder / "vocab.txt"), unk_token=names["unk"]))
    lower = bool(opts.get("do_lower_case", True))
    strip = opts.get("strip_accents")
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=bool(
        opts.get("tokenize_chinese_chars", True)), strip_accents=strip if isinstance(strip, bool) else None,
        lowercase=lower)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    present = [t for t in names.values() if tok.token_to_id(t) is not None]
    tok.add_special_tokens(present)
    cls, sep = names["cls"], names["sep"]
    if tok.token_to_id(cls) is None or tok.token_to_id(sep) is None:
        raise CheckpointError(f"vocab.txt in {folder} has no {cls} / {sep} token.")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])
    return tok


def sentencepiece_tokenizer(folder: Path) -> Tokenizer:
    """ALBERT's pipeline around a spiece.model (as transformers' AlbertTokenizer builds it).

    The file is a protobuf: reading it needs the schema that ships with `sentencepiece` plus `protobuf`.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb  # optional: only for spiece.model

    proto = pb.ModelProto()
    proto.ParseFromString((folder / "spiece.model").read_bytes())
    if proto.trainer_spec.model_type != 1:
        raise CheckpointError(f"spiece.model in {folder} is not a Unigram model; save a tokenizer.json instead.")
    opts = _tokenizer_options(folder)
    tok = Tokenizer(Unigram([(p.piece, p.score) for p in proto.pieces], unk_id=proto.trainer_spec.unk_id,
                            byte_fallback=False))
    steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')]
    if not opts.get("keep_accents", False):
        steps += [normalizers.NFKD(), normalizers.StripAccents()]
    if opts.get("do_lower_case", True):
        steps.append(normalizers.Lowercase())
    if proto.normalizer_spec.precompiled_charsmap:
        steps.append(normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    names = [_special(opts, f"{n}_token", d) for n, d in
             (("pad", "<pad>"), ("unk", "<unk>"), ("cls", "[CLS]"), ("sep", "[SEP]"), ("mask", "[MASK]"))]
    tok.add_special_tokens([t for t in names if tok.token_to_id(t) is not None])
    cls, sep = names[2], names[3]
    if tok.token_to_id(cls) is None or tok.token_to_id(sep) is None:
        raise CheckpointError(f"spiece.model in {folder} has no {cls} / {sep} piece.")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])
    return tok


def load_checkpoint_tokenizer(folder: Path, kind: str) -> Tokenizer:
    try:
        if kind == "tokenizer.json":
            tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif kind == "vocab.txt":
            tok = wordpiece_tokenizer(folder)
        else:
            tok = sentencepiece_tokenizer(folder)
    except CheckpointError:
        raise
    except Exception as err:  # noqa: BLE001 - tokenizers raises plain Exception on bad files
        raise CheckpointError(f"The tokenizer ({kind}) in {folder} cannot be read: {err}") from err
    tok.no_padding()
    tok.no_truncation()
    return tok


# ---------------------------------------------------------------- loading

@contextlib.contextmanager
def _quiet_transformers():
    """No load reports or progress bars in the server log while a checkpoint loads."""
    from transformers.utils import logging as hf_logging

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
    from safetensors import SafetensorError
    from transformers import AlbertForMaskedLM, AlbertModel, BertForMaskedLM, BertModel

    from albertviz.core.hf import from_hf, masked_lm_from_hf

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
