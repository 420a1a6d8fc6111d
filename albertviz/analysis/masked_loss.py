"""What an edit does to masked-word prediction: pseudo-log-likelihood of one sentence, each word masked in turn.

Surgery (tie, average, factorize) is judged by its effect on the task the model was trained for: for every
non-special position, mask it alone, and score the original token under the model's own MLM head. All
positions run as one batch (a sentence of T pieces is a T-row batch), so before and after cost two passes.
The head keeps the original model's output table (`word_matrix`): only the encoder is operated on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from albertviz.core.model import Encoder, MLMHead

MAX_POSITIONS = 64  # longer sentences score their first 64 word positions (bounded time and memory)


@dataclass(frozen=True)
class MaskedLoss:
    positions: np.ndarray  # (N,) token positions scored
    nll: np.ndarray  # (N,) −log p(original token | the rest), in nats
    top1: np.ndarray  # (N,) whether the original token is the head's first guess

    @property
    def mean_nll(self) -> float:
        return float(self.nll.mean()) if len(self.nll) else float("nan")

    @property
    def accuracy(self) -> float:
        return float(self.top1.mean()) if len(self.top1) else float("nan")


def scored_positions(ids: list[int], skip_ids: set[int], limit: int = MAX_POSITIONS) -> list[int]:
    return [i for i, t in enumerate(ids) if t not in skip_ids][:limit]


@torch.no_grad()
def pseudo_masked_loss(encoder: Encoder, head: MLMHead, ids: list[int], type_ids: list[int], mask_id: int,
                       skip_ids: set[int], word_matrix: torch.Tensor | None = None) -> MaskedLoss:
    """Mask each scored position in its own row, score the original token there (mean NLL, top-1 rate)."""
    positions = scored_positions(ids, skip_ids | {mask_id})
    if not positions:
        return MaskedLoss(np.zeros(0, int), np.zeros(0), np.zeros(0, bool))
    rows = torch.tensor([ids] * len(positions))
    idx = torch.arange(len(positions))
    pos = torch.tensor(positions)
    targets = rows[idx, pos].clone()
    rows[idx, pos] = mask_id
    out = encoder(rows, token_type_ids=torch.tensor([type_ids] * len(positions)))
    table = word_matrix if word_matrix is not None else encoder.embeddings.word_matrix()
    logits = head(out.last_hidden_state[idx, pos], table).float()  # (N, V)
    logp = logits.log_softmax(-1)
    nll = -logp[idx, targets]
    return MaskedLoss(np.array(positions), nll.double().numpy(), (logits.argmax(-1) == targets).numpy())
