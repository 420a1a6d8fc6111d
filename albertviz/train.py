"""Pre-train the zoo: masked-language modelling plus attention distillation from MiniLM.

    python -m albertviz.train --all                    # every sharing × embedding cell
    python -m albertviz.train --sharing all --embedding hashed

Why distillation: on this 2-core CPU, MLM alone leaves tiny models on the unigram plateau with
near-uniform attention (see DESIGN.md). Adding, at every layer, the KL divergence between the real
all-MiniLM-L6-v2's head-averaged attention and the student's — the deep self-attention
distillation MiniLM itself was made with — trains them in minutes. Hidden states are never
distilled, so how similar a student's layers are stays its own.

The loop is shared with the Convergence page's live experiment (`Trainer`), runs the MLM head
only on masked positions (15% of tokens), and checkpoints so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from .config import EMBEDDING_TYPES, SHARING_MODES, ModelConfig
from .model import MaskedLM

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1500
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    distill_weight: float = 1.0  # weight of the summed per-layer attention KL; 0 = MLM alone
    seed: int = 0
    log_every: int = 25
    eval_every: int = 100
    eval_chunks: int = 256
    checkpoint_every: int = 250
    # Init std of a factorized (E < H) word table. With BERT's 0.02 the tied decoder starts with a fraction of
    # a full table's logit scale, and at E=32 the shared-attention factorized cells sat on the unigram plateau
    # for ~900 of 1,500 steps (all-factorized 9.0% held-out; std 0.08: 13.5%; E=48 with 0.08: see README).
    factorized_word_std: float = 0.08


def zoo_config(sharing: str, embedding: str) -> ModelConfig:
    """The one shape every zoo cell shares; only sharing and embedding differ."""
    return ModelConfig(vocab_size=30522, hidden_size=128, num_layers=6, num_heads=4, intermediate_size=512,
                       max_position_embeddings=128, embedding=embedding, sharing=sharing,
                       # E=48: at E=32 the factorized cells ended at 1.8-2.0x the baseline (README, "Model zoo")
                       embedding_size=48 if embedding == "factorized" else 128, pooler=False,
                       # unit-length hashed vectors: 15.4% vs 11.9% held-out accuracy after 600 steps
                       hash_normalize=embedding == "hashed")


def cell_name(sharing: str, embedding: str) -> str:
    return f"{sharing}-{embedding}"


# ---------------------------------------------------------------- masking and schedules

def mask_tokens(ids: torch.Tensor, special: torch.Tensor, mask_id: int, vocab_size: int,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: 15% of ordinary tokens are targets; 80% → [MASK], 10% → random, 10% kept."""
    labels = ids.clone()
    chosen = (torch.rand(ids.shape, generator=generator) < 0.15) & ~special[ids]
    labels[~chosen] = -100
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=generator)
    inputs[chosen & (roll < 0.8)] = mask_id
    rand_pos = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[rand_pos] = torch.randint(vocab_size, ids.shape, generator=generator)[rand_pos]
    return inputs, labels


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to `lr`, then linear decay to 10% of it."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (1.0 - 0.9 * min(1.0, frac))


