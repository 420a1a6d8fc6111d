"""The Convergence page's live experiments: tiny character-level models trained now, side by side.

Two experiments, one trainer:

- **same shape** (ALBERT's comparison): one model per sharing mode, every model L layers deep, with
  Takase & Kiyono's strategy (sequence / cycle / cycle_rev) and M parameter groups for the shared ones;
- **equal parameters** (Lin et al.'s comparison): an unshared L-layer model against a 2L-layer model
  that runs each of its L blocks twice (M = L groups: the same unique parameters, twice the depth and
  twice the FLOPs per token), plus the unshared model's learning-rate × warm-up sweep. The "tuned" arm
  is the sweep setting with the lowest mean loss on a *validation* slice of held-out text; every arm is
  reported on the separate *test* slice, so picking the best does not flatter its score.

Each model starts from `torch.manual_seed(seed)` and reads the batches `batch_indices` gives that seed,
so a run is deterministic per seed and arms of one seed see the same text. Every model takes one step
per round: a stop (or a Streamlit rerun) leaves every curve at the same step.

A run may train in a worker thread while pages read it (`albertviz.lessons.runs` shares one run between sessions):
a round
publishes its steps and evaluations under a lock, and `snapshot()` copies a consistent state for readers.
"""

from __future__ import annotations

import copy
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from albertviz.core.config import SHARE_STRATEGIES, SHARING_MODES, ModelConfig
from albertviz.core.model import MaskedLM
from albertviz.core.params import count_parameters, flops_per_token
from albertviz.core.sharing import plan_letters
from albertviz.labels import SHARING as SHARING_LABELS
from albertviz.lessons.convergence import LossCurve, train_config
from albertviz.training.config import TrainConfig
from albertviz.training.data import Data
from albertviz.training.masking import mask_tokens
from albertviz.training.trainer import Trainer, evaluate_mlm

EXPERIMENTS = {"same_shape": "same shape (ALBERT's comparison)",
               "equal_params": "equal parameters (Lin et al.'s comparison)"}
LIVE_SHAPE = dict(hidden_size=64, num_layers=4, num_heads=2, intermediate_size=256, max_position_embeddings=16,
                  pooler=False)
# Model init draws from torch's one global generator: runs built in parallel threads take turns seeding it.
INIT_LOCK = threading.Lock()
RECORD_FORMAT = 1  # `LiveRun.to_record`'s layout; a record of another format is not read back
ARM_LABELS = {"unshared": SHARING_LABELS["none"], "shared": "shared, each block twice",
              "tuned": f"{SHARING_LABELS['none']}, tuned", "deep": f"{SHARING_LABELS['none']}, 2L layers"}


# ---------------------------------------------------------------- data

