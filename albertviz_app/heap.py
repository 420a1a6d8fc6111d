"""What keeps a replica's memory up, where the app itself can let go of it.

`urllib.parse.urlsplit` keeps its last 128 inputs (an lru_cache, Python 3.11), and `st.iframe` parses every HTML
page it is given as a possible URL: each replica kept up to 128 bertviz pages (0.1–1 MB each) alive for nothing.
`forget_parsed_urls()` drops them; the Attention page calls it after drawing its frames.

Tried and measured, not kept: capping glibc's malloc arenas and trimming free pages on a timer. Thirty
protocol sessions (10, then 20 students) on one server grew 323 MB with the default allocator and 308 MB with one
arena from the start (MALLOC_ARENA_MAX=1), within the runs' noise; Python's own objects were 46 of a 266 MB growth
(tracemalloc). The rest is native memory outside Python's reach, which levels off once the caches are full
(README, Serving a class).
"""

from __future__ import annotations

import urllib.parse


def forget_parsed_urls() -> None:
    """Empty urlsplit's cache of recent inputs: after st.iframe, it holds the whole page."""
    cache_clear = getattr(urllib.parse.urlsplit, "cache_clear", None)  # a plain function before Python 3.11
    if cache_clear is not None:
        cache_clear()
