"""bertviz's d3 and jQuery served once as static files instead of inside every view (issue 15).

Streamlit serves `static/` next to app.py at `<baseUrlPath>/app/static/` when `server.enableStaticServing` is on
(.streamlit/config.toml). At startup we copy the two files there from the installed packages (the same copies the
inlined views use) and point albertviz.figures.bertviz_offline at them. If static serving is off, or the folder
cannot be
written (a read-only install), the views simply stay self-contained: slower to send, never broken.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import streamlit as st

from albertviz.figures import bertviz_offline

FOLDER = "bertviz"


def assets_url(base_url_path: str) -> str:
    """Where the browser finds the files: Streamlit's static route under the server's base URL path."""
    base = base_url_path.strip("/")
    return f"/{base}/app/static/{FOLDER}" if base else f"/app/static/{FOLDER}"


@lru_cache(maxsize=1)
def serve_bertviz_assets(static: Path) -> str | None:
    """Once per process: export the files into `static` (Streamlit's folder, next to the script it runs) and
    switch the views to them. Returns the URL path, or None (views stay inline)."""
    if not st.get_option("server.enableStaticServing"):
        return None
    try:
        bertviz_offline.export_assets(static / FOLDER)
    except (OSError, bertviz_offline.OfflineAssetError) as err:
        logging.getLogger(__name__).warning("bertviz views stay inlined: cannot write %s (%s)", static / FOLDER, err)
        return None
    url = assets_url(st.get_option("server.baseUrlPath") or "")
    bertviz_offline.serve_assets_from(url)
    return url
