"""Claims on runs in training, on disk, so replicas that share a runs folder train each run once.

Finished runs are shared through `run_store`; a run still training lives in one process's memory. Without a
claim, two replicas asked for the same settings within a minute would both train it. A claim is a small file
`<folder>/.<key>.claim` naming its holder; the holder touches it while it trains (`CLAIM_RENEW_S`) and removes it
when the run ends or stops. A claim untouched for `CLAIM_FRESH_S` belongs to a replica that died: anyone may
take it over. Replicas take claims under one lock file (`flock`), so of two that race, one wins.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
import uuid
from pathlib import Path

CLAIM_FRESH_S = 30.0  # a claim older than this was left by a replica that stopped touching it (died, hung)
CLAIM_RENEW_S = 5.0  # how often a training holder touches its claim


def new_holder() -> str:
    """A name for one registry: host, process and a random part (two registries in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_path(folder: Path, key: str) -> Path:
    return folder / f".{key}.claim"


def holder_of(folder: Path, key: str, now: float | None = None) -> str | None:
    """Who holds a fresh claim on `key`, or None (no claim, or a stale one)."""
    path = claim_path(folder, key)
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
        text = path.read_text().strip()
    except OSError:
        return None
    if age > CLAIM_FRESH_S or not text:
        return None
    return text


def try_claim(folder: Path, key: str, holder: str) -> bool:
    """Take the claim on `key` for `holder`: True when it now holds it (new, already its own, or taken over
    from a stale holder); False while another holder's claim is fresh. An unwritable folder claims nothing and
    says True: with no shared disk there is no other replica to ask."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".claims.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # check-then-write as one step for every replica on this disk
            current = holder_of(folder, key)
            if current is not None and current != holder:
                return False
            tmp = folder / f".{key}.{uuid.uuid4().hex[:8]}.claim-tmp"
            tmp.write_text(holder)
            os.replace(tmp, claim_path(folder, key))  # readers see the old claim or the whole new one
            return True
    except OSError:
        return True


def renew_claim(folder: Path, key: str, holder: str) -> None:
    """Touch the claim if `holder` holds it (a holder that lost it to a takeover leaves it alone)."""
    path = claim_path(folder, key)
    try:
        if path.read_text().strip() == holder:
            os.utime(path)
    except OSError:
        pass


def release_claim(folder: Path, key: str, holder: str) -> None:
    """Remove the claim if `holder` holds it."""
    path = claim_path(folder, key)
    try:
        if path.read_text().strip() == holder:
            path.unlink()
    except OSError:
        pass
