"""The Convergence page's side of shared live runs: one registry per server process, one place per session.

`albertviz.lessons.runs.RunRegistry` trains each distinct run once, in worker threads, and queues the rest.
Here a session
gets an id of its own (AppTest gives every session the same Streamlit id), asks the registry for its run, and
watches it: while the run waits or trains, the page's script polls it every `POLL_S` seconds, renewing the
session's lease and redrawing the chart. A browser that goes away stops the script (Streamlit asks it to stop at
the next yield), the lease is no longer renewed, and the place is released when it expires. Polling inside one
script run, rather than a rerun per refresh, keeps the server from paying a full rerun (and its post-run garbage
collection) every couple of seconds for each watching student.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import streamlit as st

from albertviz.lessons import live, live_settings, run_limits, run_store, runs, shared_run
from albertviz_app.ui.export import frozen
from albertviz_app.ui.feedback import error

POLL_S = 0.5  # how often a watching page looks at its run: also how soon it notices a click (a yield point)
SESSION_KEY = "convergence.live_session"
HANDLE_KEY = "convergence.shared"
OUTCOME_KEY = "convergence.left"  # what this session's last Stop did to its run (for the notice)


@st.cache_resource(show_spinner=False)
def registry() -> runs.RunRegistry:
    """The server's one registry: every session's runs, the queue and its workers (`ALBERTVIZ_LIVE_WORKERS`)."""
    return runs.RunRegistry(live_settings.live_data, workers=run_limits.workers_from_env(),
                            folder=run_store.runs_folder(), lease_s=run_limits.lease_from_env())


def session_id() -> str:
    ss = st.session_state
    if SESSION_KEY not in ss:
        ss[SESSION_KEY] = uuid.uuid4().hex
    return ss[SESSION_KEY]


def handle() -> shared_run.SharedRun | None:
    """The shared run this session last asked for (finished, in progress, queued, or given up)."""
    return st.session_state.get(HANDLE_KEY)


def request(settings: live_settings.LiveSettings) -> shared_run.SharedRun:
    """Ask for the run with these settings: shared with every session that asks for the same."""
    run = registry().request(settings, session_id())
    st.session_state[HANDLE_KEY] = run
    st.session_state.pop(OUTCOME_KEY, None)
    return run


def following() -> bool:
    """Whether this session holds a place in an active run (queued or training) and should watch it."""
    run = handle()
    return run is not None and run.active and registry().holds(run, session_id())


def _renew_place() -> None:
    run = handle()
    if run is not None and run.active:
        registry().renew(run, session_id())


def keep_place(page_slug: str) -> None:
    """On every page but Convergence (whose own poll renews it), keep this session's place in the run it
    left training: a student who reads another page meanwhile must find the run still going, not stopped."""
    if page_slug != "convergence" and following():
        # A fragment timer the browser drives, three renewals per lease: it stops when the tab closes, so an
        # abandoned place still lapses.
        st.fragment(_renew_place, run_every=registry().lease_s / 3)()


def stop(wait_s: float = 10.0) -> str | None:
    """Leave the run (see `RunRegistry.stop`); when that stops it, wait for its worker to finish the round."""
    run = handle()
    if run is None:
        return None
    outcome = registry().stop(run, session_id())
    deadline = time.monotonic() + wait_s
    while outcome == "stopping" and run.state == shared_run.RUNNING and time.monotonic() < deadline:
        registry().wait(run, 0.1)
    st.session_state[OUTCOME_KEY] = outcome
    return outcome


def seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min"


def queue_text(reg: runs.RunRegistry, run: shared_run.SharedRun) -> str:
    pos, est = reg.position(run), reg.estimate(run)
    if pos is None or est is None:
        return "Starting…"
    where = "next in line" if pos == 1 else f"number {pos} in the queue"
    others = len(run.sessions) - 1
    return (f"**Waiting for a free trainer: {where}.** This server trains {reg.workers} run"
            f"{'s' if reg.workers > 1 else ''} at once, in the order they were asked for. It should start in "
            f"≈ {seconds(est.start_s)} and then take ≈ {seconds(est.train_s)} (estimated from {est.basis}; the "
            "machine is shared, so take it as a rough guide)."
            + (f" {others} other session{'s' if others > 1 else ''} asked for the same run: it trains once for "
               "all of you." if others > 0 else "")
            + " ⏹ Stop gives your place up.")


def progress_text(reg: runs.RunRegistry, run: shared_run.SharedRun, view: live.LiveRun) -> str:
    others = len(run.sessions) - 1
    return (f"step {view.rounds} / {view.settings.steps} · ≈ {seconds(reg.remaining_s(run))} left"
            + (f" · trained once for you and {others} other session{'s' if others > 1 else ''}" if others > 0
               else ""))


@st.cache_resource(max_entries=64, show_spinner=False)
def _progress_figure(run_key: str, rounds: int, _view: live.LiveRun, _chart: Callable[[live.LiveRun], object]):
    """The run's chart at `rounds`, built once for every session watching it (a class shares one run)."""
    return frozen(_chart(_view))


