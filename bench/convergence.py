"""Issue 6: training-step time per sharing mode for the zoo shape, next to parameters and FLOPs."""

from __future__ import annotations

from albertviz.convergence import step_time_ratios

from .timing import Result


def run() -> list[Result]:
    out = []
    for mode, r in step_time_ratios(steps=20).items():
        out.append(Result(f"train step time, {mode} vs not-shared (zoo shape, batch 32×64)",
                          round(r["step_time_ratio"], 2), "×", "≈ 1 (FLOPs equal)", None,
                          f"parameters {r['params_ratio']:.2f}×, FLOPs/token {r['flops_ratio']:.2f}×, "
                          f"{r['median_step_s'] * 1000:.0f} ms/step"))
    return out
