"""One real `streamlit run app.py` and one headless Chromium for every browser test.

The fixtures fail (never skip) when Chromium or Playwright is missing, so `make test` cannot pass
without having looked at the app in a browser. Each test gets a fresh browser context, i.e. a new
Streamlit session, with a dialog listener: any alert()/confirm() — the sign of injected script — fails it.
Requests that leave 127.0.0.1 are blocked and recorded: the app must work offline.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bench.browser import (
    APP,
    EXCEPTION,
    PLOTLY,
    RUN_COUNTER_JS,
    RUNS_JS,
    SELECTBOX,
    StreamlitServer,
    chromium_missing_message,
    key_css,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
PAGE_TIMEOUT_S = 300  # bounded: a page still running after this is a failure, not a hang (generous: 2 shared cores)
MAX_SCREENSHOT_HEIGHT = 7000


@pytest.fixture(scope="session")
def server():
    why = chromium_missing_message()
    if why:
        pytest.fail(why, pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    srv = StreamlitServer(log_path=ARTIFACTS / "streamlit-e2e.log")
    srv.start(timeout=120)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser(server, chromium):
    return chromium


class App:
    """A browser tab on the app with the few moves a student makes, each followed by waiting for the rerun."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.dialogs: list[str] = []
        self.external: list[str] = []

    # navigation and waiting
    def visit(self, slug: str) -> App:
        self.page.goto(f"{self.url}/{slug}", wait_until="commit", timeout=PAGE_TIMEOUT_S * 1000)
        self.page.wait_for_selector(APP, timeout=PAGE_TIMEOUT_S * 1000)
        return self.idle()

    def idle(self, since: int | None = None) -> App:
        wait_idle(self.page, timeout=PAGE_TIMEOUT_S, since=since)
        return self

    def runs(self) -> int:
        """How many script runs this tab has seen; read it before an interaction, pass it to idle()."""
        return self.page.evaluate(RUNS_JS)

    def act(self, action) -> App:
        """Do something in the page, then wait for the rerun it causes to finish."""
        runs = self.runs()
        action()
        return self.idle(since=runs)

    # what rendered
    def exceptions(self) -> list[str]:
        return self.page.locator(EXCEPTION).all_inner_texts()

    def assert_healthy(self) -> None:
        """No exception box, no dialog, no request that left the machine."""
        assert not self.exceptions(), f"Streamlit exception box on the page: {self.exceptions()}"
        assert not self.dialogs, f"a JavaScript dialog fired: {self.dialogs}"
        assert not self.external, f"the page asked the internet for {self.external}"

    def charts(self, key: str | None = None) -> int:
        where = f"{key_css(key)} " if key else ""
        return self.page.locator(f"{where}{PLOTLY} .js-plotly-plot").count()

    def alerts(self) -> list[str]:
        return self.page.locator('[data-testid="stAlert"]').all_inner_texts()

    def metric(self, label: str) -> str:
        box = self.page.locator('[data-testid="stMetric"]').filter(
            has=self.page.locator('[data-testid="stMetricLabel"]', has_text=label)).first
        return box.locator('[data-testid="stMetricValue"]').inner_text()

    def text(self) -> str:
        return self.page.locator('[data-testid="stMainBlockContainer"]').inner_text()

    # widgets, found by their stable key (Streamlit gives the element the class st-key-<key>: bench.browser.key_css)
    def widget(self, key: str):
        return self.page.locator(key_css(key))

    def type(self, key: str, value: str) -> App:
        """Fill a text box and submit it (Enter; Ctrl+Enter in a text area)."""
        box = self.widget(key).locator("input, textarea").first

        def submit():
            box.fill(value)
            box.press("Enter" if box.evaluate("e => e.tagName") == "INPUT" else "Control+Enter")
        return self.act(submit)

    def radio(self, key: str, option: str) -> App:
        label = self.widget(key).locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$"))
        return self.act(label.click)

    def open_menu(self, key: str, tries: int = 3) -> None:
        """Open a selectbox's list of options (a combobox since Streamlit 1.5x, a baseweb select before).

        The list closes again when the page scrolls (charts re-laying out below it), so the box is scrolled
        into view first and the click is repeated if no option shows up.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        opener = self.widget(key).locator(SELECTBOX).first
        for attempt in range(tries):
            opener.scroll_into_view_if_needed()
            self.page.wait_for_timeout(300)
            opener.click()
            try:
                self.page.get_by_role("option").first.wait_for(timeout=5_000)
                return
            except PlaywrightTimeout:
                if attempt == tries - 1:
                    raise

    def select(self, key: str, option: str) -> App:
        def pick():
            self.open_menu(key)
            self.page.get_by_role("option", name=option, exact=True).click()
        return self.act(pick)

    def options(self, key: str) -> list[str]:
        """The choices of a selectbox (opens and closes its menu)."""
        self.open_menu(key)
        names = self.page.get_by_role("option").all_inner_texts()
        self.page.keyboard.press("Escape")
        return [n.strip() for n in names]

    def click(self, key: str) -> App:
        return self.act(self.widget(key).locator("button").first.click)

    def screenshot(self, slug: str) -> Path:
        """A full-page PNG: Streamlit scrolls inside its main container, so the viewport is grown to fit it."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.page.evaluate(
            "() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer'].map("
            "id => document.querySelector(`[data-testid=\"${id}\"]`)?.scrollHeight || 0))")
        self.page.set_viewport_size({"width": VIEWPORT["width"],
                                     "height": int(min(max(height, VIEWPORT["height"]), MAX_SCREENSHOT_HEIGHT))})
        self.page.wait_for_timeout(800)  # let plotly re-layout to the new size
        path = SCREENSHOTS / f"{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(VIEWPORT)
        return path


@pytest.fixture
def app(browser, server):
    """A fresh session (browser context) on the running app."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    context.add_init_script(RUN_COUNTER_JS)
    a = App(context.new_page(), server.url)

    def on_dialog(dialog):
        a.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def offline(route):
        a.external.append(route.request.url)
        route.abort()

    a.page.on("dialog", on_dialog)
    context.route(re.compile(r"^(?!(http|ws)://127\.0\.0\.1[:/])(https?|wss?)://"), offline)
    started = time.monotonic()
    yield a
    context.close()
    a.elapsed = time.monotonic() - started
