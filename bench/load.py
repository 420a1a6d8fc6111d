"""`make load` (issue 15): a class of simulated students against the real server, measured from the server's side.

Each student is a `bench.protocol.Session`: Streamlit's own websocket protocol and protobuf messages, exactly what
the browser sends, with no browser (twenty Chromium tabs on the server's two cores measured the tabs, not the app).
Students arrive, open the Attention page or the Parameter explorer, and with 3–5 s of think time switch models,
type sentences, pick layers, heads and bertviz views, switch sharing modes, embedding types and presets, and move
between the two pages through the menu.

The run, all on loopback and bounded in sessions, time and requests:
1. warm-up: the teacher opens both pages and every model once (first-load costs are not the class's);
2. cost per interaction: one student, nothing else running, each interaction's server CPU (psutil, until the
   server is quiet again: Streamlit's post-run garbage collection runs *after* it reports the script finished)
   and the bytes it sent, with the browser's message cache (bench.protocol);
3. a ramp of class sizes (5, 10, 20, 30 by default), each for `LOAD_STEP_S` seconds, stopping once p95 is far
   past saturation: server-side latency p50/p95/max (send → script finished), errors, the server's CPU and RSS,
   bytes per interaction; the class size where p95 crosses 1 s;
4. optionally (`LOAD_BROWSERS`, ≤ 3) a few real browser tabs alongside the first class size (bench.load_browser).

`LOAD_REPLICAS=N` puts N replicas behind nginx (deploy.classroom, as `make class` does) and measures through it.
The machine's other load is reported: these figures are only comparable at equal background load.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from bench.protocol import Interaction, ProtocolError, Session, run_sync
from bench.timing import Result, reference_cpu_ms

RAMP = [5, 10, 20, 30]
STEP_S = 45.0
THINK_S = (3.0, 5.0)
ARRIVAL_S = 2.0  # a class size's students arrive spread over this long, not in one millisecond
MAX_SESSIONS = 60
MAX_REQUESTS = 5000  # for the whole run, all class sizes together
INTERACTION_TIMEOUT_S = 30.0
COST_ROUNDS = 16  # interactions per page when measuring the cost of one (CPU times tick in 10 ms: 8 was too few)
SATURATED_P95_S = 4.0  # a class size this slow ends the ramp: larger ones would only queue longer
GOALS = {"p95_s": 1.0, "errors": 0, "rss_growth_mb": 300.0, "cpu_ms": 100.0, "kb": 200.0, "sessions": 30}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SENTENCES = ["The cat sat on the mat because it was tired.", "To be, or not to be, that is the question.",
             "A rose by any other name would smell as sweet.", "The students trained a tiny model today.",
             "Shared layers reuse the very same weights.", "Now is the winter of our discontent.",
             "All the world's a stage, and all the men and women merely players.",
             "The quick brown fox jumps over the lazy dog.", "Attention is all you need, they said.",
             "My teacher explained parameter sharing with a picture."]
WORDS = ["castle", "storm", "king", "ghost", "river", "garden", "letter", "sword", "night", "music"]
PAGES = ("attention", "parameters")


def env_list(name: str, default: list[int]) -> list[int]:
    raw = os.environ.get(name)
    return [int(x) for x in raw.split(",") if x.strip()] if raw else default


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def require_loopback(url: str) -> None:
    """The load generator never points at another machine: a class of bots is not for someone else's server."""
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"load: refusing {url}: only loopback ({', '.join(sorted(LOOPBACK))}) is allowed")


