"""A live run left training keeps going while its student reads another page (issue 15 leases, issue 16 item 5).

A session's place in a run is a lease (`albertviz.lessons.runs`): Convergence renews it while it watches, and
every other page renews it from a timer the browser drives (`ui.live_runs.keep_place`). The server here has a
4-second lease, so a student who spends 15 s on Attention would have lost the run three times over without
those renewals. Its own server, with an empty runs folder: the run must really train, not come from disk.
"""

from __future__ import annotations

import re

import pytest

from bench.browser import APP, RUN_COUNTER_JS, StreamlitServer, key_css, wait_idle

pytestmark = pytest.mark.slow
LEASE_S = 4
PROGRESS = re.compile(r"step (\d+) / (\d+)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live_runs")
    log = tmp_path_factory.mktemp("logs") / "streamlit.log"
    srv = StreamlitServer(env={"ALBERTVIZ_LIVE_LEASE_S": str(LEASE_S), "ALBERTVIZ_LIVE_RUNS": str(folder)},
                          log_path=log)
    srv.start(timeout=180)
    yield srv
    srv.stop()


def step_shown(page) -> int | None:
    bar = page.locator('[data-testid="stProgress"]')
    if not bar.count():
        return None
    m = PROGRESS.search(bar.first.inner_text())
    return int(m.group(1)) if m else None


def go_to(page, slug: str) -> None:
    """Through the app's own menu: the same Streamlit session (a typed URL would start a new one)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{slug}"]').first.click()
    page.wait_for_url(re.compile(f"/{slug}"), timeout=60_000)


def test_a_run_keeps_training_while_its_student_reads_another_page(chromium, server):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(300_000)
    context.add_init_script(RUN_COUNTER_JS)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/convergence", wait_until="commit")
        page.wait_for_selector(APP)
        wait_idle(page, timeout=300)
        page.locator(f"{key_css('convergence.train')} button").first.click()  # no waiting: it trains for a minute
        page.wait_for_function("() => /step \\d+ \\//.test(document.querySelector("
                               "'[data-testid=\"stProgress\"]')?.innerText || '')", timeout=180_000)
        left_at = step_shown(page)
        assert left_at is not None
        go_to(page, "attention")
        wait_idle(page, timeout=300)
        page.wait_for_timeout(int(LEASE_S * 3.5 * 1000))  # three and a half leases on another page
        go_to(page, "convergence")
        page.wait_for_function("() => /step \\d+ \\//.test(document.querySelector("
                               "'[data-testid=\"stProgress\"]')?.innerText || '')", timeout=60_000)
        back_at = step_shown(page)
        text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
        assert "lapsed" not in text and "left the queue" not in text, text[:800]
        assert back_at is not None and back_at > left_at, (left_at, back_at)
        assert not page.locator('[data-testid="stException"]').count()
    finally:
        context.close()
