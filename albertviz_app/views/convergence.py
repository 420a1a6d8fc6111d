"""Convergence: why sharing works (Lin et al. 2023) — zoo training logs, per-use gradients, live experiments."""

import math
from dataclasses import replace

import pandas as pd
import streamlit as st

from albertviz import zoo
from albertviz.core.config import SHARE_STRATEGIES, SHARING_MODES, ModelConfig
from albertviz.core.params import count_parameters, flops_per_token
from albertviz.core.sharing import plan_letters
from albertviz.data.corpus import CHAR_SPECIALS
from albertviz.figures import convergence as figs
from albertviz.lessons import convergence as cv
from albertviz.lessons import live, verdicts
from albertviz.zoo.cells import zoo_config
from albertviz_app.ui import live_runs
from albertviz_app.ui.feedback import friendly_errors
from albertviz_app.ui.models import EMBEDDING_LABELS, SHARING_LABELS, label, load_model

REDRAW_S = 2.0  # live chart refresh: each redraw costs the server and every watching browser CPU time
UNTRAINED = "untrained"  # the per-use view's fallback when no shared zoo cell has landed yet
STRATEGY_LABELS = {"sequence": "sequence (AABB…)", "cycle": "cycle (ABAB…)", "cycle_rev": "cycle-rev (ABBA…)"}
SUMMARY_COLUMNS = {"model": "model", "layers": "layers", "params": "parameters", "flops_per_token": "FLOPs / token",
                   "lr": "lr", "warmup": "warm-up", "seeds": "seeds", "steps": "steps", "step_ms": "ms / step",
                   "train_loss_last10": "train loss (last 10 steps)", "held_out_loss": "held-out loss",
                   "held_out_sd": "± s.d. over seeds", "held_out_accuracy": "held-out accuracy"}
NUM = st.column_config.NumberColumn


@st.cache_resource(show_spinner="Cutting Shakespeare into 16-character chunks (once per server)…")
def live_data():
    return live_runs.registry().data()  # the live runs' own copy: one per server, shared with the page


@st.cache_resource(show_spinner=False)
def plateau() -> tuple[str, float]:
    return "characters by frequency alone", live.frequency_only_loss(live_data())


@st.cache_data(show_spinner=False)
def zoo_manifest(version: float) -> dict:
    return cv.read_manifest()


@st.cache_data(show_spinner=False)
def zoo_logs(version: float) -> dict[str, dict]:
    return cv.zoo_entries()


@st.cache_data(show_spinner="Splitting one batch's gradient into per-layer terms…")
def per_use(key: str, version: float) -> list[cv.UseGradients]:
    if key == UNTRAINED:
        encoder, head = cv.fresh_model("all")
    else:
        if key not in {e["name"] for e in zoo.list_models()}:
            zoo.manifest.cache_clear()  # the cell landed after the zoo's manifest was first read
        model = load_model(key)
        encoder, head = model.encoder, model.head
    inputs, labels = cv.text_batch(n=16, seq_len=32)
    return [replace(r, contributions=[], true_grad={}) for r in cv.per_use_gradients(encoder, head, inputs, labels)]


def seeds_note(losses: dict[str, dict[int, float]]) -> str:
    counts = sorted({len(v) for v in losses.values()})
    return "one seed per cell" if counts == [1] else f"{'–'.join(map(str, counts))} seeds per cell"


st.title("📉 Convergence — why sharing works")
st.markdown(
    rf"""**Lin et al. (2023, *Understanding Parameter Sharing in Transformers*) claim** that cross-layer sharing
helps mostly through **better convergence**, not through added model complexity. Their setting is sharing used
to make a model *deeper at a fixed parameter budget* — the shared model runs more layers, so more FLOPs per
token — and, guided by that finding, tuning an unshared model's convergence-related training hyperparameters gave it
competitive results (here the sweep tunes learning rate and warm-up). That is not ALBERT's setting: at a *fixed
shape*, ALBERT's Table 4 reports all-shared {verdicts.table_4_drop(768):.1f} Avg points below not-shared at E=768
and {verdicts.table_4_drop(128):.1f} below at E=128. A block shared by $L$ layers takes part $L$ times in every
forward pass, so its gradient is a **sum of $L$ terms**,
$\frac{{\partial \ell}}{{\partial W}} = \sum_{{l=1}}^{{L}} \frac{{\partial \ell}}{{\partial W^{{(l)}}}}$,
on another scale than any single layer's."""
)
headline = st.container()  # "what these runs show": filled at the end, once this rerun's runs are done

