"""Live surgery on a trained encoder: turn BERT into an ALBERT-shaped model without retraining.

Three operations, each returning a NEW `Encoder` and its `ModelConfig`. The input is never changed,
so a cached model can be operated on again and again; weights an operation leaves alone are shared
with it, not copied (the result has `requires_grad` off: it is for looking, not for training):
- `tie_layers(enc, k)`: every layer reuses layer k's attention and FFN blocks (all-shared, M=1).
- `average_layers(enc)`: one shared block whose weights are the mean of the L layers' weights.
- `factorize_embedding(enc, E)`: a factorized embedding (V×E table + E→H projection) fitted by
  truncated SVD.

How factorization stays close to the original. BERT computes LN_H(w + p + t) in H dims; albertviz's
factorized embedding computes proj(LN_E(w' + p' + t')) in E dims. LN_H ignores the mean of its input,
so we centre the word, position and type tables, take the top E-1 right singular vectors Q of their
(stacked, second-moment weighted) centred rows, and store every vector's E-1 coordinates in Q rotated
into the E-dim directions orthogonal to (1,…,1) (`_zero_mean_basis`). Then LN_E only rescales, and
the projection maps back through Q with LN_H's gain and bias folded in. The result is exactly
LN_H applied to the rank-(E-1) approximation of the centred embedding sum: the only error is the
dropped singular directions (E-1, not E: LN_E's own centring removes one direction). At E = H the
plain embedding is kept and nothing is lost.

`drift` measures what the change did: per-token cosine of the last hidden states and the total
variation distance between old and new attention rows, per layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from albertviz.core.config import ConfigError, ModelConfig
from albertviz.core.model import Encoder, EncoderOutput, stack_attention
from albertviz.core.params import ParamReport, count_parameters

OPERATIONS = {"tie": "Tie every layer to layer k", "average": "Average the layers",
              "factorize": "Factorize the embedding to rank E (SVD)"}


@dataclass
class SurgeryResult:
    """A new encoder, its shape and parameter report, and a sentence saying what was done."""

    encoder: Encoder
    config: ModelConfig
    report: ParamReport
    description: str
    variance_kept: float | None = None  # factorization only: share of the embedding sum's energy kept


def _build(config: ModelConfig, state: dict[str, torch.Tensor], source: Encoder) -> Encoder:
    """An Encoder holding `state`, built on the meta device so no random init is wasted (≈0.1 s)."""
    with torch.device("meta"):
        enc = Encoder(config)
    enc.load_state_dict(state, assign=True, strict=True)
    enc.requires_grad_(False)  # shares storage with the source: inference only
    if config.embedding == "hashed":  # the fixed table is a non-persistent buffer: reuse the source's
        enc.embeddings.hashed_table = source.embeddings.hashed_table
    return enc.eval()


def _prefixed(module: torch.nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """The module's tensors under new names. Not copied: the new encoder reads the same storage
    (cloning MiniLM's blocks costs more than the whole surgery), and nothing here writes to it."""
    return {f"{prefix}.{k}": v.detach() for k, v in module.state_dict().items()}


def _shell_state(enc: Encoder) -> dict[str, torch.Tensor]:
    """Embeddings and pooler: the parts tying and averaging leave alone."""
    state = _prefixed(enc.embeddings, "embeddings")
    if enc.pooler is not None:
        state.update(_prefixed(enc.pooler, "pooler"))
    return state


def _all_shared(config: ModelConfig) -> ModelConfig:
    return config.with_(sharing="all", num_groups=1, share_strategy="sequence")


@torch.no_grad()
def tie_layers(enc: Encoder, k: int) -> SurgeryResult:
    """Every layer runs the blocks layer k (0-based) runs: ALBERT's all-shared, with BERT's weights."""
    L = enc.config.num_layers
    if not 0 <= k < L:
        raise ConfigError(f"Layer k={k} does not exist: this model has layers 0..{L - 1}.")
    attn_id, ffn_id = enc.plan[k]
    cfg = _all_shared(enc.config)
    state = _shell_state(enc)
    state.update(_prefixed(enc.attention_blocks[attn_id], "attention_blocks.0"))
    state.update(_prefixed(enc.ffn_blocks[ffn_id], "ffn_blocks.0"))
    return SurgeryResult(_build(cfg, state, enc), cfg, count_parameters(cfg),
                         f"All {L} layers now run layer {k + 1}'s attention and FFN weights.")


@torch.no_grad()
def average_layers(enc: Encoder) -> SurgeryResult:
    """One shared block = the mean over the L layers of their weights (LayerNorms included)."""
    L = enc.config.num_layers
    cfg = _all_shared(enc.config)
    state = _shell_state(enc)
    for kind, blocks, column in (("attention_blocks", enc.attention_blocks, 0),
                                 ("ffn_blocks", enc.ffn_blocks, 1)):
        per_layer = [blocks[ids[column]].state_dict() for ids in enc.plan]
        for name in per_layer[0]:
            state[f"{kind}.0.{name}"] = torch.stack([sd[name] for sd in per_layer]).mean(0)
    return SurgeryResult(_build(cfg, state, enc), cfg, count_parameters(cfg),
                         f"All {L} layers now run one block: the average of the {L} layers' weights.")


@dataclass(frozen=True)
class EmbeddingBasis:
    """Singular directions of the centred embedding sum, computed once per model (≈0.2 s)."""

    directions: torch.Tensor  # (H, H): rows are right singular vectors, strongest first
    energy: torch.Tensor  # (H,): squared singular values (second moments) in the same order
    word_coords: torch.Tensor  # (V, H): centred word vectors in those coordinates
    position_coords: torch.Tensor  # (P, H)
    type_coords: torch.Tensor  # (types, H)

    def variance_kept(self, rank: int) -> float:
        return float(self.energy[:rank].sum() / self.energy.sum())


def _centred(table: torch.Tensor) -> torch.Tensor:
    return table.detach().float() - table.detach().float().mean(-1, keepdim=True)


@torch.no_grad()
def embedding_basis(enc: Encoder, weighting: str = "sum") -> EmbeddingBasis:
    """Right singular vectors of the centred word/position/type tables.

    weighting="sum" uses the second moment of w + p + t with token, position and type drawn
    uniformly (each table counts as much as the others, so positions are not drowned by 30k words);
    weighting="word" is the plain SVD of the word table alone (kept to show why "sum" is needed:
    position vectors live mostly outside the word table's top directions).
    """
    emb = enc.embeddings
    if emb.word_embeddings is None:
        raise ConfigError("A hashed embedding has no stored table to factorize.")
    if enc.config.has_projection:
        raise ConfigError("This model's embedding is already factorized; start from a full table.")
    W = _centred(emb.word_embeddings.weight)
    P = _centred(emb.position_embeddings.weight)
    T = _centred(emb.token_type_embeddings.weight)
    if weighting == "word":
        moment = W.T @ W / len(W)
    elif weighting == "sum":
        means = [W.mean(0), P.mean(0), T.mean(0)]
        moment = W.T @ W / len(W) + P.T @ P / len(P) + T.T @ T / len(T)
        for i in range(3):
            for j in range(3):
                if i != j:
                    moment += torch.outer(means[i], means[j])
    else:
        raise ConfigError(f"weighting must be 'sum' or 'word', got {weighting!r}.")
    energy, vecs = torch.linalg.eigh(moment.double())  # ascending; H×H, instant in float64
    order = torch.argsort(energy, descending=True)
    basis = vecs[:, order].T.float()  # (H, H), rows = directions
    return EmbeddingBasis(basis, energy[order].clamp_min(0).float(), W @ basis.T, P @ basis.T, T @ basis.T)


def _helmert_scales(E: int) -> torch.Tensor:
    """a_j = 1/√(j(j+1)), j = 1..E-1: the entries of the Helmert basis used by `_zero_mean_basis`."""
    j = torch.arange(1, E, dtype=torch.float64)
    return 1.0 / torch.sqrt(j * (j + 1))


def _zero_mean_basis(E: int) -> torch.Tensor:
    """(E-1, E) orthonormal rows orthogonal to (1,…,1) (Helmert): row j-1 = a_j·(1,…,1 [j times], −j, 0…)."""
    a = _helmert_scales(E)
    R = torch.zeros(E - 1, E, dtype=torch.float64)
    for j in range(1, E):
        R[j - 1, :j] = a[j - 1]
        R[j - 1, j] = -j * a[j - 1]
    return R.float()


def _to_zero_mean_coords(d: torch.Tensor, E: int) -> torch.Tensor:
    """d @ _zero_mean_basis(E) in O(N·E) instead of O(N·E²), via one cumulative sum.

    With s_j = a_j·d_j (d_j = d[:, j-1]): column 0 is Σ_j s_j, column i ≥ 1 is Σ_{j>i} s_j − i·s_i
    = total − Σ_{j≤i} s_j − i·s_i. The 30522-row word table takes tens of ms this way.
    """
    a = _helmert_scales(E).to(d.dtype)  # (r,)
    scaled = d * a  # (N, r)
    prefix = scaled.cumsum(-1)  # (N, r)
    total = prefix[:, -1:]  # (N, 1)
    out = torch.empty(d.shape[0], E, dtype=d.dtype)
    out[:, :1] = total
    torch.sub(total - prefix, scaled * torch.arange(1, E, dtype=d.dtype), out=out[:, 1:])
    return out


@torch.no_grad()
def factorize_embedding(enc: Encoder, E: int, basis: EmbeddingBasis | None = None) -> SurgeryResult:
    """Factorized embedding of size E that reproduces LN_H of the rank-(E-1) centred embedding sum."""
    cfg0 = enc.config
    H = cfg0.hidden_size
    if not 2 <= E <= H:
        raise ConfigError(f"Rank E={E} must be between 2 and H={H}.")
    basis = basis if basis is not None else embedding_basis(enc)
    cfg = cfg0.with_(embedding="factorized", embedding_size=E)
    emb = enc.embeddings
    state = _prefixed(enc.pooler, "pooler") if enc.pooler is not None else {}
    for i, blk in enumerate(enc.attention_blocks):
        state.update(_prefixed(blk, f"attention_blocks.{i}"))
    for i, blk in enumerate(enc.ffn_blocks):
        state.update(_prefixed(blk, f"ffn_blocks.{i}"))
    if E == H:  # no projection: the plain H-dim embedding, unchanged
        state.update(_prefixed(emb, "embeddings"))
        return SurgeryResult(_build(cfg, state, enc), cfg, count_parameters(cfg),
                             f"E = H = {H}: nothing to factorize; the embedding is unchanged.", 1.0)
    r = E - 1
    R = _zero_mean_basis(E)  # (r, E), used for the small projection; tables go via the fast path
    Q = basis.directions[:r]  # (r, H)
    gamma, beta = emb.LayerNorm.weight.detach(), emb.LayerNorm.bias.detach()
    state.update({
        "embeddings.word_embeddings.weight": _to_zero_mean_coords(basis.word_coords[:, :r], E),  # (V, E)
        "embeddings.position_embeddings.weight": _to_zero_mean_coords(basis.position_coords[:, :r], E),
        "embeddings.token_type_embeddings.weight": _to_zero_mean_coords(basis.type_coords[:, :r], E),
        "embeddings.LayerNorm.weight": torch.ones(E),
        "embeddings.LayerNorm.bias": torch.zeros(E),
        # LN_E(c) = √E·c/‖c‖ with c = d·R; LN_H(d·Q) = γ⊙√H·d·Q/‖d‖ + β, hence W = √(H/E)·(R^T Q diag γ)^T.
        "embeddings.projection.weight": (math.sqrt(H / E) * (R.T @ Q) * gamma[None, :]).T.contiguous(),
        "embeddings.projection.bias": beta.clone(),
    })
    kept = basis.variance_kept(r)
    return SurgeryResult(_build(cfg, state, enc), cfg, count_parameters(cfg),
                         f"Embedding factorized to E={E}: a {cfg.vocab_size:,}×{E} table and an {E}→{H} "
                         f"projection keep {kept:.1%} of the centred embedding's energy.", kept)


def apply(enc: Encoder, operation: str, k: int = 0, E: int = 128,
          basis: EmbeddingBasis | None = None) -> SurgeryResult:
    """Dispatch by name ('tie', 'average', 'factorize'): what the page's radio button calls."""
    if operation == "tie":
        return tie_layers(enc, k)
    if operation == "average":
        return average_layers(enc)
    if operation == "factorize":
        return factorize_embedding(enc, E, basis)
    raise ConfigError(f"Unknown surgery {operation!r}; choose one of {', '.join(OPERATIONS)}.")


@dataclass(frozen=True)
class Drift:
    """How far a changed model's outputs moved from the original's on one sentence."""

    token_cosine: np.ndarray  # (T,) cosine of each token's last hidden state to the original's
    attention_tv: np.ndarray  # (L,) mean total-variation distance between attention rows, per layer

    @property
    def mean_cosine(self) -> float:
        return float(self.token_cosine.mean())

    @property
    def mean_attention_tv(self) -> float:
        return float(self.attention_tv.mean())


def drift(original: EncoderOutput, new: EncoderOutput) -> Drift:
    """Per-token cosine of last hidden states; TV = ½Σ|a−b| per attention row, averaged per layer.

    TV is 0 for identical rows and 1 for rows with disjoint support: "how much attention moved".
    """
    cos = torch.nn.functional.cosine_similarity(original.last_hidden_state[0].detach(),
                                                new.last_hidden_state[0].detach(), dim=-1)
    a, b = stack_attention(original)[:, 0].detach(), stack_attention(new)[:, 0].detach()  # (L, heads, T, T)
    tv = 0.5 * (a - b).abs().sum(-1).mean(dim=(1, 2))
    return Drift(cos.numpy(), tv.double().numpy())
