"""What decides a live experiment on the Convergence page: its settings, its arms, its text.

Two experiments, one trainer:

- **same shape** (ALBERT's comparison): one model per sharing mode, every model L layers deep, with
  Takase & Kiyono's strategy (sequence / cycle / cycle_rev) and M parameter groups for the shared ones;
- **equal parameters** (Lin et al.'s comparison): an unshared L-layer model against a 2L-layer model
  that runs each of its L blocks twice (M = L groups: the same unique parameters, twice the depth and
  twice the FLOPs per token), plus the unshared model's learning-rate × warm-up sweep. The "tuned" arm
  is the sweep setting with the lowest mean loss on a *validation* slice of held-out text; every arm is
  reported on the separate *test* slice, so picking the best does not flatter its score.

`LiveSettings` holds everything that decides a run (equal settings give equal curves); `LiveSettings.arms`
turns it into the model recipes `albertviz.lessons.live.LiveRun` trains.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from albertviz.core.config import SHARE_STRATEGIES, SHARING_MODES, ModelConfig
from albertviz.core.sharing import plan_letters
from albertviz.data.corpus import CHAR_SPECIALS, char_chunks, split
from albertviz.labels import SHARING as SHARING_LABELS
from albertviz.training.config import TrainConfig
from albertviz.training.data import Data
from albertviz.training.masking import mask_tokens

EXPERIMENTS = {"same_shape": "same shape (ALBERT's comparison)",
               "equal_params": "equal parameters (Lin et al.'s comparison)"}
LIVE_SHAPE = dict(hidden_size=64, num_layers=4, num_heads=2, intermediate_size=256, max_position_embeddings=16,
                  pooler=False)
ARM_LABELS = {"unshared": SHARING_LABELS["none"], "shared": "shared, each block twice",
              "tuned": f"{SHARING_LABELS['none']}, tuned", "deep": f"{SHARING_LABELS['none']}, 2L layers"}


def train_config(**kw: object) -> TrainConfig:
    """A TrainConfig for the live runs and step timing: MLM on full-length chunks from the first step (the zoo's
    short-window warm-up is a recipe for 2,000-step runs, not for a minute-long demo)."""
    return TrainConfig(**kw, short_steps=0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- data

def live_data() -> Data:
    """Shakespeare as 16-symbol character chunks ([CLS] + 14 characters + [SEP]), the zoo's held-out split.

    Characters, not word pieces: a live run must show more than the frequency plateau within a minute
    (see `corpus.char_chunks`). Short windows make a neighbour's share of uniform attention large, so
    the models discover context sooner.
    """
    chunks, symbols = char_chunks(int(LIVE_SHAPE["max_position_embeddings"]))
    train_idx, held_idx = split(chunks)
    special = torch.zeros(len(symbols), dtype=torch.bool)
    special[: len(CHAR_SPECIALS)] = True
    return Data(torch.from_numpy(chunks).long(), train_idx, held_idx, special, symbols.index("[MASK]"))


def frequency_only_loss(data: Data) -> float:
    """Held-out cross-entropy of the best guess that ignores context: the training text's symbol frequencies.

    The plateau a live model sits on before it starts reading its neighbours (≈ 3.2 nats for characters).
    """
    train = data.chunks[data.train_idx][:, 1:-1].reshape(-1)
    p = torch.bincount(train, minlength=len(data.special)).double() / train.numel()
    return float(-p[data.chunks[data.held_idx][:, 1:-1].reshape(-1)].log().mean())


def validation_batch(data: Data, vocab_size: int, n_chunks: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """The sweep's own held-out set: the *last* n held-out chunks (the test set, `held_out_batch`, is the first n)."""
    if len(data.held_idx) < 2 * n_chunks:
        raise ValueError(f"{len(data.held_idx)} held-out chunks cannot give disjoint validation and test sets "
                         f"of {n_chunks} each.")
    idx = data.held_idx[-n_chunks:]
    return mask_tokens(data.chunks[idx], data.special, data.mask_id, vocab_size, torch.Generator().manual_seed(4321))


def live_config(sharing: str, vocab_size: int, num_layers: int = int(LIVE_SHAPE["num_layers"]),
                share_strategy: str = "sequence", num_groups: int = 1) -> ModelConfig:
    """The live experiments' tiny shape: H64 A2 F256 over a character vocabulary, L4 unless told."""
    if sharing == "none":  # an unshared model has no groups; keep its config plain
        share_strategy, num_groups = "sequence", 1
    return ModelConfig(sharing=sharing, vocab_size=vocab_size, **{**LIVE_SHAPE, "num_layers": num_layers},
                       share_strategy=share_strategy, num_groups=num_groups)


# ---------------------------------------------------------------- settings and arms

@dataclass(frozen=True)
class Arm:
    """One model recipe of a run: trained once per seed."""

    key: str
    label: str
    config: ModelConfig
    lr: float
    warmup: int
    sweep: bool = False  # one of the unshared model's sweep settings (equal parameters)