def attention_kl(teacher: torch.Tensor, attentions: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Σ over layers of KL(teacher ‖ student), both head-averaged; mean over rows and batch.

    teacher: (B, L, T, T); attentions: L × (B, heads, T, T).
    """
    student = torch.stack([a.mean(1) for a in attentions], dim=1)  # (B, L, T, T)
    t = teacher.float()
    kl = (t * (t.clamp_min(1e-8).log() - student.clamp_min(1e-8).log())).sum(-1)  # (B, L, T)
    return kl.mean(dim=(0, 2)).sum()


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


# ---------------------------------------------------------------- the training loop

@dataclass
class Data:
    """Token chunks with a fixed train/held-out split, plus optional teacher attention per chunk."""

    chunks: torch.Tensor  # (N, T) int64
    train_idx: np.ndarray
    held_idx: np.ndarray
    special: torch.Tensor  # (V,) bool: tokens never masked
    mask_id: int
    teacher: np.ndarray | None = None  # (N, L, T, T) float16, head-averaged


def held_out_batch(data: Data, vocab_size: int, n_chunks: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed masked held-out set (seed 1234) every run and every test is scored on."""
    idx = data.held_idx[:n_chunks]
    return mask_tokens(data.chunks[idx], data.special, data.mask_id, vocab_size,
                       torch.Generator().manual_seed(1234))


@torch.no_grad()
def evaluate_mlm(model: MaskedLM, inputs: torch.Tensor, labels: torch.Tensor) -> dict:
    """Held-out MLM loss and top-1 accuracy over the masked positions."""
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    for i in range(0, len(inputs), 64):
        x, y = inputs[i:i + 64], labels[i:i + 64]
        h = model.encoder(x, output_attentions=False).last_hidden_state
        sel = y != -100
        logits = model.logits(h[sel])
        loss_sum += F.cross_entropy(logits, y[sel], reduction="sum").item()
        correct += int((logits.argmax(-1) == y[sel]).sum())
        count += int(sel.sum())
    model.train(was_training)
    return {"held_out_loss": loss_sum / count, "held_out_accuracy": correct / count}


def new_model(sharing: str, embedding: str, seed: int = 0,
              factorized_word_std: float = TrainConfig.factorized_word_std) -> MaskedLM:
    """A freshly initialised zoo cell, exactly as the trainer starts it."""
    from .tokenizer import load_tokenizer, vocab_list

    mcfg = zoo_config(sharing, embedding)
    torch.manual_seed(seed)
    model = MaskedLM(mcfg, vocab_list(load_tokenizer()))
    proj = model.encoder.embeddings.projection
    if proj is not None:  # keep the projected vectors' scale close to a full table's
        nn.init.normal_(proj.weight, std=1 / math.sqrt(mcfg.E))
        nn.init.normal_(model.encoder.embeddings.word_embeddings.weight, std=factorized_word_std)
    return model


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

    def _batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        idx = batch_indices(self.cfg, self.data.train_idx, step)
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step)
        inputs, labels = mask_tokens(self.data.chunks[idx], self.data.special, self.data.mask_id,
                                     self.model.config.vocab_size, gen)
        teacher = None
        if self.data.teacher is not None and self.cfg.distill_weight > 0:
            teacher = torch.from_numpy(np.asarray(self.data.teacher[idx]))
        return inputs, labels, teacher


    def step(self) -> dict:
        cfg, model = self.cfg, self.model
        t0 = time.perf_counter()
        model.train()
        lr = lr_at(self.step_num, cfg)
        for g in self.opt.param_groups:
            g["lr"] = lr
        inputs, labels, teacher = self._batch(self.step_num)
        out = model.encoder(inputs, output_attentions=teacher is not None)
        sel = labels != -100
        mlm = F.cross_entropy(model.logits(out.last_hidden_state[sel]), labels[sel])
        loss = mlm
        kl = torch.zeros(())
        if teacher is not None:
            kl = attention_kl(teacher, out.attentions)
            loss = mlm + cfg.distill_weight * kl
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
        rec = {"step": n, "loss": mlm.item(), "distill_kl": kl.item(), "lr": lr, "step_time": dt}
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


# ---------------------------------------------------------------- corpus, teacher, zoo output

def special_mask(tokenizer, vocab_size: int) -> torch.Tensor:
    special = torch.zeros(vocab_size, dtype=torch.bool)
    for t in SPECIAL_TOKENS:
        special[tokenizer.token_to_id(t)] = True
    return special


def load_data(seq_len: int, with_teacher: bool) -> Data:
    from .corpus import make_chunks, split
    from .tokenizer import load_tokenizer

    tok = load_tokenizer()
    chunks = make_chunks(tok, seq_len)
    train_idx, held_idx = split(chunks)
    teacher = teacher_attention(chunks) if with_teacher else None
    return Data(torch.from_numpy(chunks).long(), train_idx, held_idx,
                special_mask(tok, tok.get_vocab_size()), tok.token_to_id("[MASK]"), teacher)


