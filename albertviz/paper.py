"""Numbers published in the papers, kept as data so pages and the quiz print them next to our counts.

Every figure here is copied once from the table or sentence named in its comment; everything derived
from them (differences, ratios, which rows a count reproduces) is computed by the functions below.
ALBERT is Lan et al., ICLR 2020 (arXiv 1909.11942v6). "Avg" in ALBERT's Tables 2-8 is the mean over
SQuAD1.1, SQuAD2.0, MNLI, SST-2 and RACE (F1 and EM of each SQuAD averaged first), not a GLUE score.
"""

from __future__ import annotations

from dataclasses import dataclass

from albertviz import labels
from albertviz.core.config import PRESETS, ModelConfig
from albertviz.core.params import count_parameters

AVG_TASKS = ("SQuAD1.1", "SQuAD2.0", "MNLI", "SST-2", "RACE")

# ALBERT §4.1 / footnote 1: every model in the paper, its own BERTs included, uses a 30,000-piece vocabulary.
ALBERT_VOCAB = 30000

# ALBERT Table 1: parameters in millions.
ALBERT_TABLE_1 = {"bert-base": 108, "bert-large": 334, "albert-base": 12, "albert-large": 18,
                  "albert-xlarge": 60, "albert-xxlarge": 235}
# ALBERT §3.2 text, for the same ALBERT-xxlarge configuration as Table 1's 235M.
ALBERT_XXLARGE_TEXT_M = 233
# The released ALBERT-xxlarge checkpoint (google-research/ALBERT v2 configuration), in millions.
RELEASED_CHECKPOINT_M = {"albert-xxlarge": 223}

# ALBERT Table 2: training speed relative to BERT-large (higher = faster) and Avg, 125k steps each.
ALBERT_TABLE_2_SPEEDUP = {"bert-base": 4.7, "bert-large": 1.0, "albert-base": 5.6, "albert-large": 1.7,
                          "albert-xlarge": 0.6, "albert-xxlarge": 0.3}
ALBERT_TABLE_2_AVG = {"bert-base": 82.3, "bert-large": 85.2, "albert-base": 80.1, "albert-large": 82.4,
                      "albert-xlarge": 85.5, "albert-xxlarge": 88.7}
# ALBERT §4.7: BERT-large's data throughput is about this many times ALBERT-xxlarge's.
ALBERT_THROUGHPUT_BERT_LARGE_OVER_XXLARGE = 3.17

# ALBERT Table 3 (ALBERT-base, embedding size E): (sharing, E) → (parameters in millions, Avg).
ALBERT_TABLE_3 = {("none", 64): (87, 81.3), ("none", 128): (89, 81.7), ("none", 256): (93, 81.8),
                  ("none", 768): (108, 82.3),
                  ("all", 64): (10, 79.0), ("all", 128): (12, 80.1), ("all", 256): (16, 79.6),
                  ("all", 768): (31, 79.8)}

# ALBERT Table 4, ALBERT-base shape (V=30000): (E, sharing) → parameters in millions, and Avg.
ALBERT_TABLE_4 = {(768, "all"): 31, (768, "attention"): 83, (768, "ffn"): 57, (768, "none"): 108,
                  (128, "all"): 12, (128, "attention"): 64, (128, "ffn"): 38, (128, "none"): 89}
ALBERT_TABLE_4_AVG = {(768, "all"): 79.8, (768, "attention"): 81.6, (768, "ffn"): 79.5, (768, "none"): 82.3,
                      (128, "all"): 80.1, (128, "attention"): 81.7, (128, "ffn"): 80.2, (128, "none"): 81.6}

# ALBERT Table 5 (ALBERT-base): inter-sentence loss → intrinsic accuracies (%) and downstream Avg.
ALBERT_TABLE_5 = {"none": {"MLM": 54.9, "NSP": 52.4, "SOP": 53.3, "Avg": 79.0},
                  "NSP": {"MLM": 54.5, "NSP": 90.5, "SOP": 52.0, "Avg": 79.2},
                  "SOP": {"MLM": 54.0, "NSP": 78.9, "SOP": 86.5, "Avg": 80.1}}

# ALBERT Table 6: the same training time instead of the same number of steps.
ALBERT_TABLE_6 = {"bert-large": {"steps": 400_000, "hours": 34, "Avg": 87.2},
                  "albert-xxlarge": {"steps": 125_000, "hours": 32, "Avg": 88.7}}

# ALBERT Table 8: ALBERT-xxlarge at about 1M steps, with and without dropout (Avg).
ALBERT_TABLE_8_AVG = {"with dropout": 90.4, "without dropout": 90.7}

# EELBERT (Cohn et al. 2023): UNO-EELBERT's size in MB; its GLUE score is within this many % of BERT-tiny's.
EELBERT_UNO_MB = 1.2
EELBERT_UNO_GLUE_WITHIN_PCT = 4



def paper_round(n_params: int) -> int:
    """A count in millions rounded to the nearest whole million, the precision the tables print."""
    return int(n_params / 1e6 + 0.5)


# ------------------------------------------------------------------------------------------ configs

def table_1_config(name: str, pooler: bool = True) -> ModelConfig:
    """A Table 1 model as the paper trained it: the preset's shape with ALBERT's 30,000-piece vocabulary."""
    return PRESETS[name].with_(vocab_size=ALBERT_VOCAB, pooler=pooler)


