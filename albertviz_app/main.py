"""The app's entry: page config, torch threads and navigation only (`app.py` in a clone; `albertviz serve`)."""

import os
from pathlib import Path

import streamlit as st
import torch

from albertviz_app.ui import live_runs
from albertviz_app.ui.nav import navigation
from albertviz_app.ui.static_assets import serve_bertviz_assets

# One intra-op thread per request. On 2 cores shared by several sessions (and, in class, the browsers), a
# 2-thread pool waits for its busy partner: 150 live-training rounds took 57 s with one core busy vs 5 s idle;
# with 1 thread, 6.3 s either way, and page reruns are no slower (bench, which times pages with this setting:
# bench.timing.SERVED_THREADS). ALBERTVIZ_TORCH_THREADS overrides.
THREADS = int(os.environ.get("ALBERTVIZ_TORCH_THREADS", "1"))


def main(script_dir: Path) -> None:
    """Run one page. `script_dir` is the folder of the script Streamlit runs: its `static/` is served."""
    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    st.set_page_config(page_title="albertviz — parameter sharing, seen", page_icon="🔁", layout="wide")
    serve_bertviz_assets(script_dir / "static")  # once per process: bertviz's d3/jQuery as static files
    page = st.navigation(navigation())  # ui/nav.py: every page, plus hidden aliases so /home or /Attention open one
    live_runs.keep_place(page.url_path)  # a live run left training keeps its place while the student reads on
    page.run()