@dataclass
class Budget:
    """At most `left` interactions for the whole run, shared by every student."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass
class Record:
    page: str
    interaction: Interaction
    at: float  # monotonic time it finished


class Student:
    """One simulated student: a page, a few widget changes with think time, sometimes the other page."""

    def __init__(self, index: int, url: str, rng: random.Random, think: tuple[float, float] = THINK_S):
        self.index, self.url, self.rng, self.think = index, url, rng, think
        self.records: list[Record] = []
        self.errors: list[str] = []
        self.page = PAGES[index % 2]

    def _record(self, r: Interaction) -> None:
        self.records.append(Record(self.page, r, time.monotonic()))
        self.errors.extend(f"student {self.index}: {e}" for e in r.errors)

    async def run(self, deadline: float, budget: Budget, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        session = Session(self.url, timeout=INTERACTION_TIMEOUT_S)
        try:
            await session.connect()
            self._record(await session.open(self.page))
            steps_here = self.rng.randint(2, 4)
            while time.monotonic() < deadline:
                await asyncio.sleep(min(self.rng.uniform(*self.think), max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline or not budget.take():
                    break
                if steps_here == 0:
                    self.page = PAGES[1 - PAGES.index(self.page)]
                    self._record(await session.goto(self.page))
                    steps_here = self.rng.randint(2, 4)
                    continue
                steps_here -= 1
                self._record(await self.step(session))
                if session.closed is not None:
                    break
        except (ProtocolError, OSError, TimeoutError) as err:
            self.errors.append(f"student {self.index}, session: {type(err).__name__}: {str(err)[:160]}")
        finally:
            await session.close()

    async def step(self, s: Session) -> Interaction:
        return await (self.attention_step(s) if self.page == "attention" else self.parameters_step(s))

    async def attention_step(self, s: Session) -> Interaction:
        x = self.rng.random()
        if x < 0.35:
            model = s.widget("attention.model")
            return await s.set(model.key, self.rng.choice([o for o in model.options if o != model.value]))
        if x < 0.7:
            text = f"{self.rng.choice(SENTENCES)} The {self.rng.choice(WORDS)} {self.rng.randint(1, 99)}."
            return await s.set("attention.text", text)
        if x < 0.9:
            key = self.rng.choice(["attention.layer", "attention.head"])
            w = s.widget(key)
            return await s.set(key, self.rng.choice([o for o in w.options if o != w.value] or w.options))
        view = s.widget("attention.bertviz_view")
        return await s.set(view.key, next(o for o in view.options if o != view.value))

    async def parameters_step(self, s: Session) -> Interaction:
        key = self.rng.choices(["parameters.sharing", "parameters.embedding", "parameters.preset"], [0.4, 0.4, 0.2])[0]
        w = s.widget(key)
        return await s.set(key, self.rng.choice([o for o in w.options if o != w.value]))


# --- the server's side -----------------------------------------------------------------------------------------------


class ServerProbe:
    """CPU seconds and resident memory of the server processes (one per replica), and the machine's busy time."""

    def __init__(self, pids: list[int]):
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.psutil = psutil

    def cpu(self) -> float:
        total = 0.0
        for p in self.procs:
            t = p.cpu_times()
            total += t.user + t.system
        return total

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.procs)

    def machine_busy(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.system + t.nice + getattr(t, "softirq", 0.0) + getattr(t, "irq", 0.0)

    def quiet(self, timeout: float = 5.0, window: float = 0.15, idle_cpu: float = 0.003) -> None:
        """Wait until the server uses (almost) no CPU for `window` s: its post-run work (GC, cleanup) is done."""
        end = time.monotonic() + timeout
        last = self.cpu()
        while time.monotonic() < end:
            time.sleep(window)
            now = self.cpu()
            if now - last <= idle_cpu:
                return
            last = now


async def warm_up(url: str) -> list[str]:
    """Both pages once and every model once; returns the model labels (the picker's options)."""
    async with Session(url, timeout=300) as s:
        await s.open("parameters")
        await s.goto("attention")
        models = list(s.widget("attention.model").options)
        for m in models:
            r = await s.set("attention.model", m)
            if r.errors:
                raise ProtocolError(f"warm-up failed: {r.errors[0]}")
        for view in s.widget("attention.bertviz_view").options:
            await s.set("attention.bertviz_view", view)
        await s.set("attention.model", models[0])
    return models


def measure_cost(url: str, probe: ServerProbe, rounds: int = COST_ROUNDS, seed: int = 0) -> dict[str, dict]:
    """One student alone: server CPU and bytes of each interaction, per page (medians and all samples)."""
    rng = random.Random(seed)
    out: dict[str, dict] = {}

    async def one_page(page: str) -> None:
        student = Student(0 if page == "attention" else 1, url, rng)
        samples = []
        async with Session(url, timeout=INTERACTION_TIMEOUT_S) as s:
            await s.open(page)
            await asyncio.to_thread(probe.quiet)
            for _ in range(rounds):
                cpu0 = probe.cpu()
                r = await student.step(s)
                await asyncio.to_thread(probe.quiet)
                samples.append({"what": r.what, "cpu_s": probe.cpu() - cpu0, "bytes": r.bytes_received,
                                "latency_s": r.latency, "errors": r.errors, "cache_hits": r.cache_hits})
        out[page] = {"cpu_ms": statistics.median(x["cpu_s"] for x in samples) * 1e3,
                     "kb": statistics.median(x["bytes"] for x in samples) / 1e3,
                     "max_kb": max(x["bytes"] for x in samples) / 1e3,
                     "latency_s": statistics.median(x["latency_s"] for x in samples),
                     "errors": [e for x in samples for e in x["errors"]], "samples": samples}

    for page in PAGES:
        run_sync(one_page(page))
    return out


@dataclass
class Level:
    sessions: int
    duration: float
    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    wall_s: float = 0.0
    rss_before: int = 0
    rss_after: int = 0
    browser: dict = field(default_factory=dict)

    def latencies(self, page: str | None = None, include_open: bool = False) -> list[float]:
        return [r.interaction.latency for r in self.records if (page is None or r.page == page)
                and (include_open or not r.interaction.what.startswith("open"))]

    @property
    def interactions(self) -> int:
        return len(self.records)

    def summary(self) -> dict:
        lat = self.latencies()
        by_page = {p: {"p50_s": percentile(self.latencies(p), 50), "p95_s": percentile(self.latencies(p), 95),
                       "n": len(self.latencies(p)),
                       "kb_median": statistics.median([r.interaction.bytes_received / 1e3 for r in self.records
                                                       if r.page == p] or [float("nan")])}
                   for p in PAGES}
        cores = os.cpu_count() or 1
        return {"sessions": self.sessions, "duration_s": self.duration, "interactions": self.interactions,
                "p50_s": percentile(lat, 50), "p95_s": percentile(lat, 95), "max_s": max(lat, default=float("nan")),
                "errors": len(self.errors), "server_cpu_s": self.cpu_s,
                "server_cores": self.cpu_s / self.wall_s if self.wall_s else float("nan"),
                "cpu_ms_per_interaction": 1e3 * self.cpu_s / self.interactions if self.interactions else float("nan"),
                "machine_busy": self.machine_busy_s / (cores * self.wall_s) if self.wall_s else float("nan"),
                "rss_mb": (self.rss_before / 1e6, self.rss_after / 1e6), "by_page": by_page}


def run_level(url: str, probe: ServerProbe, sessions: int, duration: float, budget: Budget, seed: int,
              browsers: int = 0, models: list[str] | None = None) -> Level:
    level = Level(sessions, duration)
    students = [Student(i, url, random.Random(seed * 1000 + i)) for i in range(sessions)]

    async def go() -> None:
        deadline = time.monotonic() + ARRIVAL_S + duration
        tasks = [s.run(deadline, budget, delay=ARRIVAL_S * i / max(1, sessions)) for i, s in enumerate(students)]
        bound = ARRIVAL_S + duration + 2 * INTERACTION_TIMEOUT_S + 30
        if browsers:
            from bench import load_browser

            tasks.append(load_browser.sample(url, [m for m in (models or [])], browsers, duration))
            # a tab's first page load (the JS bundle, on the server's busy cores) is bounded separately
            bound += load_browser.MAX_TABS * load_browser.ARRIVAL_S + load_browser.FIRST_LOAD_TIMEOUT_S
        try:
            results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), bound)
        except TimeoutError:
            level.errors.append(f"{sessions} students: the class did not finish within its bound of {bound:.0f} s")
            return
        for r in results:
            if isinstance(r, dict):
                level.browser = r
            elif isinstance(r, BaseException):
                level.errors.append(f"{type(r).__name__}: {r}")

    level.rss_before = probe.rss()
    cpu0, busy0, t0 = probe.cpu(), probe.machine_busy(), time.monotonic()
    run_sync(go())
    level.wall_s = time.monotonic() - t0
    level.cpu_s, level.machine_busy_s = probe.cpu() - cpu0, probe.machine_busy() - busy0
    level.rss_after = probe.rss()
    for s in students:
        level.records.extend(s.records)
        level.errors.extend(s.errors)
    return level