version = cv.manifest_version()
entries = zoo_logs(version)
manifest = zoo_manifest(version)

st.header("1 · What the zoo's training logs show")
with friendly_errors("the zoo's training curves"):
    if not entries:
        st.info("No zoo model has finished training yet (cells land one by one, ≈7 min each). "
                "Sections 2–4 work without the zoo; come back later for the logged curves.", icon="⏳")
    else:
        embeddings = [e for e in EMBEDDING_LABELS if any(x["embedding"] == e for x in entries.values())]
        c1, c2 = st.columns([1, 2])
        emb = c1.selectbox("Embedding", embeddings, format_func=EMBEDDING_LABELS.get, key="convergence.embedding")
        cells = {n: e for n, e in entries.items() if e["embedding"] == emb}
        present = [m for m in SHARING_MODES if f"{m}-{emb}" in cells]
        modes = c2.multiselect("Sharing modes", present, default=present, format_func=SHARING_LABELS.get,
                               key="convergence.modes")
        if missing := [SHARING_LABELS[m] for m in SHARING_MODES if m not in present]:
            st.caption(f"Not trained yet with this embedding: {', '.join(missing)}.")
        chosen = {f"{m}-{emb}": cells[f"{m}-{emb}"] for m in modes}
        st.plotly_chart(figs.loss_curves_figure({e["sharing"]: cv.loss_curve(e) for e in chosen.values()},
                                                f"Zoo pre-training, {EMBEDDING_LABELS[emb]}: MLM loss"),
                        key="convergence.zoo_loss")
        zoo_losses = cv.zoo_seed_losses(manifest, emb)
        st.caption("Solid: training MLM loss on each logged batch; dotted: loss on the same fixed held-out "
                   "passages. All cells share one shape, data order and step budget; only sharing differs. The "
                   f"curves are seed 0 ({seeds_note(zoo_losses)} in the zoo): a gap between two runs of one seed "
                   "is not yet what sharing does, so the line below sets it against the spread between seeds.")
        if lines := verdicts.fixed_shape_verdict(zoo_losses, SHARING_LABELS):
            st.markdown("**The zoo at a fixed shape (final held-out loss):** " + " ".join(lines))
        kind = st.radio("Block type", ["attention", "ffn"], horizontal=True, key="convergence.kind",
                        format_func={"attention": "attention blocks", "ffn": "feed-forward blocks"}.get)
        series = cv.shared_vs_unshared(chosen, kind)
        if series:
            shared = [n for n in series if "used" in n]
            st.plotly_chart(figs.grad_norm_figure(series, f"Gradient norm of the {kind} weights over training",
                                                  highlight=shared), key="convergence.zoo_grads")
            unshared = [v for n, (_, v) in series.items() if "layer" in n and n.startswith(SHARING_LABELS["none"])]
            notes = [f"**{n.split(':')[0]}**: {cv.median_ratio(series[n][1], unshared):.1f}× a not-shared layer"
                     for n in shared] if unshared else []
            uses = max(n for e in chosen.values() for n in cv.block_uses(ModelConfig.from_dict(e["config"]))
                       .values())
            st.caption("Thick lines: a block reused by several layers; thin lines: blocks used by one layer each. "
                       "The shared block's gradient sums one term per use, so its norm lives on another scale. "
                       "That alone would not ask for another learning rate: AdamW divides each step by the "
                       "gradient's running root-mean-square, so rescaling a gradient changes the step only through "
                       f"ε. What differs is that one update of a shared block moves all {uses} of its uses at once, "
                       "so the same step size changes what the network computes more — which is why a shared "
                       "model may want another learning rate or warm-up."
                       + (" Median ratio over training: " + "; ".join(notes) + "." if notes else ""))

