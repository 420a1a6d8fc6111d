"""One live run as every session sees it: its state, its sessions' leases, its `LiveRun` once built.

`albertviz.lessons.runs.RunRegistry` keeps these by key and moves them through the states below; a worker
thread calls `SharedRun.train`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from albertviz.lessons.live import LiveRun
from albertviz.lessons.live_settings import LiveSettings
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
              should_stop: Callable[[], bool]) -> None:
        """Train (a worker thread's job) until done or `should_stop()`; a finished run drops its models and is
        written to `folder`. A run not built yet is first looked for there: another replica may have finished it
        while this one waited in the queue."""
        if self.live is None:
            stored = load_run(folder, self.key, self.settings) if folder is not None else None
            if stored is not None:
                self.live, self.source = stored, "disk"
            else:
                self.live = LiveRun(self.settings, data())
        live, start = self.live, self.live.rounds
        if not live.done:
            live.stopped = False
            live.run(should_stop=should_stop)
            self.trained_rounds += live.rounds - start
        if live.done and live.trainers:
            live.release()  # models and optimizers go; the curves stay
            if folder is not None:
                try:
                    save_run(folder, self.key, live, disk_limit)
                except OSError:
                    pass  # a full or read-only cache folder costs other replicas a retrain, nothing more
