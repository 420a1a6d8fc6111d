"""The load generator's simulated student speaks Streamlit's real protocol to a real `streamlit run app.py`.

If the client drifted from what the browser sends (widget ids, states, page hashes, the message cache), the
server would answer with the wrong page, reset widgets or resend everything — these tests would see it.
Also here: bertviz's d3/jQuery are served once as static files from the app's own origin (issue 15).
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.request

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from albertviz.figures import bertviz_offline
from bench import load
from bench.browser import ROOT, StreamlitServer
from bench.protocol import ProtocolError, Session, run_sync

pytestmark = pytest.mark.slow  # a real `streamlit run` server

SRC = re.compile(r'<script src="([^"]+)" integrity="([^"]+)"></script>')


@pytest.fixture(scope="module")
def server():
    (ROOT / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)
    srv = StreamlitServer(log_path=ROOT / "tests" / "artifacts" / "streamlit-protocol.log")
    srv.start(timeout=180)
    yield srv
    srv.stop()


def run(coro):
    return run_sync(coro)


def test_a_widget_change_reruns_the_same_page_with_every_widget_state(server):
    async def go():
        async with Session(server.url, timeout=180) as s:
            first = await s.open("parameters")
            assert first.ok, first.errors
            assert s.pages["parameters"] == s.page_hash  # the page, not the app's entry script
            assert s.widget("parameters.sharing").value == "all-shared (ALBERT)"  # albert-base, the page default
            assert s.widget("parameters.hidden_size").value == 768
            r = await s.set("parameters.sharing", "not shared (BERT)")
            assert r.ok and 0 < r.latency < 60 and r.bytes_received > 1000, r
            assert any("not shared" in t for t in s.texts())
            assert s.widget("parameters.hidden_size").value == 768  # the other widgets kept their state
            # a preset's callback rewrites the shape widgets: the client must take the values the server set
            r = await s.set("parameters.preset", "bert-base")
            assert r.ok, r.errors
            assert (s.widget("parameters.vocab_size").value, s.widget("parameters.embedding").value) == (30522, "full")
            r = await s.set("parameters.hidden_size", 100)  # not divisible by 12 heads: a message, not an error
            assert r.ok and any("cannot be built" in t for t in s.texts())
            with pytest.raises(ProtocolError):
                await s.set("parameters.sharing", "no such option")
            r = await s.goto("")  # the empty url path is a hidden redirect to /home (ui/nav.py)
            assert r.ok and s.page_hash == s.pages["home"]
            assert "parameters.sharing" not in {w.key for w in s.widgets.values()}

    run(go())


def test_every_change_of_a_page_takes_effect_not_only_the_first(server):
    # The page mirrors its widgets in the URL; a client that sent an empty query string after the app had written
    # one looked like "the menu dropped the view", and the page put the first change back on every later one.
    async def go():
        async with Session(server.url, timeout=180) as s:
            await s.open("attention")
            for model in s.widget("attention.model").options[1:4]:
                r = await s.set("attention.model", model)
                assert r.ok, r.errors
                assert s.widget("attention.model").value == model
            assert "model=" in s.query_string  # the view the app wrote into the address bar travels back
            r = await s.set("attention.text", "A second sentence for the same student.")
            assert r.ok and s.widget("attention.text").value == "A second sentence for the same student."
            shown = s.widget("attention.model").value
            await s.goto("parameters")
            assert s.query_string == "" or "sharing" in s.query_string  # the menu's link carries no old view
            await s.goto("attention")  # back through the menu: the page restores its last view
            assert s.widget("attention.model").value == shown

    run(go())


def test_a_select_slider_travels_as_its_formatted_options(server):
    """Streamlit 1.67 sends a select_slider's value as the formatted option strings; numbers broke the page."""
    async def go():
        async with Session(server.url, timeout=180) as s:
            assert (await s.open("convergence")).ok
            lr = s.widget("convergence.lr")
            assert lr.value_type == "string_array_value" and lr.value == ["0.002"], lr
            r = await s.set("convergence.seed", 5)  # every widget's state goes along, the select_slider's too
            assert r.ok, r.errors
            r = await s.set("convergence.lr", ["0.001"])
            assert r.ok and s.widget("convergence.lr").value == ["0.001"], r.errors

    run(go())


