"""Shared test helpers: the pages' location for AppTest, and reading the charts a page sent."""

import base64
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def page_file(slug: str) -> str:
    """Absolute path of views/<slug>.py (AppTest resolves relative paths against the test file)."""
    return str(ROOT / "views" / f"{slug}.py")


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
