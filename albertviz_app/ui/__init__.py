"""Streamlit helpers shared by the pages: cached loaders, pickers, friendly errors.

The library (`albertviz/`) never imports Streamlit; everything UI-specific lives here or in views/ (the page scripts).
"""