st.header("2 · One step, taken apart: the per-use terms of a shared gradient")
shared_cells = [n for n, e in entries.items() if e["sharing"] != "none"]
with friendly_errors("the per-use gradient contributions"):
    c1, c2 = st.columns(2)
    key = c1.selectbox("Model", shared_cells + [UNTRAINED], key="convergence.peruse_model",
                       format_func=lambda k: "untrained all-shared model (zoo shape)" if k == UNTRAINED else label(k))
    results = [r for r in per_use(key, version) if len(r.layers) > 1]
    by_label = {x.label: x for x in results}
    r = by_label[c2.selectbox("Shared block", list(by_label), key="convergence.peruse_block")]
    st.plotly_chart(figs.per_use_figure(r), key="convergence.peruse_chart")
    m1, m2, m3 = st.columns(3)
    m1.metric("‖Σ per-use terms‖", f"{r.sum_norm:.4g}")
    m2.metric("‖real gradient‖ (ordinary backward)", f"{r.true_norm:.4g}")
    m3.metric("largest element difference", f"{r.max_abs_diff:.1e}")
    share, layers = r.sum_norm / sum(r.use_norms), ", ".join(str(n + 1) for n in r.layers)
    st.caption(f"One masked batch (16 passages of 32 tokens). Each of layers {layers} ran "
               f"the {r.label} with its own copy of the weights, so autograd kept each use's gradient apart; their "
               f"sum equals the gradient the shared weight really gets (largest difference {r.max_abs_diff:.1e}). "
               f"The sum's norm is {share:.0%} of the sum of the norms (dotted line): "
               + ("the per-layer terms point in partly different directions." if share < 0.95 else
                  "the per-layer terms point almost the same way."))

st.header("3 · Train it yourself")
V = len(live_data().special)
shape = live.live_config("none", V)
st.markdown(f"Tiny models (H{shape.hidden_size}, {shape.num_heads} heads, FFN {shape.intermediate_size}) learn to "
            f"fill in masked **characters** of Shakespeare right now — {shape.max_position_embeddings - 2}-character "
            "windows, all models of a seed from the same start and on the same batches, one step each in turn, MLM "
            f"only (no teacher). Characters rather than the zoo's {zoo_config('none', 'full').vocab_size:,} word "
            "pieces, because a model this small needs many minutes to get past \"predict the most frequent piece\", "
            f"but under a minute with the text's {V - len(CHAR_SPECIALS)} characters.")
experiment = st.radio("Experiment", list(live.EXPERIMENTS), format_func=live.EXPERIMENTS.get, horizontal=True,
                      key="convergence.experiment")
ss = st.session_state
ss.setdefault("convergence.results", {})  # this session's finished runs by settings (pooled by the verdict)
LRS = [5e-4, 1e-3, 2e-3, 3e-3, 5e-3]

if experiment == "same_shape":
    d = live.LiveSettings.default("same_shape")  # `make bench` times these defaults too
    st.markdown(f"**Same shape**: every model has {d.layers} layers; sharing only removes unique weights. "
                "Shared models may use M parameter groups in Takase & Kiyono's orders.")
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.multiselect("Sharing modes", SHARING_MODES, default=list(d.modes), format_func=SHARING_LABELS.get,
                   key="convergence.live_modes")
    c2.selectbox("Strategy", SHARE_STRATEGIES, index=SHARE_STRATEGIES.index(d.share_strategy),
                 format_func=STRATEGY_LABELS.get, key="convergence.strategy")
    c3.number_input("Groups M", 1, d.layers, d.num_groups, key="convergence.groups",
                    help="Unique blocks a shared model keeps (M=1: ALBERT, one block for every layer).")
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.select_slider("Learning rate", LRS, value=d.lr, key="convergence.lr")
    c2.number_input("Warm-up steps", 0, 500, d.warmup, step=10, key="convergence.warmup")
    c3.number_input("Steps", 2, 3000, d.steps, step=100, key="convergence.steps")
    c4.number_input("Seeds", 1, 5, len(d.seeds), key="convergence.seeds",
                    help="How many seeds to train each model with: the verdict needs three or more.")
    c5.number_input("First seed", 0, 99, d.seed, key="convergence.seed",
                    help="Initial weights and batch order. Same seed = same run; change it to see the spread.")
    plan = plan_letters(live.live_config("all", V, d.layers, ss["convergence.strategy"], ss["convergence.groups"]))[0]
    st.caption(f"A shared model's layer plan with these settings: **{plan}** (layer 1 first; one letter per unique "
               "block).")
