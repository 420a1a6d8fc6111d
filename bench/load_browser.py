"""A few real browser tabs next to the simulated students: what a student actually sees (issue 15's sample).

`make load` drives the class with protocol-level students (bench.load, bench.protocol); this module adds at most
`MAX_TABS` Playwright tabs (one Chromium, Debian's) doing the same things, so the report also says whether a real
page shows exception boxes or dialogs and whether any request leaves 127.0.0.1 (all such requests are blocked and
counted). A tab's latency runs from the click or Enter to the moment Streamlit reports the script finished and
nothing spins (the end-to-end tests' `wait_idle`), so it includes drawing. Its own CPU runs on the server's cores
here, which is why there are only a few (issue 15: twenty tabs took 366 of 418 CPU-seconds).
Before issue 15 this was the whole classroom load test (20 tabs); `python -m bench load_browser` still runs that.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time

from bench.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXCEPTION,
    RUN_COUNTER_JS,
    RUNS_JS,
    SELECTBOX,
    StreamlitServer,
    chromium_missing_message,
    key_css,
    wait_idle_async,
)
from bench.load import SENTENCES, WORDS  # one list of what simulated students type
from bench.timing import Result

SESSIONS = 20
MAX_TABS = 3  # alongside the protocol-level class
DURATION_S = 60.0
INTERACTION_TIMEOUT_S = 30.0
SETTLE_S = 0.15  # idle this long in a row = finished
ARRIVAL_S = 1.5  # students open the page one after another, not in the same millisecond
FIRST_LOAD_TIMEOUT_S = 300.0
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
GOALS = {"p95_s": 2.0, "errors": 0, "rss_growth_mb": 300.0}
SHARING = ["not shared (BERT)", "all-shared (ALBERT)", "shared FFN", "shared attention"]
EMBEDDING = ["full", "factorized", "hashed"]
PRESETS = ["bert-base", "albert-base", "albert-large", "bert-tiny", "albert-xxlarge"]


class Student:
    """One browser context = one Streamlit session, doing what a student does, timing each step."""

    def __init__(self, index: int, url: str, models: list[str], duration: float):
        self.index, self.url, self.models, self.duration = index, url, models, duration
        self.deadline = float("inf")  # set once the first page has loaded
        self.rng = random.Random(index)
        self.latencies: list[float] = []
        self.first_load: float | None = None
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.external: list[str] = []  # requests that tried to leave 127.0.0.1 (blocked)

    async def act(self, what: str, action) -> None:
        """Run one interaction and wait until Streamlit is idle; record latency or the error."""
        runs = await self.page.evaluate(RUNS_JS)
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(action(), INTERACTION_TIMEOUT_S)
            await wait_idle_async(self.page, timeout=INTERACTION_TIMEOUT_S, settle=SETTLE_S, since=runs)
        except Exception as err:  # noqa: BLE001 - every failure is a counted error, the run goes on
            self.errors.append(f"student {self.index}, {what}: {type(err).__name__}: {str(err)[:120]}")
            return
        self.latencies.append(time.perf_counter() - t0 - SETTLE_S)  # the settle time is ours, not the app's
        shown = await self.page.locator(EXCEPTION).count()
        broken = await self.page.get_by_text("Something went wrong").count()
        if shown or broken or self.dialogs:
            self.errors.append(f"student {self.index}, {what}: exception box {shown}, error message {broken}, "
                               f"dialogs {self.dialogs}")
            self.dialogs.clear()

    async def run(self, browser) -> None:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_init_script(RUN_COUNTER_JS)
        self.page = await context.new_page()

        async def offline(route):
            host = route.request.url.split("/")[2] if "://" in route.request.url else ""
            if route.request.url.startswith(("data:", "blob:", "about:")) or host.split(":")[0] in LOOPBACK:
                await route.continue_()
            else:
                self.external.append(route.request.url)
                await route.abort()

        await self.page.route("**/*", offline)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        try:
            await asyncio.sleep(self.index * ARRIVAL_S)
            t0 = time.perf_counter()
            start = "attention" if self.index % 2 == 0 else "parameters"
            await self.page.goto(f"{self.url}/{start}", wait_until="commit", timeout=FIRST_LOAD_TIMEOUT_S * 1000)
            await wait_idle_async(self.page, timeout=FIRST_LOAD_TIMEOUT_S)
            self.first_load = time.perf_counter() - t0
            self.deadline = time.monotonic() + self.duration  # each student works for the full duration
            on_attention = start == "attention"
            while time.monotonic() < self.deadline:
                for _ in range(self.rng.randint(2, 4)):
                    if time.monotonic() >= self.deadline:
                        break
                    await (self.attention_step() if on_attention else self.parameters_step())
                if time.monotonic() < self.deadline:
                    on_attention = not on_attention
                    slug = "attention" if on_attention else "parameters"
                    await self.act(f"open {slug}", lambda s=slug: self.page.locator(
                        f'[data-testid="stSidebarNav"] a[href$="/{s}"]').click())
        except Exception as err:  # noqa: BLE001
            self.errors.append(f"student {self.index}, session: {type(err).__name__}: {str(err)[:120]}")
        finally:
            await context.close()

    async def attention_step(self) -> None:
        page = self.page
        if self.rng.random() < 0.5:
            model = self.rng.choice(self.models)

            async def pick():
                await page.locator(key_css("attention.model")).locator(SELECTBOX).first.click()
                await page.get_by_role("option", name=model, exact=True).click()
            await self.act(f"pick model {model}", pick)
        else:
            text = f"{self.rng.choice(SENTENCES)} The {self.rng.choice(WORDS)} {self.rng.randint(1, 99)}."

            async def type_sentence():
                box = page.locator(f"{key_css('attention.text')} input")
                await box.fill(text)
                await box.press("Enter")
            await self.act("type a sentence", type_sentence)

    async def parameters_step(self) -> None:
        page = self.page
        choice = self.rng.random()
        if choice < 0.4:
            key, option = "parameters.sharing", self.rng.choice(SHARING)
        elif choice < 0.8:
            key, option = "parameters.embedding", self.rng.choice(EMBEDDING)
        else:
            preset = self.rng.choice(PRESETS)

            async def pick():
                await page.locator(key_css("parameters.preset")).locator(SELECTBOX).first.click()
                await page.get_by_role("option", name=preset, exact=True).click()
            await self.act(f"preset {preset}", pick)
            return

        async def click():
            await page.locator(f"{key_css(key)} label").filter(
                has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).click()
        await self.act(f"{key} {option}", click)


async def classroom(url: str, models: list[str], sessions: int, duration: float) -> list[Student]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            students = [Student(i, url, models, duration) for i in range(sessions)]
            bound = sessions * ARRIVAL_S + FIRST_LOAD_TIMEOUT_S + duration + 2 * INTERACTION_TIMEOUT_S
            await asyncio.wait_for(asyncio.gather(*(s.run(browser) for s in students)), bound)
        finally:
            await browser.close()
    return students


async def sample(url: str, models: list[str], tabs: int, duration: float) -> dict:
    """`tabs` (≤ MAX_TABS) browser students for `duration` s; run it alongside the protocol-level class."""
    tabs = max(0, min(tabs, MAX_TABS))
    if not tabs:
        return {}
    why = chromium_missing_message()
    if why:
        return {"errors": [f"browser sample not run: {why}"], "latencies": [], "external": [], "tabs": 0}
    students = await classroom(url, models, tabs, duration)
    return {"tabs": tabs, "latencies": [x for s in students for x in s.latencies],
            "errors": [e for s in students for e in s.errors], "external": [u for s in students for u in s.external]}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def warm_up(url: str, models: list[str]) -> None:
    """The teacher opens both pages once (and each model once) before class: first-load costs are not the class's."""
    from playwright.sync_api import sync_playwright

    from bench.browser import wait_idle

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_init_script(RUN_COUNTER_JS)
        page = context.new_page()
        page.goto(f"{url}/parameters", wait_until="commit", timeout=180_000)
        wait_idle(page, timeout=180)
        page.goto(f"{url}/attention", wait_until="commit", timeout=180_000)
        wait_idle(page, timeout=180)
        for model in models:
            runs = page.evaluate(RUNS_JS)
            page.locator(key_css("attention.model")).locator(SELECTBOX).first.click()
            page.get_by_role("option", name=model, exact=True).click()
            wait_idle(page, timeout=180, since=runs)
        browser.close()


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """Busy CPU seconds so far: the Streamlit server's, and the whole machine's.

    Here the classroom's browsers run on the same cores as the server (in class they run on the students'
    laptops), so the machine's busy time minus the server's says how much the browsers took. Browser
    processes are not counted one by one: their tabs exit, and their CPU time with them, before the end.
    """
    import psutil

    server = psutil.Process(server_pid).cpu_times()
    machine = psutil.cpu_times()
    return {"server": server.user + server.system,
            "machine": machine.user + machine.system + machine.nice + getattr(machine, "softirq", 0.0)}


