"""Convergence: why sharing works (Lin et al. 2023) — zoo training logs, per-use gradients, live experiments.

The live training (settings, ▶ Train / ⏹ Stop, the shared queue and the poll) lives in ui/live_form.py,
ui/live_controller.py and ui/live_runs.py; this page draws what they record.
"""

from dataclasses import replace

import streamlit as st

from albertviz import labels, paper, zoo
from albertviz.analysis import gradients
from albertviz.core.config import SHARING_MODES, ModelConfig
from albertviz.data.corpus import CHAR_SPECIALS
from albertviz.figures import convergence as figs
from albertviz.lessons import convergence as cv
from albertviz.lessons import live, live_settings, step_time, verdicts
from albertviz.zoo.cells import Cell, zoo_config
from albertviz_app.ui import live_controller, live_form, live_results, live_runs
from albertviz_app.ui.feedback import friendly_errors
from albertviz_app.ui.live_controller import finished, k
from albertviz_app.ui.models import EMBEDDING_LABELS, label, load_model
from albertviz_app.ui.page import Page, start
from albertviz_app.ui.viewstate import Param

ZOO_TIMING = (8, 2)  # timed steps, warm-up steps per sharing mode for "Time the zoo shape now"
REDRAW_S = 2.0  # live chart refresh: each redraw costs the server and every watching browser CPU time
UNTRAINED = "untrained"  # the per-use view's fallback when no shared zoo cell has landed yet
PER_USE_BATCH = (16, 32)  # passages × tokens of the one batch whose gradient section 2 takes apart
TIMING_BATCH = (32, 64)  # batch × sequence length of the zoo-shape step timing
LIVE_WINDOW = int(live_settings.LIVE_SHAPE["max_position_embeddings"])


@st.cache_resource(show_spinner=f"Cutting Shakespeare into {LIVE_WINDOW}-character chunks (once per server)…")
def live_data():
    return live_runs.registry().data()  # the live runs' own copy: one per server, shared with the page


@st.cache_resource(show_spinner=False)
def plateau() -> tuple[str, float]:
    return "characters by frequency alone", live_settings.frequency_only_loss(live_data())


@st.cache_data(show_spinner=False)
def zoo_manifest(version: float) -> dict:
    return cv.read_manifest()


@st.cache_data(show_spinner=False)
def zoo_logs(version: float) -> dict[str, dict]:
    return cv.zoo_entries()


@st.cache_data(show_spinner="Splitting one batch's gradient into per-layer terms…")
def per_use(model_key: str, version: float) -> list[gradients.UseGradients]:
    if model_key == UNTRAINED:
        encoder, head = cv.fresh_model("all")
    else:
        if model_key not in {e["name"] for e in zoo.list_models()}:
            zoo.manifest.cache_clear()  # the cell landed after the zoo's manifest was first read
        model = load_model(model_key)
        encoder, head = model.encoder, model.head
    n, seq_len = PER_USE_BATCH
    inputs, targets = cv.text_batch(n=n, seq_len=seq_len)
    rows = gradients.per_use_gradients(encoder, head, inputs, targets)
    return [replace(r, contributions=[], true_grad={}) for r in rows]


KINDS = {"attention": "attention blocks", "ffn": "feed-forward blocks"}


def embeddings_of(entries: dict[str, dict]) -> list[str]:
    return [e for e in EMBEDDING_LABELS if any(x["embedding"] == e for x in entries.values())]


def shared_cells(entries: dict[str, dict]) -> list[str]:
    return [n for n, e in entries.items() if e["sharing"] != "none"] + [UNTRAINED]


def params(entries: dict[str, dict]) -> list[Param]:
    """The page's view in the URL: which zoo curves, which shared block, and the live experiment's settings."""
    embeddings, cells = embeddings_of(entries), shared_cells(entries)
    return [Param("embedding", k("embedding"), (embeddings or ["full"])[0], options=embeddings),
            Param("kind", k("kind"), "attention", options=list(KINDS)),
            Param("model", k("peruse_model"), cells[0], options=cells),
            Param("block", k("peruse_block"), ""),  # its choices and default: settle() in draw_per_use
            *live_form.PARAMS]


def seeds_note(losses: dict[str, dict[int, float]]) -> str:
    counts = sorted({len(v) for v in losses.values()})
    return "one seed per cell" if counts == [1] else f"{'–'.join(map(str, counts))} seeds per cell"


