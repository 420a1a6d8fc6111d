"""`python -m bench gc_soak`: does the server's memory run away without Streamlit's post-run garbage collection?

Streamlit runs `gc.collect(2)` after every script run (`runner.postScriptGC`, on by default). With ≈1 GB of models,
tensors and cached figures in the heap, that full collection walks every object, holding the interpreter lock: on
this app it was most of an interaction's server CPU (issue 15). Python's own generational collector still runs
without it — only the forced full pass after each run goes — so cycles are still freed, just later.

This soak answers it by measurement: the same class (a few protocol-level students, 3–5 s think time) for
`GC_SOAK_MIN` minutes against a server with the post-run GC off, then on; RSS sampled every few seconds. Reported:
RSS after warm-up, peak and end; the growth rate over the second half (a leak shows as a steady slope there);
server CPU per interaction; p95. Bounded: minutes, students and requests are capped.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import threading
import time

from bench.load import Budget, ServerProbe, SingleServer, Student, percentile, warm_up
from bench.protocol import run_sync
from bench.timing import Result

MINUTES = 4.0
STUDENTS = 6
SAMPLE_S = 5.0
MAX_MINUTES = 35.0


def slope_mb_per_min(samples: list[tuple[float, int]]) -> float:
    """Least-squares growth of RSS over time, MB per minute."""
    if len(samples) < 3:
        return float("nan")
    ts = [t / 60 for t, _ in samples]
    ys = [r / 1e6 for _, r in samples]
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    var = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var if var else float("nan")


def soak(gc_on: bool, minutes: float, students: int) -> dict:
    server = SingleServer({"STREAMLIT_RUNNER_POST_SCRIPT_GC": "true" if gc_on else "false"}).start()
    try:
        probe = ServerProbe(server.pids)
        run_sync(warm_up(server.url))
        probe.quiet(timeout=10)
        rss_warm = probe.rss()
        samples: list[tuple[float, int]] = []
        stop = threading.Event()
        t0 = time.monotonic()

        def sample() -> None:
            while not stop.wait(SAMPLE_S):
                samples.append((time.monotonic() - t0, probe.rss()))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu0 = probe.cpu()
        class_ = [Student(i, server.url, random.Random(i)) for i in range(students)]
        deadline = time.monotonic() + minutes * 60
        budget = Budget(int(minutes * 60 * students))  # far above 3–5 s think time; a bound, not a target

        async def go():
            await asyncio.gather(*(s.run(deadline, budget, delay=i * 0.5) for i, s in enumerate(class_)))

        run_sync(go())
        cpu = probe.cpu() - cpu0
        stop.set()
        sampler.join()
        rss_end = probe.rss()
    finally:
        server.stop()
    records = [r for s in class_ for r in s.records]
    latencies = [r.interaction.latency for r in records if not r.interaction.what.startswith("open")]
    half = [x for x in samples if x[0] >= minutes * 30]
    return {"gc": gc_on, "minutes": minutes, "students": students, "interactions": len(records),
            "cpu_ms": 1e3 * cpu / max(1, len(records)), "p95_s": percentile(latencies, 95),
            "rss_warm_mb": rss_warm / 1e6, "rss_peak_mb": max([r for _, r in samples] + [rss_end]) / 1e6,
            "rss_end_mb": rss_end / 1e6, "slope_mb_min": slope_mb_per_min(half),
            "errors": [e for s in class_ for e in s.errors]}


def run() -> list[Result]:
    minutes = min(float(os.environ.get("GC_SOAK_MIN", MINUTES)), MAX_MINUTES)
    students = min(int(os.environ.get("GC_SOAK_STUDENTS", STUDENTS)), 20)
    load_before = os.getloadavg()[0]
    # GC_SOAK_MODES=off: only the setting the server uses (half the time); the default compares both
    modes = [m.strip() for m in os.environ.get("GC_SOAK_MODES", "off,on").split(",") if m.strip() in ("off", "on")]
    runs = [soak(m == "on", minutes, students) for m in modes]
    load_after = os.getloadavg()[0]
    out = []
    for r in runs:
        name = f"GC soak, post-run GC {'on' if r['gc'] else 'off'}: RSS growth"
        growth = r["rss_end_mb"] - r["rss_warm_mb"]
        out.append(Result(name, round(growth, 1), "MB", "≤ 300", growth <= 300,
                          f"{r['students']} students × {r['minutes']:g} min, {r['interactions']} interactions: RSS "
                          f"{r['rss_warm_mb']:.0f} MB after warm-up, peak {r['rss_peak_mb']:.0f}, end "
                          f"{r['rss_end_mb']:.0f}; second half {r['slope_mb_min']:+.1f} MB/min; server CPU "
                          f"{r['cpu_ms']:.0f} ms per interaction; p95 {r['p95_s']:.2f} s; {len(r['errors'])} errors "
                          f"{r['errors'][:2]}; "
                          f"load average {load_before:.1f} → {load_after:.1f}"))
    return out