else:
    d = live.LiveSettings.default("equal_params")  # `make bench` times these defaults too
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Unshared layers L", 1, 3, d.layers, key="convergence.lin_layers",
                    help="The shared model has 2L layers built from L unique blocks.")
    c2.selectbox("Order of the shared blocks", SHARE_STRATEGIES, index=SHARE_STRATEGIES.index(d.share_strategy),
                 format_func=STRATEGY_LABELS.get, key="convergence.lin_strategy",
                 help="Takase & Kiyono's strategies with M = L groups over 2L layers.")
    c3.number_input("Seeds", 1, 5, len(d.seeds), key="convergence.lin_seeds")
    c4.number_input("First seed", 0, 99, d.seed, key="convergence.lin_seed")
    c1, c2, c3, c4 = st.columns(4)
    c1.select_slider("Learning rate", LRS, value=d.lr, key="convergence.lin_lr")
    c2.number_input("Warm-up steps", 0, 500, d.warmup, step=10, key="convergence.lin_warmup")
    c3.number_input("Steps", 2, 3000, d.steps, step=50, key="convergence.lin_steps")
    c4.checkbox("Add the FLOPs reference", d.flops_reference, key="convergence.lin_deep",
                help="Also an unshared 2L-layer model: the shared model's FLOPs with twice its parameters.")
    c1, c2 = st.columns(2)
    c1.multiselect("Sweep: learning rates (× the lr above)", [0.25, 0.5, 1.0, 2.0, 4.0], default=list(d.lr_factors),
                   format_func=lambda f: f"{f:g}×", key="convergence.lin_lr_factors")
    c2.multiselect("Sweep: warm-ups", [0, 10, 30, 100, 300], default=[d.warmup], key="convergence.lin_sweep_warmups")
    L = ss["convergence.lin_layers"]
    shared_cfg = live.live_config("all", V, 2 * L, ss["convergence.lin_strategy"], L)
    flat_cfg = live.live_config("none", V, L)
    st.markdown(f"**Equal parameters** (Lin et al.'s comparison): an unshared {L}-layer model against a "
                f"{2 * L}-layer model that runs each of its {L} blocks twice (plan **{plan_letters(shared_cfg)[0]}**):"
                f" {count_parameters(flat_cfg, include_head=True).total:,} vs "
                f"{count_parameters(shared_cfg, include_head=True).total:,} unique parameters, "
                f"{flops_per_token(flat_cfg, shape.max_position_embeddings):,} vs "
                f"{flops_per_token(shared_cfg, shape.max_position_embeddings):,} encoder FLOPs per token. The "
                "unshared model is also trained at every setting of the sweep; its *tuned* arm is the setting with "
                "the lowest mean loss on a validation slice of held-out text, and every arm is scored on a separate "
                "test slice.")


def settings_from_widgets() -> live.LiveSettings:
    """The settings the widgets describe (read from session state: callbacks run before the script)."""
    if ss["convergence.experiment"] == "same_shape":
        first = int(ss["convergence.seed"])
        return replace(live.LiveSettings.default("same_shape"), modes=tuple(ss["convergence.live_modes"]),
                       share_strategy=ss["convergence.strategy"], num_groups=int(ss["convergence.groups"]),
                       steps=int(ss["convergence.steps"]), lr=float(ss["convergence.lr"]),
                       warmup=int(ss["convergence.warmup"]),
                       seeds=tuple(range(first, first + int(ss["convergence.seeds"]))))
    first = int(ss["convergence.lin_seed"])
    warmups = tuple(sorted(int(w) for w in ss["convergence.lin_sweep_warmups"]))
    return replace(live.LiveSettings.default("equal_params"), layers=int(ss["convergence.lin_layers"]),
                   share_strategy=ss["convergence.lin_strategy"], steps=int(ss["convergence.lin_steps"]),
                   lr=float(ss["convergence.lin_lr"]), warmup=int(ss["convergence.lin_warmup"]),
                   seeds=tuple(range(first, first + int(ss["convergence.lin_seeds"]))),
                   lr_factors=tuple(sorted(float(f) for f in ss["convergence.lin_lr_factors"])),
                   sweep_warmups=warmups, flops_reference=bool(ss["convergence.lin_deep"]))


def start() -> None:  # a callback runs before the script: read widget values from ss, not stale globals
    ss["convergence.stop_flag"] = False
    ss["convergence.pending"] = settings_from_widgets()  # asked for below (a shared run: see ui/live_runs.py)


def stop() -> None:
    ss["convergence.stop_flag"] = True


with friendly_errors("the live settings"):
    planned = settings_from_widgets()
    arms = planned.arms(V)
    sweep_n = sum(a.sweep for a in arms)
    st.caption(f"▶ Train trains {len(arms)} model{'s' if len(arms) > 1 else ''} × {len(planned.seeds)} seed"
               f"{'s' if len(planned.seeds) > 1 else ''} = {len(arms) * len(planned.seeds)} runs of "
               f"{planned.steps} steps (batch {planned.batch_size})"
               + (f"; the sweep is {sweep_n} of the models, so tuning alone costs {(sweep_n - 1) * len(planned.seeds)}"
                  " of those runs." if planned.experiment == "equal_params" else "."))
