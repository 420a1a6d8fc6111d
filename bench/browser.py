"""A real Streamlit server on loopback and a headless Chromium, shared by the end-to-end tests and `make load`.

Why one module: the browser tests (tests/e2e) and the classroom load test must start the app the same way a
teacher does (`streamlit run app.py`) and must agree on what "the page has finished running" means.
Debian's /usr/bin/chromium is used because Playwright's own browser download does not work here.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The DOM hooks Streamlit itself exposes (data-testid / data-test-* attributes of Streamlit ≥ 1.46).
APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
PLOTLY = '[data-testid="stPlotlyChart"]'
# What opens a selectbox's menu: the combobox's button since Streamlit 1.5x, the baseweb select before.
SELECTBOX = 'button[aria-haspopup="listbox"], [data-baseweb="select"]'


def key_css(key: str) -> str:
    """The CSS selector of the element with widget key `key`: Streamlit's class st-key-<key>, with every
    character outside [a-zA-Z0-9_-] (the '.' of 'attention.text') turned into '-', as its frontend does."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def chromium_missing_message() -> str | None:
    """Why the browser cannot run, in words a newcomer can act on (None when it can)."""
    if not Path(CHROMIUM).exists():
        return (f"Chromium is not installed at {CHROMIUM}: run `make browser` (apt-get install chromium). "
                "The end-to-end tests need it; Playwright's own browser download does not work here.")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "The Python package playwright is missing: run `make dev` (it is in requirements-dev.txt)."
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (psutil when installed, else /proc/<pid>/status)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class StreamlitServer:
    """`streamlit run app.py` on a free loopback port; `start()` returns once /_stcore/health answers."""

    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> StreamlitServer:
        streamlit = Path(sys.executable).with_name("streamlit")
        cmd = [str(streamlit), "run", "app.py", "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
        log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"streamlit did not answer {self.url}/_stcore/health within {timeout:.0f} s")

    def rss(self) -> int:
        return rss_bytes(self.proc.pid) if self.proc else 0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# Installed in every page (context.add_init_script): counts the script runs Streamlit starts, so a test can
# tell "the rerun I caused has finished" from "the rerun has not started yet".
RUN_COUNTER_JS = """
window.__stRuns = 0;
new MutationObserver(records => {
  for (const r of records) {
    if (r.target.getAttribute('data-test-script-state') === 'running' && r.oldValue !== 'running') window.__stRuns++;
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
RUNS_JS = "() => window.__stRuns || 0"

# JavaScript that is true when the app is connected, its script has finished and nothing is spinning.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]')) return false;
  return !!document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]');
}"""
STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const n = sel => document.querySelectorAll(sel).length;
  return app ? `connection ${app.getAttribute('data-test-connection-state')}, script `
    + `${app.getAttribute('data-test-script-state')}, ${n('[data-testid="stSpinner"]')} spinners, `
    + `${n('[data-testid="stSkeleton"]')} skeletons, ${n('[data-testid="stElementContainer"]')} elements`
    : 'the Streamlit app has not mounted';
}"""
START_WAIT_S = 3.0  # an interaction that starts no rerun within this long (same value typed again) caused none


def wait_idle(page, timeout: float = 60.0, settle: float = 0.2, since: int | None = None,
              also: str | None = None) -> float:
    """Block until Streamlit has finished running the page (sync Playwright page), bounded by `timeout`.

    `since`: the run count (RUNS_JS) read before the interaction; we first wait (briefly) for a newer run
    to start, then for the page to look idle for `settle` seconds in a row. `also`: a JavaScript predicate
    that must hold too. Returns the time.monotonic() at which the page became idle (and stayed so).
    """
    deadline = time.monotonic() + timeout
    if since is not None:
        # A run the counter never saw (a short run can start and end between two renders of a busy page, so
        # 'running' never reaches the DOM) would cost START_WAIT_S: `also` holding ends the wait too.
        start_by = time.monotonic() + START_WAIT_S
        while (time.monotonic() < start_by and page.evaluate(RUNS_JS) <= since
               and not (also is not None and page.evaluate(also))):
            page.wait_for_timeout(25)
    calm_since = None
    while time.monotonic() < deadline:
        if page.evaluate(IDLE_JS) and (also is None or page.evaluate(also)):
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= settle:
                return calm_since
        else:
            calm_since = None
        page.wait_for_timeout(50)
    raise TimeoutError(f"the page was still running after {timeout:.0f} s ({page.evaluate(STATE_JS)})")


async def wait_idle_async(page, timeout: float = 60.0, settle: float = 0.2, since: int | None = None) -> None:
    """`wait_idle` for Playwright's async API (the load test)."""
    deadline = time.monotonic() + timeout
    if since is not None:
        start_by = time.monotonic() + START_WAIT_S
        while time.monotonic() < start_by and await page.evaluate(RUNS_JS) <= since:
            await page.wait_for_timeout(25)
    calm_since = None
    while time.monotonic() < deadline:
        if await page.evaluate(IDLE_JS):
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= settle:
                return
        else:
            calm_since = None
        await page.wait_for_timeout(50)
    raise TimeoutError(f"the page was still running after {timeout:.0f} s ({await page.evaluate(STATE_JS)})")