def watch(chart: Callable[[live.LiveRun], object], redraw_s: float, stop_key: str) -> None:
    """Show the followed run's queue place or progress until it ends, this session leaves it, or Stop is pressed.

    `stop_key`: the session-state flag the Stop button sets (read every poll, which is also where Streamlit
    interrupts this loop for a rerun or a closed browser).
    """
    reg, sid, run = registry(), session_id(), handle()
    status, bar, plot = st.empty(), st.empty(), st.empty()
    shown_text, drawn_at, drawn_rounds = None, 0.0, -1
    while run is not None and run.active and not st.session_state.get(stop_key):
        if not reg.renew(run, sid):
            break  # the lease ran out (the page was away too long): the notice below says so
        view = run.view() if run.state == shared_run.RUNNING else None
        if run.state == shared_run.QUEUED:
            text = queue_text(reg, run)
            if text != shown_text:
                status.info(text, icon="⏳")
        elif view is None and run.elsewhere:
            text = ("Another replica of this server is training this very run (same settings and seeds); it "
                    "appears here when that replica finishes it. Nothing is trained twice.")
            if text != shown_text:
                status.info(text, icon="👥")
        elif view is None:
            text = "Building the models and scoring them once before training…"
            if text != shown_text:
                status.info(text, icon="🛠")
        else:
            text = progress_text(reg, run, view)
            if text != shown_text:
                status.empty()
                bar.progress(min(1.0, view.rounds / view.settings.steps), text)
            now = time.monotonic()
            if view.rounds != drawn_rounds and now - drawn_at >= redraw_s:
                plot.plotly_chart(_progress_figure(run.key, view.rounds, view, chart),
                                  key=f"convergence.live.{view.rounds}")
                drawn_at, drawn_rounds = now, view.rounds
        shown_text = text
        reg.wait(run, POLL_S)
    for placeholder in (status, bar, plot):
        placeholder.empty()


def notice(run: shared_run.SharedRun) -> None:
    """Say why a run this session asked for is not (or no longer) shown as training for it."""
    outcome = st.session_state.get(OUTCOME_KEY)
    if run.state == shared_run.FAILED:
        error(f"The live run failed: {run.error}. Press ▶ Train to try again.")
    elif run.state == shared_run.CANCELLED:
        st.info("Your run left the queue before it started (Stop, or the page was away for more than "
                f"{registry().lease_s:.0f} s). Press ▶ Train to queue it again.", icon="⏹")
    elif run.active and not registry().holds(run, session_id()):
        n = len(run.sessions)
        why = "You stopped following this run" if outcome == "continues" else (
            f"Your place lapsed (the page was away for more than {registry().lease_s:.0f} s)")
        doing = "training" if run.state == shared_run.RUNNING else "waiting"
        st.info(f"{why}; {n} other session{'s' if n != 1 else ''} still follow{'s' if n == 1 else ''} it, so it "
                f"goes on {doing} for them. Press ▶ Train to follow it again — it is the same run, nothing is "
                "trained twice.",
                icon="👥")
