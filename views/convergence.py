"""Convergence: why sharing works (Lin et al. 2023) — zoo training logs, per-use gradients, live training."""

import math
import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from albertviz import convergence as cv
from albertviz import zoo
from albertviz.config import SHARING_MODES
from albertviz.corpus import CHAR_SPECIALS
from albertviz.figures import convergence as figs
from ui.feedback import friendly_errors
from ui.models import EMBEDDING_LABELS, SHARING_LABELS, label, load_model

REDRAW_S = 2.0  # live chart refresh: each redraw costs the server and every watching browser CPU time
UNTRAINED = "untrained"  # the per-use view's fallback when no shared zoo cell has landed yet
SUMMARY_COLUMNS = {"sharing": "model", "params": "parameters", "step_ms": "ms / step",
                   "train_loss_last10": "train loss (last 10 steps)", "held_out_loss": "held-out loss",
                   "held_out_accuracy": "held-out accuracy"}


@st.cache_resource(show_spinner="Cutting Shakespeare into 16-character chunks (once per server)…")
def live_data():
    return cv.live_data()


@st.cache_resource(show_spinner=False)
def plateau() -> tuple[str, float]:
    return "characters by frequency alone", cv.frequency_only_loss(live_data())


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


st.title("📉 Convergence — why sharing works")
st.markdown(
    r"""Lin et al. (2023, *Understanding Parameter Sharing in Transformers*) find that cross-layer sharing helps
mostly through **better convergence**, not extra model complexity. A block shared by $L$ layers takes part $L$
times in every forward pass, so its gradient is a **sum of $L$ terms**:
$\frac{\partial \ell}{\partial W} = \sum_{l=1}^{L} \frac{\partial \ell}{\partial W^{(l)}}$ — with a different
range than any single layer's gradient. Tune the convergence-related settings (learning rate, warm-up) and an
unshared model catches up with half the complexity. Below: the zoo's real training logs, one gradient taken
apart, and a training run you start yourself."""
)

version = cv.manifest_version()
entries = zoo_logs(version)

st.header("1 · What the zoo's training logs show")
with friendly_errors("the zoo's training curves"):
    if not entries:
        st.info("No zoo model has finished training yet (cells land one by one, ≈7 min each). "
                "Sections 2–4 work without the zoo; come back later for the logged curves.", icon="⏳")
    else:
        embeddings = [e for e in EMBEDDING_LABELS if any(x["embedding"] == e for x in entries.values())]
        c1, c2 = st.columns([1, 2])
        emb = c1.selectbox("Embedding", embeddings, format_func=EMBEDDING_LABELS.get, key="convergence_embedding")
        cells = {n: e for n, e in entries.items() if e["embedding"] == emb}
        present = [m for m in SHARING_MODES if f"{m}-{emb}" in cells]
        modes = c2.multiselect("Sharing modes", present, default=present, format_func=SHARING_LABELS.get,
                               key="convergence_modes")
        if missing := [SHARING_LABELS[m] for m in SHARING_MODES if m not in present]:
            st.caption(f"Not trained yet with this embedding: {', '.join(missing)}.")
        chosen = {f"{m}-{emb}": cells[f"{m}-{emb}"] for m in modes}
        st.plotly_chart(figs.loss_curves_figure({e["sharing"]: cv.loss_curve(e) for e in chosen.values()},
                                                f"Zoo pre-training, {EMBEDDING_LABELS[emb]}: MLM loss"),
                        key="convergence_zoo_loss")
        st.caption("Solid: training MLM loss on each logged batch; dotted: loss on the same fixed held-out "
                   "passages. All cells share one shape, seed, data order and step budget (and the attention "
                   "distillation described on Home), so the gap between curves is what sharing does.")
        kind = st.radio("Block type", ["attention", "ffn"], horizontal=True, key="convergence_kind",
                        format_func={"attention": "attention blocks", "ffn": "feed-forward blocks"}.get)
        series = cv.shared_vs_unshared(chosen, kind)
        if series:
            shared = [n for n in series if "used" in n]
            st.plotly_chart(figs.grad_norm_figure(series, f"Gradient norm of the {kind} weights over training",
                                                  highlight=shared), key="convergence_zoo_grads")
            unshared = [v for n, (_, v) in series.items() if "layer" in n and n.startswith(SHARING_LABELS["none"])]
            notes = [f"**{n.split(':')[0]}**: {cv.median_ratio(series[n][1], unshared):.1f}× a not-shared layer"
                     for n in shared] if unshared else []
            st.caption("Thick lines: a block reused by every layer; thin lines: blocks used by one layer each. "
                       "The shared block's gradient sums one term per use, so it lives on a different scale — "
                       "the learning rate that suits one does not automatically suit the other. "
                       + (" Median ratio over training: " + "; ".join(notes) + "." if notes else ""))

