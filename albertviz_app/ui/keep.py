"""Widget values that survive a page switch.

Streamlit forgets the state of every widget a run does not draw, so a half-answered quiz question or an
interview note typed on the Quiz was gone after a visit to another page. `restore(key)` before a widget puts
back the copy `remember(key)` took after it, from a non-widget session key that Streamlit keeps.
"""

from __future__ import annotations

import streamlit as st

STORE = "_kept_widgets"


def restore(*keys: str) -> None:
    ss = st.session_state
    kept = ss.get(STORE, {})
    for key in keys:
        if key not in ss and key in kept:
            ss[key] = kept[key]


def remember(*keys: str) -> None:
    ss = st.session_state
    kept = ss.setdefault(STORE, {})
    for key in keys:
        if key in ss:
            kept[key] = ss[key]


def forget(prefix: str) -> None:
    """Drop every kept value whose key starts with `prefix` (a restarted quiz starts blank)."""
    kept = st.session_state.get(STORE, {})
    for key in [k for k in kept if k.startswith(prefix)]:
        del kept[key]
