"""Which weights each layer uses: the heart of cross-layer parameter sharing.

A layer plan lists, for every layer, the id of the attention block and the id of the FFN block
it runs. The Encoder stores only the unique blocks and walks this plan, so the plan alone decides
the parameter count, and pages can draw it. Strategies follow Takase & Kiyono (2021) for M
parameter groups over L layers, as their released code (takase/share_layer_params) builds them:
sequence AABBCC, cycle ABCABC, cycle_rev ABCCBA (L=6, M=3) or ABCDDC (L=6, M=4). M=1 is ALBERT.
"""

from __future__ import annotations

from albertviz.core.config import ModelConfig


def group_of_layer(layer: int, num_layers: int, num_groups: int, strategy: str) -> int:
    """The parameter group (0..M-1) that layer `layer` (0-based) uses under a strategy."""
    if strategy == "sequence":  # consecutive runs: AABBCC
        return layer * num_groups // num_layers
    if strategy == "cycle":  # ABCABC
        return layer % num_groups
    if strategy == "cycle_rev":
        # The released rule: the first M layers take groups 0..M-1, then (only when L > 2M) L - 2M layers
        # keep cycling, and the layers left take the groups in reverse order from the last one.
        # L=6: M=3 gives ABC|CBA, M=4 gives ABCD|DC, M=2 gives AB|AB|BA.
        tail_start = max(num_groups, num_layers - num_groups)
        if layer < tail_start:
            return layer % num_groups
        return num_groups - 1 - (layer - tail_start)
    raise ValueError(f"unknown share_strategy {strategy!r}")


def layer_plan(config: ModelConfig) -> list[tuple[int, int]]:
    """Per layer: (attention block id, FFN block id). Unshared sublayers get one block per layer."""
    plan = []
    for i in range(config.num_layers):
        group = group_of_layer(i, config.num_layers, config.num_groups, config.share_strategy)
        attn = group if config.sharing in ("all", "attention") else i
        ffn = group if config.sharing in ("all", "ffn") else i
        plan.append((attn, ffn))
    return plan


def num_blocks(config: ModelConfig) -> tuple[int, int]:
    """How many distinct attention and FFN blocks the plan needs."""
    plan = layer_plan(config)
    return len({a for a, _ in plan}), len({f for _, f in plan})


def plan_letters(config: ModelConfig) -> tuple[str, str]:
    """The plan as letters, e.g. ('AAAAAA', 'ABCDEF'), for captions and quiz questions."""
    def letters(ids: list[int]) -> str:
        return "".join(chr(ord("A") + i) if i < 26 else "*" for i in ids)
    plan = layer_plan(config)
    return letters([a for a, _ in plan]), letters([f for _, f in plan])