b1, b2, _ = st.columns([1, 1, 4])
b1.button("▶ Train", key="convergence.train", on_click=start, type="primary",
          disabled=experiment == "same_shape" and not ss.get("convergence.live_modes"))
b2.button("⏹ Stop", key="convergence.stop", on_click=stop)


def live_chart(r: live.LiveRun):
    return figs.loss_curves_figure(r.mean_curves(), "Live training: MLM loss"
                                   + (f" (mean of {len(r.settings.seeds)} seeds)" if len(r.settings.seeds) > 1 else ""),
                                   per_step=True, reference=plateau(), names=r.labels())


def finished(exp: str) -> list[live.LiveRun]:
    return [r for r in ss["convergence.results"].values() if r.experiment == exp]


shown = None
with friendly_errors("the live training"):
    if (pending := ss.pop("convergence.pending", None)) is not None:
        live_runs.request(pending)  # the one run with these settings, shared by every session that asks
    if not ss.get("convergence.stop_flag") and live_runs.following():
        live_runs.watch(live_chart, REDRAW_S, stop_key="convergence.stop_flag")
    if ss.pop("convergence.stop_flag", False):
        live_runs.stop()
    if (shared := live_runs.handle()) is not None:
        if (view := shared.view()) is not None:
            ss["convergence.run"] = view  # a finished run is the same object in every session
            if view.done:
                ss["convergence.results"][view.settings] = view
        else:
            ss.pop("convergence.run", None)  # queued and given up: fall back to this session's last finished run
        live_runs.notice(shared)
    run = ss.get("convergence.run")
    shown = run if run is not None and run.experiment == experiment else next(reversed(finished(experiment)), None)
    if shown is not None:
        s = shown.settings
        if shown.stopped:
            st.warning(f"Stopped after {shown.rounds} of {s.steps} steps; press ▶ Train to go on. The verdict "
                       "waits for a finished run.", icon="⏹")
        st.plotly_chart(live_chart(shown), key="convergence.live_final")
        st.caption(f"{shown.rounds} steps per model in {shown.wall:.0f} s ({shown.runs_used()} models, batch "
                   f"{s.batch_size}, lr {s.lr:g}, warm-up {s.warmup}, seeds {', '.join(map(str, s.seeds))}). Faint: "
                   f"training loss of each batch; dotted: held-out loss on {s.train_config().eval_chunks} fixed "
                   f"windows. A fresh model starts near ln {V} ≈ {math.log(V):.1f}. The dashed line "
                   f"({plateau()[1]:.2f}) is the best a model can do by predicting characters from their frequency "
                   "alone; dropping below it is the model starting to read its neighbours.")
        st.dataframe(pd.DataFrame(shown.summary()).drop(columns="arm").rename(columns=SUMMARY_COLUMNS),
                     key="convergence.live_table", hide_index=True,
                     column_config={"ms / step": NUM(format="%.1f"), "lr": NUM(format="%g"),
                                    "train loss (last 10 steps)": NUM(format="%.3f"),
                                    "held-out loss": NUM(format="%.3f"), "± s.d. over seeds": NUM(format="%.3f"),
                                    "held-out accuracy": NUM(format="percent")})
        if shown.done:
            if shown.experiment == "equal_params":
                st.dataframe(pd.DataFrame(shown.sweep_rows()).rename(columns={
                    "warmup": "warm-up", "validation_loss": "validation loss (picks)", "validation_sd": "± s.d.",
                    "held_out_loss": "held-out loss (reports)", "chosen": "tuned arm"}),
                    key="convergence.sweep_table", hide_index=True,
                    column_config={"lr": NUM(format="%g"), "validation loss (picks)": NUM(format="%.3f"),
                                   "± s.d.": NUM(format="%.3f"), "held-out loss (reports)": NUM(format="%.3f")})
                n_sweep = len(shown.sweep_rows())
                st.caption(f"The sweep: {n_sweep} settings × {len(s.seeds)} seeds = {n_sweep * len(s.seeds)} runs "
                           f"of the unshared model, {(n_sweep - 1) * len(s.seeds)} of them only to tune it — the "
                           "tuned arm had that much more compute behind its choice. Picked by mean loss on the last "
                           "256 held-out windows, reported on the first 256.")
                losses, names = shown.losses(), shown.short_labels()
                lines = verdicts.lin_verdict(losses, names, shown.flops_ratio(), n_sweep,
                                             shown.tuned_key() == "unshared", shown.rounds, plateau()[1])
            else:
                losses, names = live.pooled_losses(finished("same_shape"), s)
                lines = verdicts.fixed_shape_verdict(losses, names)
            st.plotly_chart(figs.final_loss_figure(losses, names | shown.labels(),
                                                   "Final held-out loss: one dot per seed, bar = mean ± s.d.",
                                                   reference=plateau()), key="convergence.live_seeds")
            if lines:
                st.markdown("**What this run shows:** " + " ".join(lines))
            if shown.experiment == "same_shape" and len(runs := finished("same_shape")) > 1:
                st.markdown("**Your finished same-shape runs** — the verdict above pools those that differ only "
                            "in their seeds:")
                st.dataframe(pd.DataFrame(live.runs_table(runs)), key="convergence.runs_table", hide_index=True)

