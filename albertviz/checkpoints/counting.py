""""Count this checkpoint": three answers to "how many parameters?", and the computed reasons they differ.

- loaded: numel summed over the unique parameters of the modules albertviz loaded (encoder + its MLM head);
- formula: `count_parameters` for the same ModelConfig (modules of that shape on the meta device), and the
  preset of the same shape when one exists, walked field by field to this checkpoint's numbers;
- stored: numel of every tensor in the safetensors files (headers only), sorted into what albertviz loads
  and what it leaves out (pooler, next-sentence head, tied copies, buffers).
A disagreement that no listed reason explains is reported as such, never hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from albertviz.checkpoints.inspection import Checkpoint, read_safetensors_header, weight_files
from albertviz.core.config import PRESETS, ModelConfig
from albertviz.core.params import count_parameters
from albertviz.zoo.model import ZooModel

# Tensors a checkpoint may store that albertviz's model does not hold, and why (first match wins).
LEFT_OUT = (("pooler", "the pooler ([CLS] layer, unused by masked-word prediction)"),
            ("seq_relationship", "the next-sentence head"), ("sop_classifier", "the sentence-order head"),
            ("predictions.decoder.", "a stored copy of the tied output table"),
            ("position_ids", "buffers (position ids), not parameters"),
            ("token_type_ids", "buffers (token-type ids), not parameters"),
            ("classifier", "a task head"), ("qa_outputs", "a task head"))
SHAPE_FIELDS = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "embedding", "sharing")
WALK_FIELDS = ("vocab_size", "embedding_size", "num_groups", "max_position_embeddings", "type_vocab_size", "pooler")


@dataclass(frozen=True)
class PresetWalk:
    """A preset of the same shape and, step by step, what changing it into this checkpoint adds."""

    name: str
    total: int
    steps: tuple[tuple[str, int], ...]  # (what changed, parameters it adds)


@dataclass(frozen=True)
class CheckpointCount:
    loaded: int
    formula: int
    stored: int
    left_out: dict[str, int] = field(default_factory=dict)  # reason → numel stored but not loaded
    config_numbers: dict[str, int] = field(default_factory=dict)
    preset: PresetWalk | None = None

    @property
    def unexplained(self) -> int:
        """Stored minus loaded minus every listed reason: 0 when the file is fully accounted for."""
        return self.stored - self.loaded - sum(self.left_out.values())

    def caption(self) -> str:
        """Whether the three counts agree and, if not, by how much and why (every figure computed)."""
        parts = []
        if self.loaded == self.formula:
            parts.append(f"The loaded modules hold {self.loaded:,} parameters, exactly what count_parameters "
                         "gives for this shape.")
        else:
            parts.append(f"The loaded modules hold {self.loaded:,} parameters but count_parameters gives "
                         f"{self.formula:,} for this shape ({self.loaded - self.formula:+,}): the counter and "
                         "the model disagree.")
        if self.stored == self.loaded:
            parts.append("The checkpoint's files store exactly these tensors.")
        else:
            why = "; ".join(f"{n:,} in {r}" for r, n in self.left_out.items())
            parts.append(f"The files store {self.stored:,} numbers ({self.stored - self.loaded:+,})"
                         + (f": {why}" if why else "") + ".")
            if self.unexplained:
                parts.append(f"{self.unexplained:+,} of that difference has no reason listed here.")
        if self.preset is not None:
            p = self.preset
            if p.steps:
                walk = ", ".join(f"{what} {n:+,}" for what, n in p.steps)
                parts.append(f"The preset {p.name} of the same shape has {p.total:,}; to this checkpoint: {walk}.")
            else:
                parts.append(f"The preset {p.name} has the same shape and the same count.")
        return " ".join(parts)


def loaded_count(model: ZooModel) -> int:
    """Unique parameters of the loaded encoder and head (the head's decoder is the tied word table)."""
    seen: dict[int, int] = {}
    for module in (model.encoder, model.head):
        if module is not None:
            for p in module.parameters():
                seen[id(p)] = p.numel()
    return sum(seen.values())


def stored_tensors(checkpoint: Checkpoint) -> dict[str, int]:
    """Name → numel of every tensor the checkpoint's safetensors files hold (headers only)."""
    sizes = {}
    for f in weight_files(checkpoint.path):
        for name, info in read_safetensors_header(f).items():
            if name != "__metadata__":
                sizes[name] = math.prod(int(d) for d in info.get("shape", []))
    return sizes


def _left_out(sizes: dict[str, int], model: ZooModel) -> dict[str, int]:
    has_pooler = model.encoder.pooler is not None
    out: dict[str, int] = {}
    for name, n in sizes.items():
        for marker, reason in LEFT_OUT:
            if marker in name:
                if not (marker == "pooler" and has_pooler):
                    out[reason] = out.get(reason, 0) + n
                break
    return out


def same_shape_preset(config: ModelConfig) -> str | None:
    """The first preset whose layers have this config's shape (the vocabulary may differ)."""
    for name, p in PRESETS.items():
        if all(getattr(p, f) == getattr(config, f) for f in SHAPE_FIELDS):
            return name
    return None


def preset_walk(config: ModelConfig, include_head: bool) -> PresetWalk | None:
    name = same_shape_preset(config)
    if name is None:
        return None
    cfg = PRESETS[name]
    total = count_parameters(cfg).total
    steps, current = [], total
    for f in WALK_FIELDS:
        if getattr(cfg, f) != getattr(config, f):
            nxt = cfg.with_(**{f: getattr(config, f)})
            n = count_parameters(nxt).total
            steps.append((f"{f} {getattr(cfg, f)}→{getattr(config, f)}", n - current))
            cfg, current = nxt, n
    if include_head:
        n = count_parameters(cfg, include_head=True).total
        steps.append(("its masked-word head", n - current))
        current = n
    rest = count_parameters(config, include_head=include_head).total - current
    if rest:
        steps.append(("other settings", rest))
    return PresetWalk(name, total, tuple(steps))


def _config_numbers(config: ModelConfig) -> dict[str, int]:
    return {"V": config.vocab_size, "E": config.E, "H": config.hidden_size, "L": config.num_layers,
            "A": config.num_heads, "F": config.intermediate_size, "positions": config.max_position_embeddings}


@torch.no_grad()
def count_checkpoint(model: ZooModel, checkpoint: Checkpoint) -> CheckpointCount:
    """The three counts of one loaded checkpoint and the reasons they differ."""
    head = model.head is not None
    sizes = stored_tensors(checkpoint)
    return CheckpointCount(loaded=loaded_count(model),
                           formula=count_parameters(model.config, include_head=head).total,
                           stored=sum(sizes.values()), left_out=_left_out(sizes, model),
                           config_numbers=_config_numbers(model.config), preset=preset_walk(model.config, head))
