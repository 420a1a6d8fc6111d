"""The Streamlit app on top of the albertviz library: `main` (navigation), `ui/` (shared widgets), `views/` (pages)."""
