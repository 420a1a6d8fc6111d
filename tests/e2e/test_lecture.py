"""The lecture layout in a real browser at a projector's 1280×720 (issue 16, item 2): the page's main chart
starts inside the first screen, its controls sit in the sidebar, and a link with a view opens that view."""

from __future__ import annotations

import pytest

from albertviz_app.ui.models import available_models
from bench.browser import key_css

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROJECTOR = {"width": 1280, "height": 720}


@pytest.mark.parametrize("slug, chart, control", [
    ("parameters", "parameters.components_chart", "parameters.preset"),
    ("attention", "attention.head_map.{model}", "attention.text"),
    ("convergence", "convergence.zoo_loss", "convergence.embedding"),
])
def test_lecture_layout_puts_the_main_chart_above_the_fold(app, slug, chart, control):
    app.page.set_viewport_size(PROJECTOR)
    app.visit(f"{slug}?lecture=1")
    app.assert_healthy()
    box = app.widget(chart.format(model=available_models()[0])).bounding_box()
    assert box is not None and 0 <= box["y"] < PROJECTOR["height"] - 150, box  # its top and a good part of it
    sidebar = app.page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator(key_css(control)).count() == 1  # controls moved there
    assert "lecture=1" in app.page.url


def test_a_link_opens_its_view_in_the_browser(app):
    app.visit("parameters?preset=bert-large&sharing=all&M=3&strategy=cycle")
    app.assert_healthy()
    assert "M=3" in app.page.url and "preset=bert-large" in app.page.url
    text = app.text()
    assert "shared all (M=3, cycle)" in text
