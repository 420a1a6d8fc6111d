"""The Embeddings page's sizes: what a full, factorized or hashed table costs in parameters and megabytes.

`size_rows`, `eelbert_headline`, `uno_candidates` — all counted by `albertviz.core.params.count_parameters`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from albertviz import paper
from albertviz.core.config import PRESETS, ConfigError, ModelConfig
from albertviz.core.params import count_parameters
from albertviz.zoo.cells import zoo_config

SIZE_MODELS = ("bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base", "zoo")
DTYPES = ("fp32", "fp16", "int8")


def zoo_shape(embedding: str = "full") -> ModelConfig:
    """The zoo's shape (albertviz.zoo.cells.zoo_config, not-shared; full table unless asked)."""
    return zoo_config("none", embedding)


def zoo_factorized_e() -> int:
    """E of the zoo's factorized cells (albertviz.zoo.cells.zoo_config)."""
    return zoo_config("none", "factorized").E


def embedding_variant(base: ModelConfig, embedding: str, e_size: int) -> ModelConfig:
    """`base` with a full table, a factorized one at E (capped at H: E ≥ H saves nothing) or hashed H-dim."""
    H = base.hidden_size
    size = {"full": H, "factorized": min(e_size, H), "hashed": H}[embedding]
    return base.with_(embedding=embedding, embedding_size=size)


@dataclass(frozen=True)
class SizeRow:
    model: str
    embedding: str
    config: ModelConfig
    total: int
    embedding_params: int
    mb: dict[str, float]

    @property
    def share(self) -> float:
        return self.embedding_params / self.total

    def record(self) -> dict:
        return {"model": self.model, "embedding": self.embedding, "E": self.config.E,
                "parameters": self.total, "embedding params": self.embedding_params, "embedding share": self.share,
                **{f"MB {d}": self.mb[d] for d in DTYPES}}


def size_row(model: str, config: ModelConfig) -> SizeRow:
    r = count_parameters(config)
    return SizeRow(model, config.embedding, config, r.total, r.by_component["embeddings"], r.sizes_mb)


@lru_cache(maxsize=32)
def size_rows(e_size: int = 128) -> list[SizeRow]:
    """BERT-tiny…base and the zoo shape, each with full, factorized (at E = e_size) and hashed embeddings."""
    if e_size < 1:
        raise ConfigError(f"The factorized embedding size E must be at least 1, got {e_size}.")
    rows = []
    for name in SIZE_MODELS:
        base = zoo_shape() if name == "zoo" else PRESETS[name]
        for emb in ("full", "factorized", "hashed"):
            rows.append(size_row(name, embedding_variant(base, emb, e_size)))
    return rows


def uno_candidates(target_mb: float = paper.EELBERT_UNO_MB) -> list[dict]:
    """Hashed BERT-tiny variants (fewer layers, narrower FFN, smaller dtype), closest to the target first."""
    tiny = PRESETS["bert-tiny"]
    out = []
    for layers in (1, 2):
        for ffn in (128, 256, 512):
            cfg = tiny.with_(embedding="hashed", num_layers=layers, intermediate_size=ffn)
            r = count_parameters(cfg)
            for dtype in DTYPES:
                mb = r.bytes(dtype) / 1e6
                out.append({"config": cfg, "layers": layers, "ffn": ffn, "dtype": dtype,
                            "parameters": r.total, "MB": mb, "off by": mb / target_mb - 1})
    # Prefer BERT-tiny's own FFN and fp32 when two are equally close: the fewest changes.
    return sorted(out, key=lambda c: (round(abs(c["off by"]), 2), c["ffn"] != 512, c["dtype"] != "fp32"))


@dataclass(frozen=True)
class Headline:
    bert_tiny: SizeRow
    eelbert_tiny: SizeRow
    uno: dict

    @property
    def shrink(self) -> float:
        return self.bert_tiny.mb["fp32"] / self.uno["MB"]


def eelbert_headline() -> Headline:
    """BERT-tiny (≈4.39M params, 17.5 MB fp32, ~90% embeddings), without its table, and a ~1.2 MB variant."""
    tiny = PRESETS["bert-tiny"]
    return Headline(size_row("bert-tiny", tiny), size_row("eelbert-tiny", tiny.with_(embedding="hashed")),
                    uno_candidates()[0])


def headline_sentence() -> str:
    """EELBERT's size claims next to the counter's numbers for the same shapes, as the Embeddings page states them."""
    h, c = eelbert_headline(), uno_candidates()
    u, tiny, eel = h.uno, h.bert_tiny, h.eelbert_tiny
    layers, ffns = sorted({x["layers"] for x in c}), sorted({x["ffn"] for x in c})
    dtypes = "/".join(dict.fromkeys(x["dtype"] for x in c))
    searched = f"{layers[0]}–{layers[-1]} layers, FFN {ffns[0]}–{ffns[-1]}, {dtypes}"
    return (f"**EELBERT's headline, recomputed.** BERT-tiny: **{tiny.total / 1e6:.2f}M** parameters = "
            f"**{tiny.mb['fp32']:.1f} MB** fp32, **{tiny.share:.0%}** of it embeddings. EELBERT-tiny (same shape, no "
            f"table): {eel.total:,} parameters = {eel.mb['fp32']:.2f} MB fp32 ({tiny.total / eel.total:.1f}× smaller). "
            f"UNO-EELBERT is {paper.EELBERT_UNO_MB:g} MB; of the hashed BERT-tiny variants searched ({searched}) the "
            f"closest is **{u['layers']} layer(s), FFN {u['ffn']}, {u['dtype']}**: {u['parameters']:,} parameters = "
            f"**{u['MB']:.2f} MB**, {h.shrink:.1f}× smaller than BERT-tiny. (The paper's exact recipe is not "
            "reproduced here; this is a configuration that reaches that size.)")


def hashed_output_table_params() -> int:
    """Parameters of the learned V×E output table a hashed zoo cell's MLM head carries for pre-training only."""
    cfg = zoo_shape(embedding="hashed")
    return count_parameters(cfg, include_head=True).by_component["head"] - count_parameters(
        dataclasses.replace(cfg, embedding="full"), include_head=True).by_component["head"]
