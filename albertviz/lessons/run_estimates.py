"""How long a live run should wait and train: guesses from measured seconds per model-step.

The registry (`albertviz.lessons.runs`) measures what a model-step costs; the figure it uses is a running run's
own pace, else the pace of the runs training now (they feel the machine's load as it is), else recent finished
runs, else a first guess. A queued run starts when the runs ahead of it, taken FIFO by the earliest free worker,
have trained.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Seconds per model-step before any run here has been measured: the page's default run (2 models × 1,000 steps)
# took 58 s alone on the 2-core machine (DESIGN.md). Replaced by measurements as soon as one run finishes.
PRIOR_S_PER_MODEL_STEP = 0.03
RECENT_RUNS = 8  # how many finished runs the estimate averages over


@dataclass(frozen=True)
class Estimate:
    """When a queued run should start and how long it should train, in seconds (a guess on a busy machine)."""

    start_s: float
    train_s: float
    basis: str  # what the rate comes from, for the page to say

    @property
    def finish_s(self) -> float:
        return self.start_s + self.train_s


def pace(training_now: Sequence[float], recent: Sequence[float]) -> tuple[float, str]:
    """Seconds per model-step and where the figure comes from: the runs training now, else recent finished runs,
    else a first guess."""
    if training_now:
        n = len(training_now)
        return statistics.fmean(training_now), f"the pace of the run{'s' if n > 1 else ''} training now"
    if recent:
        n = len(recent)
        return statistics.fmean(recent), f"the last {n} run{'s' if n > 1 else ''} here"
    return PRIOR_S_PER_MODEL_STEP, "a first guess (no run has finished here yet)"


def start_s(running_left_s: Sequence[float], workers: int, ahead_s: Sequence[float]) -> float:
    """Seconds until a worker is free for a queued run: the runs ahead (`ahead_s`, each its training seconds, in
    queue order) each take the earliest free worker; `running_left_s` is what the running runs still need."""
    free = sorted(list(running_left_s) + [0.0] * (workers - len(running_left_s)))
    for need in ahead_s:
        start = free.pop(0)
        free.append(start + need)
        free.sort()
    return free[0]
