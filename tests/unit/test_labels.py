"""Every display name is spelled once, in albertviz.labels, and covers every value the library uses."""

import re
from pathlib import Path

from albertviz import labels
from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES

ROOT = Path(__file__).resolve().parents[2]
# The names as string literals: a second spelling anywhere else means a second place to keep in step.
SPELLINGS = re.compile(r"""["'](not[ -]shared|all-shared|shared[ -]FFN|shared[ -]attention)["']""")


def test_every_sharing_mode_and_embedding_type_has_a_name():
    assert set(labels.SHARING) == set(SHARING_MODES) == set(labels.SHARING_ADJECTIVE)
    assert set(labels.EMBEDDING) == set(EMBEDDING_TYPES)
    assert set(labels.SHARING_ORIGIN) <= set(SHARING_MODES)


def test_names_read_as_the_pages_show_them():
    assert labels.sharing_choice("all") == "all-shared (ALBERT)"
    assert labels.sharing_choice("ffn") == "shared FFN"
    assert labels.cell_label("none", "factorized", 48) == "not shared · factorized (E=48)"
    assert labels.embedding_label("hashed", 48) == "hashed (EELBERT)"


def test_no_other_module_spells_a_sharing_mode():
    files = [f for d in ("albertviz", "albertviz_app") for f in (ROOT / d).rglob("*.py") if f.name != "labels.py"]
    hits = [f"{f.relative_to(ROOT)}:{i}: {line.strip()}" for f in files
            for i, line in enumerate(f.read_text().splitlines(), 1) if SPELLINGS.search(line.split("#")[0])]
    assert not hits, "spell these via albertviz.labels:\n" + "\n".join(hits)
