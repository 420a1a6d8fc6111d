"""The Convergence page's live experiments: tiny character-level models trained now, side by side.

`LiveRun` trains every arm × seed of a `LiveSettings` (`albertviz.lessons.live_settings`) one step per round,
and reads its results through `RunResults` (`albertviz.lessons.live_results`).

Each model starts from `torch.manual_seed(seed)` and reads the batches `batch_indices` gives that seed,
so a run is deterministic per seed and arms of one seed see the same text. Every model takes one step
per round: a stop (or a Streamlit rerun) leaves every curve at the same step.

A run may train in a worker thread while pages read it (`albertviz.lessons.runs` shares one run between
sessions): a round publishes its steps and evaluations under a lock, and `snapshot()` copies a consistent
state for readers. A finished run is written as a record (`to_record`) and read back without its models.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace

import torch

from albertviz.core.model import MaskedLM
from albertviz.core.params import count_parameters
from albertviz.lessons.live_results import LiveCurves, RunResults
from albertviz.lessons.live_settings import LiveSettings, validation_batch
from albertviz.training.data import Data
from albertviz.training.trainer import Trainer, evaluate_mlm

# Model init draws from torch's one global generator: runs built in parallel threads take turns seeding it.
INIT_LOCK = threading.Lock()
RECORD_FORMAT = 1  # `LiveRun.to_record`'s layout; a record of another format is not read back


class LiveRun(RunResults):
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
