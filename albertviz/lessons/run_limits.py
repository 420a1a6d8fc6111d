"""What the person who starts the server decides about live runs, read from its environment.

- `ALBERTVIZ_LIVE_WORKERS`: runs that train at once (default one per core: one torch thread per run);
- `ALBERTVIZ_LIVE_LEASE_S`: how long a session's place in a run lasts without a renewal (default 30 s).
"""

from __future__ import annotations

import os


def workers_from_env() -> int:
    """`ALBERTVIZ_LIVE_WORKERS`, else the number of cores: runs that may train at once."""
    raw = os.environ.get("ALBERTVIZ_LIVE_WORKERS", "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"ALBERTVIZ_LIVE_WORKERS={raw!r} is not a whole number of runs.") from None
        if n < 1:
            raise ValueError(f"ALBERTVIZ_LIVE_WORKERS={n}: at least one run must be able to train.")
        return n
    return os.cpu_count() or 1


def lease_from_env() -> float:
    """`ALBERTVIZ_LIVE_LEASE_S`, else 30: seconds a session's place in a run lasts without a renewal."""
    raw = os.environ.get("ALBERTVIZ_LIVE_LEASE_S", "").strip()
    try:
        lease = float(raw) if raw else 30.0
    except ValueError:
        raise ValueError(f"ALBERTVIZ_LIVE_LEASE_S={raw!r} is not a number of seconds.") from None
    if lease <= 0:
        raise ValueError(f"ALBERTVIZ_LIVE_LEASE_S={raw}: a place must last some time.")
    return lease
