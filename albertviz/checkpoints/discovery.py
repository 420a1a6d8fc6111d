"""Where users' checkpoints are found: `ALBERTVIZ_MODELS` folders and the local Hugging Face hub cache.

The cache's `models--org--name/snapshots/<hash>/` folders are read, never written. The list is fixed when
first read (`discover()` is cached): the UI offers keys, never paths.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from albertviz.checkpoints.inspection import (
    KEY_PREFIX,
    MODELS_ENV,
    SUPPORTED_TYPES,
    Checkpoint,
    CheckpointError,
    inspect_folder,
    max_model_mb,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Discovery:
    checkpoints: tuple[Checkpoint, ...]
    notes: tuple[str, ...] = field(default=())  # problems with the places searched (unreadable cache…)


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
