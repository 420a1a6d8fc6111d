"""A simulated student: Streamlit's own websocket protocol, spoken the way the browser speaks it, with no browser.

Why: twenty Chromium tabs on the server's two cores measured the tabs (issue 15). This client costs the machine
almost nothing, so what `make load` measures is the server. It sends what the frontend (Streamlit 1.67) sends:

- on connect, `BackMsg.rerun_script` with the page name from the URL and no widget states;
- on a widget change, `rerun_script` with the state of **every widget on the page** (the frontend's widget manager
  commits each widget's value when it mounts), the changed one with its new value, the current page's script
  hash and the hashes of the large messages it has cached (`cached_message_hashes`);
- on a page change from the menu, `rerun_script` with the new page's script hash and no widget states.

It keeps Streamlit's client-side message cache: a `ForwardMsg` marked `metadata.cacheable` is remembered by its
hash, the server then answers a repeat with a small `ref_hash` message, and entries unused for more than
`max_cached_message_age` script runs are dropped — as the frontend's ForwardMessageCache does. So "bytes per
interaction" is what a real browser downloads, not the naive size of the page.

An interaction's latency runs from sending the BackMsg to the `script_finished` message (server side: no drawing).
Errors are exception elements, error boxes with the app's "Something went wrong" text, failed runs, closed
connections and timeouts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


def run_sync(coro):
    """asyncio.run, also from a thread whose event loop is already running (pytest with Playwright's sync API
    keeps one open for the whole session): then the coroutine gets a fresh loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = {FINISHED.FINISHED_SUCCESSFULLY: "ok", FINISHED.FINISHED_WITH_COMPILE_ERROR: "compile error",
        FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok"}  # FINISHED_EARLY_FOR_RERUN: another run follows
APP_ERROR_TEXT = "Something went wrong"  # ui.feedback.friendly_errors' message for unexpected exceptions
# The widget kinds the pages use, with the WidgetState field their value travels in.
VALUE_TYPES = {"selectbox": "string_value", "radio": "string_value", "text_input": "string_value",
               "text_area": "string_value", "checkbox": "bool_value", "slider": "double_array_value",
               "multiselect": "string_array_value"}  # number_input: int_value or double_value by its data type


class ProtocolError(RuntimeError):
    """The server did something a browser would show as broken (closed, timed out, unexpected message)."""


@dataclass
class Widget:
    id: str
    kind: str
    value_type: str
    value: object  # None: no value (the frontend sends no state for it)
    options: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The user key Streamlit appends to keyed widget ids: '$$ID-<hash>-<key>'."""
        return self.id.split("-", 2)[2] if self.id.startswith("$$ID-") and self.id.count("-") >= 2 else self.id


@dataclass
class Interaction:
    what: str
    latency: float  # seconds from sending the BackMsg to script_finished
    bytes_received: int
    messages: int
    cache_hits: int  # ref_hash messages: large elements the client already had
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def _initial_value(kind: str, w) -> object:
    """The value the frontend commits for a freshly drawn widget (its `set_value` wins over its default)."""
    if kind in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            return w.raw_value
        return w.options[w.default] if w.HasField("default") and 0 <= w.default < len(w.options) else None
    if kind in ("text_input", "text_area"):
        if w.set_value and w.HasField("value"):
            return w.value
        return w.default if w.HasField("default") else None
    if kind == "number_input":
        value = w.value if w.set_value and w.HasField("value") else (w.default if w.HasField("default") else None)
        return None if value is None else (int(value) if w.data_type == w.INT else float(value))
    if kind == "checkbox":
        return bool(w.value if w.set_value else w.default)
    if kind == "slider" and w.options:  # a select_slider: formatted option strings, not numbers
        return list(w.raw_value) if w.set_value and w.raw_value else [w.options[int(i)] for i in w.default]
    if kind == "slider":
        return list(w.value if w.set_value else w.default)
    if kind == "multiselect":
        return list(w.raw_values) if w.set_value else [w.options[i] for i in w.default]
    return None


class Session:
    """One browser tab's worth of Streamlit session over one websocket (loopback or through nginx)."""

    def __init__(self, url: str, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.ws = None
        self.cookie = ""  # what the HTML page load set (nginx's sticky-replica cookie); sent with the websocket
        self.replica = ""  # nginx's X-Albertviz-Replica header on the websocket handshake, when there is one
        self.widgets: dict[str, Widget] = {}  # id -> widget, as drawn by the latest run
        self.pages: dict[str, str] = {}  # url path ('' = home) -> page script hash, from the navigation message
        self.page_hash = ""
        self.query_string = ""  # the address bar's query, as the app last set it
        self.max_cache_age = 2
        self.cache: dict[str, int] = {}  # ForwardMsg hash -> script-run count when last used
        self.runs = 0
        self.elements: list = []  # new_element protos of the latest run (tests read them)
        self._reader: asyncio.Task | None = None
        self._finished: asyncio.Queue = asyncio.Queue()
        self._seen_this_run: dict[str, Widget] = {}
        self._bytes = self._messages = self._hits = 0
        self._errors: list[str] = []
        self.closed: BaseException | None = None
        self.closed_at: float | None = None

    # --- connection -------------------------------------------------------------------------------------------

    async def connect(self) -> Session:
        """Load the HTML page (cookies, as the browser does first), then open `/_stcore/stream`."""
        def page_load() -> str:
            with urllib.request.urlopen(self.url + "/", timeout=self.timeout) as r:
                r.read()
                return "; ".join(c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie") or [])

        if not self.cookie:
            self.cookie = await asyncio.to_thread(page_load)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        ws_url = "ws" + self.url[len("http"):] + "/_stcore/stream"
        self.ws = await asyncio.wait_for(websockets.connect(
            ws_url, subprotocols=["streamlit"], origin=self.url, additional_headers=headers, max_size=None,
            ping_interval=None, compression=None), self.timeout)
        # nginx lists every upstream it tried ("dead:8601, alive:8602"): the last one answered
        self.replica = self.ws.response.headers.get("X-Albertviz-Replica", "").split(",")[-1].strip()
        self.closed = self.closed_at = None
        self._reader = asyncio.create_task(self._read())
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing: nothing left to report
                pass

    async def __aenter__(self) -> Session:
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- what a student does -------------------------------------------------------------------------------------

    async def open(self, page: str = "") -> Interaction:
        """Arrive at a URL (first run of the session): the page name comes from the path, as in the browser."""
        msg = self._rerun_msg(states=[], page_name=page, page_hash="")
        return await self._interact(f"open {page or 'home'}", msg)

    async def goto(self, page: str) -> Interaction:
        """Click a page in the menu: the page's script hash, no widget states (the old page's widgets are gone)."""
        if page not in self.pages:
            raise ProtocolError(f"no page {page!r} in the app's navigation ({sorted(self.pages)})")
        self.query_string = ""  # the menu's link carries no view: the new page starts from its session state
        return await self._interact(f"go to {page or 'home'}", self._rerun_msg([], "", self.pages[page]))

    async def set(self, key: str, value: object) -> Interaction:
        """Change one widget (found by its user key) and send every widget's state, as the frontend does."""
        widget = self.widget(key)
        if widget.kind in ("selectbox", "radio") and value not in widget.options:
            raise ProtocolError(f"{value!r} is not an option of {key!r} ({widget.options})")
        widget.value = value
        r = await self._interact(f"{key} = {value!r}", self._rerun_msg(self._states(), "", self.page_hash))
        shown = next((w.value for w in self.widgets.values() if w.key == key), value)  # gone: nothing to check
        if not r.errors and shown != value:  # the page put its own value back: the student's change was lost
            r.errors.append(f"{key}: chose {value!r}, the page shows {shown!r}")
        return r

    async def click(self, key: str) -> Interaction:
        """Press a button: a trigger, true for this one run only."""
        widget = self.widget(key)
        trigger = WidgetState(id=widget.id, trigger_value=True)
        return await self._interact(f"click {key}", self._rerun_msg(self._states() + [trigger], "", self.page_hash))

    def widget(self, key: str) -> Widget:
        for w in self.widgets.values():
            if w.key == key:
                return w
        raise ProtocolError(f"no widget with key {key!r} on the page ({sorted(w.key for w in self.widgets.values())})")

    def texts(self) -> list[str]:
        """Markdown, headings, alerts and plain text of the latest run (for tests)."""
        out = []
        for el in self.elements:
            kind = el.WhichOneof("type")
            if kind in ("markdown", "heading", "text", "alert"):
                out.append(getattr(el, kind).body)
        return out

    # --- protocol ------------------------------------------------------------------------------------------------

    def _states(self) -> list[WidgetState]:
        states = []
        for w in self.widgets.values():
            if w.value is None or w.kind == "button":
                continue
            state = WidgetState(id=w.id)
            if w.value_type == "string_array_value":
                state.string_array_value.data.extend(w.value)
            elif w.value_type == "double_array_value":
                state.double_array_value.data.extend(w.value)
            else:
                setattr(state, w.value_type, w.value)
            states.append(state)
        return states

    def _rerun_msg(self, states: list[WidgetState], page_name: str, page_hash: str) -> BackMsg:
        msg = BackMsg()
        r = msg.rerun_script
        # the browser sends the address bar's query: the view the app last wrote there (st.query_params). A page
        # that mirrors its widgets in the URL reads an empty one as "the menu dropped the view" and restores it.
        r.query_string = self.query_string
        r.widget_states.widgets.extend(states)
        r.page_script_hash = page_hash
        r.page_name = page_name
        r.cached_message_hashes.extend(self.cache)
        r.context_info.timezone = "UTC"
        r.context_info.timezone_offset = 0
        r.context_info.locale = "en-US"
        r.context_info.url = f"{self.url}/{page_name}"
        return msg

    async def _interact(self, what: str, msg: BackMsg) -> Interaction:
        if self.ws is None or self.closed is not None:
            raise ProtocolError(f"{what}: the connection is closed ({self.closed!r})")
        while not self._finished.empty():
            self._finished.get_nowait()
        self._bytes = self._messages = self._hits = 0
        self._errors = []
        self._seen_this_run = {}
        self.elements = []
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        try:
            status = await asyncio.wait_for(self._finished.get(), self.timeout)
        except TimeoutError:
            return Interaction(what, time.perf_counter() - t0, self._bytes, self._messages, self._hits,
                               [f"{what}: no script_finished within {self.timeout:.0f} s"])
        latency = time.perf_counter() - t0
        errors = list(self._errors)
        if isinstance(status, BaseException):
            errors.append(f"{what}: connection closed: {type(status).__name__}: {status}")
        elif status != "ok":
            errors.append(f"{what}: script finished with {status}")
        return Interaction(what, latency, self._bytes, self._messages, self._hits, errors)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self._bytes += len(frame)
                self._messages += 1
                msg = ForwardMsg()
                msg.ParseFromString(frame)
                self._handle(msg)
        except Exception as err:  # noqa: BLE001 - any end of the stream is reported to the waiting interaction
            self.closed = err
        else:
            self.closed = ProtocolError("the server closed the connection")
        self.closed_at = time.monotonic()
        self._finished.put_nowait(self.closed)

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            self._hits += 1
            if msg.ref_hash not in self.cache:
                self._errors.append(f"cache miss for ref_hash {msg.ref_hash}: the client state went wrong")
            self.cache[msg.ref_hash] = self.runs
            return  # the element itself is the cached one; this client does not keep element bodies
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = self.runs
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            self.max_cache_age = msg.new_session.config.max_cached_message_age or self.max_cache_age
        elif kind == "navigation":  # with st.navigation the page being run is named here, not in new_session
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self._errors.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            self._errors.append(f"script compilation error: {msg.session_event.script_compilation_exception}")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        elif kind == "script_finished":
            status = msg.script_finished
            if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
                return
            self.runs += 1
            if status == FINISHED.FINISHED_SUCCESSFULLY:
                self.widgets = self._seen_this_run  # the frontend drops the state of widgets no longer drawn
            # ForwardMessageCache.incrementRunCount: entries unused for more than max age runs are dropped
            self.cache = {h: used for h, used in self.cache.items() if self.runs - used <= self.max_cache_age}
            self._finished.put_nowait(DONE.get(status, f"status {status}"))

    def _element(self, el) -> None:
        self.elements.append(el)
        kind = el.WhichOneof("type")
        if kind == "exception":
            self._errors.append(f"exception shown: {el.exception.type}: {el.exception.message[:160]}")
        elif kind == "alert" and el.alert.format == el.alert.ERROR and APP_ERROR_TEXT in el.alert.body:
            self._errors.append(f"error box: {el.alert.body[:160]}")
        value_type = VALUE_TYPES.get(kind)
        if kind == "number_input":
            value_type = "int_value" if el.number_input.data_type == el.number_input.INT else "double_value"
        if kind == "slider" and el.slider.options:
            value_type = "string_array_value"  # select_slider (Streamlit ≥ 1.5x sends formatted options)
        if kind == "button":
            value_type = "trigger_value"
        if value_type is None:
            return
        proto = getattr(el, kind)
        if not proto.id:
            return
        old = self.widgets.get(proto.id)
        value = _initial_value(kind, proto)
        # a widget that is drawn again keeps the value the student gave it unless the script set a new one
        if old is not None and not getattr(proto, "set_value", False) and old.value is not None:
            value = old.value
        self._seen_this_run[proto.id] = Widget(proto.id, kind, value_type, value,
                                               list(getattr(proto, "options", [])))
