"""What a live run's curves say: per-arm losses, labels, summary rows and the sweep's pick.

`LiveCurves` is what one model (one arm, one seed) records while it trains; `RunResults` reads a run's
curves the way the page's tables and the verdicts (`albertviz.lessons.verdicts`) need them. It is mixed
into `albertviz.lessons.live.LiveRun`, so a run read back from disk answers exactly as one just trained.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from albertviz.core.params import count_parameters, flops_per_token
from albertviz.lessons.convergence import LossCurve
from albertviz.lessons.live_settings import Arm, LiveSettings


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


class RunResults:
    """The read side of a live run: every method works from `settings`, `arms` and `curves` alone."""

    settings: LiveSettings
    arms: dict[str, Arm]
    curves: dict[tuple[str, int], LiveCurves]

    @property
    def experiment(self) -> str:
        return self.settings.experiment

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
