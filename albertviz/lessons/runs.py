"""Shared live runs and a fair queue: one training per (settings, seeds, code), however many sessions ask.

A live run is deterministic per settings and seeds (`albertviz.lessons.live`), so when a class of students presses Train
with the same settings there is one run to train, not thirty. `RunRegistry` keeps every run by a key
(`run_store.run_key`), and hands every session that asks for a key the same `SharedRun`: its pages read the same
progress while one worker thread trains it.

- **Queue**: at most `workers` runs train at once (`ALBERTVIZ_LIVE_WORKERS`, default one per core: with one torch
  thread per run, one run per core); the rest wait in FIFO order. A session follows one run at a time, so nobody
  can queue ten runs ahead of a classmate; asking for another run releases the place in the first.
- **Leases**: Streamlit says nothing when a browser goes away, so a session's claim on a run is a lease its page
  renews while it watches (every poll, every rerun) and that expires after `lease_s` (30 s). A queued run that
  nobody holds leaves the queue; a running run that nobody holds stops (kept, resumable) and frees its worker.
- **Stop**: a session leaves the run; the run is removed from the queue, or stopped, only when no other session
  still holds it — one student's Stop must not take away a run twenty others are watching, and since runs are
  deterministic the one who stopped loses nothing by letting it finish for the others.
- **Cache**: finished runs stay in memory (LRU, `cache_size` runs) and on disk (`run_store`); estimates come
  from measured seconds per model-step (`run_estimates`).

Plain threads and locks, no Streamlit (`albertviz_app/ui/live_runs.py` is the page's side). Torch releases the
interpreter lock inside its ops, so the server's page threads stay responsive.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from albertviz.lessons.live_settings import LiveSettings
from albertviz.lessons.run_claims import new_holder
from albertviz.lessons.run_estimates import RECENT_RUNS, Estimate, pace, start_s
from albertviz.lessons.run_limits import workers_from_env
from albertviz.lessons.run_store import load_run, run_key
from albertviz.lessons.shared_run import CANCELLED, DONE, FAILED, QUEUED, RUNNING, STOPPED, SharedRun
from albertviz.training.data import Data


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
        self.holder = new_holder()  # this registry's name on the claims of runs it trains (`run_claims`)

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

    def rate(self) -> tuple[float, str]:
        """Seconds per model-step, and where the figure comes from (`run_estimates.pace`)."""
        with self._lock:
            return pace([r.pace_s for r in self._running if r.pace_s is not None], self._rates)

    def remaining_s(self, run: SharedRun) -> float:
        """Seconds of training `run` still needs: its own measured pace once it has one, else `rate()`."""
        rate = run.pace_s if run.state == RUNNING and run.pace_s is not None else self.rate()[0]
        return max(0.0, (run.settings.steps - run.rounds) * run.models * rate)

    def estimate(self, run: SharedRun) -> Estimate | None:
        """For a queued run: when a worker should be free for it, and how long it should train."""
        with self._lock:
            self._expire(self.clock())
            if run not in self._queue:
                return None
            rate, basis = self.rate()
            ahead = list(self._queue)[:self._queue.index(run)]
            start = start_s([self.remaining_s(r) for r in self._running], self.workers,
                            [(r.settings.steps - r.rounds) * r.models * rate for r in ahead])
            return Estimate(start, (run.settings.steps - run.rounds) * run.models * rate, basis)

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

    def _work(self, run: SharedRun) -> None:
        """A worker thread: train `run`, then settle its state (done, stopped, failed, or queued again)."""
        t0 = time.perf_counter()
        start_rounds = run.rounds
        try:
            run.train(self.data, self.folder, self.disk_limit, lambda: self._should_stop(run), self.holder)
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
