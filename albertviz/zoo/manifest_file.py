"""The zoo's manifest.json, the one place that reads and writes it.

Reads are cached until the file changes (cells land one by one while the app may be running, so a new
cell shows without a restart). Writes happen under a lock, since several trainers may finish at once,
and replace the file in one step, so a reader never sees it half-written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".manifest.lock"
WEIGHTS_DIR = "weights"


class ZooError(RuntimeError):
    """A zoo model cannot be loaded; the message names the file and how to rebuild it."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=8)
def _parse(path: str, stamp: tuple[int, int]) -> dict:  # stamp = (mtime_ns, size): a new file, a new entry
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ZooError(f"The zoo manifest {path} cannot be read ({err}). Rebuild the zoo with `make zoo`.") from err
    if not isinstance(data, dict):
        raise ZooError(f"The zoo manifest {path} is not a JSON object. Rebuild the zoo with `make zoo`.")
    return data


def read_manifest(folder: Path) -> dict:
    """The manifest in `folder` (cached until the file changes); ZooError when missing or unreadable."""
    path = Path(folder) / MANIFEST_NAME
    try:
        st = path.stat()
    except OSError as err:
        raise ZooError(f"The zoo manifest {path} is missing. Rebuild the zoo with `make zoo`.") from err
    return _parse(str(path), (st.st_mtime_ns, st.st_size))


def clear_manifest_cache() -> None:
    _parse.cache_clear()


def manifest_mtime(folder: Path) -> float:
    """The manifest's modification time (0 when absent): a cache key that changes when a cell lands."""
    try:
        return (Path(folder) / MANIFEST_NAME).stat().st_mtime
    except OSError:
        return 0.0


def _sorted(manifest: dict) -> dict:
    manifest.setdefault("models", {})
    manifest.setdefault("seeds", {})
    manifest["models"] = dict(sorted(manifest["models"].items()))
    manifest["seeds"] = {k: dict(sorted(v.items())) for k, v in sorted(manifest["seeds"].items())}
    return manifest


@contextlib.contextmanager
def updating_manifest(folder: Path) -> Iterator[dict]:
    """The manifest in `folder` read fresh under the lock ({} if none yet); what the block leaves in it is written
    back (models and seeds sorted by name) when the block ends without an error."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    with open(folder / LOCK_NAME, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = json.loads(path.read_text()) if path.exists() else {}
        yield manifest
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_sorted(manifest), indent=1))
        tmp.replace(path)
