"""The server's heap: hand freed memory back to the OS, so a class's RSS follows what is cached, not its peak.

Streamlit runs every rerun on a thread of its own, and glibc's malloc gives busy threads arenas of their own
(up to 8 per core). Memory a rerun frees (figure dicts, JSON, tensors) stays mapped in those arenas, in holes
the next rerun on another arena cannot reuse, so a replica's RSS climbed with every student who joined even
where the caches were bounded. Two knobs, both glibc's own: `mallopt(M_ARENA_MAX)` caps the arenas new
threads may create, and `malloc_trim(0)` (on a timer) returns the free pages of every arena. Neither changes
what Python holds; `make load` reports RSS growth with them on (the defaults) and with
`ALBERTVIZ_MALLOC_ARENAS=0` (off), side by side.

On a C library without these calls (musl, macOS) this is a no-op.

One holder of memory was Python's own: `urllib.parse.urlsplit` keeps its last 128 inputs (an lru_cache, Python
3.11), and `st.iframe` parses every HTML page it is given as a possible URL, so each replica kept up to 128 bertviz
pages (0.1–1 MB each) alive. `forget_parsed_urls()` drops them; the Attention page calls it after its frames.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time
import urllib.parse

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS_ENV, TRIM_ENV = "ALBERTVIZ_MALLOC_ARENAS", "ALBERTVIZ_MALLOC_TRIM_S"
DEFAULT_ARENAS, DEFAULT_TRIM_S = 2, 10.0


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return lib if lib is not None and hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


def trim() -> bool:
    """Return every arena's free pages to the OS now (True when the C library could)."""
    lib = _glibc()
    return bool(lib is not None and lib.malloc_trim(0))


def forget_parsed_urls() -> None:
    """Empty urlsplit's cache of recent inputs (see above): after st.iframe, it holds the whole page."""
    cache_clear = getattr(urllib.parse.urlsplit, "cache_clear", None)  # a plain function before Python 3.11
    if cache_clear is not None:
        cache_clear()


def _trim_forever(period_s: float) -> None:
    while True:
        time.sleep(period_s)
        trim()  # ctypes releases the interpreter lock for the call: reruns go on meanwhile


@functools.cache
def tune() -> dict[str, float]:
    """Once per process: cap malloc's arenas and start the trimming timer. Returns what was set ({} = nothing)."""
    lib = _glibc()
    arenas = int(os.environ.get(ARENAS_ENV, DEFAULT_ARENAS))
    period = float(os.environ.get(TRIM_ENV, DEFAULT_TRIM_S))
    if lib is None or arenas <= 0:
        return {}
    lib.mallopt(M_ARENA_MAX, arenas)
    if period > 0:
        threading.Thread(target=_trim_forever, args=(period,), name="albertviz-malloc-trim", daemon=True).start()
    return {"arenas": arenas, "trim_every_s": period}