def intro(page: Page) -> None:
    big, small = sorted({E for E, _ in paper.ALBERT_TABLE_4}, reverse=True)  # Table 4's two embedding sizes
    st.title("📉 Convergence — why sharing works")
    page.intro(
        rf"""**Lin et al. (2023, *Understanding Parameter Sharing in Transformers*) claim** that cross-layer sharing
helps mostly through **better convergence**, not through added model complexity. Their setting is sharing used
to make a model *deeper at a fixed parameter budget* — the shared model runs more layers, so more FLOPs per
token — and, guided by that finding, tuning an unshared model's convergence-related training hyperparameters gave it
competitive results (here the sweep tunes learning rate and warm-up). That is not ALBERT's setting: at a *fixed
shape*, ALBERT's Table 4 reports {labels.SHARING_ADJECTIVE['all']} {verdicts.table_4_drop(big):.1f} Avg points
below {labels.SHARING_ADJECTIVE['none']} at E={big} and {verdicts.table_4_drop(small):.1f} below at E={small}. A block
shared by $L$ layers takes part $L$ times in every forward pass, so its gradient is a **sum of $L$ terms**,
$\frac{{\partial \ell}}{{\partial W}} = \sum_{{l=1}}^{{L}} \frac{{\partial \ell}}{{\partial W^{{(l)}}}}$,
on another scale than any single layer's.""")


def draw_zoo_logs(page: Page, entries: dict[str, dict], manifest: dict) -> None:
    st.header("1 · What the zoo's training logs show")
    with friendly_errors("the zoo's training curves"):
        if not entries:
            st.info("No zoo model has finished training yet (cells land one by one). Sections 2–4 work without "
                    "the zoo; come back later for the logged curves.", icon="⏳")
            return
        with page.controls():
            c1, c2 = page.side_by_side(2)
            emb = c1.selectbox("Embedding", embeddings_of(entries), format_func=EMBEDDING_LABELS.get,
                               key=k("embedding"))
            cells = {n: e for n, e in entries.items() if e["embedding"] == emb}
            present = [m for m in SHARING_MODES if Cell(m, emb).name in cells]
            modes = c2.multiselect("Sharing modes", present, default=present, format_func=labels.SHARING.get,
                                   key=k("modes"))
        page.publish()
        if missing := [labels.SHARING[m] for m in SHARING_MODES if m not in present]:
            st.caption(f"Not trained yet with this embedding: {', '.join(missing)}.")
        chosen = {Cell(m, emb).name: cells[Cell(m, emb).name] for m in modes}
        page.chart(figs.loss_curves_figure({e["sharing"]: cv.loss_curve(e) for e in chosen.values()},
                                           f"Zoo pre-training, {EMBEDDING_LABELS[emb]}: MLM loss"),
                   key=k("zoo_loss"))
        zoo_losses = cv.zoo_seed_losses(manifest, emb)
        page.why("Solid: training MLM loss on each logged batch; dotted: loss on the same fixed held-out "
                   "passages. All cells share one shape, data order and step budget; only sharing differs. The "
                   f"curves are seed 0 ({seeds_note(zoo_losses)} in the zoo): a gap between two runs of one seed "
                   "is not yet what sharing does, so the line below sets it against the spread between seeds.")
        if lines := verdicts.fixed_shape_verdict(zoo_losses, labels.SHARING):
            st.markdown("**The zoo at a fixed shape (final held-out loss):** " + " ".join(lines))
        with page.controls():
            kind = st.radio("Block type", list(KINDS), horizontal=True, key=k("kind"), format_func=KINDS.get)
        page.publish()
        if series := cv.shared_vs_unshared(chosen, kind):
            draw_zoo_grads(page, series, kind, chosen)


def draw_zoo_grads(page: Page, series: dict, kind: str, chosen: dict[str, dict]) -> None:
    shared = [n for n in series if "used" in n]
    page.chart(figs.grad_norm_figure(series, f"Gradient norm of the {kind} weights over training",
                                     highlight=shared), key=k("zoo_grads"))
    unshared = [v for n, (_, v) in series.items() if "layer" in n and n.startswith(labels.SHARING["none"])]
    notes = [f"**{n.split(':')[0]}**: {cv.median_ratio(series[n][1], unshared):.1f}× a "
             f"{labels.SHARING_ADJECTIVE['none']} layer"
             for n in shared] if unshared else []
    uses = max(n for e in chosen.values() for n in cv.block_uses(ModelConfig.from_dict(e["config"])).values())
    page.why("Thick lines: a block reused by several layers; thin lines: blocks used by one layer each. "
               "The shared block's gradient sums one term per use, so its norm lives on another scale. "
               "That alone would not ask for another learning rate: AdamW divides each step by the "
               "gradient's running root-mean-square, so rescaling a gradient changes the step only through "
               f"ε. What differs is that one update of a shared block moves all {uses} of its uses at once, "
               "so the same step size changes what the network computes more — which is why a shared "
               "model may want another learning rate or warm-up."
               + (" Median ratio over training: " + "; ".join(notes) + "." if notes else ""))


