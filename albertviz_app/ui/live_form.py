"""The Convergence page's live-training settings: one form per experiment, the plan it implies, what ▶ Train costs.

The widgets' keys are what `ui.live_controller.settings_from_widgets` reads when ▶ Train is clicked.
"""

from __future__ import annotations

import streamlit as st

from albertviz import labels
from albertviz.core.config import SHARE_STRATEGIES, SHARING_MODES
from albertviz.core.params import count_parameters, flops_per_token
from albertviz.core.sharing import plan_letters
from albertviz.lessons import live, live_settings
from albertviz_app.ui.feedback import friendly_errors
from albertviz_app.ui.live_controller import k, settings_from_widgets
from albertviz_app.ui.viewstate import Param

STRATEGY_LABELS = {"sequence": "sequence (AABB…)", "cycle": "cycle (ABAB…)", "cycle_rev": "cycle-rev (ABBA…)"}
LRS = [5e-4, 1e-3, 2e-3, 3e-3, 5e-3]
LR_FACTORS, SWEEP_WARMUPS = [0.25, 0.5, 1.0, 2.0, 4.0], [0, 10, 30, 100, 300]


def _params() -> list[Param]:
    """The live settings in the URL (a link sets up an experiment; ▶ Train stays the student's click). The
    form of the experiment not shown keeps its values out of the URL; list choices (modes, sweeps) stay out."""
    same, lin = live.LiveSettings.default("same_shape"), live.LiveSettings.default("equal_params")

    def on(experiment: str):
        return lambda: st.session_state.get(k("experiment")) == experiment
    s, e = on("same_shape"), on("equal_params")
    return [
        Param("experiment", k("experiment"), next(iter(live_settings.EXPERIMENTS)),
              options=list(live_settings.EXPERIMENTS)),
        Param("strategy", k("strategy"), same.share_strategy, options=SHARE_STRATEGIES, active=s),
        Param("M", k("groups"), same.num_groups, kind=int, low=1, high=same.layers, active=s),
        Param("lr", k("lr"), same.lr, kind=float, options=LRS, active=s),
        Param("warmup", k("warmup"), same.warmup, kind=int, low=0, high=500, active=s),
        Param("steps", k("steps"), same.steps, kind=int, low=2, high=3000, active=s),
        Param("seeds", k("seeds"), len(same.seeds), kind=int, low=1, high=5, active=s),
        Param("seed", k("seed"), same.seed, kind=int, low=0, high=99, active=s),
        Param("L", k("lin_layers"), lin.layers, kind=int, low=1, high=3, active=e),
        Param("order", k("lin_strategy"), lin.share_strategy, options=SHARE_STRATEGIES, active=e),
        Param("lin_seeds", k("lin_seeds"), len(lin.seeds), kind=int, low=1, high=5, active=e),
        Param("lin_seed", k("lin_seed"), lin.seed, kind=int, low=0, high=99, active=e),
        Param("lin_lr", k("lin_lr"), lin.lr, kind=float, options=LRS, active=e),
        Param("lin_warmup", k("lin_warmup"), lin.warmup, kind=int, low=0, high=500, active=e),
        Param("lin_steps", k("lin_steps"), lin.steps, kind=int, low=2, high=3000, active=e),
        Param("flops_ref", k("lin_deep"), lin.flops_reference, kind=bool, active=e),
    ]


PARAMS = _params()


def same_shape(V: int) -> None:  # noqa: N803 - the vocabulary size
    d = live.LiveSettings.default("same_shape")  # `make bench` times these defaults too
    st.markdown(f"**Same shape**: every model has {d.layers} layers; sharing only removes unique weights. "
                "Shared models may use M parameter groups in Takase & Kiyono's orders.")
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.multiselect("Sharing modes", SHARING_MODES, default=list(d.modes), format_func=labels.SHARING.get,
                   key=k("live_modes"))
    c2.selectbox("Strategy", SHARE_STRATEGIES, format_func=STRATEGY_LABELS.get, key=k("strategy"))
    c3.number_input("Groups M", 1, d.layers, key=k("groups"),
                    help="Unique blocks a shared model keeps (M=1: ALBERT, one block for every layer).")
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.select_slider("Learning rate", LRS, key=k("lr"))
    c2.number_input("Warm-up steps", 0, 500, step=10, key=k("warmup"))
    c3.number_input("Steps", 2, 3000, step=100, key=k("steps"))
    c4.number_input("Seeds", 1, 5, key=k("seeds"),
                    help="How many seeds to train each model with: the verdict needs three or more.")
    c5.number_input("First seed", 0, 99, key=k("seed"),
                    help="Initial weights and batch order. Same seed = same run; change it to see the spread.")
    ss = st.session_state
    plan = plan_letters(live_settings.live_config("all", V, d.layers, ss[k("strategy")], ss[k("groups")]))[0]
    st.caption(f"A shared model's layer plan with these settings: **{plan}** (layer 1 first; one letter per unique "
               "block).")


