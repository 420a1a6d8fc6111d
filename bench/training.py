"""Issue 3: trainer throughput against HF BertForMaskedLM on the same config and batch (tokens/s)."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForMaskedLM

from albertviz.core.model import MaskedLM
from albertviz.training.config import TrainConfig
from albertviz.training.masking import mask_tokens
from albertviz.zoo.cells import zoo_config
from bench.timing import Result, interleaved


def trainer_vs_hf() -> Result:
    cfg = zoo_config("none", "full")
    tcfg = TrainConfig()
    B, T = tcfg.batch_size, tcfg.seq_len
    torch.manual_seed(0)
    ids = torch.randint(5, cfg.vocab_size, (B, T))
    special = torch.zeros(cfg.vocab_size, dtype=torch.bool)
    inputs, labels = mask_tokens(ids, special, 103, cfg.vocab_size, torch.Generator().manual_seed(0))

    ours = MaskedLM(cfg)
    ours_opt = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    hf = BertForMaskedLM(BertConfig(vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size,
                                    num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
                                    intermediate_size=cfg.intermediate_size, max_position_embeddings=128,
                                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    hf.train()
    hf_opt = torch.optim.AdamW(hf.parameters(), lr=1e-4)

    def step_ours():  # the Trainer's step: MLM head on masked positions only, fused attention
        out = ours.encoder(inputs, output_attentions=False)
        sel = labels != -100
        loss = torch.nn.functional.cross_entropy(ours.logits(out.last_hidden_state[sel]), labels[sel])
        ours_opt.zero_grad(set_to_none=True)
        loss.backward()
        ours_opt.step()

    def step_hf():
        loss = hf(input_ids=inputs, labels=labels).loss
        hf_opt.zero_grad(set_to_none=True)
        loss.backward()
        hf_opt.step()

    t = interleaved({"hf": step_hf, "ours": step_ours}, repeats=15, warmup=2)
    ratio = t["hf"] / t["ours"]
    tokens = B * T
    return Result("trainer throughput vs HF BertForMaskedLM (zoo shape, batch 32×64)", round(ratio, 2), "×",
                  "≥ 1.33", ratio >= 1.33,
                  f"albertviz {tokens / t['ours']:,.0f} tokens/s, HF {tokens / t['hf']:,.0f} tokens/s")


def run() -> list[Result]:
    return [trainer_vs_hf()]
