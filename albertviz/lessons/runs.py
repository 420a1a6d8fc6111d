"""Shared live runs and a fair queue: one training per (settings, seeds, code), however many sessions ask.

A live run is deterministic per settings and seeds (`albertviz.lessons.live`), so when a class of students presses Train
with the same settings there is one run to train, not thirty. `RunRegistry` keeps every run by a key (the
settings, which hold the seeds, plus a hash of the code that decides the curves), and hands every session that
asks for a key the same `SharedRun`: its pages read the same progress while one worker thread trains it.

- **Queue**: at most `workers` runs train at once (`ALBERTVIZ_LIVE_WORKERS`, default one per core: with one torch
  thread per run, one run per core); the rest wait in FIFO order. A session follows one run at a time, so nobody
  can queue ten runs ahead of a classmate; asking for another run releases the place in the first.
- **Leases**: Streamlit says nothing when a browser goes away, so a session's claim on a run is a lease its page
  renews while it watches (every poll, every rerun) and that expires after `lease_s` (30 s). A queued run that
  nobody holds leaves the queue; a running run that nobody holds stops (kept, resumable) and frees its worker.
- **Stop**: a session leaves the run; the run is removed from the queue, or stopped, only when no other session
  still holds it — one student's Stop must not take away a run twenty others are watching, and since runs are
  deterministic the one who stopped loses nothing by letting it finish for the others.
- **Cache**: finished runs stay in memory (LRU, `cache_size` runs) and are written as JSON to a folder
  (`runs_folder()`, under the user cache dir), where a fresh registry — another replica of the app, a restarted
  server — finds them and answers without training. Writes are atomic (a renamed temporary folder).
- **Estimates**: from measured seconds per model-step: a running run's own pace, else the pace of the runs
  training now (they feel the machine's load as it is), else recent finished runs, else a first guess.

Everything here is plain threads and locks; the library never imports Streamlit (`ui/live_runs.py` is the page's
side). Training happens in worker threads: torch releases the interpreter lock inside its ops, so the server's
page threads stay responsive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from albertviz.lessons.live import LiveRun, LiveSettings
from albertviz.training.data import Data

# Modules whose source decides a live run's numbers: change one and every cached run is retrained.
# The modules whose source decides a live run's curves (files relative to the albertviz package).
CODE_FILES = ("lessons/live.py", "training/trainer.py", "training/masking.py", "training/data.py", "core/model.py",
              "core/config.py", "core/sharing.py", "core/embeddings.py", "lessons/convergence.py", "data/corpus.py")
QUEUED, RUNNING, DONE, STOPPED, CANCELLED, FAILED = "queued", "running", "done", "stopped", "cancelled", "failed"
ACTIVE = (QUEUED, RUNNING)
# Seconds per model-step before any run here has been measured: the page's default run (2 models × 1,000 steps)
# took 58 s alone on the 2-core machine (DESIGN.md). Replaced by measurements as soon as one run finishes.
PRIOR_S_PER_MODEL_STEP = 0.03
RECENT_RUNS = 8  # how many finished runs the estimate averages over


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the source that decides the curves (and torch's version): part of every run's key."""
    h = hashlib.sha256(torch.__version__.encode())
    here = Path(__file__).resolve().parent.parent
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    return h.hexdigest()[:16]


