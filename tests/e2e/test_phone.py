"""A phone's width (issue 16, item 2): at 420 px every page puts its inputs first, in reading order, and its main
result within the first two screens — measured from the top of the page in a real browser."""

from __future__ import annotations

import pytest

from albertviz_app.ui.models import available_models
from albertviz_app.ui.nav import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 420, "height": 860}
# slug: (the first control a student sets, the page's main result)
MAIN = {
    "home": ("home.pooler", "home.waterfall"),
    "parameters": ("parameters.preset", "parameters.components_chart"),
    "attention": ("attention.text", "attention.head_map.{model}"),
    "hidden_states": ("hidden_states.sentence", "hidden_states.fig1"),
    "embeddings": ("embeddings.nmin", "embeddings.fig_ngrams"),
    "convergence": ("convergence.embedding", "convergence.zoo_loss"),
    "quiz": ("quiz.mode", "quiz.start"),
}


def test_every_page_is_covered():
    assert set(MAIN) == {p.slug for p in PAGES}


@pytest.mark.parametrize("slug", list(MAIN))
def test_at_phone_width_the_main_result_is_within_two_screens(app, slug):
    control, result = (k.format(model=available_models()[0]) for k in MAIN[slug])
    app.page.set_viewport_size(PHONE)
    app.visit(slug)
    app.assert_healthy()
    first, main = app.widget(control).bounding_box(), app.widget(result).bounding_box()
    assert first is not None and main is not None, (first, main)
    assert first["y"] < main["y"], f"{control} at {first['y']:.0f} px comes after {result} at {main['y']:.0f} px"
    assert main["y"] <= 2 * PHONE["height"], f"{slug}: {result} starts at {main['y']:.0f} px, " \
                                             f"beyond two {PHONE['height']} px screens"
    width = app.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{slug} is {width} px wide at a {PHONE['width']} px phone"