def draw_per_use(page: Page, entries: dict[str, dict], version: float) -> None:
    st.header("2 · One step, taken apart: the per-use terms of a shared gradient")
    with friendly_errors("the per-use gradient contributions"):
        c1, c2 = st.columns(2)
        model_key = c1.selectbox("Model", shared_cells(entries), key=k("peruse_model"),
                                 format_func=lambda m: f"untrained {labels.SHARING['all']} model (zoo shape)"
                                 if m == UNTRAINED else label(m))
        by_label = {x.label: x for x in per_use(model_key, version) if len(x.layers) > 1}
        page.view.settle("block", list(by_label), next(iter(by_label)))
        r = by_label[c2.selectbox("Shared block", list(by_label), key=k("peruse_block"))]
        page.publish()
        page.chart(figs.per_use_figure(r), key=k("peruse_chart"))
        m1, m2, m3 = st.columns(3)
        m1.metric("‖Σ per-use terms‖", f"{r.sum_norm:.4g}")
        m2.metric("‖real gradient‖ (ordinary backward)", f"{r.true_norm:.4g}")
        m3.metric("largest element difference", f"{r.max_abs_diff:.1e}")
        share, layers = r.sum_norm / sum(r.use_norms), ", ".join(str(n + 1) for n in r.layers)
        st.caption(f"One masked batch ({PER_USE_BATCH[0]} passages of {PER_USE_BATCH[1]} tokens). Each of layers "
                   f"{layers} ran the {r.label} with its own copy of the weights, so autograd kept each use's "
                   "gradient apart; their sum equals the gradient the shared weight really gets (largest difference "
                   f"{r.max_abs_diff:.1e}). The sum's norm is {share:.0%} of the sum of the norms (dotted line): "
                   + ("the per-layer terms point in partly different directions." if share < 0.95 else
                      "the per-layer terms point almost the same way."))


def draw_live_intro(V: int) -> None:  # noqa: N803 - the vocabulary size
    st.header("3 · Train it yourself")
    shape = live_settings.live_config("none", V)
    st.markdown(f"Tiny models (H{shape.hidden_size}, {shape.num_heads} heads, FFN {shape.intermediate_size}) learn "
                f"to fill in masked **characters** of Shakespeare right now — {shape.max_position_embeddings - 2}-"
                "character windows, all models of a seed from the same start and on the same batches, one step each "
                f"in turn, MLM only (no teacher). Characters rather than the zoo's "
                f"{zoo_config('none', 'full').vocab_size:,} word pieces, because a model this small needs many "
                "minutes to get past \"predict the most frequent piece\"; with the text's "
                f"{V - len(CHAR_SPECIALS)} characters a live run can get past it — the dashed line on the chart "
                "below shows whether this one did.")


