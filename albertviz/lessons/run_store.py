"""Finished live runs on disk: every run's key, and its record written where other replicas find it.

A live run is deterministic per settings, seeds and code, so a run's key is a hash of those three: a fresh
registry — another replica of the app, a restarted server — that finds a record under the key answers
without training. Records are JSON (`LiveRun.to_record`), written atomically (a renamed temporary folder),
and only the newest `limit` are kept, in `runs_folder()`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import torch

from albertviz.data.corpus import cache_dir
from albertviz.lessons.live import LiveRun
from albertviz.lessons.live_settings import LiveSettings

# The modules whose source decides a live run's curves (files relative to the albertviz package): change one
# and every cached run is retrained.
CODE_FILES = ("lessons/live.py", "lessons/live_settings.py", "lessons/live_results.py", "training/trainer.py",
              "training/masking.py", "training/data.py", "training/config.py", "core/model.py", "core/config.py",
              "core/sharing.py", "core/embeddings.py", "data/corpus.py")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the source that decides the curves (and torch's version): part of every run's key."""
    h = hashlib.sha256(torch.__version__.encode())
    here = Path(__file__).resolve().parent.parent
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    return h.hexdigest()[:16]


def run_key(settings: LiveSettings, version: str | None = None) -> str:
    """The run's identity: equal settings (seeds included) and equal code give equal keys, in every process."""
    text = json.dumps({"settings": asdict(settings), "code": version or code_version()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def runs_folder() -> Path:
    """Where finished runs are kept on disk: `ALBERTVIZ_LIVE_RUNS`, else `<cache dir>/live_runs`.

    Replicas of the app (several processes, or machines sharing a folder) that point here answer each other's runs.
    """
    if os.environ.get("ALBERTVIZ_LIVE_RUNS"):
        return Path(os.environ["ALBERTVIZ_LIVE_RUNS"])
    return cache_dir() / "live_runs"


def save_run(folder: Path, key: str, run: LiveRun, limit: int = 256) -> Path:
    """Write a finished run as `<folder>/<key>/run.json`, atomically; keep the `limit` newest runs."""
    final = folder / key
    if (final / "run.json").exists():
        return final  # another replica (or an earlier server) wrote it first: the same deterministic run
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        record = {"key": key, "code_version": code_version(), **run.to_record()}
        (tmp / "run.json").write_text(json.dumps(record))
        os.rename(tmp, final)  # atomic: a reader sees no folder or a complete one
    except OSError:
        if not (final / "run.json").exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(folder, limit)
    return final


def _prune(folder: Path, limit: int) -> None:
    runs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(runs) <= limit:
        return
    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0
    for p in sorted(runs, key=mtime)[:len(runs) - limit]:
        shutil.rmtree(p, ignore_errors=True)


def load_run(folder: Path, key: str, settings: LiveSettings) -> LiveRun | None:
    """The finished run stored under `key`, or None (absent, unreadable, or written by other code or settings)."""
    path = folder / key / "run.json"
    try:
        record = json.loads(path.read_text())
        if record.get("key") != key or record.get("code_version") != code_version():
            return None
        run = LiveRun.from_record(record)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if run.settings != settings or not run.done:
        return None
    return run
