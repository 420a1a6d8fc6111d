"""The encoder every albertviz page looks at, with switchable cross-layer sharing.

Architecture (post-LayerNorm, as BERT and ALBERT):
- Embeddings: word (table or hashed) + position + type in E dims, LayerNorm, E→H if E < H.
- Unique blocks only: `attention_blocks` and `ffn_blocks`; `layer_plan(config)` says which pair
  each of the L layers runs, so a shared block is simply called several times.
- Attention block: Q, K, V, output projection, residual, LayerNorm. FFN block: H→F, activation,
  F→H, residual, LayerNorm. Each sublayer owns its LayerNorm, so sharing a block shares it too.
- Outputs: last hidden state, all L+1 hidden states, and L attention maps (B, heads, T, T).
The MLM head (H→E transform, decoder tied to the word vectors) lives apart so it is not counted
as part of the encoder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from albertviz.core.config import ModelConfig
from albertviz.core.embeddings import Embeddings
from albertviz.core.sharing import layer_plan, num_blocks

ACTIVATIONS = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
}


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor  # (B, T, H)
    hidden_states: tuple[torch.Tensor, ...]  # L+1 × (B, T, H): embedding output, then each layer
    attentions: tuple[torch.Tensor, ...]  # L × (B, heads, T, T), rows sum to 1; () on the fast path
    pooler_output: torch.Tensor | None  # (B, H), tanh(W·h_[CLS]) when the config has a pooler


def stack_attention(out: EncoderOutput) -> torch.Tensor:
    """Every layer's attention as one (L, B, heads, T, T) tensor; ValueError if the forward skipped them."""
    if not out.attentions:
        raise ValueError("This EncoderOutput has no attention maps: run the encoder with output_attentions=True.")
    return torch.stack(out.attentions)


class AttentionBlock(nn.Module):
    """Multi-head self-attention + residual + LayerNorm (one reusable sublayer)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        H = config.hidden_size
        self.num_heads = config.num_heads
        self.query = nn.Linear(H, H)
        self.key = nn.Linear(H, H)
        self.value = nn.Linear(H, H)
        self.output = nn.Linear(H, H)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, need_weights: bool
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, H = x.shape
        nh = self.num_heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, T, nh, H // nh).transpose(1, 2)  # (B, nh, T, hs)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        if need_weights:
            scores = q @ k.transpose(-1, -2) / math.sqrt(H // nh)  # (B, nh, T, T)
            if mask is not None:
                scores = scores + mask
            probs = scores.softmax(dim=-1)
            ctx = probs @ v  # (B, nh, T, hs)
        else:
            probs = None
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, nh, T, hs)
        ctx = ctx.transpose(1, 2).reshape(B, T, H)  # (B, T, H)
        return self.LayerNorm(x + self.output(ctx)), probs


class FeedForwardBlock(nn.Module):
    """H→F→H with activation + residual + LayerNorm (one reusable sublayer)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.act = ACTIVATIONS[config.activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(x + self.down(self.act(self.up(x))))


class Pooler(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """BERT's initialisation: normal(0, std) weights, zero biases, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=std)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Encoder(nn.Module):
    """An encoder that runs its unique blocks in `layer_plan` order.

    `vocab` (token strings) is needed only for hashed embeddings, whose vectors are computed from
    the characters of each token.
    """

    def __init__(self, config: ModelConfig, vocab: Sequence[str] | None = None) -> None:
        super().__init__()
        self.config = config
        self.plan = layer_plan(config)
        n_attn, n_ffn = num_blocks(config)
        self.embeddings = Embeddings(config, vocab)
        self.attention_blocks = nn.ModuleList(AttentionBlock(config) for _ in range(n_attn))
        self.ffn_blocks = nn.ModuleList(FeedForwardBlock(config) for _ in range(n_ffn))
        self.pooler = Pooler(config) if config.pooler else None
        if torch.empty(0).device.type != "meta":
            init_weights(self)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, output_attentions: bool = True
                ) -> EncoderOutput:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, H)
        mask = self.additive_mask(attention_mask, x.dtype)  # (B, 1, 1, T)
        hidden, attentions = [x], []
        for attn_id, ffn_id in self.plan:
            x, probs = self.attention_blocks[attn_id](x, mask, output_attentions)
            x = self.ffn_blocks[ffn_id](x)
            hidden.append(x)
            if probs is not None:
                attentions.append(probs)
        pooled = self.pooler(x) if self.pooler is not None else None
        return EncoderOutput(x, tuple(hidden), tuple(attentions), pooled)

    @staticmethod
    def additive_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
        """0 where a key may be attended, the dtype's minimum where it is padding (as HF does)."""
        if attention_mask is None:
            return None
        return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class MLMHead(nn.Module):
    """Masked-token prediction: H→E dense, activation, LayerNorm, then scores against an output table.

    Full and factorized cells tie the output table to the input word vectors (BERT, ALBERT). A hashed cell has
    no stored input table, and tying its decoder to the fixed hashed vectors made it guess by spelling ("bmw"
    for a city) and miscalibrated; so it gets a learned V×E output table of its own, used only to pre-train —
    like BERT's MLM head it is not part of the deployed encoder, and the size table counts it with the head.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.E)
        self.act = ACTIVATIONS[config.activation]
        self.LayerNorm = nn.LayerNorm(config.E, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder = (nn.Parameter(torch.zeros(config.vocab_size, config.E))
                        if config.embedding == "hashed" else None)

    def forward(self, hidden: torch.Tensor, word_matrix: torch.Tensor) -> torch.Tensor:
        h = self.LayerNorm(self.act(self.dense(hidden)))  # (..., E)
        table = self.decoder if self.decoder is not None else word_matrix  # (V, E)
        return h @ table.T + self.bias  # (..., V)


class MaskedLM(nn.Module):
    """Encoder + MLM head. It owns its loss: `forward(ids, labels=…)` returns (logits, loss) as in nanoGPT."""

    def __init__(self, config: ModelConfig, vocab: Sequence[str] | None = None) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config, vocab)
        self.head = MLMHead(config)
        if torch.empty(0).device.type != "meta":
            init_weights(self.head)
            if self.head.decoder is not None:
                nn.init.normal_(self.head.decoder, std=0.02)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head(hidden, self.encoder.embeddings.word_matrix())

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, output_attentions: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor | None, EncoderOutput]:
        """(logits, loss, encoder output). With `labels` (-100 = not a target), logits are computed only at the
        target positions — (n_targets, V), the 15% that matter — and loss is their mean cross-entropy."""
        out = self.encoder(input_ids, attention_mask, output_attentions=output_attentions)
        if labels is None:
            return self.logits(out.last_hidden_state), None, out
        logits, loss = masked_lm_loss(self.head, self.encoder.embeddings.word_matrix(), out.last_hidden_state, labels)
        return logits, loss, out


def masked_lm_loss(head: MLMHead, word_matrix: torch.Tensor, hidden: torch.Tensor, labels: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits at the target positions (n_targets, V), their mean cross-entropy); labels -100 = not a target.

    `MaskedLM.forward`'s loss, callable on hidden states from elsewhere: per-use gradients run the blocks
    themselves and must score them exactly as training does.
    """
    sel = labels != -100
    logits = head(hidden[sel], word_matrix)  # (n_targets, V)
    return logits, F.cross_entropy(logits, labels[sel])