def equal_params(V: int) -> None:  # noqa: N803
    d = live.LiveSettings.default("equal_params")  # `make bench` times these defaults too
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Unshared layers L", 1, 3, key=k("lin_layers"),
                    help="The shared model has 2L layers built from L unique blocks.")
    c2.selectbox("Order of the shared blocks", SHARE_STRATEGIES, format_func=STRATEGY_LABELS.get, key=k("lin_strategy"),
                 help="Takase & Kiyono's strategies with M = L groups over 2L layers.")
    c3.number_input("Seeds", 1, 5, key=k("lin_seeds"))
    c4.number_input("First seed", 0, 99, key=k("lin_seed"))
    c1, c2, c3, c4 = st.columns(4)
    c1.select_slider("Learning rate", LRS, key=k("lin_lr"))
    c2.number_input("Warm-up steps", 0, 500, step=10, key=k("lin_warmup"))
    c3.number_input("Steps", 2, 3000, step=50, key=k("lin_steps"))
    c4.checkbox("Add the FLOPs reference", key=k("lin_deep"),
                help="Also an unshared 2L-layer model: the shared model's FLOPs with twice its parameters.")
    c1, c2 = st.columns(2)
    c1.multiselect("Sweep: learning rates (× the lr above)", LR_FACTORS, default=list(d.lr_factors),
                   format_func=lambda f: f"{f:g}×", key=k("lin_lr_factors"))
    c2.multiselect("Sweep: warm-ups", SWEEP_WARMUPS, default=[d.warmup], key=k("lin_sweep_warmups"))
    L = st.session_state[k("lin_layers")]  # noqa: N806 - Lin et al.'s L
    shared_cfg, flat_cfg = live_settings.live_config("all", V, 2 * L, st.session_state[k("lin_strategy")], L), \
        live_settings.live_config("none", V, L)
    T = d.seq_len  # noqa: N806
    st.markdown(f"**Equal parameters** (Lin et al.'s comparison): an unshared {L}-layer model against a "
                f"{2 * L}-layer model that runs each of its {L} blocks twice (plan **{plan_letters(shared_cfg)[0]}**):"
                f" {count_parameters(flat_cfg, include_head=True).total:,} vs "
                f"{count_parameters(shared_cfg, include_head=True).total:,} unique parameters, "
                f"{flops_per_token(flat_cfg, T):,} vs {flops_per_token(shared_cfg, T):,} encoder FLOPs per token. The "
                "unshared model is also trained at every setting of the sweep; its *tuned* arm is the setting with "
                "the lowest mean loss on a validation slice of held-out text, and every arm is scored on a separate "
                "test slice.")


def controls(V: int) -> str:  # noqa: N803
    """The experiment picker and its form, then what ▶ Train will cost; returns the experiment."""
    experiments = live_settings.EXPERIMENTS
    experiment = st.radio("Experiment", list(experiments), format_func=experiments.get, horizontal=True,
                          key=k("experiment"))
    (same_shape if experiment == "same_shape" else equal_params)(V)
    with friendly_errors("the live settings"):
        planned = settings_from_widgets()
        arms = planned.arms(V)
        sweep_n, n_seeds = sum(a.sweep for a in arms), len(planned.seeds)
        st.caption(f"▶ Train trains {len(arms)} model{'s' if len(arms) > 1 else ''} × {n_seeds} seed"
                   f"{'s' if n_seeds > 1 else ''} = {len(arms) * n_seeds} runs of "
                   f"{planned.steps} steps (batch {planned.batch_size})"
                   + (f"; the sweep is {sweep_n} of the models, so tuning alone costs {(sweep_n - 1) * n_seeds}"
                      " of those runs." if planned.experiment == "equal_params" else "."))
    return experiment
