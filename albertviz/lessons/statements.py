"""Sentences that state an effect or a number, built from numbers the library computes.

A page prints these instead of hand-written claims, so a sentence can never drift from the counter, the
paper tables in `albertviz.paper` or the zoo manifest beside it; each builder is unit-tested on inputs
that come out either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from albertviz import paper
from albertviz.core.config import PRESETS, ModelConfig
from albertviz.core.params import count_parameters, flops_per_token

LABELS = {"bert-base": "BERT-base", "bert-large": "BERT-large", "albert-base": "ALBERT-base",
          "albert-large": "ALBERT-large", "albert-xlarge": "ALBERT-xlarge", "albert-xxlarge": "ALBERT-xxlarge"}


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _m(n: float) -> str:
    return f"{n / 1e6:,.2f}M"


# ------------------------------------------------------------------------------------------ Parameter explorer

def reproduction_sentence(table: str, reps: Sequence[paper.Reproduction], pooler: bool) -> str:
    """Which figures of one paper table the counter reproduces (to the nearest million), and in which setting."""
    groups = paper.reproduction_summary(list(reps))
    now = sum(r.reproduces(pooler) for r in reps)
    parts = [f"{words} — {_join([LABELS.get(x, x) for x in groups[key]])}"
             for key, words in (("with the pooler", "only with the pooler"), ("without the pooler", "only without it"),
                                ("both", "either way")) if groups[key]]
    text = (f"**{table}**: {now} of {len(reps)} printed figures round to the count "
            f"{'with' if pooler else 'without'} the pooler. ")
    if groups["neither"]:
        text += f"Reproduced {'; '.join(parts)}; in neither setting — "
        text += f"{_join([LABELS.get(x, x) for x in groups['neither']])}."
    else:
        text += f"Every figure reproduces in one setting or the other: {'; '.join(parts)}."
    shared = [r for r in reps if r.sharing != "none"]
    unshared = [r for r in reps if r.sharing == "none"]
    if shared and unshared and all(r.reproduces(True) for r in shared) and all(
            r.reproduces(False) for r in unshared):
        text += " Every shared row matches a count with the pooler, every not-shared row a count without it."
    return text


def size_gap_sentence(gap: paper.SizeGap) -> str:
    """Why a Table 1 figure is not the count: the gap, against rounding and against the pooler."""
    name = LABELS.get(gap.name, gap.name)
    without = gap.counted - gap.pooler
    text = (f"**{name}** counts {_m(gap.counted)} with its pooler ({_m(gap.pooler)}) against Table 1's "
            f"{gap.paper_m}M: {abs(gap.gap_m):.2f}M apart, ")
    text += ("more than rounding to whole millions (±0.5M) can explain" if gap.beyond_rounding
             else "within rounding to whole millions")
    if abs(gap.paper_m - without / 1e6) > abs(gap.gap_m):
        text += f", and the pooler does not explain it: leaving it out gives {_m(without)}, further away."
    else:
        text += f"; leaving the pooler out ({_m(without)}) comes closer."
    released = paper.RELEASED_CHECKPOINT_M.get(gap.name)
    if released is not None and paper.paper_round(gap.counted) == released:
        text += f" The count is the size of the released checkpoint (≈{released}M)."
    elif released is not None:
        text += f" The released checkpoint is ≈{released}M."
    if gap.name == "albert-xxlarge":
        text += (f" The paper's own text (§3.2) says {paper.ALBERT_XXLARGE_TEXT_M}M for this configuration; "
                 "neither printed figure is a rounding of the count.")
    return text


def table_4_cost_sentence() -> str:
    """What sharing costs at a fixed shape in Table 4: Avg points against the parameters it saves."""
    pieces = []
    for E in (768, 128):
        none = count_parameters(paper.table_4_config(E, "none")).total
        shared = count_parameters(paper.table_4_config(E, "all")).total
        delta = paper.table_4_avg_delta(E, "all")
        pieces.append(f"at E={E} all-shared saves {1 - shared / none:.0%} of the parameters and "
                      f"{'loses' if delta < 0 else 'gains'} {abs(delta):.1f} Avg points")
    ffn = [paper.table_4_avg_delta(E, "ffn") for E in (768, 128)]
    attn = [paper.table_4_avg_delta(E, "attention") for E in (768, 128)]
    return (f"At a fixed shape sharing costs accuracy (Table 4, Avg over {_join(paper.AVG_TASKS)}): "
            f"{'; '.join(pieces)}. Shared-FFN moves the Avg by {ffn[0]:+.1f} / {ffn[1]:+.1f} and shared-attention "
            f"by {attn[0]:+.1f} / {attn[1]:+.1f} (E=768 / E=128).")


# ------------------------------------------------------------------------------------------ Home

# Home's picture: BERT-base, then its embedding factorized (E=128), then all layers shared — three rows of
# ALBERT's Table 4 (ALBERT-base shape, V=30,000), so each step has a printed figure to hold the count against.
ALBERT_STEPS = ((768, "none"), (128, "none"), (128, "all"))
STEP_NAMES = ("BERT-base", "factorized (E=128)", "all-shared (ALBERT-base)")


def albert_steps() -> list[paper.Reproduction]:
    """The three configurations of Home's waterfall, each counted with and without the pooler."""
    reps = dict(zip(paper.ALBERT_TABLE_4, paper.table_4_reproductions(), strict=True))
    return [reps[k] for k in ALBERT_STEPS]


