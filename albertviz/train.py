"""Pre-train the zoo: masked-language modelling alone, no teacher, with a short-window warm-up.

    python -m albertviz.train --all                    # the whole grid, resumable (make zoo)
    python -m albertviz.train --sharing all --embedding hashed --seed 1

The recipe, chosen by measurement on this 2-core CPU (README, "Model zoo"): the zoo's own 8,192-piece vocabulary,
AdamW at 1e-3, and for the first third of training 16-token windows (each training chunk cut into four) instead of
64-token chunks. With 64 tokens a fresh model's attention is close to uniform over 64 keys and MLM sits on the
unigram plateau for hundreds of steps; in a 16-token window a neighbour already carries 1/16 of uniform attention,
and attention that reads context is found sooner (at 750 steps 2.07× the unigram baseline vs 1.76× without).
No teacher and no attention or hidden-state target at any step, so every attention map and Fig. 1 curve is the
model's own; `kl_to_minilm` records how far each one ended from MiniLM's maps.

The loop is shared with the Convergence page's live experiment (`Trainer`), computes logits only at masked positions
(`MaskedLM.forward` owns the loss), and checkpoints so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .config import EMBEDDING_TYPES, SHARING_MODES, ModelConfig
from .model import MaskedLM
from .tokenizer import SPECIAL_TOKENS, ZOO_VOCAB_SIZE


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.01
    # The first `short_steps` steps read each chosen chunk as 64 // short_len windows of short_len tokens.
    short_steps: int = 700
    short_len: int = 16
    seed: int = 0
    log_every: int = 25
    eval_every: int = 100
    eval_chunks: int = 256
    checkpoint_every: int = 250
    # Init std of a factorized (E < H) word table: with BERT's 0.02 the tied decoder starts with a fraction of a
    # full table's logit scale, and factorized cells sat on the unigram plateau far longer (README, "Model zoo").
    factorized_word_std: float = 0.08


def zoo_config(sharing: str, embedding: str) -> ModelConfig:
    """The one shape every zoo cell shares; only sharing and embedding differ."""
    return ModelConfig(vocab_size=ZOO_VOCAB_SIZE, hidden_size=128, num_layers=6, num_heads=4, intermediate_size=512,
                       max_position_embeddings=128, embedding=embedding, sharing=sharing,
                       # E=48: at E=32 the factorized cells ended at 1.8-2.0x the baseline (zoo v1)
                       embedding_size=48 if embedding == "factorized" else 128, pooler=False,
                       # unit-length hashed vectors: 15.4% vs 11.9% held-out accuracy after 600 steps (zoo v1)
                       hash_normalize=embedding == "hashed")


def cell_name(sharing: str, embedding: str) -> str:
    return f"{sharing}-{embedding}"


def weights_name(sharing: str, embedding: str, seed: int) -> str:
    """File stem of a cell's weights: 'none-full' for seed 0 (what the pages show), 'none-full.seed1' etc."""
    return cell_name(sharing, embedding) + (f".seed{seed}" if seed else "")


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


def short_windows(chunks: torch.Tensor, short_len: int) -> torch.Tensor:
    """(B, T) chunks → (B · (T // short_len), short_len) windows: [CLS] + short_len - 2 pieces + [SEP] each.

    The windows reuse each chunk's own [CLS]/[SEP] ids and its pieces in order (the tail that does not fill a
    window is dropped), so the warm-up reads the same text as the rest of training, only in shorter pieces.
    """
    B, T = chunks.shape
    body, k = short_len - 2, T // short_len
    out = torch.empty((B, k, short_len), dtype=chunks.dtype)
    out[:, :, 0], out[:, :, -1] = chunks[:, :1], chunks[:, -1:]
    out[:, :, 1:-1] = chunks[:, 1:1 + k * body].reshape(B, k, body)
    return out.reshape(B * k, short_len)


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
    """Token chunks with a fixed train/held-out split."""

    chunks: torch.Tensor  # (N, T) int64
    train_idx: np.ndarray
    held_idx: np.ndarray
    special: torch.Tensor  # (V,) bool: tokens never masked
    mask_id: int


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
        logits, loss, _ = model(x, labels=y)
        n = int((y != -100).sum())
        loss_sum += float(loss) * n
        correct += int((logits.argmax(-1) == y[y != -100]).sum())
        count += n
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


# ---------------------------------------------------------------- corpus and zoo output

def special_mask(tokenizer, vocab_size: int) -> torch.Tensor:
    special = torch.zeros(vocab_size, dtype=torch.bool)
    for t in SPECIAL_TOKENS:
        special[tokenizer.token_to_id(t)] = True
    return special


