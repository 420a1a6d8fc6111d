"""Every chart downloadable as PNG or SVG, every table as CSV: one modebar config and one table helper.

Plotly's camera button saves the chart as the browser draws it, in the format `toImageButtonOptions` names;
plotly.js has one such button, so the format (PNG for slides, SVG to edit or print) is one choice in the
sidebar (`image_format_control`) that every chart's button follows.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit import dataframe_util

FORMATS = {"png": "PNG", "svg": "SVG"}
FORMAT_KEY, FORMAT_STORE = "view.chart_format", "_chart_format"  # the widget, and its copy that survives page switches
LECTURE_FONT = 15  # plotly's default is 12; the lecture layout reads from the back of a room


def image_format() -> str:
    return st.session_state.get(FORMAT_STORE, "png")


def image_format_control(where=None) -> str:
    """The sidebar's 'chart downloads as PNG / SVG' choice, kept across pages."""
    ss = st.session_state
    if FORMAT_KEY not in ss:
        ss[FORMAT_KEY] = image_format()
    fmt = (where or st.sidebar).radio("📷 Chart button downloads", list(FORMATS), format_func=FORMATS.get,
                                      key=FORMAT_KEY, horizontal=True,
                                      help="The camera icon above each chart saves it in this format.")
    ss[FORMAT_STORE] = fmt
    return fmt


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def modebar_config(key: str, fmt: str | None = None) -> dict:
    """The `config` every st.plotly_chart gets: a download button in the chosen format, named after the chart."""
    fmt = fmt or image_format()
    options: dict[str, Any] = {"format": fmt, "filename": f"albertviz-{slug(key)}"}
    if fmt == "png":
        options["scale"] = 2  # sharp on a projector
    # "hover": always shown, the bar sat on top of the charts' titles (Home's two charts at 1280 px)
    return {"displaylogo": False, "displayModeBar": "hover", "toImageButtonOptions": options,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


class FrozenFigure(go.Figure):
    """A figure that no longer changes (one shared from a cache): its dict form is built once.

    st.plotly_chart turns every figure into a dict on every call — a deep copy that re-encodes each array as
    base64 — which was a third of an Attention rerun's CPU although the cached figure had not changed.
    """

    def to_dict(self) -> dict:
        if getattr(self, "_frozen_dict", None) is None:
            self._frozen_dict = super().to_dict()
        return self._frozen_dict


def frozen(fig: go.Figure) -> FrozenFigure:
    """`fig` itself, for a cache that hands it to every session: never change it afterwards (`chart` copies
    first). Its class is swapped in place — a copy would re-validate the whole figure, template included."""
    fig.__class__ = FrozenFigure
    return fig


def chart(fig: go.Figure, key: str, where=None, lecture: bool = False, **kwargs) -> None:
    """st.plotly_chart with the shared modebar config (and larger type in the lecture layout)."""
    if lecture:
        fig = go.Figure(fig)  # figures may come from a cache: change a copy
        fig.update_layout(font_size=LECTURE_FONT)
    (where or st).plotly_chart(fig, key=key, config=modebar_config(key), **kwargs)


def sendable(frame: pd.DataFrame):
    """`frame` converted as st.dataframe would convert it (Streamlit's own pandas → Arrow step), for a cache:
    the Parameter explorer's cached tables were converted again on every rerun of every student."""
    return dataframe_util.convert_pandas_df_to_arrow_table(frame)


def frame_of(data) -> pd.DataFrame:
    """What a table shows, as a DataFrame (a pandas Styler, records, an Arrow table or a frame)."""
    if hasattr(data, "to_pandas") and hasattr(data, "schema"):  # a pyarrow.Table from sendable()
        return data.to_pandas()
    if hasattr(data, "data") and isinstance(data.data, pd.DataFrame):  # a Styler
        return data.data
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)


def to_csv(data, index: bool = False) -> str:
    buffer = io.StringIO()
    frame_of(data).to_csv(buffer, index=index)
    return buffer.getvalue()


def table(data, key: str, name: str | None = None, where=None, index: bool = False, **kwargs) -> None:
    """st.dataframe plus a small 'CSV' download of the same numbers (unformatted, full precision)."""
    box = where or st
    box.dataframe(data, key=key, **kwargs)
    # deferred: the CSV is written when someone clicks, not on every rerun of every student's page
    box.download_button("⬇️ CSV", functools.partial(to_csv, data, index=index),
                        file_name=f"albertviz-{slug(name or key)}.csv",
                        mime="text/csv", key=f"{key}_csv", on_click="ignore", type="tertiary",
                        help="Download this table as a CSV file")
