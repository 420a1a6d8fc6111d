"""`make load-train` (issue 15): a class presses ▶ Train on the Convergence page, on the websocket protocol.

Three scenarios against a fresh server (its own empty runs folder, so every run really trains):
1. **alone**: one student trains the page defaults (seed 99): the time of one run, the yardstick;
2. **same settings**: `LOAD_TRAIN_SESSIONS` (20) students press Train with the defaults (seed 0) within 10 s: a
   shared deterministic run trains once, and every student should see it finished within 1.5× the alone time;
3. **different seeds**: as many students press Train with seeds 1…N within 10 s while `LOAD_TRAIN_BROWSING` (5)
   others browse Attention and the Parameter explorer (bench.load.Student): all runs finish, in FIFO order (a run
   asked for `workers` places later finishes later), each waiting student is shown a queue position, none is lost
   or trained twice (the runs folder holds one record per run), and the browsing students' p95 stays ≤ 1.5 s.

An interaction's latency is send → script finished: the Train click's script watches the run until it ends, so
its latency is the student's wait for the finished run. `LOAD_REPLICAS=N` runs it all through nginx;
`LOAD_TRAIN_SCENARIOS=same` skips the different seeds (≈ 10 minutes of the run).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import Budget, Student, percentile, require_loopback, start_servers
from bench.protocol import ProtocolError, Session, run_sync
from bench.timing import Result

SESSIONS = 20
BROWSING = 5
PRESS_WINDOW_S = 10.0
GOALS = {"same_ratio": 1.5, "browse_p95_s": 1.5}
ALONE_SEED = 99  # the page's seeds go up to 99; the other scenarios use 0 and 1…N
FINISHED_TEXT = "steps per model in"  # the page's summary under a finished run
QUEUE = re.compile(r"(next in line|number (\d+) in the queue)")


@dataclass
class Press:
    seed: int
    asked_at: float = 0.0
    latency: float = float("nan")
    finished: bool = False
    positions: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    replica: str = ""


async def press(url: str, seed: int, delay: float, timeout: float) -> Press:
    """Open Convergence, set the seed, wait `delay`, press ▶ Train and wait for the finished run."""
    p = Press(seed)
    try:
        async with Session(url, timeout=timeout) as s:
            p.replica = s.replica
            r = await s.open("convergence")
            if r.ok and s.widget("convergence.seed").value != seed:
                r = await s.set("convergence.seed", seed)
            p.errors += r.errors
            await asyncio.sleep(delay)
            p.asked_at = time.monotonic()
            r = await s.click("convergence.train")
            p.latency, p.errors = r.latency, p.errors + r.errors
            texts = s.texts()
            p.finished = r.ok and any(FINISHED_TEXT in t for t in texts)
            for t in texts:
                if m := QUEUE.search(t):
                    p.positions.append(1 if m.group(2) is None else int(m.group(2)))
            if r.ok and not p.finished:
                p.errors.append(f"seed {seed}: the script ended without a finished run: {texts[-3:]}")
    except (ProtocolError, OSError, TimeoutError) as err:
        p.errors.append(f"seed {seed}: {type(err).__name__}: {str(err)[:160]}")
    return p


def class_presses(url: str, seeds: list[int], timeout: float,
                  browsing: int = 0) -> tuple[list[Press], list[float], list[str]]:
    """Every seed pressed once within PRESS_WINDOW_S (in list order), with `browsing` students alongside until
    the last run ends. Returns the presses, the browsing students' latencies and their errors."""
    students = [Student(i, url, random.Random(500 + i)) for i in range(browsing)]

    async def go() -> list[Press]:
        deadline = time.monotonic() + timeout
        browsers = [asyncio.create_task(st.run(deadline, Budget(10 ** 6), delay=0.5 * i))
                    for i, st in enumerate(students)]
        result = await asyncio.gather(*[press(url, s, PRESS_WINDOW_S * i / max(1, len(seeds)), timeout)
                                        for i, s in enumerate(seeds)])
        for b in browsers:  # the browsing students stop with the last run
            b.cancel()
        await asyncio.gather(*browsers, return_exceptions=True)
        return result

    results = run_sync(go())
    lat = [r.interaction.latency for st in students for r in st.records if not r.interaction.what.startswith("open")]
    return results, lat, [e for st in students for e in st.errors]


def by_replica(presses: list[Press]) -> list[list[Press]]:
    """The presses each replica served, in the order they were asked: every replica keeps a queue of its own
    (one server: one group)."""
    groups: dict[str, list[Press]] = {}
    for p in sorted(presses, key=lambda p: p.asked_at):
        groups.setdefault(p.replica, []).append(p)
    return list(groups.values())


def fifo_violations(presses: list[Press], workers: int) -> list[str]:
    """In one replica's queue, a run asked for `workers` or more places after another must not finish before it
    (equal-length runs)."""
    bad = []
    for order in by_replica(presses):
        for i, a in enumerate(order):
            for b in order[i + workers:]:
                if a.asked_at + a.latency > b.asked_at + b.latency:
                    bad.append(f"seed {b.seed} (asked later) finished before seed {a.seed}")
    return bad


def queued_unshown(presses: list[Press], workers: int) -> list[int]:
    """Seeds that had to queue (a replica's `workers` earlier presses were training) but were never shown a place."""
    return [p.seed for order in by_replica(presses) for p in order[workers:] if not p.positions]


