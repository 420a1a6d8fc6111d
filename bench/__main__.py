"""Run every benchmark module and write bench/results.json and bench/results.md."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from bench.timing import machine

MODULES = ["bench.core", "bench.training", "bench.zoo", "bench.convergence", "bench.pages"]
# Only when named: `make load` (python -m bench load: simulated students on the websocket protocol), `make
# load-train` (a class pressing ▶ Train), the old
# 20-browser classroom (load_browser), the post-run GC soak (gc_soak: minutes of students, GC off vs on) and
# the memory of one replica (replica_memory).
ON_REQUEST = ["bench.load", "bench.load_train", "bench.load_browser", "bench.gc_soak", "bench.replica_memory"]
# Rows of earlier reports that newer modules replace: 20 Chromium tabs measured the tabs, not the server (issue 15).
RETIRED = ("classroom load:",)
HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> None:
    only = set(argv)
    results, started = [], time.strftime("%Y-%m-%d %H:%M")
    for name in MODULES + ON_REQUEST:
        if (only and name.split(".")[-1] not in only) or (not only and name in ON_REQUEST):
            continue
        print(f"… {name}", flush=True)
        for r in importlib.import_module(name).run():
            print(f"   {r.name}: {r.value} {r.unit} (goal {r.goal}) {'✓' if r.met else '✗' if r.met is False else ''}"
                  f" {r.detail}", flush=True)
            results.append(r.as_dict() | {"module": name})
    previous = json.loads((HERE / "results.json").read_text()) if (HERE / "results.json").exists() else {}
    # A regular module run now replaces all its earlier rows (their names carry settings that change); the
    # on-request ones (load, soak) run in several configurations whose rows stand side by side.
    ran = {r["module"] for r in results if r["module"] in MODULES}
    kept = [r for r in previous.get("results", [])
            if not r["name"].startswith(RETIRED) and r.get("module") not in ran]
    merged = {r["name"]: r for r in kept} | {r["name"]: r for r in results}
    write({"machine": machine(), "date": started, "results": list(merged.values())})


def write(report: dict) -> None:
    """bench/results.json as given, and bench/results.md as its table."""
    (HERE / "results.json").write_text(json.dumps(report, indent=1))
    started = report["date"]
    lines = [f"# albertviz benchmark\n\nMachine: {report['machine']}. Last run: {started}.\n",
             "| measurement | value | goal | met | detail |", "|---|---|---|---|---|"]
    for r in report["results"]:
        met = "✓" if r["met"] else ("✗" if r["met"] is False else "–")
        lines.append(f"| {r['name']} | {r['value']} {r['unit']} | {r['goal']} | {met} | {r['detail']} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'results.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
