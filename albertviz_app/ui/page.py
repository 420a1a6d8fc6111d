"""What every page starts with: its view restored from the URL, the sidebar's view options, the lecture layout.

The lecture layout (sidebar toggle, or `?lecture=1` in a link) is for a projector at 1280×720: larger type,
the page's main chart first, explanatory captions folded under "Why?", the controls in the sidebar. It is
one choice for the whole session (kept in a non-widget key, so it survives page switches) and travels in
every page's URL and copied link.

Every page has one shape: `start()`, then a `controls()` that reads the widgets into a small settings object,
then library calls and draw functions, all inside the page's `main()` (the module body only calls it). The
settings object is a NamedTuple: Streamlit re-executes the page script on every rerun, and making a dataclass
costs ~1.4 ms each time (a NamedTuple ~0.2 ms). Every key
a page puts in session_state — widgets, charts, its own state — is `<slug>.<name>` (`attention.text`,
`parameters.hidden_size`, `quiz.answer.0`): `Page.key` builds one and `start` refuses a view parameter keyed
otherwise. The URL parameter names (`?text=…&layer=2`) are separate and never change, so shared links keep
working. The sidebar's own widgets are `view.*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from albertviz_app.ui import export
from albertviz_app.ui.viewstate import FALSE, TRUE, Param, ViewState

LECTURE_PARAM, LECTURE_KEY, LECTURE_STORE = "lecture", "view.lecture", "_lecture"

LECTURE_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li,
[data-testid="stSidebar"] p, [data-testid="stSidebar"] label { font-size: 1.2rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.3rem; padding-top: 0; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 1.6rem; }
[data-testid="stMetricValue"] { font-size: 2.4rem; }
[data-testid="stMetricLabel"] p { font-size: 1rem; }
[data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
</style>"""

# A phone (Streamlit stacks every st.columns row below 640 px): the columns made by Page.pairs stay side by side,
# so a page's short inputs and its metrics do not push the main chart beyond the first two screens.
PAIRS = "_pairs"  # the key suffix Page.pairs gives its container
PHONE_CSS = f"""<style>
@media (max-width: 640px) {{
  [class*="{PAIRS}"] [data-testid="stHorizontalBlock"] {{ flex-wrap: nowrap !important; gap: 0.75rem; }}
  [class*="{PAIRS}"] [data-testid="stColumn"] {{ min-width: 0 !important; width: auto !important; flex: 1 1 0; }}
  [class*="{PAIRS}"] [data-testid="stMetricLabel"] * {{ white-space: normal; overflow: visible; }}
}}
</style>"""


def _lecture_from_url() -> bool:
    raw = st.query_params.get(LECTURE_PARAM)
    if raw is None or raw.lower() in FALSE:
        return False
    if raw.lower() in TRUE:
        return True
    st.toast(f"The link's `{LECTURE_PARAM}={raw[:20]}` is not on/off (use 1); the normal layout is shown.",
             icon="🔗", duration="long")
    return False


def lecture_control() -> bool:
    """The sidebar toggle, seeded once per session from `?lecture=`; mirrors itself into the URL."""
    ss = st.session_state
    if LECTURE_STORE not in ss:
        ss[LECTURE_STORE] = _lecture_from_url()
    if LECTURE_KEY not in ss:
        ss[LECTURE_KEY] = ss[LECTURE_STORE]
    on = st.sidebar.toggle("🎓 Lecture layout", key=LECTURE_KEY,
                           help="For a projector: larger type, the main chart first, explanations under "
                                "'Why?', controls here in the sidebar. Also `?lecture=1` in a link.")
    ss[LECTURE_STORE] = on
    if on and st.query_params.get(LECTURE_PARAM) != "1":
        st.query_params[LECTURE_PARAM] = "1"
    elif not on and LECTURE_PARAM in st.query_params:
        del st.query_params[LECTURE_PARAM]
    return on


def key(slug: str, name: str) -> str:
    """The session_state key of a page's widget, chart or state: 'attention.text'."""
    return f"{slug}.{name}"


@dataclass
class Page:
    view: ViewState
    lecture: bool

    @property
    def slug(self) -> str:
        return self.view.page

    def key(self, name: str) -> str:
        return key(self.slug, name)

    def side_by_side(self, n: int = 2) -> list:
        """n columns normally; n stacked containers in the lecture layout, whose controls sit in the narrow sidebar."""
        return [st.container() for _ in range(n)] if self.lecture else st.columns(n)

    def pairs(self, name: str, spec=2) -> list:
        """st.columns(spec) that stay side by side on a phone (PHONE_CSS), for short inputs and metrics."""
        return st.container(key=self.key(name + PAIRS)).columns(spec)

    def controls(self):
        """Where the page's inputs go: the sidebar in the lecture layout, else in place."""
        return st.sidebar if self.lecture else st.container()

    def why(self, text: str, where=None) -> None:
        """An explanation: a caption normally, folded under "Why?" in the lecture layout."""
        box = where or st
        if self.lecture:
            box.expander("Why?").markdown(text)
        else:
            box.caption(text)

    def intro(self, text: str) -> None:
        """The page's opening paragraph: shown normally, folded under "Why?" in the lecture layout."""
        if self.lecture:
            st.expander("Why? — what this page shows").markdown(text)
        else:
            st.markdown(text)

    def chart(self, fig, key: str, where=None, **kwargs) -> None:
        export.chart(fig, key, where=where, lecture=self.lecture, **kwargs)

    def table(self, data, key: str, name: str | None = None, where=None, **kwargs) -> None:
        export.table(data, key, name, where=where, **kwargs)

    def publish(self) -> None:
        self.view.publish()


def start(slug: str, params: Sequence[Param] = ()) -> Page:
    """Restore the page's view from the URL, then draw the sidebar's view options (link, lecture, format)."""
    if stray := [p.key for p in params if not p.key.startswith(key(slug, ""))]:
        raise ValueError(f"{slug}: widget keys must be {key(slug, 'name')}, not {', '.join(stray)}")
    view = ViewState(slug, params)
    view.restore()
    st.sidebar.markdown("**View**")
    lecture = lecture_control()
    export.image_format_control()
    view.link_control()
    st.html(LECTURE_CSS if lecture else PHONE_CSS)
    return Page(view, lecture)
