"""Issues 6 and 14: the Convergence page's default live runs (both experiments), their time per round measured
side by side, and training-step time per sharing mode for the zoo shape."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from albertviz.lessons import verdicts
from albertviz.lessons.live import LiveRun
from albertviz.lessons.live_settings import LiveSettings, frequency_only_loss, live_data
from albertviz.lessons.step_time import step_time_ratios
from bench.timing import Result, as_served


def default_run(experiment: str) -> Result:
    """One experiment's page defaults, trained to the end with the server's one torch thread."""
    with as_served():
        data = live_data()
        t0 = time.perf_counter()
        run = LiveRun(LiveSettings.default(experiment), data)
        run.run()
        wall = time.perf_counter() - t0
    s = run.settings
    finals = ", ".join(f"{r['model']}: held-out loss {verdicts.Spread.of(list(run.losses()[r['arm']].values())).text()}"
                       f" ({r['step_ms']:.0f} ms/step)" for r in run.summary())
    if experiment == "equal_params":
        lines = verdicts.lin_verdict(run.losses(), run.short_labels(), run.flops_ratio(), len(run.sweep_rows()),
                                     run.tuned_key() == "unshared", run.rounds, frequency_only_loss(data))
        finals += ". Verdict: " + " ".join(lines)
    return Result(f"Convergence live run, {experiment.replace('_', ' ')} defaults ({run.runs_used()} models, "
                  f"{s.steps} steps each, {len(s.seeds)} seed{'s' if len(s.seeds) > 1 else ''}, 1 thread)",
                  round(wall, 1), "s", "≤ 60", wall <= 60, finals)


def round_time_ratio(rounds: int = 40, warmup: int = 5) -> Result:
    """Time per round of the equal-parameter defaults over the same-shape defaults, measured in one process in turn.

    On a busy machine absolute times mean little; this ratio times the same-shape default's idle wall time
    extrapolates the equal-parameter default's.
    """
    with as_served():
        data = live_data()
        runs = {e: LiveRun(replace(LiveSettings.default(e), steps=10 ** 6), data)
                for e in ("same_shape", "equal_params")}
        times: dict[str, list[float]] = {e: [] for e in runs}
        for i in range(rounds + warmup):
            for e, r in runs.items():
                t0 = time.perf_counter()
                r.round()
                if i >= warmup:
                    times[e].append(time.perf_counter() - t0)
    med = {e: statistics.median(v) for e, v in times.items()}
    arms = "; ".join(f"{arm}: {1000 * statistics.median(c.step_time[warmup:]):.1f} ms"
                     for (arm, seed), c in runs["equal_params"].curves.items() if seed == 0)
    return Result("equal-parameter default vs same-shape default, time per round (side by side)",
                  round(med["equal_params"] / med["same_shape"], 2), "×", "× same-shape wall ≤ 60 s", None,
                  f"{1000 * med['same_shape']:.0f} vs {1000 * med['equal_params']:.0f} ms per round; per-step medians "
                  f"of the equal-parameter arms (seed 0): {arms}")


def run() -> list[Result]:
    out = [default_run("same_shape"), default_run("equal_params"), round_time_ratio()]
    for mode, r in step_time_ratios(steps=20).items():
        out.append(Result(f"train step time, {mode} vs not-shared (zoo shape, batch 32×64)",
                          round(r["step_time_ratio"], 2), "×", "≈ 1 (FLOPs equal)", None,
                          f"parameters {r['params_ratio']:.2f}×, FLOPs/token {r['flops_ratio']:.2f}×, "
                          f"{r['median_step_s'] * 1000:.0f} ms/step"))
    return out
