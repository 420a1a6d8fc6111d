"""Friendly messages instead of tracebacks, and a sentence box that validates its input."""

from __future__ import annotations

import contextlib
import unicodedata

import streamlit as st

from albertviz import ConfigError
from albertviz.zoo import ZooError

MAX_CHARS = 5000  # longer text is cut before tokenizing; the tokenizer then cuts to the model's maximum


@contextlib.contextmanager
def friendly_errors(what: str = "this view"):
    """Show known problems as messages a student can act on; anything else as a short error."""
    try:
        yield
    except (ConfigError, ZooError) as err:
        st.error(str(err), icon="⚠️")
    except Exception as err:  # noqa: BLE001 - the page must never show a raw traceback
        st.error(f"Something went wrong while drawing {what}: {type(err).__name__}: {err}", icon="🛠️")


def clean_text(text: str) -> str:
    """Drop control and zero-width characters (they only confuse the tokenizer), keep everything else."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))


def sentence_input(label: str, key: str, default: str = "", help: str | None = None) -> str | None:
    """A text box; returns cleaned text, or None (with a hint shown) when there is nothing to run."""
    # A value already in session_state (seeded from the URL by ui.viewstate) wins; no second default then.
    raw = st.text_input(label, value="" if key in st.session_state else default, key=key, help=help,
                        max_chars=None)
    text = clean_text(raw or "")
    if len(text) > MAX_CHARS:
        st.info(f"The text has {len(text):,} characters; only the first {MAX_CHARS:,} are used.")
        text = text[:MAX_CHARS]
    if not text.strip():
        st.info("Type a sentence above to see the model at work.", icon="✍️")
        return None
    return text


def truncation_notice(encoded, max_len: int) -> None:
    if encoded.truncated:
        st.warning(f"The input has {encoded.original_length} tokens; the model reads at most {max_len}, "
                   "so it was cut to fit.", icon="✂️")
