"""bertviz's frame is sized from its view (issue 16, item 7): nothing clipped, no large blank below it.

The model view used to be cut (head 3 of 4 off the right edge, 3 of 6 layers in a 900 px frame) and the head
view sat on ~270 px of blank. Measured in a real Chromium: the drawn page against `frame_height`, for shapes
from 2 to 12 heads and 5 to 48 tokens, at a wide and a narrow frame; then in the app itself, two models side by
side at a projector's 1280 px, where each frame's content is compared with the frame.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from albertviz.figures import bertviz_offline as bo
from albertviz_app.ui.models import MINILM, available_models

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLACK_PX = 40  # more blank than this under a view is "a large blank"
SHAPES = [(6, 4, 14, False), (6, 12, 14, False), (12, 12, 30, True), (3, 4, 48, False), (6, 4, 5, False),
          (4, 2, 20, True), (6, 12, 48, True)]  # layers, heads, tokens, a sentence pair
# How far the page's drawing reaches, and whether anything sticks out sideways.
BOTTOM_JS = ("doc => [...doc.querySelectorAll('body *')]"
             ".reduce((m, e) => Math.max(m, e.getBoundingClientRect().bottom), 0)")
EXTENT_JS = f"""() => ({{bottom: ({BOTTOM_JS})(document) + window.scrollY,
                       width: document.documentElement.scrollWidth}})"""
FRAMES_JS = f"""() => [...document.querySelectorAll('iframe[title^="bertviz"]')].map(f => {{
  const d = f.contentDocument.documentElement;
  return {{title: f.title, frameH: f.clientHeight, frameW: f.clientWidth, contentH: d.scrollHeight,
          contentW: d.scrollWidth, drawn: ({BOTTOM_JS})(f.contentDocument)}};
}})"""


@pytest.mark.parametrize("width", [1000, 460])
@pytest.mark.parametrize("view", bo.VIEWS)
def test_frame_height_fits_the_drawn_view(chromium, view, width):
    rng = np.random.default_rng(0)
    page = chromium.new_page()
    try:
        for layers, heads, tokens, pair in SHAPES:
            attn = rng.random((layers, heads, tokens, tokens))
            attn /= attn.sum(-1, keepdims=True)
            height = bo.frame_height(view, layers, heads, tokens, pair)
            page.set_viewport_size({"width": width, "height": height})
            page.set_content(bo.render(view, attn, [f"tok{i}" for i in range(tokens)], tokens // 2 if pair else None))
            page.wait_for_selector("#vis svg")
            page.wait_for_timeout(200)
            got = page.evaluate(EXTENT_JS)
            shape = f"{view} view, {layers} layers × {heads} heads, {tokens} tokens{', pair' if pair else ''}"
            assert got["bottom"] <= height, f"{shape}: drawn to {got['bottom']} px in a {height} px frame (clipped)"
            assert height - got["bottom"] <= SLACK_PX, f"{shape}: {height - got['bottom']:.0f} px blank below"
            assert got["width"] <= width, f"{shape}: {got['width']} px wide in a {width} px frame (cut off)"
    finally:
        page.close()


@pytest.mark.parametrize("view", bo.VIEWS)
def test_the_app_frames_show_the_whole_view_side_by_side(app, view):
    models = available_models()
    second = next((m for m in models if m != models[0]), MINILM)
    app.page.set_viewport_size({"width": 1280, "height": 720})
    app.visit(f"attention?bertviz={view}&compare=1&model2={second}")
    app.assert_healthy()
    app.page.locator('iframe[title^="bertviz"]').first.scroll_into_view_if_needed()
    app.page.wait_for_timeout(1000)  # bertviz draws after its scripts ran
    frames = app.page.evaluate(FRAMES_JS)
    assert len(frames) == 2, frames
    for f in frames:
        assert f["drawn"] <= f["frameH"], f"{f['title']}: content reaches {f['drawn']} px, frame {f['frameH']} px"
        assert f["frameH"] - f["drawn"] <= SLACK_PX, f"{f['title']}: {f['frameH'] - f['drawn']:.0f} px blank"
        assert f["contentW"] <= f["frameW"], f"{f['title']}: {f['contentW']} px wide in a {f['frameW']} px frame"


# The frame's own layer select (bertviz's head view), and a mark set in its window: a reload would drop it.
FRAME_LAYER_JS = """() => [...document.querySelectorAll('iframe[title^="bertviz"]')].map(f => ({
  layer: f.contentDocument.querySelector('select#layer')?.value ?? null, kept: f.contentWindow.__mark === 1}))"""
MARK_JS = "() => document.querySelectorAll('iframe[title^=\"bertviz\"]').forEach(f => { f.contentWindow.__mark = 1; })"


def frame_layers(app, want: str, timeout_s: float = 5.0) -> list[dict]:
    """The frames' state once each shows layer `want` (0-based, as bertviz's select), or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        frames = app.page.evaluate(FRAME_LAYER_JS)
        if (frames and all(f["layer"] == want for f in frames)) or time.monotonic() > deadline:
            return frames
        app.page.wait_for_timeout(100)


def test_the_head_view_follows_the_pages_layer_without_reloading(app):
    app.visit("attention?layer=2")
    assert frame_layers(app, "1") == [{"layer": "1", "kept": False}], "a link's layer opens the frame on it"
    app.page.evaluate(MARK_JS)
    app.select("attention.layer", "4")
    assert frame_layers(app, "3") == [{"layer": "3", "kept": True}], "the frame must switch, not reload"
    # a layer picked in the frame itself stays until the page's layer changes again
    app.page.frame_locator('iframe[title^="bertviz"]').locator("select#layer").select_option("5")
    app.page.wait_for_timeout(600)
    assert frame_layers(app, "5", timeout_s=0) == [{"layer": "5", "kept": True}]
    app.select("attention.layer", "1")
    assert frame_layers(app, "0") == [{"layer": "0", "kept": True}]
    app.assert_healthy()


def test_a_standalone_head_view_keeps_its_rendered_layer(chromium):
    """Opened from disk (no host page) the follow script does nothing: the file opens on the layer it was made at."""
    rng = np.random.default_rng(1)
    attn = rng.random((4, 2, 6, 6))
    attn /= attn.sum(-1, keepdims=True)
    page = chromium.new_page()
    try:
        page.set_content(bo.render("head", attn, [f"t{i}" for i in range(6)], layer=2, follow="layer"))
        page.wait_for_selector("#vis svg")
        page.wait_for_timeout(300)
        assert page.locator("select#layer").input_value() == "2"
    finally:
        page.close()


def test_the_downloaded_view_opens_offline_on_the_pages_layer(app, chromium, tmp_path):
    """The download inlines d3 and jQuery (the frame references the app's copies): from disk, with every request
    refused, it still draws, on the layer the page showed."""
    app.visit("attention?layer=3")
    with app.page.expect_download() as got:
        app.page.get_by_role("button", name=re.compile("bertviz view as an offline HTML file")).first.click()
    path = tmp_path / "view.html"
    got.value.save_as(path)
    doc = path.read_text()
    assert "/app/static/" not in doc and "<script src" not in doc
    page = chromium.new_page()
    refused = []
    page.route("**/*", lambda route: (refused.append(route.request.url), route.abort())
               if not route.request.url.startswith("file:") else route.continue_())
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("#vis svg", timeout=10_000)
        assert page.locator("select#layer").input_value() == "2"
        assert not refused, refused
    finally:
        page.close()