def draw_step_times(page: Page, shown: live.LiveRun | None) -> None:
    st.header("4 · Parameters are not FLOPs")
    ss = st.session_state
    with friendly_errors("the step times"):
        rows = shown.summary() if shown is not None and shown.rounds else []
        if rows:
            page.chart(figs.step_time_figure(rows, "Live run: parameters vs measured step time"),
                       key=k("steptime_live"))
            base = rows[0]
            if notes := [f"{r['model']}: {r['params'] / base['params']:.2f}× the parameters, "
                         f"{r['flops_per_token'] / base['flops_per_token']:.2f}× the FLOPs per token, "
                         f"{r['step_ms'] / base['step_ms']:.2f}× the step time" for r in rows[1:]]:
                st.caption(f"Against {base['model']}: " + "; ".join(notes) + ".")
        if st.button(f"⏱ Time the zoo shape now ({sum(ZOO_TIMING)} training steps per sharing mode)",
                     key=k("time_zoo")):
            with st.spinner("Timing training steps of the four sharing modes, in turn…"):
                batch, seq_len = TIMING_BATCH
                timed, warmup = ZOO_TIMING
                ratios = step_time.step_time_ratios(steps=timed, warmup_steps=warmup, batch_size=batch,
                                                    seq_len=seq_len)
                ss[k("zoo_times")] = step_time.step_time_rows(ratios)
        if zoo_rows := ss.get(k("zoo_times")):
            z = zoo_config("none", "full")
            page.chart(figs.step_time_figure(zoo_rows, f"Zoo shape (L{z.num_layers} H{z.hidden_size}, "
                                                            f"{labels.EMBEDDING['full']}, batch "
                                                            f"{TIMING_BATCH[0]}×{TIMING_BATCH[1]}): parameters vs "
                                                            "step time"), key=k("steptime_zoo"))
            t = {r["arm"]: r for r in zoo_rows}
            if "none" in t and "all" in t:
                st.caption(f"Zoo shape: {labels.SHARING['all']} has {t['all']['params'] / t['none']['params']:.2f}× "
                           f"the parameters and {t['all']['flops_per_token'] / t['none']['flops_per_token']:.2f}× "
                           f"the FLOPs per token of {labels.SHARING['none']}, and took "
                           f"{t['all']['step_ms'] / t['none']['step_ms']:.2f}× its step time.")
        if not rows and not zoo_rows:
            st.info("Train the live models above, or time the zoo shape, to see measured step times.")
        st.caption("Left: unique parameters (with the MLM head); right: median measured time of one training step. "
                   "The models take their steps in turn, so a busy machine slows all of them alike. Sharing cuts "
                   "parameters — memory, and what must be sent over a network — but every layer still runs, so the "
                   "FLOPs per token follow the number of layers, not the number of unique blocks.")


def draw_headline(entries: dict[str, dict], manifest: dict) -> None:
    """What these runs show, in one list: the zoo at a fixed shape, then this session's live runs."""
    st.markdown("**What these runs show:**")
    items = []
    if entries:
        full = cv.zoo_seed_losses(manifest, "full")
        if lines := verdicts.fixed_shape_verdict(full, labels.SHARING):
            items.append(f"*The zoo, fixed shape (ALBERT's comparison, not Lin et al.'s), {seeds_note(full)}:* "
                         + " ".join(lines))
    if lin_runs := finished("equal_params"):
        r = lin_runs[-1]
        items.append("*Live, equal parameters (Lin et al.'s comparison):* " + " ".join(verdicts.lin_verdict(
            r.losses(), r.short_labels(), r.flops_ratio(), len(r.sweep_rows()), r.tuned_key() == "unshared",
            r.rounds, plateau()[1])))
    else:
        items.append("*Live, equal parameters (Lin et al.'s comparison):* not run yet in this session — choose "
                     "**equal parameters** in section 3 and press ▶ Train.")
    if same := finished("same_shape"):
        losses, names = live.pooled_losses(same, same[-1].settings)
        if lines := verdicts.fixed_shape_verdict(losses, names):
            items.append("*Live, same shape:* " + " ".join(lines))
    st.markdown("\n".join(f"- {i}" for i in items))


def main() -> None:
    version = zoo.manifest_version()
    entries, manifest = zoo_logs(version), zoo_manifest(version)
    page = start(live_controller.SLUG, params(entries))  # a link sets the view and an experiment, never a run
    intro(page)
    # "what these runs show": filled at the end, once this rerun's runs are done; in the lecture layout after the
    # zoo's chart, so that chart is the projector's first screen
    headline = None if page.lecture else st.container()
    draw_zoo_logs(page, entries, manifest)
    if headline is None:
        headline = st.container()
    draw_per_use(page, entries, version)
    V = len(live_data().special)  # noqa: N806 - the character vocabulary
    draw_live_intro(V)
    experiment = live_form.controls(V)
    page.publish()
    live_controller.buttons(can_train=experiment != "same_shape" or bool(st.session_state.get(k("live_modes"))))
    shown = None
    with friendly_errors("the live training"):
        live_controller.poll(lambda r: live_results.live_chart(r, plateau()), REDRAW_S)
        if (shown := live_controller.shown(experiment)) is not None:
            live_results.draw(shown, V, plateau())
    draw_step_times(page, shown)
    with headline, friendly_errors("the verdicts"):
        draw_headline(entries, manifest)


main()
