"""The training loop shared by the zoo build (`albertviz.zoo.build`) and the Convergence page's live runs.

One model, one AdamW optimizer, a deterministic stream of batches (a pure function of seed and step), logits only at
masked positions (`MaskedLM.forward` owns the loss), per-component gradient norms in the log, and checkpoints
(safetensors for tensors, JSON for the rest) so an interrupted run resumes exactly.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from albertviz.core.model import MaskedLM
from albertviz.training.config import TrainConfig
from albertviz.training.data import Data, held_out_batch
from albertviz.training.masking import batch_indices, lr_at, mask_tokens, short_windows


def component_params(model: MaskedLM) -> dict[str, list[nn.Parameter]]:
    """Parameters grouped as the logs report them: embeddings, each block, the head."""
    enc = model.encoder
    groups = {"embeddings": list(enc.embeddings.parameters())}
    for i, b in enumerate(enc.attention_blocks):
        groups[f"attention.{i}"] = list(b.parameters())
    for i, b in enumerate(enc.ffn_blocks):
        groups[f"ffn.{i}"] = list(b.parameters())
    groups["head"] = list(model.head.parameters())
    return groups


def grad_norms(model: MaskedLM) -> dict[str, float]:
    out = {}
    for name, params in component_params(model).items():
        sq = sum(float(p.grad.pow(2).sum()) for p in params if p.grad is not None)
        out[name] = math.sqrt(sq)
    return out


@torch.no_grad()
def evaluate_mlm(model: MaskedLM, inputs: torch.Tensor, labels: torch.Tensor) -> dict:
    """Held-out MLM loss and top-1 accuracy over the masked positions."""
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    for i in range(0, len(inputs), 64):
        x, y = inputs[i:i + 64], labels[i:i + 64]
        logits, loss, _ = model(x, labels=y)
        n = int((y != -100).sum())
        loss_sum += float(loss) * n
        correct += int((logits.argmax(-1) == y[y != -100]).sum())
        count += n
    model.train(was_training)
    return {"held_out_loss": loss_sum / count, "held_out_accuracy": correct / count}


class Trainer:
    """One model, one optimizer, a deterministic stream of batches; `step()` advances by one."""

    def __init__(self, model: MaskedLM, data: Data, cfg: TrainConfig) -> None:
        self.model, self.data, self.cfg = model, data, cfg
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                      {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
        self.step_num = 0
        self.tokens_seen = 0
        self.log: list[dict] = []
        self.wall = 0.0
        self.eval_batch = held_out_batch(data, model.config.vocab_size, cfg.eval_chunks)

    def _batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        chunks = self.data.chunks[batch_indices(self.cfg, self.data.train_idx, step)]
        if step < self.cfg.short_steps:
            chunks = short_windows(chunks, self.cfg.short_len)
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step)
        return mask_tokens(chunks, self.data.special, self.data.mask_id, self.model.config.vocab_size, gen)

    def step(self) -> dict:
        cfg, model = self.cfg, self.model
        t0 = time.perf_counter()
        model.train()
        lr = lr_at(self.step_num, cfg)
        for g in self.opt.param_groups:
            g["lr"] = lr
        inputs, labels = self._batch(self.step_num)
        _, loss, _ = model(inputs, labels=labels)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        n = self.step_num + 1  # the step this update completes, counted from 1
        logged = n == 1 or n % cfg.log_every == 0 or n == cfg.steps
        norms = grad_norms(model) if logged else None  # before the update changes the weights
        self.opt.step()
        self.step_num = n
        self.tokens_seen += inputs.numel()
        dt = time.perf_counter() - t0
        self.wall += dt
        rec = {"step": n, "loss": loss.item(), "lr": lr, "step_time": dt}
        if logged:
            rec["grad_norm"] = norms
            if n == 1 or n % cfg.eval_every == 0 or n == cfg.steps:
                rec.update(self.evaluate())
            self.log.append(rec)
        return rec

    def evaluate(self) -> dict:
        return evaluate_mlm(self.model, *self.eval_batch)

    # -- checkpoints: safetensors for tensors, JSON for the rest -------------------------

    def save_checkpoint(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v.contiguous() for k, v in self.model.state_dict().items()}
        for i, st in self._opt_states():
            for k, v in st.items():
                tensors[f"opt.{i}.{k}"] = v.reshape(-1) if k == "step" else v
        save_file(tensors, str(folder / "state.safetensors"))
        meta = {"step": self.step_num, "tokens_seen": self.tokens_seen, "wall": self.wall, "log": self.log,
                "train_config": asdict(self.cfg), "model_config": self.model.config.to_dict()}
        (folder / "state.json").write_text(json.dumps(meta))

    def _opt_states(self) -> list[tuple[int, dict]]:
        """(position among all parameters, Adam state) for every parameter that has state."""
        params = [p for g in self.opt.param_groups for p in g["params"]]
        return [(i, self.opt.state[p]) for i, p in enumerate(params) if p in self.opt.state]

    def load_checkpoint(self, folder: Path) -> bool:
        meta_path = folder / "state.json"
        if not meta_path.exists():
            return False
        meta = json.loads(meta_path.read_text())
        if meta["train_config"] != asdict(self.cfg) or meta.get("model_config") != self.model.config.to_dict():
            return False  # a checkpoint of another run: start afresh
        tensors = load_file(str(folder / "state.safetensors"))
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        params = [p for g in self.opt.param_groups for p in g["params"]]
        for i, p in enumerate(params):
            if f"opt.{i}.exp_avg" in tensors:
                self.opt.state[p] = {"step": tensors[f"opt.{i}.step"].reshape(()),
                                     "exp_avg": tensors[f"opt.{i}.exp_avg"],
                                     "exp_avg_sq": tensors[f"opt.{i}.exp_avg_sq"]}
        self.step_num, self.tokens_seen, self.wall = meta["step"], meta["tokens_seen"], meta["wall"]
        self.log = meta["log"]
        return True

    def run(self, on_step: Callable[[dict], None] | None = None,
            should_stop: Callable[[], bool] | None = None, checkpoint_dir: Path | None = None) -> None:
        while self.step_num < self.cfg.steps:
            if should_stop is not None and should_stop():
                break
            rec = self.step()
            if on_step is not None:
                on_step(rec)
            if checkpoint_dir is not None and self.step_num % self.cfg.checkpoint_every == 0:
                self.save_checkpoint(checkpoint_dir)
