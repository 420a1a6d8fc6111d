"""Numbers published in the papers, kept as data so pages can print them next to our counts."""

from __future__ import annotations

from .config import PRESETS, ModelConfig
from .params import count_parameters

# ALBERT (Lan et al. 2020), Table 1: parameters in millions.
ALBERT_TABLE_1 = {"bert-base": 108, "bert-large": 334, "albert-base": 12, "albert-large": 18,
                  "albert-xlarge": 60, "albert-xxlarge": 235}

# ALBERT Table 4, ALBERT-base shape (V=30000): (E, sharing) → parameters in millions.
ALBERT_TABLE_4 = {(768, "all"): 31, (768, "attention"): 83, (768, "ffn"): 57, (768, "none"): 108,
                  (128, "all"): 12, (128, "attention"): 64, (128, "ffn"): 38, (128, "none"): 89}

# ALBERT Table 2: training speed relative to BERT-large (higher = faster).
ALBERT_TABLE_2_SPEEDUP = {"bert-base": 4.7, "bert-large": 1.0, "albert-base": 5.6, "albert-large": 1.7,
                          "albert-xlarge": 0.6, "albert-xxlarge": 0.3}

SHARING_NAMES = {"none": "not-shared", "all": "all-shared", "ffn": "shared-FFN", "attention": "shared-attention"}


def table_1_rows() -> list[dict]:
    rows = []
    for name, paper in ALBERT_TABLE_1.items():
        r = count_parameters(PRESETS[name])
        rows.append({"model": name, "paper (M)": paper, "albertviz (M)": round(r.total / 1e6, 2),
                     "without pooler (M)": round((r.total - r.by_component["pooler"]) / 1e6, 2)})
    return rows


def table_4_config(E: int, sharing: str) -> ModelConfig:
    """ALBERT-base with embedding size E and a sharing mode; no pooler, as the table counts it."""
    return PRESETS["albert-base"].with_(embedding_size=E, sharing=sharing, pooler=False,
                                        embedding="factorized" if E < 768 else "full")


def table_4_rows() -> list[dict]:
    rows = []
    for (E, sharing), paper in ALBERT_TABLE_4.items():
        total = count_parameters(table_4_config(E, sharing)).total
        rows.append({"E": E, "sharing": SHARING_NAMES[sharing], "paper (M)": paper,
                     "albertviz (M)": round(total / 1e6, 2), "difference (M)": round(total / 1e6 - paper, 2)})
    return rows