def table_4_config(E: int, sharing: str, pooler: bool = False) -> ModelConfig:  # noqa: N803 - the paper's E
    """ALBERT-base with embedding size E and a sharing mode (E = H = 768 is a plain full table)."""
    return PRESETS["albert-base"].with_(embedding_size=E, sharing=sharing, pooler=pooler,
                                        embedding="factorized" if E < 768 else "full")


def table_3_config(sharing: str, E: int, pooler: bool = False) -> ModelConfig:  # noqa: N803
    return table_4_config(E, sharing, pooler)


# ------------------------------------------------------------------------------------------ reproduction

@dataclass(frozen=True)
class Reproduction:
    """One paper figure against the counter, with and without the pooler (an H×H layer plus bias)."""

    label: str
    paper_m: int
    with_pooler: int
    without_pooler: int
    sharing: str = "none"

    def count(self, pooler: bool) -> int:
        return self.with_pooler if pooler else self.without_pooler

    def reproduces(self, pooler: bool) -> bool:
        return paper_round(self.count(pooler)) == self.paper_m

    @property
    def reproduced_by(self) -> str:
        """'both', 'with the pooler', 'without the pooler' or 'neither'."""
        w, wo = self.reproduces(True), self.reproduces(False)
        return "both" if w and wo else "with the pooler" if w else "without the pooler" if wo else "neither"


def _reproduction(label: str, paper_m: int, config: ModelConfig) -> Reproduction:
    return Reproduction(label, paper_m, count_parameters(config.with_(pooler=True)).total,
                        count_parameters(config.with_(pooler=False)).total, config.sharing)


def table_1_reproductions() -> list[Reproduction]:
    return [_reproduction(name, paper, table_1_config(name)) for name, paper in ALBERT_TABLE_1.items()]


def table_3_reproductions() -> list[Reproduction]:
    return [_reproduction(f"{labels.SHARING_ADJECTIVE[s]} (E={E})", paper, table_3_config(s, E))
            for (s, E), (paper, _) in ALBERT_TABLE_3.items()]


def table_4_reproductions() -> list[Reproduction]:
    return [_reproduction(f"{labels.SHARING_ADJECTIVE[s]} (E={E})", paper, table_4_config(E, s))
            for (E, s), paper in ALBERT_TABLE_4.items()]


def reproduction_rows(reps: list[Reproduction], pooler: bool) -> list[dict]:
    """Rows for a page table: the paper's figure, the count in the chosen setting, and whether it rounds to it."""
    return [{"model": r.label, "paper (M)": r.paper_m, "counted (M)": round(r.count(pooler) / 1e6, 2),
             "difference (M)": round(r.count(pooler) / 1e6 - r.paper_m, 2),
             "rounds to the paper": "✓" if r.reproduces(pooler) else "✗",
             "reproduced": r.reproduced_by} for r in reps]


def reproduction_summary(reps: list[Reproduction]) -> dict[str, list[str]]:
    """Labels grouped by which pooler setting makes the count round to the paper's figure."""
    groups: dict[str, list[str]] = {"both": [], "with the pooler": [], "without the pooler": [], "neither": []}
    for r in reps:
        groups[r.reproduced_by].append(r.label)
    return groups


# The rows that used to be in a collapsed expander; kept for callers that want the plain numbers.
def table_1_rows() -> list[dict]:
    return reproduction_rows(table_1_reproductions(), pooler=True)


def table_4_rows() -> list[dict]:
    return reproduction_rows(table_4_reproductions(), pooler=False)


# ------------------------------------------------------------------------------------------ derived figures

def table_4_avg_delta(E: int, sharing: str) -> float:  # noqa: N803
    """Table 4's Avg of a sharing mode minus not-shared at the same E (negative = sharing costs accuracy)."""
    return round(ALBERT_TABLE_4_AVG[(E, sharing)] - ALBERT_TABLE_4_AVG[(E, "none")], 1)


def table_3_best_e(sharing: str) -> int:
    """The embedding size with the highest Table 3 Avg under a sharing mode."""
    rows = {E: avg for (s, E), (_, avg) in ALBERT_TABLE_3.items() if s == sharing}
    return max(rows, key=rows.__getitem__)


def same_shape_speedup() -> float:
    """ALBERT-base over BERT-base in Table 2: two models of the same shape (L12, H768)."""
    return ALBERT_TABLE_2_SPEEDUP["albert-base"] / ALBERT_TABLE_2_SPEEDUP["bert-base"]


@dataclass(frozen=True)
class SizeGap:
    """A Table 1 figure that no pooler setting reproduces, with the numbers that say why."""

    name: str
    paper_m: int
    counted: int  # with the pooler, as Hugging Face's AlbertModel builds the released configuration
    pooler: int  # already inside `counted`

    @property
    def gap_m(self) -> float:
        return self.paper_m - self.counted / 1e6

    @property
    def beyond_rounding(self) -> bool:
        return abs(self.gap_m) > 0.5


def size_gaps() -> list[SizeGap]:
    """Table 1 rows that reproduce under neither pooler setting."""
    out = []
    for r in table_1_reproductions():
        if r.reproduced_by == "neither":
            pooler = count_parameters(table_1_config(r.label)).by_component["pooler"]
            out.append(SizeGap(r.label, r.paper_m, r.with_pooler, pooler))
    return out
