"""Why sharing works (Lin et al. 2023): the zoo's training logs, read for the Convergence page.

Lin et al. ("Understanding Parameter Sharing in Transformers") argue that cross-layer sharing helps
mostly through *convergence*: a block used by L layers receives a gradient that is the sum of L
per-use terms. This module gives the Convergence page what the zoo recorded, without Streamlit:

- zoo logs → loss curves and per-component gradient norms (`zoo_entries`, `loss_curve`, `grad_series`);
- `zoo_seed_losses`: each cell's final held-out loss per training seed (the zoo's extra seeds when present);
- the model and batch the per-use view splits (`fresh_model`, `text_batch`, `mlm_batch`).

The per-use split itself is `albertviz.analysis.gradients`; step timing `albertviz.lessons.step_time`; the live
experiments (models trained on the page) `albertviz.lessons.live`; the sentences that judge their numbers
`albertviz.lessons.verdicts`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from albertviz import labels, zoo
from albertviz.analysis.gradients import block_uses
from albertviz.core.config import SHARING_MODES, ModelConfig
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.data.corpus import load_text
from albertviz.data.tokenizer import load_tokenizer
from albertviz.training.data import Data
from albertviz.training.masking import mask_tokens, special_mask
from albertviz.zoo.cells import zoo_config

# ---------------------------------------------------------------- the zoo's training logs

def read_manifest() -> dict:
    """The zoo's manifest as it is on disk now ({} when missing or half-written).

    The zoo lands cell by cell while the app may already be running, so the zoo's cached copy is
    dropped first: `zoo.manifest()` reads the file again (and every later caller sees the new cells).
    """
    zoo.manifest.cache_clear()
    try:
        manifest = zoo.manifest()
    except (zoo.ZooError, OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def zoo_entries(embedding: str | None = None) -> dict[str, dict]:
    """Manifest entries (training log included) keyed by cell name; fewer (or none) while the zoo lands."""
    models = read_manifest().get("models")
    if not isinstance(models, dict):
        return {}
    return {name: e for name, e in models.items()
            if isinstance(e, dict) and e.get("log") and (embedding is None or e.get("embedding") == embedding)}


def final_held_out_loss(entry: dict) -> float | None:
    """A training run's last held-out loss: the entry's own, else the last logged one (None if neither)."""
    if isinstance(entry.get("held_out_loss"), int | float):
        return float(entry["held_out_loss"])
    logged = [r["held_out_loss"] for r in entry.get("log") or [] if isinstance(r, dict) and "held_out_loss" in r]
    return float(logged[-1]) if logged else None


def zoo_seed_losses(manifest: dict, embedding: str) -> dict[str, dict[int, float]]:
    """Per sharing mode of one embedding: {training seed: final held-out loss}.

    Seed 0 is the cell the pages show (`manifest["models"]`); further seeds, where the zoo has them, are
    `manifest["seeds"][cell]["1"]`, … with the same fields. Missing seeds, cells or fields are skipped.
    """
    out: dict[str, dict[int, float]] = {}
    models = manifest.get("models") if isinstance(manifest.get("models"), dict) else {}
    seeds = manifest.get("seeds") if isinstance(manifest.get("seeds"), dict) else {}
    for mode in SHARING_MODES:
        cell = f"{mode}-{embedding}"
        runs: dict[int, dict] = {}
        if isinstance(models.get(cell), dict):
            runs[int(models[cell].get("seed", models[cell].get("train_config", {}).get("seed", 0)))] = models[cell]
        for seed, entry in (seeds.get(cell) or {}).items():
            if isinstance(entry, dict) and str(seed).isdigit():
                runs[int(seed)] = entry
        losses = {s: v for s, e in sorted(runs.items()) if (v := final_held_out_loss(e)) is not None}
        if losses:
            out[mode] = losses
    return out


@dataclass
class LossCurve:
    """Training loss at every logged step, held-out loss where it was measured."""

    steps: list[int]
    loss: list[float]
    held_steps: list[int] = field(default_factory=list)
    held_loss: list[float] = field(default_factory=list)


def loss_curve(entry: dict) -> LossCurve:
    """Curves from a manifest entry; the entry's final held-out loss is added at the last step."""
    log = entry["log"]
    curve = LossCurve([r["step"] for r in log], [r["loss"] for r in log])
    for r in log:
        if "held_out_loss" in r:
            curve.held_steps.append(r["step"])
            curve.held_loss.append(r["held_out_loss"])
    final_step = int(entry.get("train_config", {}).get("steps", log[-1]["step"]))
    if "held_out_loss" in entry and (not curve.held_steps or curve.held_steps[-1] < final_step):
        curve.held_steps.append(final_step)
        curve.held_loss.append(float(entry["held_out_loss"]))
    return curve


