"""A row of panels laid out by hand (albertviz/figures/panels.py) is what plotly's make_subplots lays out."""

import pytest
from plotly.subplots import make_subplots

from albertviz.figures.panels import row_of_panels


def their_layout(**kwargs) -> dict:
    layout = make_subplots(rows=1, **kwargs).to_dict()["layout"]
    layout.pop("template", None)
    return layout


@pytest.mark.parametrize("kwargs", [
    {"cols": 2},
    {"cols": 3, "subplot_titles": ["a", "b", "c"], "horizontal_spacing": 0.11},
    {"cols": 2, "shared_yaxes": True, "column_widths": [0.45, 0.55], "horizontal_spacing": 0.04,
     "subplot_titles": ("blocks", "attention entropy")},
    {"cols": 4, "subplot_titles": ["one", "", "three"], "column_widths": [1, 2, 3, 4]},
])
def test_the_layout_equals_make_subplots(kwargs):
    ours = row_of_panels(kwargs["cols"], titles=kwargs.get("subplot_titles", ()),
                         spacing=kwargs.get("horizontal_spacing"), widths=kwargs.get("column_widths"),
                         shared_y=kwargs.get("shared_yaxes", False)).layout
    theirs = their_layout(**kwargs)
    assert ours.keys() == theirs.keys()
    for name, axis in theirs.items():
        if name == "annotations":
            assert len(ours[name]) == len(axis)
            for a, b in zip(ours[name], axis, strict=True):
                assert a == {**b, "x": pytest.approx(b["x"])}
        else:
            assert ours[name] == {**axis, "domain": pytest.approx(axis["domain"])}, name


def test_a_panel_gives_its_traces_their_axes_and_takes_axis_settings():
    panels = row_of_panels(3)
    assert panels.refs(1) == {"xaxis": "x", "yaxis": "y"} and panels.refs(3) == {"xaxis": "x3", "yaxis": "y3"}
    panels.yaxis(2, title="tokens", rangemode="tozero")
    assert panels.layout["yaxis2"] == {"anchor": "x2", "domain": [0.0, 1.0], "title": "tokens",
                                       "rangemode": "tozero"}


def test_widths_must_match_the_panels():
    with pytest.raises(ValueError, match="3 panels need 3 widths"):
        row_of_panels(3, widths=[1, 2])
