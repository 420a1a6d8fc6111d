"""A page's view in its URL, both ways: open a link → that view; change a widget → the URL follows.

A page declares each view-shaping widget once as a `Param` (URL name, widget key, default, what is valid).
`ViewState.restore()` runs before the widgets: it seeds their session_state keys from the URL — or, when the
URL is bare because the student came back through the menu (Streamlit's navigation drops a page's query
string and the state of widgets it did not draw), from the view this page last had — and from the defaults
otherwise. `publish()` runs after the widgets and writes every non-default value back to `st.query_params`.
A widget the page skips for a run (it sits in a tab that is not open) would lose its value when that run ends
(Streamlit drops an undrawn widget's state, and the key falls back to whatever was seeded before it was first
drawn); a Param whose `drawn()` is False has its value held in session_state by restore() for that run instead.

Widgets bound this way take their value from session_state only: the page passes no `value=`/`index=`
(the default lives in the Param), so Streamlit never warns about a value set twice. A value the page cannot
use (an unknown model, layer 99, an unknown parameter) never raises: the default is shown, with a toast that
says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

GLOBAL_PARAMS = ("lecture",)  # shared by every page (ui.lecture), never "unknown"
STORE = "_view_params"  # non-widget key: page → {URL name: encoded value} last written, survives page switches
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
MAX_TEXT = 5000  # the sentence boxes' own limit (ui.feedback.MAX_CHARS)


def _call(x: Any) -> Any:
    return x() if callable(x) else x


@dataclass(frozen=True)
class Param:
    """One widget mirrored in the URL as `name=<encoded value>`.

    `default`, `options` and `active` may be zero-argument callables, evaluated when needed in declaration
    order, so a default or an option list can depend on a parameter declared before it (the second model's
    default on the first; a layer's range on the chosen model). `active() is False` keeps the value out of
    the URL (a greyed-out input). `drawn() is False` says the page skips the widget this run (its tab is not
    open): its value is held, and stays in the URL. `kind` is str, int, float or bool. `words` spells chosen
    values in the URL (value → word) where the value itself would make a poor link (a tab's label: `tab=size`).
    """

    name: str
    key: str
    default: Any = None
    options: Sequence | Callable[[], Sequence] | None = None
    kind: type = str
    low: float | None = None
    high: float | None = None
    active: Callable[[], bool] | None = None
    drawn: Callable[[], bool] | None = None
    words: Mapping[Any, str] | None = None

    def default_value(self) -> Any:
        return _call(self.default)

    def encode(self, value: Any) -> str:
        if self.kind is bool:
            return "1" if value else "0"
        if self.kind is float:
            return f"{float(value):g}"
        if self.words is not None and value in self.words:
            return self.words[value]
        return str(value)

    def parse(self, raw: str) -> Any:
        """The widget value a URL string stands for; ValueError (with a reason a teacher reads) if none."""
        if self.kind is bool:
            if raw.lower() in TRUE:
                return True
            if raw.lower() in FALSE:
                return False
            raise ValueError("is not on/off (use 1 or 0)")
        if self.kind in (int, float):
            try:
                value: Any = self.kind(raw)
            except ValueError:
                raise ValueError(f"is not {'a whole number' if self.kind is int else 'a number'}") from None
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise ValueError(f"is outside {self.encode(self.low)}–{self.encode(self.high)}")
        else:
            value = next((v for v, word in (self.words or {}).items() if word == raw), raw)
            if len(value) > MAX_TEXT:
                raise ValueError(f"is longer than {MAX_TEXT:,} characters")
        options = _call(self.options)
        if options is not None and value not in list(options):
            raise ValueError("is not one of the choices here")
        return value


class ViewState:
    """The URL ↔ session_state mirror of one page's view widgets."""

    def __init__(self, page: str, params: Sequence[Param]):
        self.page = page
        self.params = list(params)
        self.notices: list[str] = []
        self.from_link: set[str] = set()  # names whose value this run came from the URL
        self.late: dict[str, Any] = {}  # defaults known only mid-page (see settle)
        self._link_slot: Any = None  # st.empty() slot, made by link_control
        self._link_drawn: str | None = None  # the link the slot shows this run

    def default(self, p: Param) -> Any:
        return self.late[p.name] if p.name in self.late else p.default_value()

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    # --------------------------------------------------------------------------- URL → widgets

    def restore(self) -> None:
        """Seed every declared widget key: from the link, else from this page's last view, else the default."""
        ss = st.session_state
        store = ss.setdefault(STORE, {})
        url = st.query_params.to_dict()
        mine = {p.name: url[p.name] for p in self.params if p.name in url}
        last = store.get(self.page)
        if last is None or (mine and mine != last):
            source = mine  # a link (first visit in this session), or a URL edited by hand / history
            self.from_link = set(mine)
        elif not mine:
            source = last  # back through the menu: the URL lost the view, session_state kept it here
        else:
            source = {}  # the URL and the widgets agree: the widgets are the truth
        if last is None:
            names = {p.name for p in self.params} | set(GLOBAL_PARAMS)
            for name in [n for n in url if n not in names]:
                self.notice(f"The link's `{name}` is not a setting of this page; it is ignored.")
                del st.query_params[name]
        for p in self.params:
            raw = source.get(p.name)
            if raw is not None:
                try:
                    ss[p.key] = p.parse(raw)
                    continue
                except ValueError as why:
                    if p.name in self.from_link:  # a stored view that no longer fits (a smaller model) is not news
                        self.from_link.discard(p.name)
                        shown = p.encode(self.default(p))
                        self.notice(f"The link's `{p.name}={raw[:40]}` {why}; showing the default ({shown}).")
                    ss[p.key] = self.default(p)
                    st.query_params.pop(p.name, None)  # a value from this page's last view is not in the URL
                    continue
            if p.key not in ss:
                ss[p.key] = self.default(p)
        for p in self.params:
            if p.drawn is not None and not p.drawn():
                ss[p.key] = ss[p.key]  # a value set here outlives the run; an undrawn widget's own state does not
        self.publish()  # the seeded view is the view: the URL holds it from this run on

    def settle(self, name: str, options: Sequence, default: Any) -> None:
        """For a widget whose choices are known only mid-page (a token of the sentence): keep a valid value,
        else the default — with a notice when the link asked for it. Call before the widget is drawn."""
        p, ss = self.param(name), st.session_state
        self.late[name] = default
        if ss.get(p.key) not in list(options):
            if name in self.from_link:
                self.notice(f"The link's `{name}={p.encode(ss.get(p.key))}` is not one of the choices here; "
                            f"showing the default ({p.encode(default)}).")
            ss[p.key] = default

    def notice(self, text: str) -> None:
        self.notices.append(text)
        st.toast(text, icon="🔗", duration="long")

    # --------------------------------------------------------------------------- widgets → URL

    def publish(self) -> None:
        """Write the current non-default values to the URL (only what changed) and refresh the link."""
        ss = st.session_state
        written = {}
        for p in self.params:
            want = None
            if ss.get(p.key) is not None and (p.active is None or p.active()):
                value = p.encode(ss[p.key])
                want = value if value != p.encode(self.default(p)) else None
            if want is not None:
                written[p.name] = want
            if st.query_params.get(p.name) != want:
                if want is None:
                    del st.query_params[p.name]
                else:
                    st.query_params[p.name] = want
        ss.setdefault(STORE, {})[self.page] = written
        if self._link_slot is not None:
            self._draw_link()

    # --------------------------------------------------------------------------- the link

    def query(self) -> dict[str, str]:
        """This page's settings and the global ones, in declaration order (what a copied link carries)."""
        url = st.query_params.to_dict()
        names = [p.name for p in self.params] + list(GLOBAL_PARAMS)
        return {n: url[n] for n in names if n in url}

    def link(self) -> str:
        base = st.context.url or f"/{self.page}"
        query = urlencode(self.query())
        return f"{base}?{query}" if query else base

    def link_control(self, where=None) -> None:
        """A "copy link to this view" popover (in the sidebar by default), refreshed by every publish()."""
        self._link_slot = (where or st.sidebar).empty()
        self._draw_link()

    def _draw_link(self) -> None:
        link = self.link()
        if link == self._link_drawn:  # every section's publish() calls this; most change nothing
            return
        self._link_drawn = link
        with self._link_slot.container(), st.popover("🔗 Link to this view", width="stretch"):
            st.code(link, language=None, wrap_lines=True)
            st.caption("Copy it with the button at the box's right. It opens this page with these settings "
                       "(and the lecture layout, if it is on); everything else starts at its default.")