def batch_indices(cfg: TrainConfig, train_idx: np.ndarray, step: int) -> np.ndarray:
    """Which training chunks step `step` uses: a pure function of the seed and the step (resumable)."""
    return np.random.default_rng([cfg.seed, step]).choice(train_idx, size=cfg.batch_size, replace=False)


def teacher_attention_for(data: Data, cfg: TrainConfig, steps: int) -> np.ndarray:
    """Teacher attention for only the chunks the first `steps` steps use (zeros elsewhere; for tests)."""
    from .zoo import load_pretrained

    teacher = load_pretrained("minilm-l6").encoder
    N, T = data.chunks.shape
    out = np.zeros((N, teacher.config.num_layers, T, T), dtype=np.float16)  # untouched pages cost nothing
    needed = np.unique(np.concatenate([batch_indices(cfg, data.train_idx, s) for s in range(steps)]))
    with torch.no_grad():
        for i in range(0, len(needed), 64):
            rows = needed[i:i + 64]
            att = teacher(data.chunks[rows]).attentions
            out[rows] = torch.stack([a.mean(1) for a in att], 1).half().numpy()
    return out


def teacher_attention(chunks: np.ndarray) -> np.ndarray:
    """MiniLM's head-averaged attention for every chunk, computed once and cached on disk."""
    digest = hashlib.sha256(chunks.tobytes()).hexdigest()[:12]
    path = CACHE / f"teacher-attention-{digest}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    from tqdm import tqdm

    from .zoo import load_pretrained

    teacher = load_pretrained("minilm-l6").encoder
    N, T = chunks.shape
    CACHE.mkdir(exist_ok=True)
    tmp = path.with_suffix(".partial.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16,
                                    shape=(N, teacher.config.num_layers, T, T))
    with torch.no_grad():
        for i in tqdm(range(0, N, 64), desc="teacher attention (MiniLM)", unit="batch"):
            ids = torch.from_numpy(chunks[i:i + 64]).long()
            att = teacher(ids).attentions  # L × (B, heads, T, T)
            out[i:i + 64] = torch.stack([a.mean(1) for a in att], 1).half().numpy()
    out.flush()
    del out
    tmp.rename(path)
    return np.load(path, mmap_mode="r")