def albert_steps_sentence(steps: Sequence[paper.Reproduction], pooler: bool) -> str:
    """What the waterfall shows, in numbers: each step's count and saving, and which printed figures it meets."""
    counts = [r.count(pooler) for r in steps]
    first, middle, last = counts
    layers = paper.table_4_config(*ALBERT_STEPS[-1]).num_layers
    text = (f"**Counted {'with' if pooler else 'without'} the pooler** (V={paper.ALBERT_VOCAB:,}, as in the paper): "
            f"BERT-base has {_m(first)} parameters. Factorizing its embedding removes {_m(first - middle)} "
            f"({1 - middle / first:.0%}), leaving {_m(middle)}; sharing one block across all {layers} layers "
            f"removes {_m(middle - last)} more, leaving {_m(last)} — {first / last:.1f}× fewer than BERT-base, "
            f"and still {layers} layers of arithmetic. ")
    printed = " → ".join(f"{r.paper_m}M" for r in steps)
    met = [n for n, r in zip(STEP_NAMES, steps, strict=True) if r.reproduces(pooler)]
    missed = [f"{n} ({_m(r.count(pooler))} rounds to {paper.paper_round(r.count(pooler))}M)"
              for n, r in zip(STEP_NAMES, steps, strict=True) if not r.reproduces(pooler)]
    text += f"ALBERT's Table 4 prints {printed}: "
    if not missed:
        text += "every count rounds to its figure in this setting."
    else:
        text += (f"in this setting {len(met)} of {len(steps)} counts round to it"
                 + (f" ({_join(met)})" if met else "") + f"; not {_join(missed)}.")
    groups = paper.reproduction_summary(list(steps))
    labels = dict(zip((r.label for r in steps), STEP_NAMES, strict=True))
    if not groups["neither"] and groups["with the pooler"] and groups["without the pooler"]:
        text += (f" No single setting gives all three: {_join([labels[x] for x in groups['without the pooler']])} "
                 f"match counts without the pooler, {_join([labels[x] for x in groups['with the pooler']])} a count "
                 "with it — as the Parameter explorer finds for the whole of Table 4.")
    return text


def sharing_setting_sentence() -> str:
    """Lin et al.'s setting against ALBERT's fixed-shape result, with Table 4's Avg deltas."""
    d768, d128 = paper.table_4_avg_delta(768, "all"), paper.table_4_avg_delta(128, "all")
    return (f"At a fixed shape, though, ALBERT-style sharing costs accuracy: in ALBERT's Table 4 all-shared "
            f"ALBERT-base scores {abs(d768):.1f} (E=768) and {abs(d128):.1f} (E=128) points "
            f"{'below' if d768 < 0 else 'above'} not-shared on the Avg over {_join(paper.AVG_TASKS)}.")


def projection_flops(config: ModelConfig, seq_len: int = 128) -> int:
    """FLOPs per token that the E→H projection adds: the config against the same shape with a full table."""
    full = config.with_(embedding="full", embedding_size=config.hidden_size)
    return flops_per_token(config, seq_len) - flops_per_token(full, seq_len)


def flops_help() -> str:
    """The Home metric's tooltip: same layers, plus the factorized embedding's projection."""
    albert = PRESETS["albert-base"]
    extra = projection_flops(albert)
    ratio = flops_per_token(albert) / flops_per_token(PRESETS["bert-base"])
    return (f"The 12 layers cost the same either way. The factorized embedding does not save arithmetic: the "
            f"E→H projection adds E·H = {extra // 2:,} multiply-adds, {extra / 1e6:.3f} MFLOPs per token at "
            f"E={albert.E}, H={albert.hidden_size} ({ratio:.4f}× BERT-base's forward pass at 128 tokens).")


def zoo_training_sentence(entries: Sequence[dict]) -> str:
    """How the zoo was trained, read from the manifest so it stays true whichever zoo is installed."""
    if not entries:
        return "The small models on these pages are trained by this project (`make zoo`); none is installed yet."
    teachers = sorted({t for e in entries if (t := e.get("teacher") or e.get("distilled_from"))})
    if not teachers:
        return ("The small models on these pages were trained by this project with masked-language modelling "
                "alone — no teacher — so every attention map is the model's own.")
    return (f"The small models on these pages were trained by this project with masked-language modelling plus "
            f"attention distillation at every layer from {_join(teachers)} — TinyBERT's per-layer recipe (MiniLM "
            "itself distils only its teacher's last layer) — so their attention maps carry the teacher's imprint.")


def albert_choices_sentence() -> str:
    """ALBERT's two other changes to BERT's recipe, with the Avg figures of the tables that test them."""
    t5, t8 = paper.ALBERT_TABLE_5, paper.ALBERT_TABLE_8_AVG
    return (f"ALBERT also changed BERT's pre-training recipe: it replaced next-sentence prediction (NSP) with "
            f"sentence-order prediction (SOP: are two consecutive segments in the right order?), Avg "
            f"{t5['SOP']['Avg']:.1f} against {t5['NSP']['Avg']:.1f} (Table 5) — an NSP-trained model scores "
            f"{t5['NSP']['SOP']:.1f}% on SOP, about chance — and it removed dropout from its largest models, "
            f"which had not overfit after 1M steps: Avg {t8['without dropout']:.1f} without, "
            f"{t8['with dropout']:.1f} with (Table 8).")