def run_key(settings: LiveSettings, version: str | None = None) -> str:
    """The run's identity: equal settings (seeds included) and equal code give equal keys, in every process."""
    text = json.dumps({"settings": asdict(settings), "code": version or code_version()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


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


def runs_folder() -> Path:
    """Where finished runs are kept on disk: `ALBERTVIZ_LIVE_RUNS`, else `<cache dir>/live_runs`.

    Replicas of the app (several processes, or machines sharing a folder) that point here answer each other's runs.
    """
    if os.environ.get("ALBERTVIZ_LIVE_RUNS"):
        return Path(os.environ["ALBERTVIZ_LIVE_RUNS"])
    from albertviz.data.corpus import cache_dir

    return cache_dir() / "live_runs"


# ---------------------------------------------------------------- on disk

def save_run(folder: Path, key: str, run: LiveRun, limit: int = 256) -> Path:
    """Write a finished run as `<folder>/<key>/run.json`, atomically; keep the `limit` newest runs."""
    final = folder / key
    if (final / "run.json").exists():
        return final  # another replica (or an earlier server) wrote it first: the same deterministic run
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        record = {"key": key, "code_version": code_version(), **run.to_record()}
        (tmp / "run.json").write_text(json.dumps(record))
        os.rename(tmp, final)  # atomic: a reader sees no folder or a complete one
    except OSError:
        if not (final / "run.json").exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(folder, limit)
    return final


def _prune(folder: Path, limit: int) -> None:
    runs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(runs) <= limit:
        return
    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0
    for p in sorted(runs, key=mtime)[:len(runs) - limit]:
        shutil.rmtree(p, ignore_errors=True)


def load_run(folder: Path, key: str, settings: LiveSettings) -> LiveRun | None:
    """The finished run stored under `key`, or None (absent, unreadable, or written by other code or settings)."""
    path = folder / key / "run.json"
    try:
        record = json.loads(path.read_text())
        if record.get("key") != key or record.get("code_version") != code_version():
            return None
        run = LiveRun.from_record(record)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if run.settings != settings or not run.done:
        return None
    return run


# ---------------------------------------------------------------- the registry

@dataclass(eq=False)
class SharedRun:
    """One live run as every session sees it: its state, its sessions' leases, and the `LiveRun` once built."""

    key: str
    settings: LiveSettings
    models: int  # arms × seeds: a round costs this many model-steps
    state: str = QUEUED
    live: LiveRun | None = None
    sessions: dict[str, float] = field(default_factory=dict)  # session id → last renewal (registry clock)
    error: str | None = None
    source: str = "trained"  # or "disk": read back from a run another process trained
    stop_requested: bool = False
    trained_rounds: int = 0  # rounds this process trained for it (0 for a run read from disk)
    train_seconds: float = 0.0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def rounds(self) -> int:
        return self.live.rounds if self.live is not None else 0

    @property
    def units(self) -> int:
        """Model-steps the whole run costs."""
        return self.models * self.settings.steps

    def view(self) -> LiveRun | None:
        """What to draw: the finished run itself (the same object for every session), else a consistent copy."""
        live = self.live
        if live is None:
            return None
        return live if self.state == DONE else live.snapshot()


@dataclass(frozen=True)
class Estimate:
    """When a queued run should start and how long it should train, in seconds (a guess on a busy machine)."""

    start_s: float
    train_s: float
    basis: str  # what the rate comes from, for the page to say

    @property
    def finish_s(self) -> float:
        return self.start_s + self.train_s


class RunRegistry:
    """Every live run of one server process, by key; a FIFO queue in front of `workers` training threads."""

    def __init__(self, data: Callable[[], Data], workers: int | None = None, cache_size: int = 32,
                 folder: Path | None = None, lease_s: float = 30.0, disk_limit: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = workers if workers is not None else workers_from_env()
        if self.workers < 1:
            raise ValueError("A registry needs at least one worker.")
        self.cache_size, self.folder, self.lease_s, self.disk_limit = cache_size, folder, lease_s, disk_limit
        self.clock = clock
        self._data_factory, self._data, self._data_lock = data, None, threading.Lock()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._runs: OrderedDict[str, SharedRun] = OrderedDict()  # LRU: most recently asked for last
        self._queue: deque[SharedRun] = deque()
        self._running: set[SharedRun] = set()
        self._threads: set[threading.Thread] = set()
        self._following: dict[str, SharedRun] = {}  # session → the one run it holds a place in
        self._rates: deque[float] = deque(maxlen=RECENT_RUNS)  # seconds per model-step of recent runs
        self.trained_runs = 0  # runs this registry started training (a resumed run counts again)

    # -- data ------------------------------------------------------------------------------

    def data(self) -> Data:
        """The live runs' text, loaded once and shared by every run (and the page)."""
        with self._data_lock:  # not the registry's lock: loading must not hold up every session
            if self._data is None:
                self._data = self._data_factory()
            return self._data

    # -- what sessions do ------------------------------------------------------------------

    def request(self, settings: LiveSettings, session: str) -> SharedRun:
        """The run for `settings`, shared: finished, in progress, read from disk, or queued now at the back.

        The session takes (or renews) a place in it and gives up its place in any other run it held.
        """
        key = run_key(settings)
        models = len(settings.arms(len(self.data().special))) * len(settings.seeds)  # validates the settings
        with self._lock:
            now = self.clock()
            self._expire(now)
            run = self._runs.get(key)
            if run is None or run.state in (CANCELLED, FAILED):
                run = SharedRun(key, settings, models)
                stored = load_run(self.folder, key, settings) if self.folder is not None else None
                if stored is not None:
                    run.live, run.state, run.source = stored, DONE, "disk"
                self._runs[key] = run
            self._runs.move_to_end(key)
            if run.state == STOPPED:  # asked for again: it goes on from where it stopped, at the back of the queue
                run.state = QUEUED
            run.stop_requested = False  # a running run someone had stopped alone: wanted again, it goes on
            if run.state == QUEUED and run not in self._queue:
                self._queue.append(run)
            self._follow(session, run, now)
            self._evict()
            self._dispatch()
            self._changed.notify_all()
            return run

    def renew(self, run: SharedRun, session: str) -> bool:
        """Renew the session's lease on `run`; False when it holds no place there (stopped, expired, moved on)."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            if session not in run.sessions:
                return False
            run.sessions[session] = now
            return True

    def stop(self, run: SharedRun, session: str) -> str:
        """The session leaves `run`. What became of the run: 'removed' (from the queue), 'stopping' (it trained
        for this session alone), 'continues' (other sessions still hold it), or 'nothing' (it was not active)."""
        with self._lock:
            self._expire(self.clock())
            if not run.active:
                run.sessions.pop(session, None)
                if self._following.get(session) is run:
                    del self._following[session]
                return "nothing"
            was = run.state
            self._leave(session, run)
            self._changed.notify_all()
            if run.sessions:
                return "continues"
            return "removed" if was == QUEUED else "stopping"

    def holds(self, run: SharedRun, session: str) -> bool:
        with self._lock:
            self._expire(self.clock())
            return session in run.sessions

    def position(self, run: SharedRun) -> int | None:
        """1 for the next run to start, 2 for the one after …; None when not queued."""
        with self._lock:
            self._expire(self.clock())
            try:
                return self._queue.index(run) + 1
            except ValueError:
                return None

    def wait(self, run: SharedRun, timeout: float) -> None:
        """Block up to `timeout` seconds or until something about the runs changes (a start, a stop, an end)."""
        with self._lock:
            if run.active:
                self._changed.wait(timeout)

    def join(self, timeout: float = 60.0) -> bool:
        """Wait until no run is queued or training (tests, shutdown). True when idle."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
                self._expire(self.clock())
                self._dispatch()
            return True

    def get(self, settings: LiveSettings) -> SharedRun | None:
        with self._lock:
            return self._runs.get(run_key(settings))

    def queue(self) -> list[SharedRun]:
        with self._lock:
            return list(self._queue)

    def running(self) -> list[SharedRun]:
        with self._lock:
            return list(self._running)

    # -- estimates -------------------------------------------------------------------------

    def rate(self) -> tuple[float, str]:
        """Seconds per model-step, and where the figure comes from: the runs training now (they feel the machine's
        load as it is), else recent finished runs, else a first guess."""
        with self._lock:
            now = [r.live.wall / (r.live.rounds * r.models) for r in self._running
                   if r.live is not None and r.live.rounds >= 5 and r.live.wall > 0]
            if now:
                return statistics.fmean(now), f"the pace of the run{'s' if len(now) > 1 else ''} training now"
            if self._rates:
                n = len(self._rates)
                return statistics.fmean(self._rates), f"the last {n} run{'s' if n > 1 else ''} here"
            return PRIOR_S_PER_MODEL_STEP, "a first guess (no run has finished here yet)"

    def remaining_s(self, run: SharedRun) -> float:
        """Seconds of training `run` still needs: its own measured pace once it has one, else `rate()`."""
        rate = self.rate()[0]
        live = run.live
        if live is not None and run.state == RUNNING and live.rounds >= 5 and live.wall > 0:
            rate = live.wall / (live.rounds * run.models)
        return max(0.0, (run.settings.steps - run.rounds) * run.models * rate)

    def estimate(self, run: SharedRun) -> Estimate | None:
        """For a queued run: when a worker should be free for it (the runs ahead taken FIFO by the earliest free
        worker), and how long it should train."""
        with self._lock:
            self._expire(self.clock())
            if run not in self._queue:
                return None
            rate, basis = self.rate()
            free = sorted([self.remaining_s(r) for r in self._running] + [0.0] * (self.workers - len(self._running)))
            for ahead in self._queue:
                if ahead is run:
                    break
                start = free.pop(0)
                free.append(start + (ahead.settings.steps - ahead.rounds) * ahead.models * rate)
                free.sort()
            return Estimate(free[0], (run.settings.steps - run.rounds) * run.models * rate, basis)

    # -- inside (caller holds the lock) -----------------------------------------------------

    def _follow(self, session: str, run: SharedRun, now: float) -> None:
        old = self._following.get(session)
        if old is not None and old is not run:
            self._leave(session, old)
        if run.active:
            run.sessions[session] = now
            self._following[session] = run

    def _leave(self, session: str, run: SharedRun) -> None:
        run.sessions.pop(session, None)
        if self._following.get(session) is run:
            del self._following[session]
        if run.sessions:
            return
        if run.state == QUEUED:  # nobody waits for it: it gives its place up
            self._queue.remove(run)
            if run.live is not None:  # a stopped run queued to go on: it stays stopped, resumable
                run.state = STOPPED
            else:
                run.state = CANCELLED
                if self._runs.get(run.key) is run:
                    del self._runs[run.key]
        elif run.state == RUNNING:
            run.stop_requested = True  # its worker stops after the current round

    def _expire(self, now: float) -> None:
        """Release every place whose lease ran out: the browser went away (or the student left the page)."""
        for run in list(self._queue) + list(self._running):
            for session, seen in list(run.sessions.items()):
                if now - seen > self.lease_s:
                    self._leave(session, run)

    def _evict(self) -> None:
        """Forget the least recently asked-for runs beyond `cache_size` (never one that is queued or training)."""
        for key in list(self._runs):
            if len(self._runs) <= self.cache_size:
                return
            if not self._runs[key].active:
                del self._runs[key]

    def _dispatch(self) -> None:
        self._expire(self.clock())  # a run whose sessions all went away gives its place up before it starts
        while self._queue and len(self._running) < self.workers:
            run = self._queue.popleft()
            run.state, run.stop_requested = RUNNING, False
            self._running.add(run)
            self.trained_runs += 1
            t = threading.Thread(target=self._work, args=(run,), name=f"live-run-{run.key[:8]}", daemon=True)
            self._threads.add(t)
            t.start()

    def _should_stop(self, run: SharedRun) -> bool:
        with self._lock:
            self._expire(self.clock())
            return run.stop_requested

    # -- the worker --------------------------------------------------------------------------

    def _work(self, run: SharedRun) -> None:
        t0 = time.perf_counter()
        start_rounds = run.rounds
        try:
            if run.live is None:
                stored = load_run(self.folder, run.key, run.settings) if self.folder is not None else None
                if stored is not None:  # another replica finished it while this one waited in our queue
                    run.live, run.source = stored, "disk"
                else:
                    run.live = LiveRun(run.settings, self.data())
            live = run.live
            if not live.done:
                live.stopped = False
                live.run(should_stop=lambda: self._should_stop(run))
                run.trained_rounds += live.rounds - start_rounds
            if live.done and live.trainers:
                live.release()  # models and optimizers go; the curves stay
                if self.folder is not None:
                    try:
                        save_run(self.folder, run.key, live, self.disk_limit)
                    except OSError:
                        pass  # a full or read-only cache folder costs other replicas a retrain, nothing more
        except Exception as e:  # noqa: BLE001 - any failure is shown to the run's sessions
            run.error = f"{type(e).__name__}: {e}"
        finally:
            elapsed = time.perf_counter() - t0
            with self._lock:
                self._running.discard(run)
                self._threads.discard(threading.current_thread())
                trained = run.rounds - start_rounds
                run.train_seconds += elapsed
                if run.error is not None:
                    run.state = FAILED
                elif run.live is not None and run.live.done:
                    run.state = DONE
                elif run.sessions and not run.stop_requested:  # asked for again while it was stopping
                    run.state = QUEUED
                    self._queue.appendleft(run)
                else:
                    run.state = STOPPED
                if not run.active:
                    for session in [s for s, r in self._following.items() if r is run]:
                        del self._following[session]
                # a whole run (build included), or a long enough stretch of one, tells what a model-step costs now
                if run.source == "trained" and trained > 0 and (run.state == DONE or trained >= 5):
                    self._rates.append(elapsed / (trained * run.models))
                self._dispatch()
                self._changed.notify_all()
