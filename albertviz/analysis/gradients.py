"""A shared block's gradient taken apart: one term per layer that uses it (Lin et al. 2023).

A block used by L layers receives a gradient that is the sum of L per-use terms, so its scale and direction
differ from any single layer's. `per_use_gradients` computes those terms by giving every layer its own copy of
the block's weights (`torch.func.functional_call`) and checks that they add up to the real gradient.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import reduce

import torch
from torch.func import functional_call

from albertviz.core.config import ModelConfig
from albertviz.core.model import Encoder, MLMHead, masked_lm_loss
from albertviz.core.sharing import layer_plan


def block_uses(config: ModelConfig) -> dict[str, int]:
    """How many layers run each logged component ('attention.0' → 6 for an all-shared L=6 model)."""
    uses: dict[str, int] = {}
    for a, f in layer_plan(config):
        uses[f"attention.{a}"] = uses.get(f"attention.{a}", 0) + 1
        uses[f"ffn.{f}"] = uses.get(f"ffn.{f}", 0) + 1
    return uses


@dataclass
class UseGradients:
    """One unique block: each layer-use's gradient contribution and the real gradient they add up to."""

    kind: str  # 'attention' or 'ffn'
    block: int  # 0-based id, as in the layer plan
    layers: list[int]  # 0-based layers that run this block
    use_norms: list[float]  # ‖∂loss/∂(this use's copy)‖ per layer
    sum_norm: float  # ‖Σ contributions‖
    true_norm: float  # ‖∂loss/∂W‖ from an ordinary backward pass through the shared model
    max_abs_diff: float  # max |Σ contributions − real gradient| over every element
    contributions: list[dict[str, torch.Tensor]] = field(repr=False, default_factory=list)
    true_grad: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    @property
    def label(self) -> str:
        """Numbered from 1, as layers are ('attention block 1' is used by layers 1..L when all-shared)."""
        return f"{self.kind} block {self.block + 1}"


def _flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.reshape(-1) for g in grads.values()])


def per_use_gradients(encoder: Encoder, head: MLMHead, inputs: torch.Tensor, labels: torch.Tensor
                      ) -> list[UseGradients]:
    """Split every block's MLM gradient into one term per layer that uses it.

    Pass 1 (the truth): the ordinary forward/backward through the model as it is.
    Pass 2: the same forward, but each layer runs its block with *its own* clone of the weights
    (`functional_call`), so autograd keeps each use's gradient apart. The chain rule says the
    shared weight's gradient is the sum of these; `max_abs_diff` checks it. Both passes score the
    masked positions with the model's own loss (`masked_lm_loss`).
    """
    enc = encoder
    blocks = {("attention", i): b for i, b in enumerate(enc.attention_blocks)}
    blocks |= {("ffn", i): b for i, b in enumerate(enc.ffn_blocks)}
    was_training = enc.training
    enc.eval()  # no dropout exists, but keep both passes identical by construction
    try:
        names = {k: [n for n, _ in b.named_parameters()] for k, b in blocks.items()}
        real_params = [p for k, b in blocks.items() for p in b.parameters()]
        out = enc(inputs, output_attentions=False)
        _, loss = masked_lm_loss(head, enc.embeddings.word_matrix(), out.last_hidden_state, labels)
        real = torch.autograd.grad(loss, real_params)
        true_grads, it = {}, iter(real)
        for k in blocks:
            true_grads[k] = {n: next(it) for n in names[k]}

        copies: dict[tuple[str, int], list[tuple[int, dict[str, torch.Tensor]]]] = {k: [] for k in blocks}

        def clone(key: tuple[str, int], layer: int) -> dict[str, torch.Tensor]:
            params = {n: p.detach().clone().requires_grad_(True) for n, p in blocks[key].named_parameters()}
            copies[key].append((layer, params))
            return params

        x = enc.embeddings(inputs, torch.zeros_like(inputs))  # (B, T, H)
        for layer, (a, f) in enumerate(enc.plan):
            x, _ = functional_call(blocks[("attention", a)], clone(("attention", a), layer), (x, None, False))
            x = functional_call(blocks[("ffn", f)], clone(("ffn", f), layer), (x,))
        flat_copies = [t for uses in copies.values() for _, params in uses for t in params.values()]
        _, loss = masked_lm_loss(head, enc.embeddings.word_matrix(), x, labels)
        grads = iter(torch.autograd.grad(loss, flat_copies))
    finally:
        enc.train(was_training)

    results = []
    for key, uses in copies.items():
        contribs = [{n: next(grads) for n in params} for _, params in uses]
        total = {n: reduce(operator.add, (c[n] for c in contribs)) for n in names[key]}
        truth = _flat(true_grads[key])
        results.append(UseGradients(
            kind=key[0], block=key[1], layers=[layer for layer, _ in uses],
            use_norms=[float(_flat(c).norm()) for c in contribs], sum_norm=float(_flat(total).norm()),
            true_norm=float(truth.norm()), max_abs_diff=float((_flat(total) - truth).abs().max()),
            contributions=contribs, true_grad=true_grads[key]))
    return results
