"""Small timing helpers shared by the benchmark modules."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

SERVED_THREADS = 1  # what app.py gives the server's torch (ALBERTVIZ_TORCH_THREADS unset); app.py says why


@contextmanager
def as_served() -> Iterator[None]:
    """Time app code with the torch thread count the server runs it with, then restore the bench's own."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(SERVED_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class Result:
    name: str
    value: float
    unit: str
    goal: str  # e.g. "≤ 0.8"
    met: bool | None
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 30, warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each function, calling them in turn so noise hits all alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}


def reference_cpu_ms(repeats: int = 5) -> float:
    """CPU milliseconds of one fixed pure-Python workload (median of `repeats`), printed beside absolute CPU
    figures: these 2-core machines differ from one session to the next (neighbours, steal), and the same code
    gave Attention 105 ms per interaction on 1 December's machine and 55 ms on 2 December's. Two runs' CPU
    figures compare only as far as their reference times agree."""
    import json

    rows = [{"layer": i, "head": i % 12, "weights": [j / 7 for j in range(32)]} for i in range(400)]
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        json.loads(json.dumps(rows))
        sum(i * i for i in range(200_000))
        samples.append(time.process_time() - t0)
    return statistics.median(samples) * 1e3


def machine() -> str:
    import os

    import torch

    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
