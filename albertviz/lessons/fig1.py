"""ALBERT Fig. 1's claim, tested on the zoo: are all-shared models' layer-to-layer curves smoother?

ALBERT (Lan et al. 2020, Fig. 1) plots, per layer, the L2 distance and the angle between a layer's input and
output for BERT-large and ALBERT-large (24 layers): ALBERT's curves are smoother, and oscillate rather than
converge to 0. Smoothness here is the mean absolute change of the angle from one layer to the next, in degrees,
averaged over held-out text; with several seeds, mean ± standard deviation across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAPER_SETTING = ("ALBERT-large and BERT-large: 24 layers, H=1024, pre-trained for 125k steps on BookCorpus and "
                 "English Wikipedia")


def swing(degrees: list[float] | np.ndarray) -> float:
    """Mean |angle(layer i+1) − angle(layer i)| in degrees: 0 for a perfectly smooth curve."""
    d = np.asarray(degrees, dtype=float)
    return float(np.abs(np.diff(d)).mean()) if len(d) > 1 else 0.0


@dataclass(frozen=True)
class Spread:
    mean: float
    sd: float  # across seeds; 0 with one seed
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.1f}° ± {self.sd:.1f}" if self.n > 1 else f"{self.mean:.1f}° (one seed)"


def spread(curves: list[list[float]]) -> Spread:
    s = [swing(c) for c in curves]
    return Spread(float(np.mean(s)), float(np.std(s, ddof=1)) if len(s) > 1 else 0.0, len(s))


def verdict(shared: list[list[float]], unshared: list[list[float]], layers: int, tokens_seen: int | None) -> str:
    """One sentence: does the zoo reproduce "shared curves are smoother"? Built only from the curves given.

    shared / unshared: per seed, the per-layer angles (degrees) of the all-shared and not-shared models.
    """
    a, b = spread(shared), spread(unshared)
    numbers = f"all-shared swings {a} per layer, not-shared {b}"
    if min(a.n, b.n) < 2:
        return (f"**What these models show:** {numbers}. With one seed per model this is not evidence either way: "
                "seeds alone move these curves.")
    margin = a.sd + b.sd
    trained = f" trained on {tokens_seen / 1e6:.0f}M tokens" if tokens_seen else ""
    if a.mean + margin < b.mean:
        return (f"**What these models show:** {numbers} over {a.n} seeds — the all-shared curve is smoother, as in "
                f"ALBERT's Fig. 1, by more than the seed spread.")
    if a.mean - margin > b.mean:
        return (f"**What these models show:** {numbers} over {a.n} seeds — here the all-shared curve swings *more*, "
                f"by more than the seed spread, so the paper's smoothing does not reproduce in {layers}-layer models"
                f"{trained}. A likely reason is scale: the paper compared {PAPER_SETTING}.")
    return (f"**What these models show:** {numbers} over {a.n} seeds — the difference is within the seed spread, "
            f"so these {layers}-layer models{trained} neither confirm nor contradict the paper's smoothing.")
