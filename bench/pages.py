"""Issue 4: a page rerun after switching the model, with warm caches (goal ≤ 150 ms median)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from bench.timing import Result, as_served

ROOT = Path(__file__).resolve().parent.parent
SWITCHES = {"attention": "attention.model", "hidden_states": "hidden_states.model_a"}


def rerun_after_switch(slug: str, widget: str, models=("none-full", "all-full"), repeats: int = 8) -> Result:
    at = AppTest.from_file(str(ROOT / "albertviz_app" / "views" / f"{slug}.py"), default_timeout=300)
    at.run()
    for key in models:  # warm every cache the switch will hit
        at.selectbox(key=widget).set_value(key).run()
    times = []
    for i in range(repeats):
        at.selectbox(key=widget).set_value(models[i % 2])
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    if at.exception:
        raise RuntimeError(f"{slug} raised: {at.exception[0].value}")
    ms = statistics.median(times) * 1000
    return Result(f"{slug} page rerun after switching model (warm caches, AppTest)", round(ms), "ms", "≤ 150",
                  ms <= 150,
                  f"median of {repeats}, {models[0]} ↔ {models[1]}, {torch.get_num_threads()} torch thread(s)")


def run() -> list[Result]:
    out = []
    for slug, widget in SWITCHES.items():
        try:
            with as_served():  # AppTest runs the page script alone, without app.py's thread setting
                out.append(rerun_after_switch(slug, widget))
        except (KeyError, ValueError) as err:  # a widget key changed: report, don't hide
            out.append(Result(f"{slug} page rerun after switching model", float("nan"), "ms", "≤ 150", False,
                              f"could not drive the page: {err}"))
    return out
