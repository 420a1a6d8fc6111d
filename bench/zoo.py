"""Issue 3: zoo load time per cell (goal ≤ 200 ms), first load in a fresh process and warm."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from albertviz import zoo

from .timing import Result

_COLD = """
import time, json
t0 = time.perf_counter()
from albertviz import zoo
t1 = time.perf_counter()
zoo.load({sharing!r}, {embedding!r})
print(json.dumps({{"import": t1 - t0, "load": time.perf_counter() - t1}}))
"""


def load_times() -> list[Result]:
    results = []
    worst_warm, worst_name = 0.0, ""
    for entry in zoo.list_models():
        zoo.load(entry["sharing"], entry["embedding"])  # warm the OS file cache and per-process caches
        t0 = time.perf_counter()
        zoo.load(entry["sharing"], entry["embedding"])
        dt = time.perf_counter() - t0
        if dt > worst_warm:
            worst_warm, worst_name = dt, entry["name"]
    results.append(Result("zoo load, slowest cell (process already warm)", round(worst_warm * 1000, 1), "ms",
                          "≤ 200", worst_warm <= 0.2, worst_name))
    for sharing, embedding in (("none", "full"), ("all", "hashed")):
        out = subprocess.run([sys.executable, "-c", _COLD.format(sharing=sharing, embedding=embedding)],
                             capture_output=True, text=True, check=True)
        t = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(Result(f"zoo load, {sharing}-{embedding}, first in a fresh process",
                              round(t["load"] * 1000, 1), "ms", "≤ 200", t["load"] <= 0.2,
                              f"after importing albertviz ({t['import'] * 1000:.0f} ms)"))
    return results


def run() -> list[Result]:
    return load_times()
