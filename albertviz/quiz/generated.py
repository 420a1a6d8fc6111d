"""Generated questions: the parameter count of a random valid `ModelConfig`.

The answer comes from `count_parameters`, i.e. from the real module the Parameter explorer uses.
"""

from __future__ import annotations

import random

from albertviz import labels
from albertviz.core.config import ModelConfig
from albertviz.core.params import count_parameters
from albertviz.core.sharing import num_blocks, plan_letters
from albertviz.quiz import Question

GENERATED_REL_TOL = 0.02  # 2%: forgiving rounding and a forgotten LayerNorm, not a forgotten pooler
GENERATED_ABS_TOL = 0.01  # million parameters


def random_config(rng: random.Random) -> ModelConfig:
    """A random, valid, BERT-like shape with a random sharing mode, strategy and embedding type."""
    H = rng.choice([128, 256, 384, 512, 768, 1024])
    heads = rng.choice([a for a in (2, 4, 8, 12, 16) if H % a == 0])
    L = rng.choice([2, 4, 6, 8, 12, 24])
    embedding = rng.choice(["full", "factorized", "factorized", "hashed"])
    E = H if embedding == "full" else rng.choice([e for e in (32, 64, 128, 256) if e < H])
    sharing = rng.choice(["none", "all", "ffn", "attention"])
    groups, strategy = 1, "sequence"
    if sharing != "none" and L > 2 and rng.random() < 0.4:
        groups = rng.choice([m for m in (2, 3, 4) if m < L and L % m == 0] or [1])
        strategy = rng.choice(["sequence", "cycle", "cycle_rev"])
    return ModelConfig(vocab_size=rng.choice([8000, 30000, 30522, 50000]), hidden_size=H, embedding_size=E,
                       num_layers=L, num_heads=heads, intermediate_size=H * rng.choice([2, 4]),
                       sharing=sharing, num_groups=groups, share_strategy=strategy, embedding=embedding)


def describe_for_question(cfg: ModelConfig) -> str:
    """The shape in words a student can compute from."""
    projected = " dims, projected E → H with bias" if cfg.has_projection else " dims"
    emb = {"full": "a full V × H word table",
           "factorized": f"factorized embeddings with E = {cfg.E} (an E → H projection with bias)",
           "hashed": f"hashed EELBERT-style word vectors (no stored word table) in E = {cfg.E}{projected}",
           }[cfg.embedding]
    share = labels.SHARING_ADJECTIVE[cfg.sharing]
    if cfg.sharing != "none":
        attn, ffn = plan_letters(cfg)
        groups = (f" with M = {cfg.num_groups} groups, {cfg.share_strategy}" if cfg.num_groups > 1
                  else " (one block reused by all layers)")
        share += f"{groups}; layer plan: attention {attn}, FFN {ffn}"
    return (f"{share}; L = {cfg.num_layers}, H = {cfg.hidden_size}, A = {cfg.num_heads}, "
            f"F = {cfg.intermediate_size}, V = {cfg.vocab_size:,}; {emb}")


def generated_question(seed: int) -> Question:
    """A numeric question 'how many parameters?' for the random config drawn with `seed`."""
    cfg = random_config(random.Random(seed))
    report = count_parameters(cfg)
    n_attn, n_ffn = num_blocks(cfg)
    parts = report.by_component
    explanation = (
        f"Embeddings {parts['embeddings'] / 1e6:.3f}M + attention {n_attn} block(s) "
        f"{parts['attention'] / 1e6:.3f}M + FFN {n_ffn} block(s) {parts['ffn'] / 1e6:.3f}M + pooler "
        f"{parts['pooler'] / 1e6:.3f}M = {report.total / 1e6:.3f}M. One attention block is 4·(H² + H) + 2H, "
        f"one FFN block 2·H·F + F + H + 2H.")
    if cfg.sharing != "none":
        explanation += (f" Without sharing the same shape has {report.unrolled / 1e6:.3f}M — yet both run "
                        f"the same {report.flops_per_token / 1e6:.1f}M FLOPs per token.")
    prompt = (
        f"How many parameters (millions) does this encoder have: {describe_for_question(cfg)}? "
        f"Assume 512 positions and 2 segment types (E-dim), LayerNorms after the embeddings and after each "
        f"sublayer, biases on every linear layer, and a pooler (H × H + bias).")
    return Question(id=f"computed-{seed}", topic="computed", kind="numeric", prompt=prompt,
                    explanation=explanation, page="parameters", answer=report.total / 1e6,
                    abs_tol=GENERATED_ABS_TOL, rel_tol=GENERATED_REL_TOL, unit="million parameters",
                    config=cfg.to_dict())


def generated_questions(n: int, seed: int) -> list[Question]:
    """`n` generated questions, reproducible from `seed`."""
    rng = random.Random(seed)
    return [generated_question(rng.randrange(2**31)) for _ in range(n)]
