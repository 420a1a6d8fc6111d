"""Named numbers the quiz bank may print or ask for, each computed by the library when the bank loads.

A bank entry writes `{name}` or `{name:.2f}` in its prompt, options, explanation or model answer, and a
numeric question names its answer with `compute: name` instead of typing it. So a count comes from
`count_parameters`, a FLOP from `flops_per_token`, a layer plan from `plan_letters` and a paper figure
from `albertviz.paper`, where it is written once next to the table it comes from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache

from albertviz import paper
from albertviz.core.config import PRESETS, ModelConfig
from albertviz.core.params import count_parameters, flops_per_token
from albertviz.core.sharing import layer_plan, plan_letters
from albertviz.lessons import projection_flops

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?::([^{}]*))?\}")


def _m(config: ModelConfig, **kw: object) -> float:
    return count_parameters(config, **kw).total / 1e6  # type: ignore[arg-type]


def _mb(name: str, dtype: str) -> float:
    return count_parameters(PRESETS[name]).bytes(dtype) / 1e6


def _one_layer(**kw: object) -> ModelConfig:
    """A single BERT-base-shaped layer with a full table, to read per-layer sizes and FLOPs from."""
    return PRESETS["bert-base"].with_(num_layers=1, **kw)


def _layer_params() -> int:
    r = count_parameters(_one_layer())
    return r.by_component["attention"] + r.by_component["ffn"]


def _groups_layers_m() -> float:
    """All-shared 12 layers, H=768, F=3072, M=3 groups: what the layers alone hold."""
    r = count_parameters(PRESETS["albert-base"].with_(num_groups=3))
    return (r.by_component["attention"] + r.by_component["ffn"]) / 1e6


def _word_table(config: ModelConfig) -> int:
    """Word vectors plus the E→H projection (no positions, segments or LayerNorm): V·E (+ E·H)."""
    return config.vocab_size * config.E + (config.E * config.hidden_size if config.has_projection else 0)


def _uses_of_block_zero(layers: int) -> int:
    """How many layers of an all-shared encoder run attention block 0 (from the layer plan)."""
    plan = layer_plan(PRESETS["albert-base"].with_(num_layers=layers))
    return sum(1 for attention, _ in plan if attention == 0)


def _attention_maps_pass_weights(name: str) -> int:
    """The shortest sequence whose stored attention probabilities (L·A·T² numbers, kept for the backward
    pass of one training sequence) outnumber the model's parameters."""
    cfg = PRESETS[name]
    per_t2 = cfg.num_layers * cfg.num_heads
    return math.isqrt(count_parameters(cfg).total // per_t2) + 1


def _plan(layers: int, groups: int, strategy: str) -> str:
    cfg = PRESETS["albert-base"].with_(num_layers=layers, num_groups=groups, share_strategy=strategy)
    return plan_letters(cfg)[0]


def _flops_ratio(a: str, b: str) -> float:
    return flops_per_token(PRESETS[a]) / flops_per_token(PRESETS[b])


def _table_4_m(E: int, sharing: str, pooler: bool) -> float:  # noqa: N803
    return _m(paper.table_4_config(E, sharing, pooler))


FACTS: dict[str, Callable[[], object]] = {
    # ---- the counter
    "albert_base_m": lambda: _m(PRESETS["albert-base"]),
    "albert_large_m": lambda: _m(PRESETS["albert-large"]),
    "albert_xxlarge_m": lambda: _m(PRESETS["albert-xxlarge"]),
    "bert_base_m": lambda: _m(PRESETS["bert-base"]),
    "bert_large_m": lambda: _m(PRESETS["bert-large"]),
    "bert_base_over_albert_base": lambda: _m(PRESETS["bert-base"]) / _m(PRESETS["albert-base"]),
    "bert_tiny_m": lambda: _m(PRESETS["bert-tiny"]),
    "bert_tiny_fp32_mb": lambda: _mb("bert-tiny", "fp32"),
    "bert_tiny_embedding_share": lambda: (lambda r: r.by_component["embeddings"] / r.total)(
        count_parameters(PRESETS["bert-tiny"])),
    "bert_tiny_embeddings_m": lambda: count_parameters(PRESETS["bert-tiny"]).by_component["embeddings"] / 1e6,
    "bert_tiny_word_table_m": lambda: _word_table(PRESETS["bert-tiny"]) / 1e6,
    "albert_base_fp32_mb": lambda: _mb("albert-base", "fp32"),
    "albert_base_int8_mb": lambda: _mb("albert-base", "int8"),
    "bert_base_fp32_mb": lambda: _mb("bert-base", "fp32"),
    "bert_base_int8_mb": lambda: _mb("bert-base", "int8"),
    "bert_base_fp32_over_albert_base_int8": lambda: _mb("bert-base", "fp32") / _mb("albert-base", "int8"),
    "albert_base_adam_mb": lambda: count_parameters(PRESETS["albert-base"]).adam_training_bytes / 1e6,
    "bert_base_adam_gb": lambda: count_parameters(PRESETS["bert-base"]).adam_training_bytes / 1e9,
    "layer_m": lambda: _layer_params() / 1e6,
    "layers_12_m": lambda: 12 * _layer_params() / 1e6,
    "attention_block_m": lambda: count_parameters(_one_layer()).by_component["attention"] / 1e6,
    "ffn_block_m": lambda: count_parameters(_one_layer()).by_component["ffn"] / 1e6,
    "groups_3_layers_m": _groups_layers_m,
    "pooler_768_m": lambda: count_parameters(PRESETS["albert-base"]).by_component["pooler"] / 1e6,
    "table_4_e768_all_with_pooler_m": lambda: _table_4_m(768, "all", True),
    "table_4_e768_all_without_pooler_m": lambda: _table_4_m(768, "all", False),
    "table_4_e768_embeddings_m": lambda: count_parameters(paper.table_4_config(768, "all")).by_component[
        "embeddings"] / 1e6,
    "factorized_word_m": lambda: _word_table(PRESETS["albert-base"]) / 1e6,
    "full_word_768_m": lambda: _word_table(PRESETS["albert-base"].with_(embedding="full", embedding_size=768)) / 1e6,
    "full_word_4096_m": lambda: _word_table(PRESETS["albert-xxlarge"].with_(embedding="full",
                                                                             embedding_size=4096)) / 1e6,
    "factorized_word_4096_m": lambda: _word_table(PRESETS["albert-xxlarge"]) / 1e6,
    "uses_of_shared_block_12": lambda: _uses_of_block_zero(12),
    "attention_maps_pass_weights_albert_base": lambda: _attention_maps_pass_weights("albert-base"),
    "attention_maps_pass_weights_bert_base": lambda: _attention_maps_pass_weights("bert-base"),
    # ---- FLOPs
    "layer_mflops": lambda: flops_per_token(_one_layer(), seq_len=0) / 1e6,
    "projection_mflops": lambda: projection_flops(PRESETS["albert-base"]) / 1e6,
    "flops_ratio_albert_bert_base": lambda: _flops_ratio("albert-base", "bert-base"),
    "flops_ratio_albert_bert_large": lambda: _flops_ratio("albert-large", "bert-large"),
    "flops_ratio_xxlarge_bert_large": lambda: _flops_ratio("albert-xxlarge", "bert-large"),
    # ---- layer plans (Takase & Kiyono)
    "plan_sequence_6_3": lambda: _plan(6, 3, "sequence"),
    "plan_cycle_6_3": lambda: _plan(6, 3, "cycle"),
    "plan_cycle_rev_6_3": lambda: _plan(6, 3, "cycle_rev"),
    "plan_sequence_6_4": lambda: _plan(6, 4, "sequence"),
    "plan_cycle_6_4": lambda: _plan(6, 4, "cycle"),
    "plan_cycle_rev_6_4": lambda: _plan(6, 4, "cycle_rev"),
    "plan_cycle_rev_8_3": lambda: _plan(8, 3, "cycle_rev"),
    # ---- ALBERT's tables (albertviz.paper)
    **{f"t1_{k.replace('-', '_')}_m": (lambda k=k: paper.ALBERT_TABLE_1[k]) for k in paper.ALBERT_TABLE_1},
    "xxlarge_text_m": lambda: paper.ALBERT_XXLARGE_TEXT_M,
    "released_xxlarge_m": lambda: paper.RELEASED_CHECKPOINT_M["albert-xxlarge"],
    "xxlarge_gap_m": lambda: paper.ALBERT_TABLE_1["albert-xxlarge"] - _m(PRESETS["albert-xxlarge"]),
    **{f"t2_speed_{k.replace('-', '_')}": (lambda k=k: paper.ALBERT_TABLE_2_SPEEDUP[k])
       for k in paper.ALBERT_TABLE_2_SPEEDUP},
    "same_shape_speedup": paper.same_shape_speedup,
    "throughput_bert_large_over_xxlarge": lambda: paper.ALBERT_THROUGHPUT_BERT_LARGE_OVER_XXLARGE,
    **{f"t3_{s}_{E}_avg": (lambda s=s, E=E: paper.ALBERT_TABLE_3[(s, E)][1]) for s, E in paper.ALBERT_TABLE_3},
    **{f"t3_{s}_{E}_m": (lambda s=s, E=E: paper.ALBERT_TABLE_3[(s, E)][0]) for s, E in paper.ALBERT_TABLE_3},
    "t3_all_best_e": lambda: paper.table_3_best_e("all"),
    "t3_none_best_e": lambda: paper.table_3_best_e("none"),
    **{f"t4_{E}_{s}_m": (lambda E=E, s=s: paper.ALBERT_TABLE_4[(E, s)]) for E, s in paper.ALBERT_TABLE_4},
    **{f"t4_{E}_{s}_avg": (lambda E=E, s=s: paper.ALBERT_TABLE_4_AVG[(E, s)]) for E, s in paper.ALBERT_TABLE_4},
    **{f"t4_{E}_{s}_delta": (lambda E=E, s=s: paper.table_4_avg_delta(E, s)) for E, s in paper.ALBERT_TABLE_4},
    **{f"t5_{k.lower()}_{task.lower()}": (lambda k=k, task=task: paper.ALBERT_TABLE_5[k][task])
       for k in paper.ALBERT_TABLE_5 for task in paper.ALBERT_TABLE_5[k]},
    "t5_sop_minus_nsp_avg": lambda: round(paper.ALBERT_TABLE_5["SOP"]["Avg"] - paper.ALBERT_TABLE_5["NSP"]["Avg"], 1),
    "t6_bert_large_avg": lambda: paper.ALBERT_TABLE_6["bert-large"]["Avg"],
    "t6_bert_large_steps_k": lambda: paper.ALBERT_TABLE_6["bert-large"]["steps"] // 1000,
    "t6_bert_large_hours": lambda: paper.ALBERT_TABLE_6["bert-large"]["hours"],
    "t6_xxlarge_avg": lambda: paper.ALBERT_TABLE_6["albert-xxlarge"]["Avg"],
    "t6_xxlarge_steps_k": lambda: paper.ALBERT_TABLE_6["albert-xxlarge"]["steps"] // 1000,
    "t6_xxlarge_hours": lambda: paper.ALBERT_TABLE_6["albert-xxlarge"]["hours"],
    "t6_delta": lambda: round(paper.ALBERT_TABLE_6["albert-xxlarge"]["Avg"] - paper.ALBERT_TABLE_6["bert-large"]["Avg"],
                              1),
    "t8_with_dropout": lambda: paper.ALBERT_TABLE_8_AVG["with dropout"],
    "t8_without_dropout": lambda: paper.ALBERT_TABLE_8_AVG["without dropout"],
    "t8_delta": lambda: round(paper.ALBERT_TABLE_8_AVG["without dropout"] - paper.ALBERT_TABLE_8_AVG["with dropout"],
                              1),
    # ---- EELBERT
    "uno_mb": lambda: paper.EELBERT_UNO_MB,
    "uno_glue_within_pct": lambda: paper.EELBERT_UNO_GLUE_WITHIN_PCT,
    "uno_shrink": lambda: _mb("bert-tiny", "fp32") / paper.EELBERT_UNO_MB,
}


class FactError(KeyError):
    """A placeholder or `compute:` name that is not in FACTS, or a format that does not fit its value."""


@cache
def fact(name: str) -> object:
    """The value of one named fact, computed once per process."""
    if name not in FACTS:
        raise FactError(f"unknown fact {name!r}; known facts are listed in albertviz/quiz/facts.py")
    return FACTS[name]()


def number(name: str) -> float:
    value = fact(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FactError(f"fact {name!r} is {value!r}, not a number")
    return float(value)


def _default_format(value: object) -> str:
    if isinstance(value, float):  # up to two decimals, but a paper's 79.0 stays 79.0
        text = f"{value:,.2f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render(text: str) -> str:
    """Replace every `{name}` / `{name:spec}` in `text` by the fact's value."""
    def sub(match: re.Match) -> str:
        name, spec = match.group(1), match.group(2)
        value = fact(name)
        if spec is None:
            return _default_format(value)
        try:
            return format(value, spec)
        except (TypeError, ValueError) as err:
            raise FactError(f"format {spec!r} does not fit fact {name!r} = {value!r}") from err
    return _PLACEHOLDER.sub(sub, text)


def names_in(text: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]
