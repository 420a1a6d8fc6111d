"""albertviz from a clone: `streamlit run app.py` (or `make run`); installed, `albertviz serve`. App: albertviz_app."""

from pathlib import Path

from albertviz_app.main import main

main(Path(__file__).resolve().parent)
