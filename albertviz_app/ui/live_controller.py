"""The Convergence page's live-training controller: settings from the widgets, ▶ Train / ⏹ Stop, and the poll.

A click runs its callback before the script: `train` parks the settings the widgets describe as pending, `stop`
raises a flag. Then, in the script, `poll` asks the shared registry for the pending run (ui.live_runs), watches
it until it ends or Stop is pressed, leaves it on Stop, and records what this session has: the run it follows
(`RUN`, also while it trains) and its finished runs by settings (`RESULTS`, pooled by the verdicts). The page
draws from `shown()` and `finished()` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from albertviz.lessons import live
from albertviz_app.ui import live_runs
from albertviz_app.ui.page import key

SLUG = "convergence"
RESULTS, RUN = key(SLUG, "results"), key(SLUG, "run")  # finished runs by settings; the run shown
PENDING, STOP_FLAG = key(SLUG, "pending"), key(SLUG, "stop_flag")  # set by the button callbacks


def k(name: str) -> str:
    return key(SLUG, name)


def settings_from_widgets() -> live.LiveSettings:
    """The settings the widgets describe (read from session state: callbacks run before the script)."""
    ss = st.session_state
    if ss[k("experiment")] == "same_shape":
        first = int(ss[k("seed")])
        return replace(live.LiveSettings.default("same_shape"), modes=tuple(ss[k("live_modes")]),
                       share_strategy=ss[k("strategy")], num_groups=int(ss[k("groups")]),
                       steps=int(ss[k("steps")]), lr=float(ss[k("lr")]), warmup=int(ss[k("warmup")]),
                       seeds=tuple(range(first, first + int(ss[k("seeds")]))))
    first = int(ss[k("lin_seed")])
    return replace(live.LiveSettings.default("equal_params"), layers=int(ss[k("lin_layers")]),
                   share_strategy=ss[k("lin_strategy")], steps=int(ss[k("lin_steps")]),
                   lr=float(ss[k("lin_lr")]), warmup=int(ss[k("lin_warmup")]),
                   seeds=tuple(range(first, first + int(ss[k("lin_seeds")]))),
                   lr_factors=tuple(sorted(float(f) for f in ss[k("lin_lr_factors")])),
                   sweep_warmups=tuple(sorted(int(w) for w in ss[k("lin_sweep_warmups")])),
                   flops_reference=bool(ss[k("lin_deep")]))


def train() -> None:
    st.session_state[STOP_FLAG] = False
    st.session_state[PENDING] = settings_from_widgets()  # asked for in poll() (a shared run: ui/live_runs.py)


def stop() -> None:
    st.session_state[STOP_FLAG] = True


def buttons(can_train: bool) -> None:
    b1, b2, _ = st.columns([1, 1, 4])
    b1.button("▶ Train", key=k("train"), on_click=train, type="primary", disabled=not can_train)
    b2.button("⏹ Stop", key=k("stop"), on_click=stop)


def poll(chart: Callable[[live.LiveRun], object], redraw_s: float) -> None:
    """Start the pending run, watch the followed one, leave it on Stop, and record what this session has."""
    ss = st.session_state
    ss.setdefault(RESULTS, {})
    if (pending := ss.pop(PENDING, None)) is not None:
        live_runs.request(pending)  # the one run with these settings, shared by every session that asks
    if not ss.get(STOP_FLAG) and live_runs.following():
        live_runs.watch(chart, redraw_s, stop_key=STOP_FLAG)
    if ss.pop(STOP_FLAG, False):
        live_runs.stop()
    if (shared := live_runs.handle()) is not None:
        if (view := shared.view()) is not None:
            ss[RUN] = view  # a finished run is the same object in every session
            if view.done:
                ss[RESULTS][view.settings] = view
        else:
            ss.pop(RUN, None)  # queued and given up: fall back to this session's last finished run
        live_runs.notice(shared)


def finished(experiment: str) -> list[live.LiveRun]:
    """This session's finished runs of one experiment, oldest first."""
    return [r for r in st.session_state.get(RESULTS, {}).values() if r.experiment == experiment]


def shown(experiment: str) -> live.LiveRun | None:
    """The run to draw: the one this session follows, if of this experiment, else its last finished one."""
    run = st.session_state.get(RUN)
    return run if run is not None and run.experiment == experiment else next(reversed(finished(experiment)), None)
