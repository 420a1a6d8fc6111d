"""albertviz: `streamlit run app.py` (or `make run`). The app itself is the albertviz_app package."""

from pathlib import Path

from albertviz_app.main import main

main(Path(__file__).resolve().parent)
