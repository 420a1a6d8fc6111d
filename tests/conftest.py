"""Shared test helpers: the pages' location for AppTest, and reading the charts a page sent."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def page_file(slug: str) -> str:
    """Absolute path of albertviz_app/views/<slug>.py (AppTest resolves relative paths against the test file)."""
    return str(ROOT / "albertviz_app" / "views" / f"{slug}.py")


def charts(at) -> dict[str, dict]:
    """Plotly figures on an AppTest page by widget key, as the browser receives them."""
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def values(data) -> np.ndarray:
    """Plotly ≥ 6 sends numpy arrays as {'dtype', 'bdata' (base64), 'shape'}; lists stay lists."""
    if isinstance(data, dict) and "bdata" in data:
        arr = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = [int(n) for n in str(data.get("shape", len(arr))).split(",")]
        return arr.reshape(shape).astype(float)
    return np.asarray(data, dtype=float)


def grid_panels(trace: dict) -> dict[tuple[int, int], np.ndarray]:
    """The head grid's maps by (layer, head), 1-based, read off the mosaic by its row and column names
    ("layer 3 · query #5", "head 2 · key #7"), as a student's hover reads them — not by the builder's offsets."""
    z = values(trace["z"])
    rows, cols = {}, {}
    for axis, names in ((rows, trace["y"]), (cols, trace["x"])):
        for i, name in enumerate(names):
            if " · " in name:
                axis.setdefault(int(name.split(" · ")[0].split()[1]), []).append(i)
    return {(r, c): z[np.ix_(ri, ci)] for r, ri in rows.items() for c, ci in cols.items()}


@pytest.fixture(scope="session")
def chromium():
    """The one headless Chromium of the whole run.

    Playwright's sync API keeps its event loop alive for as long as it is open, and a second
    `sync_playwright()` inside that loop is refused; so every browser test shares this one.
    Fails (never skips) when Chromium or Playwright is missing: `make test` must look at the app.
    """
    from bench.browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing_message

    why = chromium_missing_message()
    if why:
        pytest.fail(why, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