@dataclass(frozen=True)
class LiveSettings:
    """Everything that decides a live run; equal settings give equal curves (fixed seeds)."""

    experiment: str = "same_shape"
    modes: tuple[str, ...] = ("none", "all")  # same shape: one model per sharing mode
    share_strategy: str = "sequence"  # shared models: Takase & Kiyono's order of the M groups
    num_groups: int = 1  # same shape: M (1 = ALBERT); equal parameters: M = layers by construction
    layers: int = 4  # same shape: every model's depth; equal parameters: the unshared model's L (shared: 2L)
    steps: int = 480
    lr: float = 2e-3
    warmup: int = 30
    batch_size: int = 64
    seeds: tuple[int, ...] = (0,)
    lr_factors: tuple[float, ...] = ()  # equal parameters: the sweep's learning rates, as multiples of `lr`
    sweep_warmups: tuple[int, ...] = ()  # … crossed with these warm-ups (empty: `warmup` only)
    flops_reference: bool = False  # equal parameters: also an unshared 2L model (same FLOPs as shared)
    eval_every: int = 50

    @classmethod
    def default(cls, experiment: str = "same_shape") -> LiveSettings:
        """The page's defaults for an experiment, sized to finish within a minute on an idle 2-core AVX2 CPU.

        Issue 14: there a model-step took 43–53 ms (same shape: 2 models × 480 steps) and 15–28 ms (equal
        parameters: 12 models × 180 steps), which leaves room for evaluation and noise. `python -m bench
        convergence` times both; the README gives the last figures."""
        if experiment == "equal_params":
            return cls(experiment="equal_params", modes=(), share_strategy="cycle", layers=2, steps=180,
                       batch_size=32, seeds=(0, 1, 2), lr_factors=(0.5, 1.0, 2.0), eval_every=50)
        return cls()

    @property
    def seq_len(self) -> int:
        return int(LIVE_SHAPE["max_position_embeddings"])

    @property
    def seed(self) -> int:
        return self.seeds[0]

    def pool_key(self) -> LiveSettings:
        """These settings with the seeds left out: runs that differ only in seeds pool into one verdict."""
        return replace(self, seeds=())

    def sweep_points(self) -> list[tuple[float, int]]:
        """(lr, warm-up) settings the unshared model is tried with; the first is the untuned default."""
        points = [(self.lr, self.warmup)]
        for f in self.lr_factors or (1.0,):
            for w in self.sweep_warmups or (self.warmup,):
                p = (float(f"{self.lr * f:.6g}"), int(w))
                if p not in points:
                    points.append(p)
        return points

    def validate(self) -> None:
        if self.experiment not in EXPERIMENTS:
            raise ValueError(f"Unknown experiment {self.experiment!r}; choose from {', '.join(EXPERIMENTS)}.")
        if self.experiment == "same_shape":
            if not self.modes:
                raise ValueError("Choose at least one sharing mode to train.")
            if unknown := [m for m in self.modes if m not in SHARING_MODES]:
                raise ValueError(f"Unknown sharing mode(s) {unknown}; choose from {', '.join(SHARING_MODES)}.")
        if self.share_strategy not in SHARE_STRATEGIES:
            raise ValueError(f"Unknown strategy {self.share_strategy!r}; choose from {', '.join(SHARE_STRATEGIES)}.")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("Choose one or more different seeds.")
        if self.steps < 1 or self.batch_size < 1 or self.layers < 1:
            raise ValueError("Steps, batch size and layers must be at least 1.")

    def arms(self, vocab_size: int) -> list[Arm]:
        """The model recipes this run trains, each once per seed."""
        self.validate()
        if self.experiment == "same_shape":
            arms = []
            for m in self.modes:
                cfg = live_config(m, vocab_size, self.layers, self.share_strategy, self.num_groups)
                label = SHARING_LABELS[m] + (f" (M={cfg.num_groups}, {cfg.share_strategy})"
                                             if m != "none" and cfg.num_groups > 1 else "")
                arms.append(Arm(m, label, cfg, self.lr, self.warmup))
            return arms
        L = self.layers
        flat = live_config("none", vocab_size, L)
        shared = live_config("all", vocab_size, 2 * L, self.share_strategy, L)
        letters = plan_letters(shared)[0]
        arms = [Arm("unshared", f"not shared, {L} layer{'s' if L > 1 else ''}", flat, self.lr, self.warmup, True),
                Arm("shared", f"shared, {2 * L} layers ({letters}: each block twice)", shared, self.lr, self.warmup)]
        for lr, w in self.sweep_points()[1:]:
            arms.append(Arm(f"sweep lr={lr:g} warm-up={w}", f"not shared, {L} layers, lr {lr:g}, warm-up {w}",
                            flat, lr, w, True))
        if self.flops_reference:
            arms.append(Arm("deep", f"not shared, {2 * L} layers (shared's FLOPs, 2× its parameters)",
                            live_config("none", vocab_size, 2 * L), self.lr, self.warmup))
        return arms

    def train_config(self, arm: Arm | None = None, seed: int | None = None) -> TrainConfig:
        # Grad norms every 10 steps for the trainer's log; held-out evaluations are the run's own.
        lr, warmup = (arm.lr, arm.warmup) if arm is not None else (self.lr, self.warmup)
        return train_config(steps=self.steps, batch_size=self.batch_size, seq_len=self.seq_len, lr=lr,
                            warmup=min(warmup, self.steps), seed=self.seed if seed is None else seed,
                            log_every=10, eval_every=10 ** 9, eval_chunks=256, checkpoint_every=10 ** 9)
