"""Why sharing works (Lin et al. 2023): curves, gradients and step times from real training runs.

Lin et al. ("Understanding Parameter Sharing in Transformers") argue that cross-layer sharing helps
mostly through *convergence*: a block used by L layers receives a gradient that is the sum of L
per-use terms, so its scale and direction differ from any single layer's. This module gives the
Convergence page everything it shows, without Streamlit:

- zoo logs → loss curves and per-component gradient norms (`zoo_entries`, `loss_curve`, `grad_series`);
- `per_use_gradients`: the L per-layer contributions that add up to a shared block's gradient,
  computed by giving every layer its own copy of the block's weights (`torch.func.functional_call`);
- `zoo_seed_losses`: each cell's final held-out loss per training seed (the zoo's extra seeds when present);
- `step_time_ratios`: measured step time per sharing mode next to parameter counts (for `make bench`).

The live experiments (models trained on the page) live in `albertviz.lessons.live`; the sentences that judge
their numbers in `albertviz.lessons.verdicts`.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import functional_call
from torch.nn import functional as F

from albertviz import labels
from albertviz.core.config import SHARING_MODES, ModelConfig
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.core.params import count_parameters
from albertviz.core.sharing import layer_plan
from albertviz.training.config import TrainConfig
from albertviz.training.data import Data
from albertviz.training.masking import mask_tokens
from albertviz.training.trainer import Trainer
from albertviz.zoo.cells import zoo_config

# ---------------------------------------------------------------- the zoo's training logs

def read_manifest() -> dict:
    """The zoo's manifest read fresh from disk ({} when missing or half-written).

    The zoo lands cell by cell while the app may already be running, so this does not use the
    zoo's cached manifest.
    """
    from albertviz.zoo import MANIFEST_NAME, ZOO_DIR

    try:
        manifest = json.loads((ZOO_DIR / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
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


def block_uses(config: ModelConfig) -> dict[str, int]:
    """How many layers run each logged component ('attention.0' → 6 for an all-shared L=6 model)."""
    uses: dict[str, int] = {}
    for a, f in layer_plan(config):
        uses[f"attention.{a}"] = uses.get(f"attention.{a}", 0) + 1
        uses[f"ffn.{f}"] = uses.get(f"ffn.{f}", 0) + 1
    return uses


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


def manifest_version() -> float:
    """The manifest's modification time (0 when absent): a cache key that changes when a cell lands."""
    from albertviz.zoo import MANIFEST_NAME, ZOO_DIR

    try:
        return (ZOO_DIR / MANIFEST_NAME).stat().st_mtime
    except OSError:
        return 0.0


# ---------------------------------------------------------------- per-use gradient contributions

@dataclass
class UseGradients:
    """One unique block: each layer-use's gradient contribution and the real gradient they add up to."""

    kind: str  # 'attention' or 'ffn'
    block: int  # 0-based id, as in the layer plan
    layers: list[int]  # 0-based layers that run this block
    use_norms: list[float]  # ‖∂loss/∂(this use's copy)‖ per layer
    sum_norm: float  # ‖Σ contributions‖
    true_norm: float  # ‖∂loss/∂W‖ from an ordinary backward pass through the shared model
    max_abs_diff: float  # max |Σ contributions − real gradient| over every element
    contributions: list[dict[str, torch.Tensor]] = field(repr=False, default_factory=list)
    true_grad: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    @property
    def label(self) -> str:
        """Numbered from 1, as layers are ('attention block 1' is used by layers 1..L when all-shared)."""
        return f"{self.kind} block {self.block + 1}"


def _flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.reshape(-1) for g in grads.values()])


