"""The zoo's results as the README's Markdown table, generated from the manifest (never typed by hand).

    python -m albertviz.zoo.report        # prints the table; tests/test_zoo.py checks the README holds it
"""

from __future__ import annotations

import numpy as np

from albertviz import labels
from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES
from albertviz.zoo import list_models, seed_entries
from albertviz.zoo.cells import Cell


def _cell(name: str) -> str:
    entries = list(seed_entries(name).values())
    acc = np.array([e["held_out_accuracy"] for e in entries])
    ratio = acc / np.array([e["unigram_baseline_accuracy"] for e in entries])
    everyday = np.array([e["everyday"]["accuracy"] for e in entries])
    if len(entries) == 1:
        return f"{acc[0]:.1%} ({ratio[0]:.2f}×) · {everyday[0]:.1%}"
    return (f"{acc.mean():.1%} ± {acc.std(ddof=1):.1%} ({ratio.mean():.2f}×) · {everyday.mean():.1%} ± "
            f"{everyday.std(ddof=1):.1%} [{len(entries)} seeds]")


def markdown_table() -> str:
    entries = {e["name"]: e for e in list_models()}
    any_entry = next(iter(entries.values()))
    rows = ["| embedding | " + " | ".join(labels.SHARING[s] for s in SHARING_MODES) + " |",
            "|---|" + "---|" * len(SHARING_MODES)]
    for emb in EMBEDDING_TYPES:
        names = [Cell(s, emb).name for s in SHARING_MODES]
        cells = [_cell(n) if n in entries else "–" for n in names]
        rows.append(f"| {emb} | " + " | ".join(cells) + " |")
    ev = any_entry["everyday"]
    rows.append("")
    rows.append(f"Each cell: held-out top-1 (× the unigram baseline of {any_entry['unigram_baseline_accuracy']:.1%}) "
                f"· top-1 on {ev['n_items']} everyday sentences (best constant guess: {ev['constant_baseline']:.1%}); "
                f"mean ± s.d. over seeds where there are several. {any_entry['train_config']['steps']:,} steps of "
                f"{any_entry['train_config']['batch_size']} × 64 pieces.")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
