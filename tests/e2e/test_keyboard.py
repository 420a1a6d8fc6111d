"""Keyboard only, in a real browser (issue 16, item 8): on every page Tab walks through the page's controls —
the sidebar's and every main widget's — and comes back round to the start (no focus trap), and a control
can be changed with the keyboard alone (focus it by Tab, then Space or the arrow keys)."""

from __future__ import annotations

import pytest

from albertviz_app.ui.nav import PAGES
from bench.browser import key_css

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_TABS = 300  # bounded walk: a page with more tab stops than this before it wraps is a failure, not a hang

# slug: (widgets whose element must get the focus on the way, (a widget changed by keyboard, the keys pressed))
MAIN_WIDGETS = {
    "home": (["pooler", "waterfall", "stack"], ("pooler", ["Space"])),
    "parameters": (["preset", "hidden_size", "num_layers", "embedding", "sharing", "strategy", "groups", "pin",
                    "components_chart"], ("sharing", ["ArrowRight"])),
    "attention": (["text", "pair", "model", "compare", "layer", "head", "bertviz_view", "mask_pos", "mask_topk"],
                  ("layer", ["ArrowDown", "Enter"])),
    "hidden_states": (["sentence", "model_a", "fig1", "similarity", "token", "surgery_op"],
                      ("similarity", ["ArrowRight"])),
    "embeddings": (["nmin", "nmax", "dim", "seed", "pooling", "mode", "token", "sharing"],
                   ("pooling", ["ArrowRight"])),
    "convergence": (["embedding", "modes", "kind", "peruse_model", "peruse_block", "experiment", "strategy", "lr",
                     "steps", "train", "time_zoo"], ("kind", ["ArrowRight"])),
    "quiz": (["mode", "topics", "length", "seed", "start"], ("mode", ["ArrowRight"])),
}
SIDEBAR_WIDGETS = ["view.lecture", "view.chart_format"]

# What has the focus: a stable id per element, the st-key-* class of its widget, and where it sits.
FOCUS_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  if (!e.dataset.kbId) e.dataset.kbId = String(window.__kbNext = (window.__kbNext || 0) + 1);
  const box = e.closest('[class*="st-key-"]');
  return {id: e.dataset.kbId, keys: box ? [...box.classList].filter(c => c.startsWith('st-key-')) : [],
          where: e.closest('[data-testid="stSidebar"]') ? 'sidebar'
               : e.closest('[data-testid="stMainBlockContainer"]') ? 'main' : 'other'};
}"""
BLUR_JS = "() => document.activeElement?.blur()"  # the walk starts wherever; it ends when it wraps round
# A widget's visible state: its text and every input's checked flag and value.
STATE_JS = """e => e.innerText + '|' + [...e.querySelectorAll('input')].map(i => `${i.checked}:${i.value}`).join(',')"""


def walk(app) -> list[dict]:
    """Press Tab from the top of the page until the focus comes back to the first element it reached."""
    app.page.evaluate(BLUR_JS)
    stops: list[dict] = []
    for _ in range(MAX_TABS):
        app.page.keyboard.press("Tab")
        now = app.page.evaluate(FOCUS_JS)
        if now is None:
            continue
        if stops and now["id"] == stops[0]["id"]:
            return stops
        if not stops or now["id"] != stops[-1]["id"]:
            stops.append(now)
    pytest.fail(f"Tab did not come back round within {MAX_TABS} presses (a focus trap?); "
                f"last stops: {stops[-5:]}")


def css_class(key: str) -> str:
    return key_css(key).lstrip(".")


@pytest.mark.parametrize("slug", [p.slug for p in PAGES])
def test_tab_reaches_every_control_and_a_key_changes_one(app, slug):
    widgets, (target, keys) = MAIN_WIDGETS[slug]
    app.visit(slug)
    app.assert_healthy()
    stops = walk(app)
    reached = {c for s in stops for c in s["keys"]}
    main = [f"{slug}.{w}" for w in widgets]
    missing = [k for k in main + SIDEBAR_WIDGETS if css_class(k) not in reached]
    assert not missing, f"Tab never focused {missing}"
    in_main = {s["id"] for s in stops if s["where"] == "main"}
    in_sidebar = {s["id"] for s in stops if s["where"] == "sidebar"}
    assert len(in_main) >= len(widgets) and len(in_sidebar) >= len(PAGES) + len(SIDEBAR_WIDGETS), \
        (len(in_main), len(in_sidebar))

    # change one control with the keyboard alone: Tab to it, then its keys
    widget = app.widget(f"{slug}.{target}")
    before = widget.evaluate(STATE_JS)
    app.page.evaluate(BLUR_JS)
    for _ in range(MAX_TABS):
        app.page.keyboard.press("Tab")
        if css_class(f"{slug}.{target}") in (app.page.evaluate(FOCUS_JS) or {}).get("keys", []):
            break
    else:
        pytest.fail(f"Tab never reached {slug}.{target}")

    def press():
        for key in keys:
            app.page.keyboard.press(key)
    app.act(press)
    app.assert_healthy()
    after = app.widget(f"{slug}.{target}").evaluate(STATE_JS)
    assert after != before, f"{keys} on {slug}.{target} changed nothing: {before!r}"
