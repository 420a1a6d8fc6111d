"""Numbers computed from hidden states and attention maps (pure torch/numpy, no UI).

ALBERT's Fig. 1 measures, per layer, how far the output moves from the input (L2 distance and
the angle between them); CKA and cosine compare whole layers; entropy and distance summarise how
spread out attention is. Each function takes tensors for one sentence and returns plain numbers.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def attention_entropy(attn: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Normalized entropy of each attention row, 1 = uniform over the keys, 0 = one key.

    `attn` is (..., T, T). `exclude` is a (T,) bool mask of key columns (e.g. [CLS]/[SEP]) to drop
    before measuring: rows are renormalized over the remaining keys. Returns (..., T) in [0, 1].
    """
    if exclude is not None:
        attn = attn[..., ~exclude]
        attn = attn / attn.sum(-1, keepdim=True).clamp_min(1e-12)
    n = attn.shape[-1]
    if n < 2:
        return torch.zeros(attn.shape[:-1])
    ent = -(attn * attn.clamp_min(1e-12).log()).sum(-1)
    return ent / math.log(n)


def mean_attention_distance(attn: torch.Tensor) -> torch.Tensor:
    """Expected |query position − key position| per row, in tokens. (..., T, T) → (..., T)."""
    T = attn.shape[-1]
    pos = torch.arange(T, dtype=attn.dtype)
    dist = (pos[:, None] - pos[None, :]).abs()
    return (attn * dist).sum(-1)


def attention_share(attn: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """Share of each row's attention that goes to the given key columns (T,) bool. → (..., T)."""
    return attn[..., columns].sum(-1)


def input_output_distance(hidden_states: tuple[torch.Tensor, ...]) -> dict[str, np.ndarray]:
    """ALBERT Fig. 1: per layer, L2 distance and angle (degrees) between its input and output.

    `hidden_states` are L+1 tensors (T, H) of one sentence; each metric is averaged over tokens.
    """
    l2, deg = [], []
    for x_in, x_out in zip(hidden_states[:-1], hidden_states[1:], strict=True):
        l2.append((x_out - x_in).norm(dim=-1).mean().item())
        cos = torch.nn.functional.cosine_similarity(x_in, x_out, dim=-1).clamp(-1, 1)
        deg.append(torch.rad2deg(torch.acos(cos)).mean().item())
    return {"l2": np.array(l2), "degrees": np.array(deg)}


def layer_cosine_matrix(hidden_states: tuple[torch.Tensor, ...]) -> np.ndarray:
    """(L+1)×(L+1) mean per-token cosine similarity between every pair of layers' hidden states."""
    hs = torch.stack([h.float() for h in hidden_states])  # (L+1, T, H)
    hs = torch.nn.functional.normalize(hs, dim=-1)
    return torch.einsum("ath,bth->abt", hs, hs).mean(-1).numpy()


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA (Kornblith et al. 2019) between two (T, H) representations of the same tokens."""
    x = x.double() - x.double().mean(0, keepdim=True)
    y = y.double() - y.double().mean(0, keepdim=True)
    num = (x.T @ y).norm() ** 2
    den = (x.T @ x).norm() * (y.T @ y).norm()
    return float(num / den) if den > 0 else 0.0


def layer_cka_matrix(hidden_states: tuple[torch.Tensor, ...]) -> np.ndarray:
    n = len(hidden_states)
    out = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = linear_cka(hidden_states[i], hidden_states[j])
    return out


def pca_2d(points: np.ndarray) -> np.ndarray:
    """Project (N, H) points onto their first two principal components → (N, 2)."""
    centered = points - points.mean(0, keepdims=True)
    if len(points) < 2:
        return np.zeros((len(points), 2))
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    comps = vt[:2]
    proj = centered @ comps.T
    return np.pad(proj, ((0, 0), (0, 2 - proj.shape[1])))


def same_weights_spread(plan: list[tuple[int, int]], entropy: list[float] | np.ndarray) -> list[dict]:
    """For every attention block that several layers run: those layers (1-based) and their entropy range.

    The Attention page's "same weights, different attention" sentence is built from this, so it states only
    what this sentence's maps show. Blocks used by one layer are left out.
    """
    uses: dict[int, list[int]] = {}
    for layer, (attn, _) in enumerate(plan):
        uses.setdefault(attn, []).append(layer)
    out = []
    for block, layers in sorted(uses.items()):
        if len(layers) > 1:
            vals = [float(entropy[i]) for i in layers]
            out.append({"block": block, "layers": [i + 1 for i in layers], "min": min(vals), "max": max(vals)})
    return out
