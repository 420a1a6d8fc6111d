"""bertviz's head and model views render with no network, and tokens typed by users stay text.

The unit tests read the generated HTML; the browser test loads it from a local file in headless Chromium
with every non-file request aborted, so anything still fetched from a CDN would leave the view blank.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch

from albertviz.figures import bertviz_offline as bo

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HOSTILE = ["[CLS]", "</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a&b", "ok",
           "[SEP]"]


def attention(layers: int = 2, heads: int = 3, T: int = len(HOSTILE), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((layers, heads, T, T))
    return a / a.sum(-1, keepdims=True)


@pytest.fixture(scope="module", params=["head", "model"])
def page(request):
    """The self-contained view. Page tests earlier in the same process may have switched bertviz to the app's
    static files (ui.static_assets), so inline explicitly here and restore the setting afterwards."""
    served = bo.served_from()
    bo.serve_assets_from(None)
    yield request.param, bo.render(request.param, attention(), HOSTILE)
    bo.serve_assets_from(served)


class Elements(HTMLParser):
    """What a browser's HTML parser sees: every start tag with its attributes, and each script's text."""

    def __init__(self, doc: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.feed(doc)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append("")

    def handle_data(self, data):
        if self.tags and self.tags[-1][0] == "script" and self.cdata_elem == "script":
            self.scripts[-1] += data


def test_no_script_is_fetched_from_anywhere(page):
    _, doc = page
    tags = Elements(doc).tags
    assert [t for t, _ in tags].count("script") == 4
    assert not [(t, a) for t, a in tags if {"src", "href"} & set(a)]
    assert "cdnjs" not in doc and "require.config" not in doc
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", doc, flags=re.IGNORECASE)
    assert "default-src 'none'" in doc  # and the page itself forbids any fetch


def test_d3_v5_and_jquery_are_inlined_from_the_installed_packages(page):
    _, doc = page
    assets = bo.local_assets()
    assert assets["d3"] in doc and assets["jquery"] in doc
    assert "d3js.org v5.7.0" in assets["d3"] and "jQuery v3.7.1" in assets["jquery"]
    assert "requirejs.config = function" in doc  # the AMD stand-in that hands them to bertviz


def test_hostile_tokens_cannot_leave_the_data_block(page):
    _, doc = page
    # exactly four scripts (d3, jQuery, the stand-in, bertviz) and no other element than the view's own:
    # a token that closed the data script would add a script; an <img> token would add an img
    parsed = Elements(doc)
    assert [t for t, _ in parsed.tags if t in ("script", "img")] == ["script"] * 4
    assert "const params = " in parsed.scripts[-1] and parsed.scripts[-1].rstrip().endswith("});")
    assert "<img" not in doc
    start = doc.index("const params = ") + len("const params = ")
    params, _ = json.JSONDecoder().raw_decode(doc, start)
    assert params["attention"][0]["left_text"] == HOSTILE  # same strings reach bertviz's .text()


def test_attention_values_reach_the_view(page):
    _, doc = page
    start = doc.index("const params = ") + len("const params = ")
    params, _ = json.JSONDecoder().raw_decode(doc, start)
    np.testing.assert_allclose(np.array(params["attention"][0]["attn"]), attention(), atol=5e-5)


def test_sentence_pair_views_offer_the_segment_filters():
    doc = bo.head_view_html(attention(), HOSTILE, sentence_b_start=3)
    assert "Sentence A -> Sentence B" in doc


def test_safe_json_round_trips_and_hides_markup():
    value = {"t": ["</script>", "<!--", "a&b", "\u2028"]}
    text = bo.safe_json(value)
    assert json.loads(text) == value
    assert not set("<>&") & set(text) and "\u2028" not in text


@pytest.mark.parametrize("view", ["head", "model"])
def test_parameters_are_escaped_exactly_as_parsing_and_reencoding_them_would(view, monkeypatch):
    import bertviz

    tokens = ["[CLS]", "; // HACK: ", "</script>", "a&b", "[SEP]"]  # the separator itself inside a token
    layers = [torch.full((1, 2, 5, 5), 0.2, dtype=torch.float64) for _ in range(2)]
    draw = bertviz.head_view if view == "head" else bertviz.model_view
    doc = draw(layers, tokens, html_action="return").data
    begin = doc.index(bo._PARAMS_MARK) + len(bo._PARAMS_MARK)
    params, end = json.JSONDecoder().raw_decode(doc, begin)  # the slow, obviously right way
    raw = doc[begin:end]
    expected = doc.replace(f"// HACK: {raw}", "// HACK: (parameters above)").replace(raw, bo.safe_json(params))
    monkeypatch.setattr(bo.json, "JSONDecoder", None)  # and without parsing: no fallback taken
    assert bo._reencode_params(doc) == expected


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("view", ["head", "model"])
def test_views_render_in_headless_chromium_with_no_network(tmp_path, view, chromium):
    file = tmp_path / f"bertviz_{view}.html"
    file.write_text(bo.render(view, attention(), HOSTILE), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    blocked, dialogs, errors = [], [], []
    context = chromium.new_context(viewport={"width": 1100, "height": 700})
    try:
        tab = context.new_page()

        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        tab.route("**/*", route)
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(file.as_uri())
        tab.wait_for_selector("svg text", timeout=15_000)
        texts = tab.locator("svg text").all_text_contents()
        if view == "model":  # the model view draws the tokens once a head's thumbnail is clicked
            tab.locator("svg rect[style*='opacity: 0']").first.dispatch_event("click")
            tab.wait_for_selector("svg text.token", timeout=5_000)
            texts = tab.locator("svg text").all_text_contents()
        tab.screenshot(path=str(ARTIFACTS / f"bertviz_{view}_offline.png"), full_page=True)
    finally:
        context.close()
    assert not blocked and not dialogs and not errors
    for token in HOSTILE:
        assert token in texts  # shown as text, exactly as typed