st.header("2 · One step, taken apart: the per-use terms of a shared gradient")
shared_cells = [n for n, e in entries.items() if e["sharing"] != "none"]
with friendly_errors("the per-use gradient contributions"):
    c1, c2 = st.columns(2)
    key = c1.selectbox("Model", shared_cells + [UNTRAINED], key="convergence_peruse_model",
                       format_func=lambda k: "untrained all-shared model (zoo shape)" if k == UNTRAINED else label(k))
    results = [r for r in per_use(key, version) if len(r.layers) > 1]
    by_label = {x.label: x for x in results}
    r = by_label[c2.selectbox("Shared block", list(by_label), key="convergence_peruse_block")]
    st.plotly_chart(figs.per_use_figure(r), key="convergence_peruse_chart")
    m1, m2, m3 = st.columns(3)
    m1.metric("‖Σ per-use terms‖", f"{r.sum_norm:.4g}")
    m2.metric("‖real gradient‖ (ordinary backward)", f"{r.true_norm:.4g}")
    m3.metric("largest element difference", f"{r.max_abs_diff:.1e}")
    st.caption(f"One masked batch (16 passages of 32 tokens). Each layer ran the {r.label} with its own copy of the "
               "weights, so autograd kept each use's gradient apart; their sum equals the gradient the shared "
               "weight really gets (difference at float rounding). The sum's norm is well below the sum of "
               "the norms (dotted line): the per-layer terms point in partly different directions.")

st.header("3 · Train it yourself")
defaults, V = cv.LiveSettings(), len(live_data().special)  # `make bench` times these defaults too
shape = cv.live_config("none", V)
st.markdown(f"Tiny models (L{shape.num_layers} H{shape.hidden_size}, {shape.num_heads} heads, FFN "
            f"{shape.intermediate_size}) learn to fill in masked **characters** of Shakespeare right now — "
            f"{defaults.seq_len - 2}-character windows, one step each in turn, same seed, same batches, MLM only "
            "(no teacher). Characters rather than the zoo's 30,522 word pieces, because a model this small needs "
            "many minutes to get past \"predict the most frequent word\", but under a minute with the text's "
            f"{V - len(CHAR_SPECIALS)} characters.")
c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
live_modes = c1.multiselect("Sharing modes", SHARING_MODES, default=list(defaults.modes),
                            format_func=SHARING_LABELS.get, key="convergence_live_modes")
c2.select_slider("Learning rate", [5e-4, 1e-3, 2e-3, 3e-3, 5e-3], value=defaults.lr, key="convergence_lr")
c3.number_input("Warm-up steps", 0, 500, defaults.warmup, step=10, key="convergence_warmup")
c4.number_input("Steps", 2, 3000, defaults.steps, step=100, key="convergence_steps")
c5.number_input("Seed", 0, 99, defaults.seed, key="convergence_seed",
                help="Initial weights and batch order. Same seed = same run; change it to see the spread.")
ss = st.session_state
ss.setdefault("convergence_results", {})  # finished runs by settings: pressing Train again never retrains


def start() -> None:  # a callback runs before the script: read widget values from ss, not stale globals
    settings = cv.LiveSettings(modes=tuple(ss["convergence_live_modes"]), steps=int(ss["convergence_steps"]),
                               lr=float(ss["convergence_lr"]), warmup=int(ss["convergence_warmup"]),
                               seed=int(ss["convergence_seed"]))
    ss["convergence_stop_flag"] = False
    run = ss.get("convergence_run")
    if run is not None and run.settings == settings and run.trainers and not run.done:
        run.stopped = False  # same settings, unfinished: go on from where it stopped
    else:
        ss["convergence_pending"] = settings  # a new run (built below, with a spinner)


def stop() -> None:
    ss["convergence_stop_flag"] = True