def same_result(tag: str, n: int, same: list[Press], t_alone: float, machine: str) -> Result:
    worst = max(p.latency for p in same)
    errors = [e for p in same for e in p.errors] + ["seed 0: no finished run shown" for p in same if not p.finished]
    return Result(f"{tag}: {n} students press Train with the same settings within {PRESS_WINDOW_S:.0f} s, slowest "
                  "wait ÷ one run alone", round(worst / t_alone, 2), "×", f"≤ {GOALS['same_ratio']:g}",
                  worst / t_alone <= GOALS["same_ratio"] and not errors,
                  f"waits p50 {percentile([p.latency for p in same], 50):.1f} s, max {worst:.1f} s vs {t_alone:.1f} s "
                  f"alone; {sum(p.finished for p in same)}/{n} saw it finished; replicas seen "
                  f"{sorted({p.replica for p in same if p.replica})}; " + "; ".join(errors[:2]) + f"; {machine}")


def diff_results(tag: str, n: int, diff: list[Press], workers: int, records: int,
                 browse: tuple[list[float], list[str]], browsing: int, machine: str) -> list[Result]:
    waits = sorted(p.latency for p in diff)
    lost = [p.seed for p in diff if not p.finished]
    groups = by_replica(diff)
    unshown = queued_unshown(diff, workers)
    fifo = fifo_violations(diff, workers)
    errors = [e for p in diff for e in p.errors]
    ok = not lost and not unshown and not fifo and not errors and records == n
    lat, browse_err = browse
    p95 = percentile(lat, 95)
    return [Result(f"{tag}: {n} students press Train with {n} different seeds within {PRESS_WINDOW_S:.0f} s, runs "
                   "finished", n - len(lost), f"of {n}", f"{n}, FIFO, each queued one shown its place", ok,
                   f"waits min {waits[0]:.0f} / median {percentile(waits, 50):.0f} / max {waits[-1]:.0f} s "
                   f"({workers} at once per replica; presses per replica {[len(g) for g in groups]}); lost {lost}; "
                   f"queued without a place shown {unshown}; FIFO violations {len(fifo)} (within each replica's "
                   f"queue); {records} run records for {n} distinct runs; "
                   + "; ".join((errors + fifo)[:2]) + f"; {machine}"),
            Result(f"{tag}: p95 of {browsing} browsing students while those {n} runs train", round(p95, 2), "s",
                   f"≤ {GOALS['browse_p95_s']:g}", p95 <= GOALS["browse_p95_s"] and not browse_err,
                   f"{len(lat)} interactions, p50 {percentile(lat, 50):.2f} s, max {max(lat, default=float('nan')):.2f}"
                   f" s, {len(browse_err)} errors; {machine}")]


def run() -> list[Result]:
    n = int(os.environ.get("LOAD_TRAIN_SESSIONS", SESSIONS))
    browsing = int(os.environ.get("LOAD_TRAIN_BROWSING", BROWSING))
    replicas = int(os.environ.get("LOAD_REPLICAS", "1"))
    scenarios = set(os.environ.get("LOAD_TRAIN_SCENARIOS", "same,different").split(","))
    cores = os.cpu_count() or 1
    workers = int(os.environ.get("ALBERTVIZ_LIVE_WORKERS", max(1, cores // max(1, replicas))))
    folder = Path(tempfile.mkdtemp(prefix="albertviz-load-train-"))
    servers = start_servers(replicas, {"ALBERTVIZ_LIVE_RUNS": str(folder), "ALBERTVIZ_LIVE_WORKERS": str(workers)})
    require_loopback(servers.url)
    where = (f"{replicas} replicas behind nginx" if replicas > 1 else "one server") + f", {workers} trainer(s) each"
    tag = "load, Train" + (f", {replicas} replicas via nginx" if replicas > 1 else "")
    machine = f"loopback, {where}; load average {os.getloadavg()[0]:.1f} before"
    out: list[Result] = []
    try:
        print("   … one run alone", flush=True)
        t_alone = class_presses(servers.url, [ALONE_SEED], timeout=900)[0][0].latency
        out.append(Result(f"{tag}: one run alone (page defaults)", round(t_alone, 1), "s", "–", None,
                          f"press → finished run on the page; {machine}"))
        if "same" in scenarios:
            print(f"   … {n} students, same settings", flush=True)
            same, _, _ = class_presses(servers.url, [0] * n, timeout=900)
            out.append(same_result(tag, n, same, t_alone, machine))
        if "different" in scenarios:
            print(f"   … {n} students, {n} different seeds, {browsing} browsing", flush=True)
            rounds = -(-n // (workers * replicas))
            diff, lat, errors = class_presses(servers.url, list(range(1, n + 1)), timeout=900 + 120 * rounds,
                                              browsing=browsing)
            stored = sum((r / "run.json").exists() for r in folder.iterdir())
            records = stored - 1 - ("same" in scenarios)  # less the alone run and the same-settings one
            first = min(p.asked_at for p in diff)
            for p in sorted(diff, key=lambda p: p.asked_at):
                print(f"     seed {p.seed:2d} on {p.replica or 'the server'}: asked +{p.asked_at - first:4.1f} s, "
                      f"waited {p.latency:5.1f} s, places shown {p.positions[:3]}", flush=True)
            out += diff_results(tag, n, diff, workers, records, (lat, errors), browsing, machine)
    finally:
        servers.stop()
    return out
