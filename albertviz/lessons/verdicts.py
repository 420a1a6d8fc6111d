"""Computed verdicts: the sentences a page states about an effect, built from the numbers it shows.

A lesson page must never print a hand-written effect ("sharing helps"). It prints what its own runs
show, and a gap between two arms only counts when it outlasts the spread between seeds:

- `Spread`: mean ± sample standard deviation of a few seeds' numbers;
- `gap`: arm a minus arm b, paired by seed (same seed = same batches), and `Gap.sentence()` which says
  whether these runs separate the two — with one seed it says that one seed is not evidence;
- `lin_verdict`: Lin et al.'s question ("convergence or complexity?") answered from an equal-parameter run;
- `fixed_shape_verdict`: the zoo's (or a same-shape live run's) sharing modes against not-shared.

Pure functions of plain numbers, so every branch is unit-tested on constructed inputs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# ALBERT (Lan et al. 2020) Table 4, ALBERT-base: the "Avg" column (SQuAD1.1, SQuAD2.0, MNLI, SST-2, RACE)
# for all-shared and not-shared at E=768 and E=128. Attributed claims, printed next to our own numbers.
ALBERT_TABLE_4_AVG = {(768, "none"): 82.3, (768, "all"): 79.8, (128, "none"): 81.6, (128, "all"): 80.1}


def table_4_drop(E: int) -> float:
    """How many Avg points all-shared loses against not-shared in ALBERT's Table 4 (2.5 at E=768, 1.5 at E=128)."""
    return round(ALBERT_TABLE_4_AVG[(E, "none")] - ALBERT_TABLE_4_AVG[(E, "all")], 1)


def decimals(*values: float) -> int:
    """Enough decimals that the largest of `values` shows two significant digits (2 to 4)."""
    ref = max((abs(v) for v in values if math.isfinite(v) and v != 0), default=1.0)
    return min(4, max(2, 1 - math.floor(math.log10(ref))))


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation (n − 1) of one number over seeds; sd is nan for one seed."""

    mean: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        vals = [float(v) for v in values]
        if not vals:
            raise ValueError("No values: a spread needs at least one finished run.")
        return cls(statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else math.nan, len(vals))

    def text(self, digits: int | None = None) -> str:
        d = decimals(self.mean, self.sd) if digits is None else digits
        return f"{self.mean:.{d}f}" if self.n < 2 else f"{self.mean:.{d}f} ± {self.sd:.{d}f}"


@dataclass(frozen=True)
class Gap:
    """Arm a minus arm b, one difference per seed both arms ran (negative: a ended lower)."""

    a: str
    b: str
    seeds: tuple[int, ...]
    diffs: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.diffs)

    @property
    def spread(self) -> Spread:
        return Spread.of(self.diffs)

    @property
    def direction(self) -> int:
        """-1: a ended lower than b on average, +1: higher, 0: level."""
        m = self.spread.mean
        return (m > 0) - (m < 0)

    @property
    def against(self) -> int:
        """How many seeds point the other way from the mean (or are exactly level)."""
        return sum(1 for d in self.diffs if (d > 0) - (d < 0) != self.direction)

    @property
    def beyond_spread(self) -> bool:
        s = self.spread
        return self.n >= 2 and abs(s.mean) > s.sd

    @property
    def separated(self) -> bool:
        """Evidence, by this page's rule: ≥ 3 seeds, |mean gap| > its s.d. over seeds, every seed the same way."""
        return self.n >= 3 and self.beyond_spread and self.against == 0 and self.direction != 0

    def sentence(self, unit: str = "nats") -> str:
        text = self._sentence(unit)
        return text[0].upper() + text[1:]

    def _sentence(self, unit: str) -> str:
        s = self.spread
        d = decimals(s.mean, s.sd)
        way = {-1: "lower", 1: "higher", 0: "level with"}[self.direction]
        size = f"{abs(s.mean):.{d}f}" + (f" ± {s.sd:.{d}f}" if self.n > 1 else "")
        core = (f"{self.a} ended {size} {unit} {way} than {self.b}" if self.direction else
                f"{self.a} ended level with {self.b} ({size} {unit} apart)")
        if self.n == 1:
            return (core + f" with one seed (seed {self.seeds[0]}) — one seed: not evidence; run more seeds and "
                    "set the gap against the spread between them.")
        core += f" over {self.n} seeds"
        if not self.beyond_spread:
            return core + ": smaller than the spread between seeds, so these runs do not separate the two."
        if self.against:
            return (core + f": larger than the spread, but {self.against} of {self.n} seeds point the other "
                    "way, so these runs do not separate the two.")
        if self.n == 2:
            return (core + ": larger than the spread and the same way for both seeds, but two seeds are "
                    "too few to call it; run a third.")
        return (core + f": larger than the spread between seeds and the same way for every seed, so in these "
                f"runs {self.a} ends {way} than {self.b}.")


def gap(a: str, a_values: Mapping[int, float], b: str, b_values: Mapping[int, float]) -> Gap:
    """Pair two arms' numbers by seed (the seeds both ran) and take a − b per seed."""
    seeds = tuple(sorted(set(a_values) & set(b_values)))
    if not seeds:
        raise ValueError(f"{a} and {b} share no seed, so there is nothing to compare.")
    return Gap(a, b, seeds, tuple(float(a_values[s]) - float(b_values[s]) for s in seeds))