def run(sessions: int = SESSIONS, duration: float = DURATION_S) -> list[Result]:
    why = chromium_missing_message()
    if why:
        raise SystemExit(why)
    from albertviz_app.ui.models import available_models, label

    models = [label(k) for k in available_models()]
    load_before = os.getloadavg()
    server = StreamlitServer().start(timeout=120)
    try:
        rss_start = server.rss()
        warm_up(server.url, models)
        rss_before = server.rss()
        t0, cpu0 = time.monotonic(), cpu_seconds(server.proc.pid)
        students = asyncio.run(classroom(server.url, models, sessions, duration))
        wall = time.monotonic() - t0
        cpu = {k: v - cpu0[k] for k, v in cpu_seconds(server.proc.pid).items()}
        rss_after = server.rss()
    finally:
        server.stop()
    load_after = os.getloadavg()

    latencies = [x for s in students for x in s.latencies]
    errors = [e for s in students for e in s.errors]
    first = [s.first_load for s in students if s.first_load is not None]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    growth = (rss_after - rss_before) / 1e6
    for e in errors[:20]:
        print("   error:", e)
    browsers = cpu["machine"] - cpu["server"]
    context = (f"{sessions} sessions × {duration:.0f} s on loopback, {len(latencies)} interactions "
               f"({len(latencies) / wall:.1f}/s over {wall:.0f} s); {len(models)} models; load average "
               f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; CPU during the class: server "
               f"{cpu['server']:.0f} s, the {sessions} browser tabs and the rest {browsers:.0f} s "
               f"(of {(os.cpu_count() or 1) * wall:.0f} s on {os.cpu_count()} cores)")
    return [
        Result("browser classroom: p95 interaction latency", round(p95, 2), "s", f"≤ {GOALS['p95_s']:g}",
               p95 <= GOALS["p95_s"], f"p50 {p50:.2f} s, max {max(latencies, default=float('nan')):.2f} s; "
               f"first page load p50 {percentile(first, 50):.1f} s, max {max(first, default=0):.1f} s; {context}"),
        Result("browser classroom: p50 interaction latency", round(p50, 2), "s", "–", None, context),
        Result("browser classroom: errors", len(errors), "", "0", not errors,
               "; ".join(errors[:3]) + (f" … and {len(errors) - 3} more" if len(errors) > 3 else "")),
        Result("browser classroom: server RSS growth", round(growth, 1), "MB", f"≤ {GOALS['rss_growth_mb']:g}",
               growth <= GOALS["rss_growth_mb"],
               f"{rss_before / 1e6:.0f} MB after warm-up (every model loaded once; {rss_start / 1e6:.0f} MB at "
               f"start) → {rss_after / 1e6:.0f} MB after the class"),
    ]
