"""Why sharing works (Lin et al. 2023): curves, gradients and step times from real training runs.

Lin et al. ("Understanding Parameter Sharing in Transformers") argue that cross-layer sharing helps
mostly through *convergence*: a block used by L layers receives a gradient that is the sum of L
per-use terms, so its scale and direction differ from any single layer's. This module gives the
Convergence page everything it shows, without Streamlit:

- zoo logs → loss curves and per-component gradient norms (`zoo_entries`, `loss_curve`, `grad_series`);
- `per_use_gradients`: the L per-layer contributions that add up to a shared block's gradient,
  computed by giving every layer its own copy of the block's weights (`torch.func.functional_call`);
- `LiveRun`: several tiny character-level models trained *now*, one step each in turn, so a stop
  leaves curves of equal length;
- `step_time_ratios`: measured step time per sharing mode next to parameter counts (for `make bench`).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import functional_call
from torch.nn import functional as F

from .config import SHARING_MODES, ModelConfig
from .model import Encoder, MaskedLM, MLMHead
from .params import count_parameters
from .sharing import layer_plan
from .train import Data, TrainConfig, Trainer, mask_tokens, zoo_config

SHARING_LABELS = {"none": "not shared", "all": "all-shared", "ffn": "shared FFN", "attention": "shared attention"}


# ---------------------------------------------------------------- the zoo's training logs

def zoo_entries(embedding: str | None = None) -> dict[str, dict]:
    """Manifest entries (training log included) keyed by cell name, read fresh from disk.

    The zoo lands cell by cell while the app may already be running, so this does not use the
    zoo's cached manifest; a missing or half-written manifest simply gives fewer (or no) entries.
    """
    from .zoo import MANIFEST_NAME, ZOO_DIR

    path = ZOO_DIR / MANIFEST_NAME
    try:
        models = json.loads(path.read_text())["models"]
    except (OSError, ValueError, KeyError):
        return {}
    return {name: e for name, e in models.items()
            if isinstance(e, dict) and e.get("log") and (embedding is None or e.get("embedding") == embedding)}


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
        mode = SHARING_LABELS.get(entry["sharing"], entry["sharing"])
        for comp, (steps, values) in grad_series(entry).items():
            if not comp.startswith(kind + "."):
                continue
            n = uses.get(comp, 1)
            block = int(comp.split(".")[1])
            name = f"{mode}: {kind} block (used {n}×)" if n > 1 else f"{mode}: {kind} layer {block + 1}"
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
    from .zoo import MANIFEST_NAME, ZOO_DIR

    try:
        return (ZOO_DIR / MANIFEST_NAME).stat().st_mtime
    except OSError:
        return 0.0


# ---------------------------------------------------------------- per-use gradient contributions

@dataclass
class UseGradients:
    """One unique block: each layer-use's gradient contribution and the real gradient they add up to."""

    kind: str  # 'attention' or 'ffn'
    block: int
    layers: list[int]  # 0-based layers that run this block
    use_norms: list[float]  # ‖∂loss/∂(this use's copy)‖ per layer
    sum_norm: float  # ‖Σ contributions‖
    true_norm: float  # ‖∂loss/∂W‖ from an ordinary backward pass through the shared model
    max_abs_diff: float  # max |Σ contributions − real gradient| over every element
    contributions: list[dict[str, torch.Tensor]] = field(repr=False, default_factory=list)
    true_grad: dict[str, torch.Tensor] = field(repr=False, default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind} block {self.block}"


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
    from .corpus import load_text
    from .tokenizer import load_tokenizer
    from .train import special_mask

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


# ---------------------------------------------------------------- live experiment

LIVE_SHAPE = dict(hidden_size=64, num_layers=4, num_heads=2, intermediate_size=256, max_position_embeddings=16,
                  pooler=False)


def live_data() -> Data:
    """Shakespeare as 16-symbol character chunks ([CLS] + 14 characters + [SEP]), the zoo's held-out split.

    Characters, not word pieces: a live run must show more than the frequency plateau within a minute
    (see `corpus.char_chunks`). Short windows make a neighbour's share of uniform attention large, so
    the models discover context sooner.
    """
    from .corpus import CHAR_SPECIALS, char_chunks, split

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


def live_config(sharing: str, vocab_size: int) -> ModelConfig:
    """The live experiment's tiny shape: L4 H64 A2 F256 over a character vocabulary."""
    return ModelConfig(sharing=sharing, vocab_size=vocab_size, **LIVE_SHAPE)


def fresh_model(sharing: str, seed: int = 0) -> tuple[Encoder, MLMHead]:
    """An untrained zoo-shape model (encoder, head): what the per-use view shows before the zoo exists."""
    torch.manual_seed(seed)
    lm = MaskedLM(zoo_config(sharing, "full"))
    return lm.encoder, lm.head


@dataclass(frozen=True)
class LiveSettings:
    """Everything that decides a live run; equal settings give equal curves (fixed seed)."""

    modes: tuple[str, ...] = ("none", "all")
    steps: int = 1000
    lr: float = 2e-3
    warmup: int = 30
    batch_size: int = 64
    seed: int = 0
    eval_every: int = 50

    @property
    def seq_len(self) -> int:
        return int(LIVE_SHAPE["max_position_embeddings"])

    def train_config(self) -> TrainConfig:
        # MLM alone (no teacher), fused attention; grad norms every 10 steps, our own held-out evals.
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, seq_len=self.seq_len, lr=self.lr,
                           warmup=min(self.warmup, self.steps), short_steps=0, seed=self.seed,
                           log_every=10, eval_every=10 ** 9, eval_chunks=256, checkpoint_every=10 ** 9)


