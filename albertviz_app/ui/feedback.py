"""Friendly messages instead of tracebacks, and a sentence box that validates its input.

The one error path of the app: a page shows a problem either by letting it raise inside `friendly_errors`
or, for a problem it found itself (a run that failed in a worker thread), with `error`; never `st.error(str(e))`.
"""

from __future__ import annotations

import contextlib
import unicodedata

import streamlit as st

from albertviz import ConfigError
from albertviz.zoo import ZooError

MAX_CHARS = 5000  # longer text is cut before tokenizing; the tokenizer then cuts to the model's maximum


def error(message: str, icon: str = "⚠️", where=None) -> None:
    """Show one problem as a message (in `where`, a container, if given)."""
    (where or st).error(message, icon=icon)


@contextlib.contextmanager
def friendly_errors(what: str = "this view", lead: str = "", hint: str = "", where=None):
    """Show known problems as messages a student can act on (`lead`, the problem, `hint`); anything else as a
    short error.

    The block's remaining lines are skipped; the page goes on after it (use the block's results, or st.stop)."""
    try:
        yield
    except (ConfigError, ZooError) as err:
        error(f"{lead}{err} {hint}".strip(), where=where)
    except Exception as err:  # noqa: BLE001 - the page must never show a raw traceback
        error(f"Something went wrong while drawing {what}: {type(err).__name__}: {err}", icon="🛠️", where=where)


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
