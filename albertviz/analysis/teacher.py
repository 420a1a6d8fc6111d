"""Teacher attention for students with another tokenizer: MiniLM's maps carried over to the zoo's word pieces.

The zoo has its own 8,192-piece vocabulary, MiniLM bert-base-uncased's, so a chunk splits differently for the two.
Both tokenizers keep character offsets, so a teacher map (Tt × Tt) moves onto the student's pieces (Ts × Ts) by
character overlap: a student row is the mean of the teacher rows it overlaps, and a teacher column's mass is split
equally among the student pieces it overlaps ([CLS] ↔ [CLS], [SEP] ↔ [SEP]). Rows still sum to 1.

No zoo cell is trained towards these maps; they only measure, per layer, how far each model's attention is from
MiniLM's at initialisation and after training (`kl_per_layer`, `albertviz.zoo.evaluation`).
"""

from __future__ import annotations

import numpy as np
import torch

from albertviz.core.model import stack_attention


def overlap(student: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    """(Ts, Tt) 0/1 matrix: which spans overlap. Inputs are (n, 2) [start, end) character spans of body pieces;
    the result adds [CLS] first and [SEP] last on both sides."""
    s0, s1 = student[:, :1], student[:, 1:2]
    t0, t1 = teacher[None, :, 0], teacher[None, :, 1]
    body = ((s0 < t1) & (t0 < s1)).astype(np.float32)  # (ns, nt)
    out = np.zeros((len(student) + 2, len(teacher) + 2), dtype=np.float32)
    out[1:-1, 1:-1] = body
    out[0, 0] = out[-1, -1] = 1.0
    return out


def transfer(att: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Teacher maps (L, Tt, Tt) → student maps (L, Ts, Ts) through the overlap matrix m (Ts, Tt)."""
    rows = m.sum(1, keepdims=True)
    r = np.where(rows > 0, m / np.maximum(rows, 1), 1.0 / m.shape[1])  # a student piece with no teacher: uniform
    cols = m.sum(0, keepdims=True)
    c = (m / np.maximum(cols, 1)).T  # (Tt, Ts): a teacher column's mass split among its student pieces
    out = r[None] @ att @ c[None]  # (L, Ts, Ts)
    return out / np.maximum(out.sum(-1, keepdims=True), 1e-9)  # mass of unmatched teacher columns re-spread


@torch.no_grad()
def teacher_maps(teacher, texts: list[str], student_offsets: list[np.ndarray], batch: int = 32) -> np.ndarray:
    """MiniLM's head-averaged attention for each text, carried over to the student's pieces.

    teacher: a ZooModel (encoder + its own tokenizer); texts[i] is the exact text the student's body pieces cover,
    student_offsets[i] their (n, 2) spans within it. Returns (N, L, Ts, Ts) float32.
    """
    out = []
    for i in range(0, len(texts), batch):
        encs = [teacher.tokenizer.encode(t) for t in texts[i:i + batch]]
        T = max(len(e.ids) for e in encs)
        ids = torch.zeros(len(encs), T, dtype=torch.long)
        mask = torch.zeros(len(encs), T, dtype=torch.long)
        for b, e in enumerate(encs):
            ids[b, :len(e.ids)] = torch.tensor(e.ids)
            mask[b, :len(e.ids)] = 1
        att = stack_attention(teacher.encoder(ids, attention_mask=mask)).transpose(0, 1).mean(2)  # (B, L, T, T)
        for b, e in enumerate(encs):
            n = len(e.ids)
            t_off = np.array(e.offsets[1:n - 1], dtype=np.int64).reshape(-1, 2)
            m = overlap(student_offsets[i + b], t_off)
            out.append(transfer(att[b, :, :n, :n].numpy(), m))
    return np.stack(out).astype(np.float32)


def kl_per_layer(teacher: torch.Tensor, student: torch.Tensor) -> np.ndarray:
    """KL(teacher ‖ student) per layer, mean over rows and chunks. Both (B, L, T, T), head-averaged."""
    t = teacher.float()
    kl = (t * (t.clamp_min(1e-8).log() - student.float().clamp_min(1e-8).log())).sum(-1)  # (B, L, T)
    return kl.mean(dim=(0, 2)).numpy()
