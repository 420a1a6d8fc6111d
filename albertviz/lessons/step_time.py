"""Parameters are not FLOPs: measured training-step time per sharing mode, next to parameter counts.

Sharing cuts the parameters a model stores, not the work each token costs: every layer still runs. The
Convergence page and `make bench` time one training step of each zoo-shape model to show it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

import numpy as np
import torch

from albertviz import labels
from albertviz.core.config import SHARING_MODES
from albertviz.core.model import MaskedLM
from albertviz.core.params import count_parameters
from albertviz.lessons.live_settings import train_config
from albertviz.training.data import Data
from albertviz.training.trainer import Trainer
from albertviz.zoo.cells import zoo_config


def synthetic_data(vocab_size: int, seq_len: int, n: int = 512, seed: int = 0) -> Data:
    """Random token chunks: enough to time a training step without reading the corpus."""
    gen = torch.Generator().manual_seed(seed)
    chunks = torch.randint(1000, vocab_size, (n, seq_len), generator=gen)
    special = torch.zeros(vocab_size, dtype=torch.bool)
    special[:5] = True
    idx = np.arange(n)
    return Data(chunks, idx[: n - 64], idx[n - 64:], special, 103)


def step_time_ratios(modes: Iterable[str] = SHARING_MODES, embedding: str = "full", steps: int = 20,
                     warmup_steps: int = 3, batch_size: int = 32, seq_len: int = 64,
                     data: Data | None = None) -> dict[str, dict]:
    """Measured training-step time per sharing mode for the zoo shape, side by side in one run.

    The models step in turn (round-robin) so that machine load hits all of them alike. MLM only
    (no teacher). Returns per mode: parameters, FLOPs per token, median step seconds, and both
    relative to not-shared (or to the first mode when 'none' is not measured).
    """
    modes = list(modes)
    data = data if data is not None else synthetic_data(zoo_config("none", embedding).vocab_size, seq_len)
    cfg = train_config(steps=steps + warmup_steps, batch_size=batch_size, seq_len=seq_len, warmup=1,
                       log_every=10 ** 9, eval_every=10 ** 9, eval_chunks=8)
    trainers, times = {}, {m: [] for m in modes}
    for m in modes:
        torch.manual_seed(0)
        trainers[m] = Trainer(MaskedLM(zoo_config(m, embedding)), data, cfg)
    for i in range(steps + warmup_steps):
        for m in modes:
            rec = trainers[m].step()
            if i >= warmup_steps:
                times[m].append(rec["step_time"])
    base = "none" if "none" in modes else modes[0]
    out = {}
    for m in modes:
        rep = count_parameters(zoo_config(m, embedding), include_head=True, seq_len=seq_len)
        out[m] = {"params": rep.total, "flops_per_token": rep.flops_per_token,
                  "median_step_s": statistics.median(times[m])}
    for m in modes:
        out[m]["params_ratio"] = out[m]["params"] / out[base]["params"]
        out[m]["flops_ratio"] = out[m]["flops_per_token"] / out[base]["flops_per_token"]
        out[m]["step_time_ratio"] = out[m]["median_step_s"] / out[base]["median_step_s"]
    return out


def step_time_rows(ratios: dict[str, dict]) -> list[dict]:
    """`step_time_ratios` output as the rows the step-time chart takes: arm (the sharing mode), params, step_ms."""
    return [{"arm": m, "model": labels.SHARING.get(m, m), "params": r["params"], "step_ms": 1000 * r["median_step_s"],
             "flops_per_token": r["flops_per_token"]} for m, r in ratios.items()]