st.header("4 · Parameters are not FLOPs")
with friendly_errors("the step times"):
    rows = shown.summary() if shown is not None and shown.rounds else []
    if rows:
        st.plotly_chart(figs.step_time_figure(rows, "Live run: parameters vs measured step time"),
                        key="convergence.steptime_live")
        base = rows[0]
        notes = [f"{r['model']}: {r['params'] / base['params']:.2f}× the parameters, "
                 f"{r['flops_per_token'] / base['flops_per_token']:.2f}× the FLOPs per token, "
                 f"{r['step_ms'] / base['step_ms']:.2f}× the step time" for r in rows[1:]]
        if notes:
            st.caption(f"Against {base['model']}: " + "; ".join(notes) + ".")
    if st.button("⏱ Time the zoo shape now (≈ 10 s)", key="convergence.time_zoo"):
        with st.spinner("Timing training steps of the four sharing modes, in turn…"):
            ss["convergence.zoo_times"] = cv.step_time_rows(cv.step_time_ratios(steps=8, warmup_steps=2))
    if zoo_rows := ss.get("convergence.zoo_times"):
        st.plotly_chart(figs.step_time_figure(zoo_rows, "Zoo shape (L6 H128, full table, batch 32×64): "
                                                        "parameters vs step time"), key="convergence.steptime_zoo")
        t = {r["arm"]: r for r in zoo_rows}
        if "none" in t and "all" in t:
            st.caption(f"Zoo shape: all-shared has {t['all']['params'] / t['none']['params']:.2f}× the parameters "
                       f"and {t['all']['flops_per_token'] / t['none']['flops_per_token']:.2f}× the FLOPs per token "
                       f"of not-shared, and took {t['all']['step_ms'] / t['none']['step_ms']:.2f}× its step time.")
    if not rows and not zoo_rows:
        st.info("Train the live models above, or time the zoo shape, to see measured step times.")
    st.caption("Left: unique parameters (with the MLM head); right: median measured time of one training step. "
               "The models take their steps in turn, so a busy machine slows all of them alike. Sharing cuts "
               "parameters — memory, and what must be sent over a network — but every layer still runs, so the "
               "FLOPs per token follow the number of layers, not the number of unique blocks.")

with headline, friendly_errors("the verdicts"):
    st.markdown("**What these runs show:**")
    items = []
    if entries:
        full = cv.zoo_seed_losses(manifest, "full")
        if lines := verdicts.fixed_shape_verdict(full, SHARING_LABELS):
            items.append(f"*The zoo, fixed shape (ALBERT's comparison, not Lin et al.'s), {seeds_note(full)}:* "
                         + " ".join(lines))
    if lin_runs := finished("equal_params"):
        r = lin_runs[-1]
        items.append("*Live, equal parameters (Lin et al.'s comparison):* " + " ".join(verdicts.lin_verdict(
            r.losses(), r.short_labels(), r.flops_ratio(), len(r.sweep_rows()), r.tuned_key() == "unshared",
            r.rounds, plateau()[1])))
    else:
        items.append("*Live, equal parameters (Lin et al.'s comparison):* not run yet in this session — choose "
                     "**equal parameters** in section 3 and press ▶ Train (the defaults take about a minute).")
    if same := finished("same_shape"):
        losses, names = live.pooled_losses(same, same[-1].settings)
        if lines := verdicts.fixed_shape_verdict(losses, names):
            items.append("*Live, same shape:* " + " ".join(lines))
    st.markdown("\n".join(f"- {i}" for i in items))
