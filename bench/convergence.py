"""Issue 6: training-step time per sharing mode for the zoo shape, and the live run's default wall time."""

from __future__ import annotations

import time

from albertviz.convergence import LiveRun, LiveSettings, live_data, step_time_ratios

from .timing import Result, as_served


def live_default_run() -> Result:
    """The Convergence page's default run (2 models × 1,000 steps), with the server's one torch thread."""
    with as_served():
        data = live_data()
        t0 = time.perf_counter()
        run = LiveRun(LiveSettings(), data)
        run.run()
        wall = time.perf_counter() - t0
    final = ", ".join(f"{r['sharing']} held-out loss {r['held_out_loss']:.2f} ({r['held_out_accuracy']:.0%})"
                      for r in run.summary())
    return Result(f"Convergence live run, page defaults ({' + '.join(run.settings.modes)}, "
                  f"{run.settings.steps} steps each, 1 thread)", round(wall, 1), "s", "≤ 60", wall <= 60, final)


def run() -> list[Result]:
    out = [live_default_run()]
    for mode, r in step_time_ratios(steps=20).items():
        out.append(Result(f"train step time, {mode} vs not-shared (zoo shape, batch 32×64)",
                          round(r["step_time_ratio"], 2), "×", "≈ 1 (FLOPs equal)", None,
                          f"parameters {r['params_ratio']:.2f}×, FLOPs/token {r['flops_ratio']:.2f}×, "
                          f"{r['median_step_s'] * 1000:.0f} ms/step"))
    return out