@dataclass
class LiveCurves:
    """What one model of a live run recorded: per-step loss and time, periodic held-out loss."""

    params: int
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    step_time: list[float] = field(default_factory=list)
    held_steps: list[int] = field(default_factory=list)
    held_loss: list[float] = field(default_factory=list)
    held_accuracy: list[float] = field(default_factory=list)

    def as_loss_curve(self) -> LossCurve:
        return LossCurve(self.steps, self.loss, self.held_steps, self.held_loss)


class LiveRun:
    """Tiny models (one per sharing mode) trained side by side, one step each per round.

    Every model starts from the same seed and sees the same batches, so the curves differ only
    through sharing. Stepping the models in turn means a stop (or a Streamlit rerun) at any
    point leaves every curve at the same step count.
    """

    def __init__(self, settings: LiveSettings, data: Data) -> None:
        if not settings.modes:
            raise ValueError("Choose at least one sharing mode to train.")
        unknown = [m for m in settings.modes if m not in SHARING_MODES]
        if unknown:
            raise ValueError(f"Unknown sharing mode(s) {unknown}; choose from {', '.join(SHARING_MODES)}.")
        if data.chunks.shape[1] != settings.seq_len:
            raise ValueError(f"The data has chunks of {data.chunks.shape[1]} tokens; the live run needs "
                             f"{settings.seq_len}.")
        self.settings = settings
        self.trainers: dict[str, Trainer] = {}
        self.curves: dict[str, LiveCurves] = {}
        for mode in settings.modes:
            cfg = live_config(mode, len(data.special))
            torch.manual_seed(settings.seed)
            model = MaskedLM(cfg)
            self.trainers[mode] = Trainer(model, data, settings.train_config())
            self.curves[mode] = LiveCurves(params=sum(p.numel() for p in model.parameters()))
        self.rounds = 0
        self.stopped = False
        self.wall = 0.0
        self._grad_logs: dict[str, list[dict]] = {}
        self._evaluate()  # step 0: every model starts from the same loss

    @property
    def done(self) -> bool:
        return self.rounds >= self.settings.steps

    def _evaluate(self) -> None:
        for mode, tr in self.trainers.items():
            scores, c = tr.evaluate(), self.curves[mode]
            c.held_steps.append(self.rounds)
            c.held_loss.append(scores["held_out_loss"])
            c.held_accuracy.append(scores["held_out_accuracy"])

    def round(self) -> None:
        """One training step for every model, then a held-out evaluation when one is due."""
        t0 = time.perf_counter()
        for mode, tr in self.trainers.items():
            rec = tr.step()
            c = self.curves[mode]
            c.steps.append(rec["step"])
            c.loss.append(rec["loss"])
            c.step_time.append(rec["step_time"])
        self.rounds += 1
        if self.rounds % self.settings.eval_every == 0 or self.done:
            self._evaluate()
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

    def grad_logs(self) -> dict[str, list[dict]]:
        """The trainers' own logs (every 10 steps, with per-component gradient norms)."""
        if not self.trainers:
            return self._grad_logs
        return {mode: tr.log for mode, tr in self.trainers.items()}

    def release(self) -> None:
        """Drop the models and optimizers once a run is over (a classroom server holds many runs); curves stay."""
        self._grad_logs = self.grad_logs()
        self.trainers = {}

    def summary(self) -> list[dict]:
        """One row per model: parameters, median step time (ms), last losses, held-out accuracy."""
        rows = []
        for mode, c in self.curves.items():
            tail = c.loss[-10:]
            rows.append({"sharing": mode, "params": c.params, "steps": len(c.steps),
                         "step_ms": 1000 * statistics.median(c.step_time) if c.step_time else float("nan"),
                         "train_loss_last10": float(np.mean(tail)) if tail else float("nan"),
                         "held_out_loss": c.held_loss[-1] if c.held_loss else float("nan"),
                         "held_out_accuracy": c.held_accuracy[-1] if c.held_accuracy else float("nan")})
        return rows


def runs_table(runs: Iterable[LiveRun]) -> list[dict]:
    """One row per run: its settings and each model's final held-out loss, to set gaps against seed spread."""
    rows = []
    for run in runs:
        s = run.settings
        row = {"seed": s.seed, "lr": s.lr, "warm-up": s.warmup, "steps": run.rounds}
        row |= {f"{SHARING_LABELS.get(m, m)}: held-out loss": round(c.held_loss[-1], 3)
                for m, c in run.curves.items() if c.held_loss}
        rows.append(row)
    return rows


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
    cfg = TrainConfig(steps=steps + warmup_steps, batch_size=batch_size, seq_len=seq_len, warmup=1,
                      short_steps=0, log_every=10 ** 9, eval_every=10 ** 9, eval_chunks=8)
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
    """`step_time_ratios` output as the rows the step-time chart takes: sharing, params, step_ms."""
    return [{"sharing": m, "params": r["params"], "step_ms": 1000 * r["median_step_s"]} for m, r in ratios.items()]
