"""The server's heap tuning (albertviz_app/heap.py): freed memory really goes back to the OS.

Each case runs in a fresh interpreter: `tune()` acts once per process, and RSS is only readable for a whole one.
"""

import subprocess
import sys
import textwrap

import pytest

from albertviz_app import heap

pytestmark = pytest.mark.skipif(heap._glibc() is None, reason="needs glibc's mallopt/malloc_trim")


def run(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", **env}, cwd=heap.__file__.rsplit("/albertviz_app", 1)[0])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_trim_returns_the_holes_a_thread_left_in_its_arena():
    # A rerun's thread allocates ~180 MB in 60 KB pieces and keeps every 8th: the holes between survivors cannot
    # be released from the top of the arena, so RSS stays up until malloc_trim hands the free pages back.
    before, after = map(float, run("""
        import os, threading
        from albertviz_app import heap
        from bench.browser import rss_bytes
        kept = []
        def rerun():
            pieces = [bytes(60_000) + bytes([i % 256]) for i in range(3000)]
            kept.extend(pieces[::8])
        t = threading.Thread(target=rerun); t.start(); t.join()
        before = rss_bytes(os.getpid())
        assert heap.trim()
        print(before / 1e6, rss_bytes(os.getpid()) / 1e6)
    """).split())
    assert before - after > 100, f"RSS {before:.0f} → {after:.0f} MB: trimming returned too little"


def test_tune_caps_the_arenas_and_starts_one_trimmer():
    out = run("""
        import threading
        from albertviz_app import heap
        print(heap.tune(), heap.tune() is heap.tune(),
              sum(t.name == "albertviz-malloc-trim" for t in threading.enumerate()))
    """)
    assert out == "{'arenas': 2, 'trim_every_s': 10.0} True 1"


def test_zero_arenas_turns_the_tuning_off():
    out = run("""
        import threading
        from albertviz_app import heap
        print(heap.tune(), any(t.name == "albertviz-malloc-trim" for t in threading.enumerate()))
    """, ALBERTVIZ_MALLOC_ARENAS="0")
    assert out == "{} False"
