"""What the manifest records about each trained cell, so pages and tests read numbers instead of claims.

- held-out MLM loss and top-1 on the fixed masked held-out chunks;
- top-1 on `everyday_sentences.tsv` (140 everyday sentences written for this project, never trained on), masked
  at single-piece words, against that set's best constant guess;
- attention entropy per layer (1 = uniform), with and without [CLS]/[SEP] columns;
- KL(MiniLM ‖ model) per layer on held-out chunks, MiniLM's maps carried over to the zoo's pieces
  (`albertviz.analysis.teacher`): how far each model's attention is from a real pretrained BERT's. No cell was trained
  towards these maps.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from albertviz.analysis.measures import attention_entropy
from albertviz.analysis.teacher import kl_per_layer, teacher_maps
from albertviz.core.model import MaskedLM, stack_attention
from albertviz.core.params import count_parameters
from albertviz.data.corpus import split, zoo_chunks, zoo_sources
from albertviz.data.tokenizer import load_tokenizer
from albertviz.training.trainer import evaluate_mlm
from albertviz.zoo.cells import new_model
from albertviz.zoo.pretrained import load_pretrained

EVERYDAY_PATH = Path(__file__).resolve().parent / "everyday_sentences.tsv"
N_ATTENTION_CHUNKS = 64


def everyday_items(tokenizer, path: Path = EVERYDAY_PATH) -> list[tuple[str, str]]:
    """(sentence with one [MASK], target) pairs whose target is one piece of `tokenizer` (others are skipped)."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        sentence, target = line.split("\t")
        if tokenizer.token_to_id(target) is not None:
            items.append((sentence, target))
    return items


@torch.no_grad()
def everyday_accuracy(model: MaskedLM, tokenizer, items: list[tuple[str, str]]) -> dict:
    """Top-1 on the everyday set, and the best constant guess's accuracy on the same targets."""
    mask_id = tokenizer.token_to_id("[MASK]")
    correct = 0
    guesses = []
    for sentence, target in items:
        enc = tokenizer.encode(sentence)
        ids = torch.tensor([enc.ids])
        pos = enc.ids.index(mask_id)
        logits, _, _ = model(ids)
        guess = tokenizer.id_to_token(int(logits[0, pos].argmax()))
        guesses.append(guess)
        correct += guess == target
    top_share = Counter(t for _, t in items).most_common(1)[0][1] / len(items)
    return {"accuracy": correct / len(items), "constant_baseline": top_share, "n_items": len(items),
            "most_common_guesses": Counter(guesses).most_common(5)}


@lru_cache(maxsize=1)
def _minilm():
    return load_pretrained("minilm-l6")


def held_out_teacher_maps(n: int = N_ATTENTION_CHUNKS) -> tuple[np.ndarray, np.ndarray]:
    """(held-out chunk indices, MiniLM's maps on them carried over to the zoo's pieces (n, L, T, T))."""
    chunks = zoo_chunks(load_tokenizer(), 64)
    _, held = split(chunks.ids)
    idx = held[:n]
    texts = [zoo_sources()[chunks.source[i]][1][chunks.start[i]:chunks.end[i]] for i in idx]
    return idx, teacher_maps(_minilm(), texts, [chunks.offsets[i] for i in idx])


@torch.no_grad()
def attention_report(model: MaskedLM, chunks: torch.Tensor, teacher: np.ndarray | None) -> dict:
    """Per-layer entropy (with and without [CLS]/[SEP]) and, given MiniLM's maps, per-layer KL to them."""
    att = stack_attention(model.encoder(chunks))  # (L, B, heads, T, T)
    T = chunks.shape[1]
    special = torch.zeros(T, dtype=torch.bool)
    special[0] = special[-1] = True
    ent = attention_entropy(att)  # (L, B, heads, T)
    ent_ns = attention_entropy(att, exclude=special)
    out = {"attention_entropy": float(ent.mean()), "attention_entropy_no_special": float(ent_ns.mean()),
           "attention_entropy_per_layer": ent.mean(dim=(1, 2, 3)).tolist(),
           "attention_entropy_no_special_per_layer": ent_ns.mean(dim=(1, 2, 3)).tolist()}
    if teacher is not None:
        student = att.mean(2).transpose(0, 1)  # (B, L, T, T), head-averaged
        out["kl_to_minilm_per_layer"] = kl_per_layer(torch.from_numpy(teacher), student).tolist()
    return out


def init_report(model: MaskedLM, data) -> dict:
    """Attention entropy and KL to MiniLM of the same cell *before* training (its seed's initialisation): the
    starting point that `kl_to_minilm_per_layer` moved from. With no teacher there is no teacher phase; this
    is the other end of the run."""
    model.eval()
    idx, teacher = held_out_teacher_maps()
    r = attention_report(model, data.chunks[idx], teacher)
    return {"kl_to_minilm_at_init_per_layer": r["kl_to_minilm_per_layer"],
            "attention_entropy_at_init_per_layer": r["attention_entropy_per_layer"]}


def cell_report(model: MaskedLM, data, eval_batch, seed: int) -> dict:
    """Everything `train_cell` records about a finished model (see the module docstring)."""
    model.eval()
    tok = load_tokenizer()
    idx, teacher = held_out_teacher_maps()
    enc = count_parameters(model.config)
    head = count_parameters(model.config, include_head=True)
    cfg = model.config
    fresh = new_model(cfg.sharing, cfg.embedding, seed=seed)
    return {
        **init_report(fresh, data),
        **evaluate_mlm(model, *eval_batch),
        "everyday": everyday_accuracy(model, tok, everyday_items(tok)),
        **attention_report(model, data.chunks[idx], teacher),
        "params": {"encoder": enc.total, "encoder_unrolled": enc.unrolled, "with_head": head.total,
                   "by_component": head.by_component},
    }