def test_the_message_cache_spares_what_the_browser_already_has(server):
    async def go():
        async with Session(server.url, timeout=300) as s:
            first = await s.open("attention")
            assert first.ok, first.errors
            cacheable = len(s.cache)
            assert cacheable >= 1  # the large elements (figures, the bertviz page) are cacheable
            again = await s.set("attention.head", s.widget("attention.head").value)  # same state: same elements
            assert again.ok and again.cache_hits >= cacheable
            assert again.bytes_received < first.bytes_received / 3

    run(go())


def test_bertviz_scripts_come_once_from_the_apps_own_static_files(server):
    async def go():
        async with Session(server.url, timeout=300) as s:
            await s.open("attention")
            return [el.iframe.srcdoc for el in s.elements if el.WhichOneof("type") == "iframe"]

    pages = run(go())
    assert pages, "the Attention page sent no bertviz iframe"
    assets = bertviz_offline.local_assets()
    for page in pages:
        assert assets["d3"] not in page and assets["jquery"] not in page  # no longer inlined
        tags = SRC.findall(page)
        assert len(tags) == 2
        for src, integrity in tags:
            assert src.startswith("/app/static/bertviz/")  # same origin: nothing leaves the server
            with urllib.request.urlopen(server.url + src, timeout=30) as r:
                body = r.read()
                assert "javascript" in r.headers["Content-Type"]
            digest = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
            assert digest == integrity  # the browser would refuse anything else
        assert "script-src 'self' 'unsafe-inline'" in page and "default-src 'none'" in page


def test_client_reports_exceptions_and_error_boxes():
    s = Session("http://127.0.0.1:1")
    msg = ForwardMsg()
    msg.delta.new_element.exception.type = "ZeroDivisionError"
    msg.delta.new_element.exception.message = "division by zero"
    s._handle(msg)
    box = ForwardMsg()
    box.delta.new_element.alert.body = "Something went wrong while drawing the grid: KeyError"
    box.delta.new_element.alert.format = box.delta.new_element.alert.ERROR
    s._handle(box)
    calm = ForwardMsg()
    calm.delta.new_element.alert.body = "This shape cannot be built: …"
    calm.delta.new_element.alert.format = calm.delta.new_element.alert.ERROR
    s._handle(calm)
    assert len(s._errors) == 2 and "ZeroDivisionError" in s._errors[0] and "grid" in s._errors[1]


def test_the_load_generator_refuses_anything_but_loopback():
    load.require_loopback("http://127.0.0.1:8501")
    for url in ("http://10.0.0.5:8501", "http://example.org", "http://127.0.0.1.example.org:80"):
        with pytest.raises(SystemExit):
            load.require_loopback(url)


@pytest.mark.browser
def test_bertviz_renders_from_the_static_files_in_chromium(server, chromium):
    """The real frontend: the srcdoc iframe loads the scripts from the app's origin (CSP 'self', SRI) and draws."""
    from bench.browser import RUN_COUNTER_JS, wait_idle

    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    external, static, errors = [], [], []
    try:
        context.add_init_script(RUN_COUNTER_JS)
        page = context.new_page()

        def route(r):
            url = r.request.url
            if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
                if "/app/static/bertviz/" in url:
                    static.append(url)
                r.continue_()
            else:
                external.append(url)
                r.abort()

        context.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/attention", wait_until="commit", timeout=300_000)
        wait_idle(page, timeout=300)
        frame = next(f for f in page.frames if f != page.main_frame and "bertviz" in (f.title() or ""))
        frame.wait_for_selector("svg text", timeout=30_000)
        tokens = frame.locator("svg text").all_text_contents()
    finally:
        context.close()
    assert not external and not errors
    assert len(static) >= 2 and "cat" in " ".join(tokens)