b1, b2, _ = st.columns([1, 1, 4])
b1.button("▶ Train", key="convergence_train", on_click=start, type="primary", disabled=not live_modes)
b2.button("⏹ Stop", key="convergence_stop", on_click=stop)
with friendly_errors("the live training"):
    if (pending := ss.pop("convergence_pending", None)) is not None:
        if (chosen_run := ss["convergence_results"].get(pending)) is None:
            with st.spinner("Building the models and scoring them once before training…"):
                chosen_run = cv.LiveRun(pending, live_data())
        ss["convergence_run"] = chosen_run
    run = ss.get("convergence_run")
    if run is not None and run.trainers and not run.done and not ss.get("convergence_stop_flag"):
        bar, chart = st.progress(0.0), st.empty()
        shown = {"bar": 0.0, "chart": 0.0}

        def draw(r: cv.LiveRun) -> None:
            now = time.perf_counter()
            if now - shown["bar"] > 0.25 or r.done:
                shown["bar"] = now
                bar.progress(r.rounds / r.settings.steps, f"step {r.rounds} / {r.settings.steps}")
            if now - shown["chart"] > REDRAW_S or r.done:
                shown["chart"] = now
                curves = {m: c.as_loss_curve() for m, c in r.curves.items()}
                chart.plotly_chart(figs.loss_curves_figure(curves, "Live training: MLM loss", per_step=True,
                                                           reference=plateau()), key=f"convergence_live_{r.rounds}")

        run.run(on_round=draw, should_stop=lambda: bool(ss.get("convergence_stop_flag")))
        for placeholder in (bar, chart):
            placeholder.empty()
    if run is not None:
        if not run.done:
            run.stopped = True
        if run.done:
            ss["convergence_results"][run.settings] = run
            run.release()
        if run.stopped:
            st.warning(f"Stopped after {run.rounds} of {run.settings.steps} steps; press ▶ Train to go on.",
                       icon="⏹")
        curves = {m: c.as_loss_curve() for m, c in run.curves.items()}
        st.plotly_chart(figs.loss_curves_figure(curves, "Live training: MLM loss", per_step=True,
                                                reference=plateau()), key="convergence_live_final")
        st.caption(f"{run.rounds} steps per model in {run.wall:.0f} s (lr {run.settings.lr:g}, warm-up "
                   f"{run.settings.warmup}, seed {run.settings.seed}). Faint: training loss of each batch; "
                   f"dotted: held-out loss on {run.settings.train_config().eval_chunks} fixed windows. A fresh "
                   f"model starts near ln {V} ≈ {math.log(V):.1f}. The dashed line ({plateau()[1]:.2f}) is the best a "
                   "model can do by predicting characters from their frequency alone; dropping below it is "
                   "the model starting to read its neighbours. *When* a model leaves the plateau changes from "
                   "seed to seed — before you credit sharing with a gap, run two or three seeds. Then try "
                   "lr 5e-3 and watch which mode fails first.")
        summary = pd.DataFrame(run.summary()).assign(sharing=lambda d: d["sharing"].map(SHARING_LABELS))
        st.dataframe(summary.rename(columns=SUMMARY_COLUMNS), key="convergence_live_table", hide_index=True,
                     column_config={"ms / step": st.column_config.NumberColumn(format="%.1f"),
                                    "train loss (last 10 steps)": st.column_config.NumberColumn(format="%.3f"),
                                    "held-out loss": st.column_config.NumberColumn(format="%.3f"),
                                    "held-out accuracy": st.column_config.NumberColumn(format="percent")})
        if len(finished := list(ss["convergence_results"].values())) > 1:
            st.markdown("**Your finished runs** — compare the gap between modes with how far one mode moves "
                        "between seeds:")
            st.dataframe(pd.DataFrame(cv.runs_table(finished)), key="convergence_runs_table", hide_index=True)

st.header("4 · Parameters are not FLOPs")
with friendly_errors("the step times"):
    run = ss.get("convergence_run")
    rows = run.summary() if run is not None and run.rounds else []
    if rows:
        st.plotly_chart(figs.step_time_figure(rows, "Live run: parameters vs measured step time"),
                        key="convergence_steptime_live")
    if st.button("⏱ Time the zoo shape now (≈ 10 s)", key="convergence_time_zoo"):
        with st.spinner("Timing training steps of the four sharing modes, in turn…"):
            ss["convergence_zoo_times"] = cv.step_time_rows(cv.step_time_ratios(steps=8, warmup_steps=2))
    if zoo_rows := ss.get("convergence_zoo_times"):
        st.plotly_chart(figs.step_time_figure(zoo_rows, "Zoo shape (L6 H128, full table, batch 32×64): "
                                                        "parameters vs step time"), key="convergence_steptime_zoo")
    if not rows and not zoo_rows:
        st.info("Train the live models above, or time the zoo shape, to see measured step times.")
    st.caption("Left: unique parameters (with the MLM head); right: median measured time of one training step. "
               "The models take their steps in turn, so a busy machine slows all of them alike. Sharing cuts "
               "parameters — memory and what must be sent over a network — but every layer still runs, so the "
               "arithmetic per step (FLOPs) is unchanged and the time barely moves. On the zoo shape most "
               "parameters are the embedding table, which shrinks the parameter gap further.")