# --- the run ----------------------------------------------------------------------------------------------------------


class SingleServer:
    """One `streamlit run app.py`, as a teacher starts it (bench.browser.StreamlitServer)."""

    def __init__(self, env: dict[str, str]):
        from bench.browser import ROOT, StreamlitServer

        self.server = StreamlitServer(env=env, log_path=ROOT / "bench" / ".load-server.log")
        self.url = self.server.url

    def start(self) -> SingleServer:
        self.server.start(timeout=180)
        return self

    @property
    def pids(self) -> list[int]:
        return [self.server.proc.pid]

    @property
    def warm_urls(self) -> list[str]:
        return [self.url]

    def stop(self) -> None:
        self.server.stop()


def start_servers(replicas: int, env: dict[str, str]):
    if replicas <= 1:
        return SingleServer(env).start()
    from deploy.classroom import Classroom

    room = Classroom(replicas=replicas, env=env).start()
    room.warm_urls = [m.url for m in room.members]
    return room


def run(ramp: list[int] | None = None, step_s: float | None = None) -> list[Result]:
    ramp = [n for n in (ramp or env_list("LOAD_RAMP", RAMP)) if n > 0]  # LOAD_RAMP=0: the cost per interaction only
    step_s = step_s or float(os.environ.get("LOAD_STEP_S", STEP_S))
    replicas = int(os.environ.get("LOAD_REPLICAS", "1"))
    browsers = int(os.environ.get("LOAD_BROWSERS", "0"))
    rounds = int(os.environ.get("LOAD_COST_ROUNDS", COST_ROUNDS))
    budget = Budget(int(os.environ.get("LOAD_MAX_REQUESTS", MAX_REQUESTS)))
    if max(ramp, default=0) > MAX_SESSIONS or step_s > 120:
        raise SystemExit(f"load: at most {MAX_SESSIONS} sessions and 120 s per class size (asked {ramp}, {step_s} s)")
    env = {k: v for k, v in os.environ.items() if k.startswith("STREAMLIT_")}  # e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC
    load_before = os.getloadavg()
    servers = start_servers(replicas, env)
    require_loopback(servers.url)
    levels: list[Level] = []
    try:
        probe = ServerProbe(servers.pids)
        rss_start = probe.rss()
        for url in servers.warm_urls:  # every replica directly: nginx would send one teacher to one replica only
            models = run_sync(warm_up(url))
        probe.quiet(timeout=10)
        rss_warm = probe.rss()
        cost = measure_cost(servers.url, probe, rounds)
        for i, n in enumerate(ramp):
            print(f"   … {n} students for {step_s:.0f} s", flush=True)
            level = run_level(servers.url, probe, n, step_s, budget, seed=i, browsers=browsers if i == 0 else 0,
                              models=models)
            levels.append(level)
            s = level.summary()
            print(f"     p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s, {s['interactions']} interactions, "
                  f"{s['errors']} errors, server {s['server_cores']:.2f} cores", flush=True)
            if s["p95_s"] > SATURATED_P95_S or budget.left <= 0:
                break
        rss_end = probe.rss()
    finally:
        servers.stop()
    load_after = os.getloadavg()
    return report(cost, levels, replicas, models, (rss_start, rss_warm, rss_end), (load_before, load_after), env)


