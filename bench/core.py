"""Issue 2: counting every preset, and forward-with-attentions against HF BertModel (eager)."""

from __future__ import annotations

import time

import torch
from transformers import BertConfig, BertModel

from albertviz import PRESETS, count_parameters, from_hf
from bench.timing import Result, interleaved


def count_all_presets() -> Result:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for cfg in PRESETS.values():
            count_parameters(cfg)
        times.append(time.perf_counter() - t0)
    ms = min(times) * 1000
    return Result("count every preset (11 configs, cold, built on meta)", round(ms, 1), "ms", "≤ 50", ms <= 50)


def forward_vs_hf() -> Result:
    cfg = BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=6, num_attention_heads=4,
                     intermediate_size=512, attn_implementation="eager")
    torch.manual_seed(0)
    hf = BertModel(cfg).eval()
    ours = from_hf(hf)
    ids = torch.randint(0, 30522, (1, 64))

    def run_hf():
        with torch.inference_mode():
            hf(ids, output_attentions=True, output_hidden_states=True)

    def run_ours():
        with torch.inference_mode():
            ours(ids, output_attentions=True)

    t = interleaved({"hf": run_hf, "ours": run_ours}, repeats=200, warmup=10)
    ratio = t["ours"] / t["hf"]
    return Result("forward with attentions, L6 H128, 64 tokens: albertviz / HF eager", round(ratio, 3), "×",
                  "≤ 0.8", ratio <= 0.8, f"albertviz {t['ours'] * 1e3:.2f} ms, HF {t['hf'] * 1e3:.2f} ms")


def run() -> list[Result]:
    return [count_all_presets(), forward_vs_hf()]