def load_data(seq_len: int = 64) -> Data:
    """The zoo corpus as chunks of the zoo tokenizer, with the fixed train/held-out split."""
    from .corpus import make_chunks, split
    from .tokenizer import load_tokenizer

    tok = load_tokenizer()
    chunks = make_chunks(tok, seq_len)
    train_idx, held_idx = split(chunks)
    return Data(torch.from_numpy(chunks).long(), train_idx, held_idx,
                special_mask(tok, tok.get_vocab_size()), tok.token_to_id("[MASK]"))


def batch_indices(cfg: TrainConfig, train_idx: np.ndarray, step: int) -> np.ndarray:
    """Which training chunks step `step` uses: a pure function of the seed and the step (resumable)."""
    return np.random.default_rng([cfg.seed, step]).choice(train_idx, size=cfg.batch_size, replace=False)


def unigram_baseline(data: Data, labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most frequent training token on the held-out targets."""
    train_tokens = data.chunks[data.train_idx][:, 1:-1].reshape(-1)
    top = int(torch.bincount(train_tokens).argmax())
    targets = labels[labels != -100]
    return float((targets == top).float().mean())


def train_cell(sharing: str, embedding: str, cfg: TrainConfig, data: Data, out_dir: Path) -> dict:
    from tqdm import tqdm

    from .zoo import CACHE_SUBDIR, MANIFEST_NAME, WEIGHTS_DIR, file_sha256
    from .zoo.evaluation import cell_report

    name = cell_name(sharing, embedding)
    stem = weights_name(sharing, embedding, cfg.seed)
    mcfg = zoo_config(sharing, embedding)
    model = new_model(sharing, embedding, cfg.seed, cfg.factorized_word_std)
    trainer = Trainer(model, data, cfg)
    run_id = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:8]
    ckpt = CACHE_SUBDIR("train") / f"{stem}-{run_id}"  # runs with other settings never share a checkpoint
    if trainer.load_checkpoint(ckpt):
        print(f"{stem}: resuming at step {trainer.step_num}")
    bar = tqdm(total=cfg.steps, initial=trainer.step_num, desc=stem, unit="step")

    def show(rec: dict) -> None:
        bar.update(1)
        if "held_out_accuracy" in rec:
            bar.set_postfix(loss=f"{rec['loss']:.2f}", acc=f"{rec['held_out_accuracy']:.3f}")

    trainer.run(on_step=show, checkpoint_dir=ckpt)
    bar.close()
    weights = out_dir / WEIGHTS_DIR / f"{stem}.safetensors"
    weights.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(weights),
              metadata={"config": json.dumps(mcfg.to_dict())})
    entry = {
        "name": name, "sharing": sharing, "embedding": embedding, "seed": cfg.seed, "config": mcfg.to_dict(),
        "file": f"{WEIGHTS_DIR}/{stem}.safetensors", "sha256": file_sha256(weights),
        "train_config": asdict(cfg), "teacher": None,
        "trained_on": f"CPU ({platform.machine()}), torch {torch.__version__}, {torch.get_num_threads()} thread(s)",
        "tokens_seen": trainer.tokens_seen, "wall_time_s": round(trainer.wall, 1),
        "final_train_loss": float(np.mean([r["loss"] for r in trainer.log[-4:]])),
        "unigram_baseline_accuracy": unigram_baseline(data, trainer.eval_batch[1]),
        **cell_report(model, data, trainer.eval_batch, cfg.seed),
        "log": trainer.log,
    }
    with open(out_dir / ".manifest.lock", "w") as lock:  # several trainers may finish at once
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest_path = out_dir / MANIFEST_NAME
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        manifest.setdefault("models", {})
        manifest.setdefault("seeds", {})
        if cfg.seed == 0:
            manifest["models"][name] = entry
        else:
            manifest["seeds"].setdefault(name, {})[str(cfg.seed)] = entry
        manifest["seeds"] = {k: dict(sorted(v.items())) for k, v in manifest["seeds"].items()}
        manifest["models"] = dict(sorted(manifest["models"].items()))
        manifest["seeds"] = dict(sorted(manifest["seeds"].items()))
        manifest_path.write_text(json.dumps(manifest, indent=1))
    return entry


def describe_zoo(out_dir: Path, data: Data | None = None) -> None:
    """Write what every cell shares into the manifest: corpus (source, licence, size), tokenizer, recipe; and
    fill in any entry's at-initialisation attention figures that an older trainer did not record."""
    from .corpus import HELD_OUT_EVERY, zoo_corpus_card
    from .tokenizer import load_tokenizer
    from .zoo import MANIFEST_NAME
    from .zoo.evaluation import EVERYDAY_PATH, init_report

    with open(out_dir / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = out_dir / MANIFEST_NAME
        manifest = json.loads(path.read_text())
        entries = [*manifest["models"].values(), *(e for seeds in manifest.get("seeds", {}).values()
                                                   for e in seeds.values())]
        for e in entries:
            if "kl_to_minilm_at_init_per_layer" not in e:
                data = data if data is not None else load_data(TrainConfig.seq_len)
                e.update(init_report(new_model(e["sharing"], e["embedding"], e["seed"]), data))
        manifest["about"] = {
            "corpus": zoo_corpus_card(),
            "split": f"chunks of {TrainConfig.seq_len} pieces, shuffled with seed 0; every {HELD_OUT_EVERY}th "
                     "chunk held out",
            "tokenizer": {"file": "tokenizer.json", "pieces": load_tokenizer().get_vocab_size(),
                          "how": "WordPiece learned from the zoo corpus with `tokenizers` "
                                 "(python -m albertviz.zoo.build_tokenizer)"},
            "recipe": "masked-language modelling alone (BERT masking, 15%); no teacher and no attention or "
                      "hidden-state target at any step; the first short_steps steps read 16-piece windows; "
                      "AdamW, linear warm-up then linear decay to 10% (train_config of each entry)",
            "everyday_set": {"file": EVERYDAY_PATH.name, "lines": len(EVERYDAY_PATH.read_text().splitlines()),
                             "how": "written for this project, never trained on; one [MASK] per sentence"},
        }
        path.write_text(json.dumps(manifest, indent=1))


def grid(seeds: tuple[int, ...] = (0, 1, 2)) -> list[tuple[str, str, int]]:
    """Every cell at seed 0 (grid order), then the extra seeds of the four full-embedding cells."""
    cells = [(s, e, 0) for e in EMBEDDING_TYPES for s in SHARING_MODES]
    return cells + [(s, "full", seed) for seed in seeds if seed for s in SHARING_MODES]


def is_done(manifest_path: Path, sharing: str, embedding: str, cfg: TrainConfig) -> bool:
    if not manifest_path.exists():
        return False
    manifest = json.loads(manifest_path.read_text())
    name = cell_name(sharing, embedding)
    entry = manifest.get("models", {}).get(name) if cfg.seed == 0 else \
        manifest.get("seeds", {}).get(name, {}).get(str(cfg.seed))
    return bool(entry) and entry.get("train_config") == asdict(cfg)


def main(argv: list[str] | None = None) -> None:
    from .zoo import ZOO_DIR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", action="store_true", help="the whole grid: 12 cells, plus seeds 1 and 2 of the full "
                                                      "cells; cells already trained with these settings are skipped")
    p.add_argument("--shard", default="0/1", help="i/n: train every n-th job of the grid from the i-th (parallel)")
    p.add_argument("--sharing", choices=SHARING_MODES, default="none")
    p.add_argument("--embedding", choices=EMBEDDING_TYPES, default="full")
    p.add_argument("--seed", type=int, default=TrainConfig.seed)
    p.add_argument("--steps", type=int, default=TrainConfig.steps)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (1: run one per core)")
    p.add_argument("--out", type=Path, default=ZOO_DIR, help="where weights and manifest.json go")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    jobs = grid() if args.all else [(args.sharing, args.embedding, args.seed)]
    i, n = (int(x) for x in args.shard.split("/"))
    jobs = jobs[i::n]
    data = load_data(TrainConfig.seq_len)
    for sharing, embedding, seed in jobs:
        cfg = TrainConfig(steps=args.steps, seed=seed)
        if args.all and is_done(args.out / "manifest.json", sharing, embedding, cfg):
            continue
        e = train_cell(sharing, embedding, cfg, data, args.out)
        describe_zoo(args.out, data)
        print(f"{weights_name(sharing, embedding, seed)}: held-out acc {e['held_out_accuracy']:.3f} "
              f"({e['held_out_accuracy'] / e['unigram_baseline_accuracy']:.2f}× baseline), everyday "
              f"{e['everyday']['accuracy']:.3f} (constant {e['everyday']['constant_baseline']:.3f}), "
              f"entropy {[round(x, 2) for x in e['attention_entropy_per_layer']]}, {e['wall_time_s']:.0f}s")


if __name__ == "__main__":
    main()
