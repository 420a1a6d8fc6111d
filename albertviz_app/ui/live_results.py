"""How the Convergence page draws a live run: the loss curves, the summary and sweep tables, the verdict.

`draw` takes a run from ui.live_controller (`shown()`); `live_chart` is also what ui.live_runs redraws while
the run trains.
"""

from __future__ import annotations

import inspect
import math

import pandas as pd
import streamlit as st

from albertviz.figures import convergence as figs
from albertviz.lessons import live, verdicts
from albertviz_app.ui.live_controller import finished, k

VALIDATION_CHUNKS = inspect.signature(live.validation_batch).parameters["n_chunks"].default  # the sweep picks on
SUMMARY_COLUMNS = {"model": "model", "layers": "layers", "params": "parameters", "flops_per_token": "FLOPs / token",
                   "lr": "lr", "warmup": "warm-up", "seeds": "seeds", "steps": "steps", "step_ms": "ms / step",
                   "train_loss_last10": "train loss (last 10 steps)", "held_out_loss": "held-out loss",
                   "held_out_sd": "± s.d. over seeds", "held_out_accuracy": "held-out accuracy"}
NUM = st.column_config.NumberColumn


def live_chart(r: live.LiveRun, plateau: tuple[str, float]):
    seeds = f" (mean of {len(r.settings.seeds)} seeds)" if len(r.settings.seeds) > 1 else ""
    return figs.loss_curves_figure(r.mean_curves(), "Live training: MLM loss" + seeds, per_step=True,
                                   reference=plateau, names=r.labels())


def draw(shown: live.LiveRun, V: int, plateau: tuple[str, float]) -> None:  # noqa: N803 - vocabulary size
    s = shown.settings
    if shown.stopped:
        st.warning(f"Stopped after {shown.rounds} of {s.steps} steps; press ▶ Train to go on. The verdict "
                   "waits for a finished run.", icon="⏹")
    st.plotly_chart(live_chart(shown, plateau), key=k("live_final"))
    st.caption(f"{shown.rounds} steps per model in {shown.wall:.0f} s ({shown.runs_used()} models, batch "
               f"{s.batch_size}, lr {s.lr:g}, warm-up {s.warmup}, seeds {', '.join(map(str, s.seeds))}). Faint: "
               f"training loss of each batch; dotted: held-out loss on {s.train_config().eval_chunks} fixed "
               f"windows. A fresh model starts near ln {V} ≈ {math.log(V):.1f}. The dashed line "
               f"({plateau[1]:.2f}) is the best a model can do by predicting characters from their frequency "
               "alone; dropping below it is the model starting to read its neighbours.")
    table = pd.DataFrame(shown.summary()).drop(columns="arm").rename(columns=SUMMARY_COLUMNS)
    sd = SUMMARY_COLUMNS["held_out_sd"]
    if table[sd].isna().all():  # one seed has no spread: say so instead of a column of empty cells
        table = table.drop(columns=sd)
        st.caption("One seed per model, so no spread over seeds to show: add seeds for a ± s.d. column.")
    st.dataframe(table, key=k("live_table"), hide_index=True,
                 column_config={"ms / step": NUM(format="%.1f"), "lr": NUM(format="%g"),
                                "train loss (last 10 steps)": NUM(format="%.3f"), "held-out loss": NUM(format="%.3f"),
                                "± s.d. over seeds": NUM(format="%.3f"), "held-out accuracy": NUM(format="percent")})
    if not shown.done:
        return
    if shown.experiment == "equal_params":
        st.dataframe(pd.DataFrame(shown.sweep_rows()).rename(columns={
            "warmup": "warm-up", "validation_loss": "validation loss (picks)", "validation_sd": "± s.d.",
            "held_out_loss": "held-out loss (reports)", "chosen": "tuned arm"}), key=k("sweep_table"),
            hide_index=True, column_config={"lr": NUM(format="%g"), "validation loss (picks)": NUM(format="%.3f"),
                                            "± s.d.": NUM(format="%.3f"),
                                            "held-out loss (reports)": NUM(format="%.3f")})
        n_sweep, n_seeds = len(shown.sweep_rows()), len(s.seeds)
        st.caption(f"The sweep: {n_sweep} settings × {n_seeds} seeds = {n_sweep * n_seeds} runs of the unshared "
                   f"model, {(n_sweep - 1) * n_seeds} of them only to tune it — the tuned arm had that much more "
                   f"compute behind its choice. Picked by mean loss on the last {VALIDATION_CHUNKS} held-out "
                   f"windows, reported on the first {s.train_config().eval_chunks}.")
        losses, names = shown.losses(), shown.short_labels()
        lines = verdicts.lin_verdict(losses, names, shown.flops_ratio(), n_sweep, shown.tuned_key() == "unshared",
                                     shown.rounds, plateau[1])
    else:
        losses, names = live.pooled_losses(finished("same_shape"), s)
        lines = verdicts.fixed_shape_verdict(losses, names)
    st.plotly_chart(figs.final_loss_figure(losses, names | shown.labels(),
                                           "Final held-out loss: one dot per seed, bar = mean ± s.d.",
                                           reference=plateau), key=k("live_seeds"))
    if lines:
        st.markdown("**What this run shows:** " + " ".join(lines))
    if shown.experiment == "same_shape" and len(runs := finished("same_shape")) > 1:
        st.markdown("**Your finished same-shape runs** — the verdict above pools those that differ only "
                    "in their seeds:")
        st.dataframe(pd.DataFrame(live.runs_table(runs)), key=k("runs_table"), hide_index=True)
