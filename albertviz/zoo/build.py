"""Pre-train the zoo: masked-language modelling alone, no teacher, with a short-window warm-up.

    python -m albertviz.zoo.build --all               # the whole grid, resumable (make zoo)
    python -m albertviz.zoo.build --sharing all --embedding hashed --seed 1

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
import hashlib
import json
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES
from albertviz.data.corpus import HELD_OUT_EVERY, zoo_corpus_card
from albertviz.data.tokenizer import load_tokenizer
from albertviz.training.config import TrainConfig
from albertviz.training.data import Data, load_data
from albertviz.training.trainer import Trainer
from albertviz.zoo import CACHE_SUBDIR, WEIGHTS_DIR, ZOO_DIR, ZooError, file_sha256
from albertviz.zoo.cells import Cell, grid, new_model, weights_name, zoo_config
from albertviz.zoo.evaluation import EVERYDAY_PATH, cell_report, init_report
from albertviz.zoo.manifest_file import read_manifest, updating_manifest


def unigram_baseline(data: Data, labels: torch.Tensor) -> float:
    """Accuracy of always predicting the most frequent training token on the held-out targets."""
    train_tokens = data.chunks[data.train_idx][:, 1:-1].reshape(-1)
    top = int(torch.bincount(train_tokens).argmax())
    targets = labels[labels != -100]
    return float((targets == top).float().mean())


def train_cell(sharing: str, embedding: str, cfg: TrainConfig, data: Data, out_dir: Path) -> dict:
    name = Cell(sharing, embedding).name
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
    with updating_manifest(out_dir) as manifest:  # several trainers may finish at once
        if cfg.seed == 0:
            manifest.setdefault("models", {})[name] = entry
        else:
            manifest.setdefault("seeds", {}).setdefault(name, {})[str(cfg.seed)] = entry
    return entry


def describe_zoo(out_dir: Path, data: Data | None = None) -> None:
    """Write what every cell shares into the manifest: corpus (source, licence, size), tokenizer, recipe; and
    fill in any entry's at-initialisation attention figures that an older trainer did not record."""
    with updating_manifest(out_dir) as manifest:
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


def is_done(out_dir: Path, sharing: str, embedding: str, cfg: TrainConfig) -> bool:
    """Whether the manifest in `out_dir` already holds this cell and seed trained with exactly `cfg`."""
    try:
        manifest = read_manifest(out_dir)
    except ZooError:
        return False
    name = Cell(sharing, embedding).name
    entry = manifest.get("models", {}).get(name) if cfg.seed == 0 else \
        manifest.get("seeds", {}).get(name, {}).get(str(cfg.seed))
    return bool(entry) and entry.get("train_config") == asdict(cfg)


def main(argv: list[str] | None = None) -> None:
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
        if args.all and is_done(args.out, sharing, embedding, cfg):
            continue
        e = train_cell(sharing, embedding, cfg, data, args.out)
        describe_zoo(args.out, data)
        print(f"{weights_name(sharing, embedding, seed)}: held-out acc {e['held_out_accuracy']:.3f} "
              f"({e['held_out_accuracy'] / e['unigram_baseline_accuracy']:.2f}× baseline), everyday "
              f"{e['everyday']['accuracy']:.3f} (constant {e['everyday']['constant_baseline']:.3f}), "
              f"entropy {[round(x, 2) for x in e['attention_entropy_per_layer']]}, {e['wall_time_s']:.0f}s")


if __name__ == "__main__":
    main()
