"""One live run as every session sees it: its state, its sessions' leases, its `LiveRun` once built.

`albertviz.lessons.runs.RunRegistry` keeps these by key and moves them through the states below; a worker
thread calls `SharedRun.train`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from albertviz.lessons.live import LiveRun
from albertviz.lessons.live_settings import LiveSettings
from albertviz.lessons.run_claims import CLAIM_RENEW_S, release_claim, renew_claim, try_claim
from albertviz.lessons.run_store import load_run, save_run
from albertviz.training.data import Data

QUEUED, RUNNING, DONE, STOPPED, CANCELLED, FAILED = "queued", "running", "done", "stopped", "cancelled", "failed"
ACTIVE = (QUEUED, RUNNING)


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
    elsewhere: bool = False  # waiting while another replica (holding the run's claim) trains it
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

    @property
    def pace_s(self) -> float | None:
        """Seconds per model-step this run has measured so far (None before 5 rounds: too few to tell)."""
        live = self.live
        if live is None or live.rounds < 5 or live.wall <= 0:
            return None
        return live.wall / (live.rounds * self.models)

    def view(self) -> LiveRun | None:
        """What to draw: the finished run itself (the same object for every session), else a consistent copy."""
        live = self.live
        if live is None:
            return None
        return live if self.state == DONE else live.snapshot()

    def train(self, data: Callable[[], Data], folder: Path | None, disk_limit: int,
              should_stop: Callable[[], bool], holder: str = "", wait_poll_s: float = 1.0) -> None:
        """Train (a worker thread's job) until done or `should_stop()`; a finished run drops its models and is
        written to `folder`. A run not built yet is first looked for there: another replica may have finished it
        while this one waited in the queue. While another replica holds the run's claim (`run_claims`), this
        one waits for that replica's record instead of training the same run a second time."""
        if self.live is None and folder is not None and not self._wait_for_claim(folder, holder, should_stop,
                                                                                 wait_poll_s):
            return  # stopped while another replica trained it
        try:
            if self.live is None:
                self.live = LiveRun(self.settings, data())
            live, start = self.live, self.live.rounds
            if not live.done:
                live.stopped = False
                live.run(should_stop=self._renewing(folder, holder, should_stop))
                self.trained_rounds += live.rounds - start
            if live.done and live.trainers:
                live.release()  # models and optimizers go; the curves stay
                if folder is not None:
                    try:
                        save_run(folder, self.key, live, disk_limit)
                    except OSError:
                        pass  # a full or read-only cache folder costs other replicas a retrain, nothing more
        finally:
            if folder is not None:
                release_claim(folder, self.key, holder)

    def _wait_for_claim(self, folder: Path, holder: str, should_stop: Callable[[], bool], poll_s: float) -> bool:
        """Until this process holds the run's claim (True) or reads the finished run another replica wrote
        (True, `source` "disk"); False if stopped first."""
        while True:
            stored = load_run(folder, self.key, self.settings)
            if stored is not None:
                self.live, self.source, self.elsewhere = stored, "disk", False
                return True
            if try_claim(folder, self.key, holder):
                self.elsewhere = False
                return True
            self.elsewhere = True
            if should_stop():
                self.elsewhere = False
                return False
            time.sleep(poll_s)

    def _renewing(self, folder: Path | None, holder: str, should_stop: Callable[[], bool]) -> Callable[[], bool]:
        """`should_stop`, checked every round, that also keeps this process's claim fresh while it trains."""
        if folder is None:
            return should_stop
        last = [time.monotonic()]

        def check() -> bool:
            if time.monotonic() - last[0] >= CLAIM_RENEW_S:
                renew_claim(folder, self.key, holder)
                last[0] = time.monotonic()
            return should_stop()
        return check