def unigram_baseline(data: Data, labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most frequent training token on the held-out targets."""
    train_tokens = data.chunks[data.train_idx][:, 1:-1].reshape(-1)
    top = int(torch.bincount(train_tokens).argmax())
    targets = labels[labels != -100]
    return float((targets == top).float().mean())


def held_out_entropy(model: MaskedLM, data: Data, n: int = 64) -> dict[str, float]:
    """Mean normalized attention entropy over layers, heads and rows, with and without [CLS]/[SEP]."""
    from .analysis import attention_entropy

    ids = data.chunks[data.held_idx[:n]]
    with torch.no_grad():
        att = torch.stack(model.encoder(ids).attentions)  # (L, B, heads, T, T)
    T = ids.shape[1]
    special = torch.zeros(T, dtype=torch.bool)
    special[0] = special[-1] = True
    return {"attention_entropy": float(attention_entropy(att).mean()),
            "attention_entropy_no_special": float(attention_entropy(att, exclude=special).mean())}


def train_cell(sharing: str, embedding: str, cfg: TrainConfig, data: Data, out_dir: Path) -> dict:
    from tqdm import tqdm

    from .params import count_parameters
    from .zoo import MANIFEST_NAME, WEIGHTS_DIR, file_sha256

    name = cell_name(sharing, embedding)
    mcfg = zoo_config(sharing, embedding)
    model = new_model(sharing, embedding, cfg.seed, cfg.factorized_word_std)
    trainer = Trainer(model, data, cfg)
    run_id = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:8]
    ckpt = CACHE / "train" / f"{name}-{run_id}"  # runs with other settings never share a checkpoint
    if trainer.load_checkpoint(ckpt):
        print(f"{name}: resuming at step {trainer.step_num}")
    bar = tqdm(total=cfg.steps, initial=trainer.step_num, desc=name, unit="step")

    def show(rec: dict) -> None:
        bar.update(1)
        if "held_out_accuracy" in rec:
            bar.set_postfix(loss=f"{rec['loss']:.2f}", acc=f"{rec['held_out_accuracy']:.3f}")

    trainer.run(on_step=show, checkpoint_dir=ckpt)
    bar.close()
    final = trainer.evaluate()
    weights = out_dir / WEIGHTS_DIR / f"{name}.safetensors"
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(weights),
              metadata={"config": json.dumps(mcfg.to_dict())})
    report = count_parameters(mcfg, include_head=True)
    enc_report = count_parameters(mcfg)
    entry = {
        "name": name, "sharing": sharing, "embedding": embedding, "config": mcfg.to_dict(),
        "file": f"{WEIGHTS_DIR}/{name}.safetensors", "sha256": file_sha256(weights),
        "params": {"encoder": enc_report.total, "encoder_unrolled": enc_report.unrolled,
                   "with_head": report.total, "by_component": report.by_component},
        "train_config": asdict(cfg), "distilled_from": "all-MiniLM-L6-v2" if cfg.distill_weight else None,
        "tokens_seen": trainer.tokens_seen, "wall_time_s": round(trainer.wall, 1),
        "final_train_loss": float(np.mean([r["loss"] for r in trainer.log[-4:]])),
        "held_out_loss": final["held_out_loss"], "held_out_accuracy": final["held_out_accuracy"],
        "unigram_baseline_accuracy": unigram_baseline(data, trainer.eval_batch[1]),
        **held_out_entropy(model, data),
        "log": trainer.log,
    }
    manifest_path = out_dir / MANIFEST_NAME
    with open(out_dir / ".manifest.lock", "w") as lock:  # several trainers may finish at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": {}}
        manifest["models"][name] = entry
        manifest["models"] = dict(sorted(manifest["models"].items()))
        manifest_path.write_text(json.dumps(manifest, indent=1))
    return entry


def main(argv: list[str] | None = None) -> None:
    from .zoo import ZOO_DIR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", action="store_true", help="train every sharing × embedding cell")
    p.add_argument("--cells", help="comma-separated cells in training order, e.g. none-hashed,all-hashed")
    p.add_argument("--sharing", choices=SHARING_MODES, default="none")
    p.add_argument("--embedding", choices=EMBEDDING_TYPES, default="full")
    p.add_argument("--steps", type=int, default=TrainConfig.steps)
    p.add_argument("--distill-weight", type=float, default=TrainConfig.distill_weight)
    p.add_argument("--seed", type=int, default=TrainConfig.seed)
    p.add_argument("--factorized-word-std", type=float, default=TrainConfig.factorized_word_std)
    p.add_argument("--out", type=Path, default=ZOO_DIR, help="where weights and manifest.json go")
    p.add_argument("--skip-done", action="store_true", help="skip cells already in the manifest")
    args = p.parse_args(argv)
    cfg = TrainConfig(steps=args.steps, distill_weight=args.distill_weight, seed=args.seed,
                      factorized_word_std=args.factorized_word_std)
    if args.cells:
        cells = [tuple(c.strip().split("-", 1)) for c in args.cells.split(",")]
    elif args.all:
        cells = [(s, e) for e in EMBEDDING_TYPES for s in SHARING_MODES]
    else:
        cells = [(args.sharing, args.embedding)]
    data = load_data(cfg.seq_len, with_teacher=cfg.distill_weight > 0)
    manifest_path = args.out / "manifest.json"
    for sharing, embedding in cells:
        if args.skip_done and manifest_path.exists():
            if cell_name(sharing, embedding) in json.loads(manifest_path.read_text())["models"]:
                continue
        e = train_cell(sharing, embedding, cfg, data, args.out)
        print(f"{e['name']}: held-out acc {e['held_out_accuracy']:.3f} "
              f"({e['held_out_accuracy'] / e['unigram_baseline_accuracy']:.2f}× baseline), "
              f"entropy {e['attention_entropy']:.2f}, {e['wall_time_s']:.0f}s")


if __name__ == "__main__":
    main()
