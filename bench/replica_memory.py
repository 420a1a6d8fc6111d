"""`python -m bench replica_memory`: what one replica costs in memory (README "Serving a class").

One fresh `streamlit run app.py`, one protocol-level student visiting every page in menu order, then every zoo
model on the Attention page; the server's RSS after each step, once it is idle again. A teacher sizing a server
multiplies the last figure by the number of replicas (each process loads its own copies of the models).
"""

from __future__ import annotations

import asyncio

from bench.load import ServerProbe, SingleServer
from bench.protocol import Session, run_sync
from bench.timing import Result


def run() -> list[Result]:
    server = SingleServer({}).start()
    steps: list[tuple[str, float]] = []
    errors: list[str] = []
    try:
        probe = ServerProbe(server.pids)
        probe.quiet(timeout=10)
        steps.append(("started", probe.rss() / 1e6))

        async def visit():
            async with Session(server.url, timeout=600) as s:
                r = await s.open("")
                errors.extend(r.errors)
                await asyncio.to_thread(probe.quiet, 10)
                steps.append(("home", probe.rss() / 1e6))
                for slug in [p for p in s.pages if p]:
                    r = await s.goto(slug)
                    errors.extend(r.errors)
                    await asyncio.to_thread(probe.quiet, 10)
                    steps.append((slug, probe.rss() / 1e6))
                await s.goto("attention")
                models = s.widget("attention.model").options
                for m in models:
                    errors.extend((await s.set("attention.model", m)).errors)
                await asyncio.to_thread(probe.quiet, 10)
                steps.append((f"attention, all {len(models)} models", probe.rss() / 1e6))

        run_sync(visit())
    finally:
        server.stop()
    detail = "; ".join(f"{name} {mb:.0f} MB" for name, mb in steps)
    return [Result("memory of one idle replica after visiting every page and model", round(steps[-1][1]), "MB",
                   "–", None, f"{detail}; {len(errors)} errors {errors[:2]}")]
