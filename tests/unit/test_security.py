"""Security: weights are read only as safetensors, and the UI takes no file-system path from its users.

A classroom server is reachable by every student's browser, so nothing a student does may make the
server unpickle a file (arbitrary code) or read a path of the student's choosing. These tests read the
code base itself (so a future page cannot quietly add a file picker) and check the loader's behaviour
on a booby-trapped pickle.
"""

from __future__ import annotations

import ast
import json
import pickle
import re
from pathlib import Path

import pytest

from albertviz import zoo

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ["albertviz", "albertviz_app", "bench", "app.py"]
UI_DIRS = ["albertviz_app", "app.py"]
# Ways to turn bytes into Python objects (code execution) rather than plain tensors.
UNSAFE_LOADERS = {
    "torch.load": re.compile(r"\btorch\s*\.\s*load\s*\("),
    "torch.jit.load": re.compile(r"\bjit\s*\.\s*load\s*\("),
    "pickle": re.compile(r"\b(c?[Pp]ickle|_pickle)\b"),
    "np.load(allow_pickle=True)": re.compile(r"allow_pickle\s*=\s*True"),
    "joblib / dill": re.compile(r"\bimport\s+(joblib|dill)\b|\bfrom\s+(joblib|dill)\b"),
    "weights_only=False": re.compile(r"weights_only\s*=\s*False"),
    "use_safetensors=False": re.compile(r"use_safetensors\s*=\s*False"),
}
FILE_WIDGETS = {"file_uploader", "camera_input", "audio_input"}
PATH_WORDS = re.compile(r"\b(path|file|folder|directory|dir|filename|url)\b", re.I)


def python_files(entries: list[str]) -> list[Path]:
    files = []
    for entry in entries:
        p = ROOT / entry
        files += [p] if p.is_file() else sorted(f for f in p.rglob("*.py") if ".venv" not in f.parts)
    return files


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the code, comments and docstrings removed, so prose may name the bad loaders."""
    tree = ast.parse(path.read_text())
    docstrings = {node.body[0].value.lineno for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)}
    out = []
    in_doc = False
    for i, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.split("#", 1)[0]
        if i in docstrings:
            in_doc = not (stripped.count('"""') >= 2 or stripped.count("'''") >= 2)
            continue
        if in_doc:
            in_doc = '"""' not in stripped and "'''" not in stripped
            continue
        out.append((i, stripped))
    return out


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The scanner itself: a file that does every forbidden thing is caught on every count."""
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport torch\nimport numpy as np\n"
                   "w = torch.load('x.pt')\na = np.load('a.npy', allow_pickle=True)\n"
                   "m = torch.jit.load('m.pt')\nn = torch.load('y', weights_only=False)\n")
    text = "\n".join(t for _, t in code_lines(bad))
    found = {name for name, rx in UNSAFE_LOADERS.items() if rx.search(text)}
    assert found >= {"torch.load", "torch.jit.load", "pickle", "np.load(allow_pickle=True)", "weights_only=False"}


def test_no_code_path_can_unpickle():
    """Only safetensors (and JSON) are read: no torch.load, pickle, np.load(allow_pickle=True), joblib, dill."""
    hits = [f"{f.relative_to(ROOT)}:{i}: {name}: {text.strip()}"
            for f in python_files(CODE_DIRS) for i, text in code_lines(f)
            for name, rx in UNSAFE_LOADERS.items() if rx.search(text)]
    assert not hits, "unsafe deserialisation:\n" + "\n".join(hits)


def test_every_hugging_face_load_asks_for_safetensors():
    calls = [(f, i, t) for f in python_files(CODE_DIRS) for i, t in code_lines(f) if ".from_pretrained(" in t]
    assert calls, "expected the MiniLM loader to call from_pretrained"
    assert all("use_safetensors=True" in t for _, _, t in calls), calls


def test_zoo_weights_are_all_safetensors():
    files = {e["file"] for e in json.loads((zoo.ZOO_DIR / zoo.MANIFEST_NAME).read_text())["models"].values()}
    assert all(f.endswith(".safetensors") for f in files), files
    stray = [p.name for p in (zoo.ZOO_DIR / zoo.WEIGHTS_DIR).glob("*") if p.suffix != ".safetensors"]
    assert not stray, stray


class Trap:
    """Unpickling this writes a file: proof that a loader executed code from the weights."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "pwned"))