def mlm_loss(encoder: Encoder, head: MLMHead, hidden: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the masked positions only, decoder tied to the word vectors (as in training)."""
    sel = labels != -100
    return F.cross_entropy(head(hidden[sel], encoder.embeddings.word_matrix()), labels[sel])


def per_use_gradients(encoder: Encoder, head: MLMHead, inputs: torch.Tensor, labels: torch.Tensor
                      ) -> list[UseGradients]:
    """Split every block's MLM gradient into one term per layer that uses it.

    Pass 1 (the truth): the ordinary forward/backward through the model as it is.
    Pass 2: the same forward, but each layer runs its block with *its own* clone of the weights
    (`functional_call`), so autograd keeps each use's gradient apart. The chain rule says the
    shared weight's gradient is the sum of these; `max_abs_diff` checks it.
    """
    enc = encoder
    blocks = {("attention", i): b for i, b in enumerate(enc.attention_blocks)}
    blocks |= {("ffn", i): b for i, b in enumerate(enc.ffn_blocks)}
    was_training = enc.training
    enc.eval()  # no dropout exists, but keep both passes identical by construction
    try:
        names = {k: [n for n, _ in b.named_parameters()] for k, b in blocks.items()}
        real_params = [p for k, b in blocks.items() for p in b.parameters()]
        out = enc(inputs, output_attentions=False)
        real = torch.autograd.grad(mlm_loss(enc, head, out.last_hidden_state, labels), real_params)
        true_grads, it = {}, iter(real)
        for k in blocks:
            true_grads[k] = {n: next(it) for n in names[k]}

        copies: dict[tuple[str, int], list[tuple[int, dict[str, torch.Tensor]]]] = {k: [] for k in blocks}

        def clone(key: tuple[str, int], layer: int) -> dict[str, torch.Tensor]:
            params = {n: p.detach().clone().requires_grad_(True) for n, p in blocks[key].named_parameters()}
            copies[key].append((layer, params))
            return params

        x = enc.embeddings(inputs, torch.zeros_like(inputs))  # (B, T, H)
        for layer, (a, f) in enumerate(enc.plan):
            x, _ = functional_call(blocks[("attention", a)], clone(("attention", a), layer), (x, None, False))
            x = functional_call(blocks[("ffn", f)], clone(("ffn", f), layer), (x,))
        flat_copies = [t for uses in copies.values() for _, params in uses for t in params.values()]
        grads = iter(torch.autograd.grad(mlm_loss(enc, head, x, labels), flat_copies))
    finally:
        enc.train(was_training)

    results = []
    for key, uses in copies.items():
        contribs = [{n: next(grads) for n in params} for _, params in uses]
        total = {n: sum(c[n] for c in contribs) for n in names[key]}
        truth = _flat(true_grads[key])
        results.append(UseGradients(
            kind=key[0], block=key[1], layers=[layer for layer, _ in uses],
            use_norms=[float(_flat(c).norm()) for c in contribs], sum_norm=float(_flat(total).norm()),
            true_norm=float(truth.norm()), max_abs_diff=float((_flat(total) - truth).abs().max()),
            contributions=contribs, true_grad=true_grads[key]))
    return results


def text_batch(n: int = 16, seq_len: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A masked batch of n Shakespeare passages taken from the middle of the plays.

    Tokenizes only the slice it needs, so a page can show one gradient step without first
    chunking the whole corpus (≈5 s).
    """
    from albertviz.data.corpus import load_text
    from albertviz.data.tokenizer import load_tokenizer
    from albertviz.training.masking import special_mask

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


# ---------------------------------------------------------------- fresh models

def train_config(**kw: object) -> TrainConfig:
    """A TrainConfig for the live runs and step timing: MLM on full-length chunks from the first step (the zoo's
    short-window warm-up is a recipe for 2,000-step runs, not for a minute-long demo)."""
    return TrainConfig(**kw, short_steps=0)  # type: ignore[arg-type]


def fresh_model(sharing: str, seed: int = 0) -> tuple[Encoder, MLMHead]:
    """An untrained zoo-shape model (encoder, head): what the per-use view shows before the zoo exists."""
    torch.manual_seed(seed)
    lm = MaskedLM(zoo_config(sharing, "full"))
    return lm.encoder, lm.head


# ---------------------------------------------------------------- parameters are not FLOPs

def synthetic_data(vocab_size: int, seq_len: int, n: int = 512, seed: int = 0) -> Data:
    """Random token chunks: enough to time a training step without reading the corpus."""
    gen = torch.Generator().manual_seed(seed)
    chunks = torch.randint(1000, vocab_size, (n, seq_len), generator=gen)
    special = torch.zeros(vocab_size, dtype=torch.bool)
    special[:5] = True
    idx = np.arange(n)
    return Data(chunks, idx[: n - 64], idx[n - 64:], special, 103)


def step_time_ratios(modes: Iterable[str] = SHARING_MODES, embedding: str = "full", steps: int = 20,
                     warmup_steps: int = 3, batch_size: int = 32, seq_len: int = 64,
                     data: Data | None = None) -> dict[str, dict]:
    """Measured training-step time per sharing mode for the zoo shape, side by side in one run.

    The models step in turn (round-robin) so that machine load hits all of them alike. MLM only
    (no teacher). Returns per mode: parameters, FLOPs per token, median step seconds, and both
    relative to not-shared (or to the first mode when 'none' is not measured).
    """
    modes = list(modes)
    data = data if data is not None else synthetic_data(zoo_config("none", embedding).vocab_size, seq_len)
    cfg = train_config(steps=steps + warmup_steps, batch_size=batch_size, seq_len=seq_len, warmup=1,
                       log_every=10 ** 9, eval_every=10 ** 9, eval_chunks=8)
    trainers, times = {}, {m: [] for m in modes}
    for m in modes:
        torch.manual_seed(0)
        trainers[m] = Trainer(MaskedLM(zoo_config(m, embedding)), data, cfg)
    for i in range(steps + warmup_steps):
        for m in modes:
            rec = trainers[m].step()
            if i >= warmup_steps:
                times[m].append(rec["step_time"])
    base = "none" if "none" in modes else modes[0]
    out = {}
    for m in modes:
        rep = count_parameters(zoo_config(m, embedding), include_head=True, seq_len=seq_len)
        out[m] = {"params": rep.total, "flops_per_token": rep.flops_per_token,
                  "median_step_s": statistics.median(times[m])}
    for m in modes:
        out[m]["params_ratio"] = out[m]["params"] / out[base]["params"]
        out[m]["flops_ratio"] = out[m]["flops_per_token"] / out[base]["flops_per_token"]
        out[m]["step_time_ratio"] = out[m]["median_step_s"] / out[base]["median_step_s"]
    return out


def step_time_rows(ratios: dict[str, dict]) -> list[dict]:
    """`step_time_ratios` output as the rows the step-time chart takes: arm (the sharing mode), params, step_ms."""
    return [{"arm": m, "model": labels.SHARING.get(m, m), "params": r["params"], "step_ms": 1000 * r["median_step_s"],
             "flops_per_token": r["flops_per_token"]} for m, r in ratios.items()]