def grad_series(entry: dict) -> dict[str, tuple[list[int], list[float]]]:
    """Per logged component: (steps, gradient L2 norms) over training."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for r in entry["log"]:
        for comp, value in r.get("grad_norm", {}).items():
            steps, values = series.setdefault(comp, ([], []))
            steps.append(r["step"])
            values.append(float(value))
    return series


def shared_vs_unshared(entries: dict[str, dict], kind: str) -> dict[str, tuple[list[int], list[float]]]:
    """Gradient norms of `kind` ('attention' or 'ffn') blocks across sharing modes, labelled by use count.

    A shared block appears once ("used 6×"); an unshared model's blocks appear per layer. Keys are
    legend labels; entries are keyed by cell name, as `zoo_entries` gives them.
    """
    out: dict[str, tuple[list[int], list[float]]] = {}
    for entry in entries.values():
        uses = block_uses(ModelConfig.from_dict(entry["config"]))
        mode = labels.SHARING.get(entry["sharing"], entry["sharing"])
        n_shared = sum(1 for c, n in uses.items() if c.startswith(kind + ".") and n > 1)
        for comp, (steps, values) in grad_series(entry).items():
            if not comp.startswith(kind + "."):
                continue
            n = uses.get(comp, 1)
            number = int(comp.split(".")[1]) + 1  # blocks and layers are numbered from 1 on every page
            if n > 1:
                name = f"{mode}: {kind} block{f' {number}' if n_shared > 1 else ''} (used {n}×)"
            else:
                name = f"{mode}: {kind} layer {number}"
            out[name] = (steps, values)
    return out


def median_ratio(shared: Sequence[float], unshared: Sequence[Sequence[float]]) -> float:
    """Median over logged steps of ‖shared grad‖ / mean of the unshared layers' ‖grad‖ at that step."""
    n = min(len(shared), *(len(u) for u in unshared))
    ratios = [shared[i] / (sum(u[i] for u in unshared) / len(unshared)) for i in range(n)]
    ratios = [r for r in ratios if math.isfinite(r)]
    return statistics.median(ratios) if ratios else float("nan")


# ---------------------------------------------------------------- the per-use view's model and batch

def text_batch(n: int = 16, seq_len: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A masked batch of n Shakespeare passages taken from the middle of the plays.

    Tokenizes only the slice it needs, so a page can show one gradient step without first
    chunking the whole corpus (≈5 s).
    """
    tok = load_tokenizer()
    text = load_text()
    body = seq_len - 2
    start = len(text) // 2
    ids = tok.encode(text[start:start + 12 * n * body], add_special_tokens=False).ids[: n * body]
    chunks = torch.empty((n, seq_len), dtype=torch.long)
    chunks[:, 0], chunks[:, -1] = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    chunks[:, 1:-1] = torch.tensor(ids).view(n, body)
    V = tok.get_vocab_size()
    return mask_tokens(chunks, special_mask(tok, V), tok.token_to_id("[MASK]"), V,
                       torch.Generator().manual_seed(seed))


def mlm_batch(data: Data, vocab_size: int, n: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed masked batch of held-out chunks: (inputs, labels with -100 where nothing is predicted)."""
    idx = data.held_idx[:n]
    gen = torch.Generator().manual_seed(seed)
    return mask_tokens(data.chunks[idx], data.special, data.mask_id, vocab_size, gen)


def fresh_model(sharing: str, seed: int = 0) -> tuple[Encoder, MLMHead]:
    """An untrained zoo-shape model (encoder, head): what the per-use view shows before the zoo exists."""
    torch.manual_seed(seed)
    lm = MaskedLM(zoo_config(sharing, "full"))
    return lm.encoder, lm.head