def report(cost: dict, levels: list[Level], replicas: int, models: list[str], rss: tuple[int, int, int],
           loads: tuple, env: dict[str, str]) -> list[Result]:
    where = (f"{replicas} replicas behind nginx" if replicas > 1 else "one server") + \
        (f", {' '.join(f'{k}={v}' for k, v in env.items())}" if env else "")
    machine = (f"loopback, {where}; load average {loads[0][0]:.1f} before, {loads[1][0]:.1f} after "
               f"(other work on the machine counts: compare runs at equal background load); reference workload "
               f"{reference_cpu_ms():.0f} ms CPU (bench.timing.reference_cpu_ms: compare CPU across runs by it)")
    out: list[Result] = []
    tag = ("load" if replicas <= 1 else f"load, {replicas} replicas via nginx") + \
        (f" ({', '.join(f'{k}={v}' for k, v in env.items())})" if env else "")  # a server setting's rows of its own
    for page, c in cost.items():
        name = "Attention" if page == "attention" else "Parameter explorer"
        detail = (f"median of {len(c['samples'])} interactions of one student alone; latency {c['latency_s']:.2f} s; "
                  f"{machine}")
        out.append(Result(f"{tag}: server CPU per interaction, {name}", round(c["cpu_ms"]), "ms",
                          f"≤ {GOALS['cpu_ms']:g}", c["cpu_ms"] <= GOALS["cpu_ms"], detail))
        out.append(Result(f"{tag}: bytes sent per interaction, {name}", round(c["kb"], 1), "KB", f"≤ {GOALS['kb']:g}",
                          c["kb"] <= GOALS["kb"], f"max {c['max_kb']:.0f} KB, with the browser's message cache; "
                                                  f"{detail}"))
    rows = []
    crossing = None
    for lv in levels:
        s = lv.summary()
        rows.append(f"{s['sessions']}: p50 {s['p50_s']:.2f} / p95 {s['p95_s']:.2f} / max {s['max_s']:.2f} s, "
                    f"{s['interactions']} interactions, {s['errors']} errors, server {s['server_cores']:.2f} cores "
                    f"({s['cpu_ms_per_interaction']:.0f} ms CPU/interaction), machine {s['machine_busy']:.0%} busy, "
                    f"RSS {s['rss_mb'][0]:.0f}→{s['rss_mb'][1]:.0f} MB; Attention p95 "
                    f"{s['by_page']['attention']['p95_s']:.2f} s ({s['by_page']['attention']['kb_median']:.0f} KB), "
                    f"Parameters p95 {s['by_page']['parameters']['p95_s']:.2f} s "
                    f"({s['by_page']['parameters']['kb_median']:.0f} KB)")
        if crossing is None and s["p95_s"] > GOALS["p95_s"]:
            crossing = s["sessions"]
    ok = [lv.sessions for lv in levels if lv.summary()["p95_s"] <= GOALS["p95_s"]]
    best = max(ok, default=0)
    step = levels[0].duration if levels else 0
    if levels:
        out.append(Result(f"{tag}: students with p95 ≤ 1 s (think time 3–5 s)", best, "sessions",
                          f"≥ {GOALS['sessions']}", best >= GOALS["sessions"],
                          (f"p95 first above 1 s at {crossing} students" if crossing else "p95 never above 1 s")
                          + f"; {step:.0f} s per class size; " + " | ".join(rows) + f"; {machine}"))
    errors = [e for lv in levels for e in lv.errors] + [e for c in cost.values() for e in c["errors"]]
    out.append(Result(f"{tag}: errors", len(errors), "", "0", not errors,
                      "; ".join(errors[:3]) + (f" … and {len(errors) - 3} more" if len(errors) > 3 else "")))
    growth = (rss[2] - rss[1]) / 1e6
    if levels:  # LOAD_RAMP=0 ran no class: a growth "after the class" would report the cost rounds instead
        out.append(Result(f"{tag}: server RSS growth", round(growth, 1), "MB", f"≤ {GOALS['rss_growth_mb']:g}",
                          growth <= GOALS["rss_growth_mb"],
                          f"{rss[1] / 1e6:.0f} MB after warm-up ({len(models)} models loaded; {rss[0] / 1e6:.0f} MB "
                          f"at start) → {rss[2] / 1e6:.0f} MB after the class; {where}"))
    for lv in levels:
        if lv.browser:
            b = lv.browser
            lat = b.get("latencies", [])
            bad = b.get("errors", []) + [f"request left 127.0.0.1: {u}" for u in b.get("external", [])]
            out.append(Result(f"{tag}: browser sample, problems seen", len(bad), "", "0", not bad,
                              f"{b.get('tabs', 0)} Chromium tabs alongside {lv.sessions} protocol students for "
                              f"{lv.duration:.0f} s: p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s "
                              f"(client side, with drawing); " + "; ".join(bad[:3])))
    return out
