"""albertviz: `streamlit run app.py` (or `make run`). Page config and navigation only."""

import streamlit as st

from ui.nav import PAGES

st.set_page_config(page_title="albertviz — parameter sharing, seen", page_icon="🔁", layout="wide")
st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.slug, default=p.slug == "home")
               for p in PAGES]).run()
