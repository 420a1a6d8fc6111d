"""Shared test set-up: paths, and the pages' location for AppTest."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def page_file(slug: str) -> str:
    """Absolute path of views/<slug>.py (AppTest resolves relative paths against the test file)."""
    return str(ROOT / "views" / f"{slug}.py")
