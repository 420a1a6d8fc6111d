"""The zoo: load time per cell (goal ≤ 200 ms), and per cell the evidence its pages rest on (zoo v2 targets).

Per cell (seed 0, and every seed of the full cells): held-out top-1 against 2.5× the unigram baseline, held-out
loss, everyday-sentence top-1 against 2× that set's best constant guess, how many layers attend with entropy
≤ 0.9 (goal ≥ 4 of 6), KL to MiniLM per layer; then seconds per step and the whole grid's CPU time (goal ≤ 4 h).
All read from the manifest, which the trainer wrote from its own evaluation; tests/test_zoo.py recomputes them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from albertviz import zoo
from bench.timing import Result

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


def cell_evidence() -> list[Result]:
    results, cpu_s, steps = [], 0.0, 0
    for entry in zoo.list_models():
        for seed, e in zoo.seed_entries(entry["name"]).items():
            name = entry["name"] + (f" seed {seed}" if seed else "")
            ratio = e["held_out_accuracy"] / e["unigram_baseline_accuracy"]
            results.append(Result(f"zoo {name}: held-out top-1 / unigram baseline", round(ratio, 2), "×", "≥ 2.5",
                                  ratio >= 2.5, f"top-1 {e['held_out_accuracy']:.3f}, loss {e['held_out_loss']:.2f}"))
            ev = e["everyday"]
            r = ev["accuracy"] / ev["constant_baseline"]
            results.append(Result(f"zoo {name}: everyday top-1 / constant guess", round(r, 2), "×", "≥ 2", r >= 2,
                                  f"{ev['accuracy']:.1%} vs {ev['constant_baseline']:.1%} on {ev['n_items']} "
                                  f"sentences; most common guesses {ev['most_common_guesses'][:3]}"))
            ent = e["attention_entropy_per_layer"]
            n_ok = sum(v <= 0.9 for v in ent)
            results.append(Result(f"zoo {name}: layers with attention entropy ≤ 0.9", n_ok, f"of {len(ent)}", "≥ 4",
                                  n_ok >= 4, "entropy " + " ".join(f"{v:.2f}" for v in ent) + "; KL to MiniLM "
                                  + " ".join(f"{v:.2f}" for v in e["kl_to_minilm_per_layer"])))
            cpu_s += e["wall_time_s"]
            steps += e["train_config"]["steps"]
    if steps:
        results.append(Result("zoo grid: seconds per training step (mean over every cell and seed)",
                              round(cpu_s / steps, 3), "s", "–", None, "one torch thread per process"))
        results.append(Result("zoo grid: CPU time to train every cell and seed", round(cpu_s / 3600, 2), "CPU-h",
                              "≤ 4", cpu_s <= 4 * 3600, "sum of each run's training-loop wall time, one thread each"))
    return results


def run() -> list[Result]:
    return load_times() + cell_evidence()
