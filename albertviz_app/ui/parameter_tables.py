"""The Parameter explorer's and Home's cached figures and tables, shared by every session (same shape → same figure).

Kept out of views/parameters.py: Streamlit re-executes a page script on every rerun, and a cache decorator there
re-hashes its function's source each time. Building these with plotly and pandas was most of a rerun's CPU
(issue 15); Streamlit only reads what they return.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from albertviz import PRESETS, ModelConfig, count_parameters, labels, lessons, paper
from albertviz.checkpoints import find
from albertviz.checkpoints.counting import CheckpointCount, count_checkpoint
from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES
from albertviz.core.params import ParamReport, sharing_embedding_grid
from albertviz.figures.params import albert_waterfall, component_bars, grid_bars, layer_stack
from albertviz_app.ui.export import frozen, sendable
from albertviz_app.ui.models import load_model

PAPER_TABLES = (("Table 1", "table1", "model sizes"), ("Table 4", "table4", "ALBERT-base, sharing modes"),
                ("Table 3", "table3", "ALBERT-base, embedding size E"))


@st.cache_data(show_spinner=False)
def paper_tables() -> dict[str, list[paper.Reproduction]]:
    """Every paper row counted with and without the pooler, once per server (the tables never change)."""
    return {"table1": paper.table_1_reproductions(), "table4": paper.table_4_reproductions(),
            "table3": paper.table_3_reproductions()}


@st.cache_data(show_spinner=False)
def paper_sentences() -> dict[str, list[str]]:
    """The computed sentences under the tables that do not depend on the pooler toggle."""
    return {"table1": [lessons.size_gap_sentence(g) for g in paper.size_gaps()],
            "table4": [lessons.table_4_cost_sentence()], "table3": []}


@st.cache_resource(max_entries=64, show_spinner=False)
def components_figure(shown: tuple[tuple[str, ModelConfig], ...], seq_len: int):
    return frozen(component_bars({name: count_parameters(c, seq_len=seq_len) for name, c in shown}))


@st.cache_resource(max_entries=64, show_spinner=False)
def grid_figure(config: ModelConfig):
    return frozen(grid_bars(sharing_embedding_grid(config)))


@st.cache_resource(max_entries=64, show_spinner=False)
def grid_table(config: ModelConfig):
    """Unique parameters (millions) of this shape: sharing modes down, embedding types across (sendable)."""
    table = pd.DataFrame(sharing_embedding_grid(config)).pivot(index="sharing", columns="embedding",
                                                              values="parameters") / 1e6
    return sendable(table.loc[list(SHARING_MODES), list(EMBEDDING_TYPES)])


@st.cache_resource(max_entries=2, show_spinner=False)
def paper_frames(with_pooler: bool) -> list:
    """Tables 1, 4 and 3 beside the counter, in PAPER_TABLES order (sendable: converted once per server)."""
    reps, frames = paper_tables(), []
    for _, name, _ in PAPER_TABLES:
        frame = pd.DataFrame(paper.reproduction_rows(reps[name], with_pooler)).drop(columns="reproduced")
        if name == "table4":
            frame["paper Avg"] = [paper.ALBERT_TABLE_4_AVG[c] for c in paper.ALBERT_TABLE_4]
            delta = f"Avg vs {labels.SHARING_ADJECTIVE['none']}"
            frame[delta] = [paper.table_4_avg_delta(*c) for c in paper.ALBERT_TABLE_4]
        if name == "table3":
            frame["paper Avg"] = [avg for _, avg in paper.ALBERT_TABLE_3.values()]
        frames.append(sendable(frame))
    return frames


@st.cache_data(show_spinner=False, max_entries=16)
def checkpoint_count(model_key: str) -> CheckpointCount:
    return count_checkpoint(load_model(model_key), find(model_key))


# --- Home: the landing page every student opens first ---------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def home_waterfall(pooler: bool):
    """BERT-base → factorized → all-shared, counted (lessons.albert_steps), with or without the pooler."""
    reps = lessons.albert_steps()
    return frozen(albert_waterfall(lessons.STEP_NAMES, [r.count(pooler) for r in reps], [r.paper_m for r in reps],
                                   pooler))


@st.cache_resource(show_spinner=False)
def home_stack():
    """BERT-base's 12 layer sets beside ALBERT-base's one reused block (ALBERT's Table 4 shape and vocabulary)."""
    (e0, s0), (e1, s1) = lessons.ALBERT_STEPS[0], lessons.ALBERT_STEPS[-1]
    last = paper.table_4_config(e1, s1)
    return frozen(layer_stack(count_parameters(paper.table_4_config(e0, s0)), count_parameters(last), last.num_layers))


@st.cache_resource(show_spinner=False)
def preset_counts(*names: str) -> tuple[ParamReport, ...]:
    """count_parameters of presets, once per server."""
    return tuple(count_parameters(PRESETS[n]) for n in names)


@st.cache_data(max_entries=2, show_spinner=False)
def home_sentence(pooler: bool) -> str:
    return lessons.albert_steps_sentence(lessons.albert_steps(), pooler)