def live_data() -> Data:
    """Shakespeare as 16-symbol character chunks ([CLS] + 14 characters + [SEP]), the zoo's held-out split.

    Characters, not word pieces: a live run must show more than the frequency plateau within a minute
    (see `corpus.char_chunks`). Short windows make a neighbour's share of uniform attention large, so
    the models discover context sooner.
    """
    from albertviz.data.corpus import CHAR_SPECIALS, char_chunks, split

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
    steps: int = 800
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
        """The page's defaults for an experiment: each finishes within a minute on an idle 2-core CPU."""
        if experiment == "equal_params":
            return cls(experiment="equal_params", modes=(), share_strategy="cycle", layers=2, steps=300,
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


# ---------------------------------------------------------------- the run

@dataclass
class LiveCurves:
    """What one model (one arm, one seed) recorded: per-step loss and time, periodic held-out loss."""

    params: int
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    step_time: list[float] = field(default_factory=list)
    held_steps: list[int] = field(default_factory=list)
    held_loss: list[float] = field(default_factory=list)
    held_accuracy: list[float] = field(default_factory=list)
    validation_loss: float | None = None  # sweep arms, once the run is done

    def as_loss_curve(self) -> LossCurve:
        return LossCurve(self.steps, self.loss, self.held_steps, self.held_loss)


def mean_curve(curves: Iterable[LiveCurves]) -> LossCurve:
    """The seeds' curves of one arm averaged step by step (they all have the same steps)."""
    cs = list(curves)
    return LossCurve(cs[0].steps, [float(v) for v in np.mean([c.loss for c in cs], axis=0)],
                     cs[0].held_steps, [float(v) for v in np.mean([c.held_loss for c in cs], axis=0)])


class LiveRun:
    """Every arm × seed of a `LiveSettings`, trained side by side, one step each per round."""

    def __init__(self, settings: LiveSettings, data: Data) -> None:
        if data.chunks.shape[1] != settings.seq_len:
            raise ValueError(f"The data has chunks of {data.chunks.shape[1]} tokens; the live run needs "
                             f"{settings.seq_len}.")
        V = len(data.special)
        self.settings, self.vocab_size = settings, V
        self.arms = {a.key: a for a in settings.arms(V)}
        self.trainers: dict[tuple[str, int], Trainer] = {}
        self.curves: dict[tuple[str, int], LiveCurves] = {}
        self._lock = threading.Lock()  # guards curves + rounds while a worker thread trains and pages read
        for arm in self.arms.values():
            for seed in settings.seeds:
                with INIT_LOCK:
                    torch.manual_seed(seed)
                    model = MaskedLM(arm.config)
                self.trainers[(arm.key, seed)] = Trainer(model, data, settings.train_config(arm, seed))
                self.curves[(arm.key, seed)] = LiveCurves(params=sum(p.numel() for p in model.parameters()))
        if settings.experiment == "equal_params":
            self._check_equal_parameters()
            self._validation = validation_batch(data, V)
        self.rounds = 0
        self.stopped = False
        self.wall = 0.0
        self._grad_logs: dict[tuple[str, int], list[dict]] = {}
        self._evaluate()  # step 0: every model of a seed starts from its own fresh loss

    def _check_equal_parameters(self) -> None:
        """The experiment's premise, checked on the counter and on the real modules: equal unique parameters."""
        flat, shared = self.arms["unshared"].config, self.arms["shared"].config
        counted = {k: count_parameters(c, include_head=True).total for k, c in (("unshared", flat), ("shared", shared))}
        built = {k: self.curves[(k, self.settings.seed)].params for k in counted}
        if len(set(counted.values()) | set(built.values())) != 1:
            raise RuntimeError(f"Equal-parameter arms differ in size: counted {counted}, built {built}.")

    @property
    def done(self) -> bool:
        return self.rounds >= self.settings.steps

    @property
    def experiment(self) -> str:
        return self.settings.experiment

    def _scores(self, rounds: int) -> tuple[dict, dict]:
        """Held-out scores of every model now (and, once the last round is done, the sweep's validation losses)."""
        scores = {key: tr.evaluate() for key, tr in self.trainers.items()}
        validation = {}
        if rounds >= self.settings.steps and self.experiment == "equal_params":
            validation = {(arm, seed): evaluate_mlm(tr.model, *self._validation)["held_out_loss"]
                          for (arm, seed), tr in self.trainers.items() if self.arms[arm].sweep}
        return scores, validation

    def _publish_scores(self, scores: dict, validation: dict) -> None:  # caller holds self._lock
        for key, sc in scores.items():
            c = self.curves[key]
            c.held_steps.append(self.rounds)
            c.held_loss.append(sc["held_out_loss"])
            c.held_accuracy.append(sc["held_out_accuracy"])
        for key, v in validation.items():
            self.curves[key].validation_loss = v

    def _evaluate(self) -> None:
        scores = self._scores(self.rounds)
        with self._lock:
            self._publish_scores(*scores)

    def round(self) -> None:
        """One training step for every model, then a held-out evaluation when one is due.

        Steps and scores are computed first and published together, so a reader never sees one model a step
        ahead of another, nor a finished run without its final evaluation.
        """
        t0 = time.perf_counter()
        records = {key: tr.step() for key, tr in self.trainers.items()}
        rounds = self.rounds + 1
        due = rounds % self.settings.eval_every == 0 or rounds >= self.settings.steps
        scores = self._scores(rounds) if due else None
        with self._lock:
            for key, rec in records.items():
                c = self.curves[key]
                c.steps.append(rec["step"])
                c.loss.append(rec["loss"])
                c.step_time.append(rec["step_time"])
            self.rounds = rounds
            if scores is not None:
                self._publish_scores(*scores)
            self.wall += time.perf_counter() - t0

    def run(self, on_round: Callable[[LiveRun], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> None:
        """Train until done or until `should_stop()` says so (checked before every round)."""
        if not self.trainers:
            raise RuntimeError("This run was released; start a new one to train further.")
        while not self.done:
            if should_stop is not None and should_stop():
                self.stopped = True
                break
            self.round()
            if on_round is not None:
                on_round(self)

    def snapshot(self) -> LiveRun:
        """A copy of what this run has recorded so far, consistent at one round, safe to read while it trains."""
        view = copy.copy(self)
        with self._lock:
            view.curves = {k: replace(c, steps=c.steps[:], loss=c.loss[:], step_time=c.step_time[:],
                                      held_steps=c.held_steps[:], held_loss=c.held_loss[:],
                                      held_accuracy=c.held_accuracy[:]) for k, c in self.curves.items()}
            view.rounds, view.wall, view.stopped = self.rounds, self.wall, self.stopped
        view._grad_logs = {key: tr.log[:] for key, tr in self.trainers.items()} if self.trainers else self._grad_logs
        view.trainers = {}  # a view never trains
        return view

    def to_record(self) -> dict:
        """Everything a reader needs, as JSON-able data: a finished run written to disk for other replicas."""
        return {"format": RECORD_FORMAT, "settings": asdict(self.settings), "vocab_size": self.vocab_size,
                "rounds": self.rounds, "wall": self.wall, "stopped": self.stopped,
                "curves": [{"arm": arm, "seed": seed, **asdict(c)} for (arm, seed), c in self.curves.items()],
                "grad_logs": [{"arm": arm, "seed": seed, "log": log} for (arm, seed), log in self.grad_logs().items()]}

    @classmethod
    def from_record(cls, record: dict) -> LiveRun:
        """A run read back from `to_record` (no models: it cannot train further, only be shown)."""
        if record.get("format") != RECORD_FORMAT:
            raise ValueError(f"A live-run record of format {record.get('format')!r}; this code reads {RECORD_FORMAT}.")
        s = dict(record["settings"])
        settings = LiveSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()})
        run = cls.__new__(cls)
        run.settings, run.vocab_size = settings, int(record["vocab_size"])
        run.arms = {a.key: a for a in settings.arms(run.vocab_size)}
        run.trainers, run._lock = {}, threading.Lock()
        run.curves = {(c["arm"], int(c["seed"])): LiveCurves(**{k: v for k, v in c.items() if k not in ("arm", "seed")})
                      for c in record["curves"]}
        if set(run.curves) != {(a, s) for a in run.arms for s in settings.seeds}:
            raise ValueError("The record's curves do not match its settings' arms and seeds.")
        run.rounds, run.wall, run.stopped = int(record["rounds"]), float(record["wall"]), bool(record["stopped"])
        run._grad_logs = {(g["arm"], int(g["seed"])): g["log"] for g in record.get("grad_logs", [])}
        return run

    def grad_logs(self) -> dict[tuple[str, int], list[dict]]:
        """The trainers' own logs (every 10 steps, with per-component gradient norms), by (arm, seed)."""
        if not self.trainers:
            return self._grad_logs
        return {key: tr.log for key, tr in self.trainers.items()}

    def release(self) -> None:
        """Drop the models and optimizers once a run is over (a classroom server holds many runs); curves stay."""
        self._grad_logs = self.grad_logs()
        self.trainers = {}

    # -- results -------------------------------------------------------------------------

    def of(self, arm: str) -> list[LiveCurves]:
        return [self.curves[(arm, s)] for s in self.settings.seeds]

    def tuned_key(self) -> str | None:
        """The sweep setting with the lowest mean validation loss over seeds (None until the run is done)."""
        scored = {k: [c.validation_loss for c in self.of(k)] for k, a in self.arms.items() if a.sweep}
        if not scored or any(v is None for vals in scored.values() for v in vals):
            return None
        return min(scored, key=lambda k: statistics.fmean(scored[k]))

    def arm_keys(self) -> list[str]:
        """The arms a reader compares: same shape, every mode; equal parameters, unshared, shared, tuned (, deep)."""
        if self.experiment == "same_shape":
            return list(self.arms)
        keys = ["unshared", "shared"] + (["tuned"] if self.tuned_key() is not None else [])
        return keys + (["deep"] if "deep" in self.arms else [])

    def _arm(self, key: str) -> Arm:
        if key == "tuned":
            chosen = self.arms[self.tuned_key() or "unshared"]
            return replace(chosen, key="tuned", label=f"{chosen.label.split(', lr')[0]}, tuned: lr {chosen.lr:g}, "
                                                      f"warm-up {chosen.warmup}")
        return self.arms[key]

    def _curves(self, key: str) -> list[LiveCurves]:
        return self.of(self.tuned_key() if key == "tuned" else key)

    def losses(self) -> dict[str, dict[int, float]]:
        """Per compared arm, per seed: the last held-out (test) loss."""
        return {k: {s: c.held_loss[-1] for s, c in zip(self.settings.seeds, self._curves(k), strict=True)}
                for k in self.arm_keys()}

    def labels(self) -> dict[str, str]:
        """Table labels: what each compared arm is, with its settings."""
        return {k: self._arm(k).label for k in self.arm_keys()}

    def short_labels(self) -> dict[str, str]:
        """Names for the verdict's sentences ('the shared 4-layer model')."""
        if self.experiment == "same_shape":
            return self.labels()
        L = self.settings.layers
        names = {"unshared": f"the unshared {L}-layer model", "shared": f"the shared {2 * L}-layer model",
                 "deep": f"the unshared {2 * L}-layer model"}
        if (tuned := self.tuned_key()) is not None:
            t = self.arms[tuned]
            names["tuned"] = f"the tuned unshared {L}-layer model (lr {t.lr:g}, warm-up {t.warmup})"
        return {k: names[k] for k in self.arm_keys()}

    def mean_curves(self) -> dict[str, LossCurve]:
        """Per compared arm, its seeds' curves averaged (what the live chart draws)."""
        return {k: mean_curve(self._curves(k)) for k in self.arm_keys()}

    def flops_ratio(self) -> float:
        """Shared / unshared forward FLOPs per token (equal parameters; 2 by construction)."""
        f = {k: flops_per_token(self.arms[k].config, self.settings.seq_len) for k in ("shared", "unshared")}
        return f["shared"] / f["unshared"]

    def summary(self) -> list[dict]:
        """One row per compared arm: size, FLOPs, settings, and mean ± s.d. over seeds of the last losses."""
        rows = []
        for key in self.arm_keys():
            arm, cs = self._arm(key), self._curves(key)
            held = [c.held_loss[-1] for c in cs if c.held_loss]
            tails = [float(np.mean(c.loss[-10:])) for c in cs if c.loss]
            times = [statistics.median(c.step_time) for c in cs if c.step_time]
            rows.append({
                "arm": key, "model": arm.label, "layers": arm.config.num_layers,
                "params": count_parameters(arm.config, include_head=True).total,
                "flops_per_token": flops_per_token(arm.config, self.settings.seq_len),
                "lr": arm.lr, "warmup": arm.warmup, "seeds": len(cs), "steps": len(cs[0].steps),
                "step_ms": 1000 * statistics.median(times) if times else float("nan"),
                "train_loss_last10": float(np.mean(tails)) if tails else float("nan"),
                "held_out_loss": float(np.mean(held)),
                "held_out_sd": float(np.std(held, ddof=1)) if len(held) > 1 else float("nan"),
                "held_out_accuracy": float(np.mean([c.held_accuracy[-1] for c in cs])),
            })
        return rows

    def sweep_rows(self) -> list[dict]:
        """Every setting the unshared model was tried with: validation loss (picks) and test loss (reports)."""
        chosen = self.tuned_key()
        rows = []
        for key, arm in self.arms.items():
            if not arm.sweep:
                continue
            val = [c.validation_loss for c in self.of(key) if c.validation_loss is not None]
            test = [c.held_loss[-1] for c in self.of(key)]
            rows.append({"lr": arm.lr, "warmup": arm.warmup,
                         "validation_loss": float(np.mean(val)) if val else float("nan"),
                         "validation_sd": float(np.std(val, ddof=1)) if len(val) > 1 else float("nan"),
                         "held_out_loss": float(np.mean(test)), "chosen": key == chosen})
        return rows

    def runs_used(self) -> int:
        """How many models this run trained (arms × seeds): the sweep's cost, counted."""
        return len(self.curves)


def pooled_losses(runs: Iterable[LiveRun], settings: LiveSettings) -> tuple[dict[str, dict[int, float]],
                                                                           dict[str, str]]:
    """Losses per arm and seed over every finished run that differs from `settings` only in its seeds."""
    losses: dict[str, dict[int, float]] = {}
    labels: dict[str, str] = {}
    for run in runs:
        if run.done and run.settings.pool_key() == settings.pool_key():
            for arm, by_seed in run.losses().items():
                losses.setdefault(arm, {}).update(by_seed)
            labels |= run.labels()
    return losses, labels


def runs_table(runs: Iterable[LiveRun]) -> list[dict]:
    """One row per run and seed: its settings and each compared arm's final held-out loss."""
    rows = []
    for run in runs:
        s = run.settings
        labels, losses = run.labels(), run.losses()
        for seed in s.seeds:
            row = {"seed": seed, "lr": s.lr, "warm-up": s.warmup, "steps": run.rounds}
            row |= {f"{labels[k]}: held-out loss": round(v[seed], 3) for k, v in losses.items()}
            rows.append(row)
    return rows
