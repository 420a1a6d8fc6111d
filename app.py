"""albertviz: `streamlit run app.py` (or `make run`). Page config, torch threads and navigation only."""

import os

import streamlit as st
import torch

from ui.nav import navigation
from ui.static_assets import serve_bertviz_assets

# One intra-op thread per request. On 2 cores shared by several sessions (and, in class, the browsers), a
# 2-thread pool waits for its busy partner: 150 live-training rounds took 57 s with one core busy vs 5 s idle;
# with 1 thread, 6.3 s either way, and page reruns are no slower (bench, which times pages with this setting:
# bench.timing.SERVED_THREADS). ALBERTVIZ_TORCH_THREADS overrides.
THREADS = int(os.environ.get("ALBERTVIZ_TORCH_THREADS", "1"))
if torch.get_num_threads() != THREADS:
    torch.set_num_threads(THREADS)

st.set_page_config(page_title="albertviz — parameter sharing, seen", page_icon="🔁", layout="wide")
serve_bertviz_assets()  # once per process: bertviz's d3/jQuery as static files, not in every view
st.navigation(navigation()).run()  # ui/nav.py: every page, plus hidden aliases so /home or /Attention open a page