# ---------------------------------------------------------------- Lin et al.: convergence or complexity?

def lin_verdict(losses: Mapping[str, Mapping[int, float]], labels: Mapping[str, str], flops_ratio: float,
                sweep_size: int, tuned_is_base: bool, steps: int, plateau: float | None = None) -> list[str]:
    """What an equal-parameter run says about Lin et al.'s claim, as sentences computed from its losses.

    `losses`: per arm, per seed, final held-out loss; arms 'unshared' (L layers), 'shared' (2L layers,
    each block used twice), 'tuned' (the unshared model at the sweep's best lr and warm-up) and optionally
    'deep' (an unshared 2L model: the shared model's FLOPs with twice its parameters). `flops_ratio`:
    shared / unshared FLOPs per token. `sweep_size`: settings the sweep tried (each costing one run per seed).
    """
    name = {k: labels.get(k, k) for k in losses}
    g = gap(name["shared"], losses["shared"], name["unshared"], losses["unshared"])
    out = [g.sentence()]
    sweep = (f"the sweep's best of {sweep_size} settings, which cost {sweep_size - 1} extra run"
             f"{'s' if sweep_size != 2 else ''} per seed")
    if "deep" in losses:
        d = gap(name["shared"], losses["shared"], name["deep"], losses["deep"])
        out.append(d.sentence())
    if g.separated and g.direction < 0:
        if "deep" in losses:
            if not d.separated:
                out.append(f"So the shared model won about as much as an unshared model with its "
                           f"{flops_ratio:.1f}× FLOPs per token, no more: its gain is what the extra computation buys.")
            elif d.direction > 0:
                out.append(f"An unshared model with the same {flops_ratio:.1f}× FLOPs did better still, so the "
                           "extra computation explains at least the shared model's whole gain.")
            else:
                out.append(f"It even beat the unshared model with the same {flops_ratio:.1f}× FLOPs: more than "
                           "the extra computation alone predicts.")
        if tuned_is_base:
            out.append(f"The unshared model's tuned settings are its own ({sweep}), so tuning did not narrow the "
                       f"gap: at this scale the shared model's {flops_ratio:.1f}× FLOPs per token (complexity) is "
                       "the likelier explanation, or the sweep was too small.")
            return out
        t = gap(name["tuned"], losses["tuned"], name["shared"], losses["shared"])
        out.append(t.sentence())
        if not t.separated or t.direction < 0:
            out.append(f"Tuning the unshared model's learning rate and warm-up ({sweep}) "
                       f"{'more than closed' if t.separated else 'closed'} the gap, although the shared model computes "
                       f"{flops_ratio:.1f}× the FLOPs per token: as Lin et al. argue, what sharing bought here, "
                       "better convergence bought too.")
        else:
            out.append(f"Tuning ({sweep}) did not close the gap: the shared model's edge is not one that learning "
                       f"rate and warm-up alone buy here, so its {flops_ratio:.1f}× FLOPs per token (complexity) is "
                       "the likelier explanation at this scale, unlike Lin et al.'s finding — or the sweep missed the "
                       "unshared model's best settings.")
        return out
    if tuned_is_base:
        out.append(f"The unshared model did best at its own settings ({sweep}), so its tuned arm is the untuned one.")
    else:
        out.append(gap(name["tuned"], losses["tuned"], name["unshared"], losses["unshared"]).sentence())
    if g.separated:
        out.append(f"The shared model did worse despite computing {flops_ratio:.1f}× the FLOPs per token: Lin et "
                   "al.'s gain from sharing does not reproduce in these runs.")
    else:
        out.append("With no gain to explain, these runs cannot answer \"convergence or complexity?\": Lin et al.'s "
                   "result does not reproduce at this scale.")
    out.append(likely_reason(losses, steps, plateau))
    return out


def likely_reason(losses: Mapping[str, Mapping[int, float]], steps: int, plateau: float | None) -> str:
    """Why a paper's effect may not show here: how little the models trained, in numbers."""
    best = min(statistics.fmean(v.values()) for v in losses.values())
    where = (f" (the best arm ended {plateau - best:.2f} nats below the {plateau:.2f} that character frequencies "
             "alone give)" if plateau is not None else "")
    return (f"Likely reason: {steps} steps of models this small{where}; the paper's models were far larger and "
            "trained far longer. More steps or more seeds may separate the arms.")


# ---------------------------------------------------------------- a fixed shape: ALBERT's comparison

def fixed_shape_verdict(losses: Mapping[str, Mapping[int, float]], labels: Mapping[str, str],
                        baseline: str = "none") -> list[str]:
    """Each sharing mode against the unshared model of the same shape, one computed sentence per mode."""
    if baseline not in losses:
        return []
    return [gap(labels.get(m, m), v, labels.get(baseline, baseline), losses[baseline]).sentence()
            for m, v in losses.items() if m != baseline and set(v) & set(losses[baseline])]