def test_a_pickle_disguised_as_weights_is_refused_not_run(tmp_path, monkeypatch):
    """A .safetensors file that is really a pickle (checksum matching, so only the format can stop it)."""
    root = tmp_path / "zoo"
    (root / "weights").mkdir(parents=True)
    sentinel = tmp_path / "pwned.txt"
    weights = root / "weights" / "none-full.safetensors"
    weights.write_bytes(pickle.dumps({"embeddings.word.weight": Trap(str(sentinel))}))
    cfg = {"vocab_size": 30522, "hidden_size": 32, "embedding_size": 32, "num_layers": 1, "num_heads": 2,
           "intermediate_size": 64, "max_position_embeddings": 64, "pooler": False}
    (root / zoo.MANIFEST_NAME).write_text(json.dumps({"models": {"none-full": {
        "name": "none-full", "config": cfg, "file": "weights/none-full.safetensors",
        "sha256": zoo.file_sha256(weights)}}}))
    monkeypatch.setattr(zoo, "ZOO_DIR", root)
    zoo.manifest.cache_clear()
    try:
        with pytest.raises(zoo.ZooError, match="none-full.safetensors cannot be read"):
            zoo.load("none", "full")
    finally:
        zoo.manifest.cache_clear()
    assert not sentinel.exists()


def widget_calls(path: Path):
    """Every `st.<widget>(...)` / `col.<widget>(...)` call in a file, with its label and key if literal."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            label = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
            if isinstance(node.args[0] if node.args else None, ast.JoinedStr):
                label = "".join(v.value for v in node.args[0].values if isinstance(v, ast.Constant))
            key = next((k.value.value for k in node.keywords if k.arg == "key" and isinstance(k.value, ast.Constant)),
                       "")
            yield node.func.attr, str(label), str(key), node.lineno


def test_the_ui_offers_no_file_upload_or_path_box():
    """No file picker, and no text box that asks for a path, file, folder or URL, anywhere in the UI."""
    found = []
    for f in python_files(UI_DIRS):
        for widget, label, key, line in widget_calls(f):
            if widget in FILE_WIDGETS:
                found.append(f"{f.relative_to(ROOT)}:{line}: st.{widget}")
            if widget in {"text_input", "text_area", "chat_input"} and (PATH_WORDS.search(label) or
                                                                          PATH_WORDS.search(key.replace("_", " "))):
                found.append(f"{f.relative_to(ROOT)}:{line}: {widget}({label!r}, key={key!r})")
    assert not found, "the UI must not take file-system paths:\n" + "\n".join(found)


def test_the_ui_opens_no_file_itself():
    """Pages and UI helpers leave file access to the library, which only reads its own package files."""
    opens = [f"{f.relative_to(ROOT)}:{i}: {t.strip()}" for f in python_files(UI_DIRS) for i, t in code_lines(f)
             if re.search(r"(?<![\w.])open\(|\.read_(text|bytes)\(|\bload_file\(|\bsafe_open\(", t)]
    assert not opens, opens


def test_the_path_scan_would_catch_an_upload(tmp_path):
    page = tmp_path / "evil.py"
    page.write_text("import streamlit as st\nf = st.file_uploader('Weights')\n"
                    "p = st.text_input('Model folder', key='x_path')\n")
    calls = list(widget_calls(page))
    assert any(w == "file_uploader" for w, *_ in calls)
    assert any(w == "text_input" and PATH_WORDS.search(label) for w, label, _, _ in calls)
