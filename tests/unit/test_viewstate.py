"""ui.viewstate on a page of its own (AppTest): a widget the page skips for a run — it sits in a tab that is not
open — keeps its value in the URL and gets it back when it is drawn again; a Param's `words` spell values in links."""

import pytest
from streamlit.testing.v1 import AppTest

from albertviz_app.ui.viewstate import Param

# One setting ("x") drawn only while the radio says "two", like a slider in a tab that is not open; its Param says so.
PAGE = """
import streamlit as st
from albertviz_app.ui.viewstate import Param, ViewState

view = ViewState("demo", [Param("part", "demo.part", "one", options=["one", "two"]),
                          Param("x", "demo.x", 5, kind=int, low=0, high=10,
                                drawn=lambda: st.session_state["demo.part"] == "two")])
view.restore()
if st.radio("Part", ["one", "two"], key="demo.part") == "two":
    st.number_input("x", min_value=0, max_value=10, key="demo.x")
view.publish()
"""


def url(at: AppTest, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_setting_that_was_not_drawn_comes_back_with_its_value():
    at = AppTest.from_string(PAGE).run()
    at.radio(key="demo.part").set_value("two").run()
    at.number_input(key="demo.x").set_value(8).run()
    assert url(at, "x") == "8"
    at.radio(key="demo.part").set_value("one").run()  # x is not drawn: Streamlit drops its key after this run
    assert url(at, "x") == "8"
    at.run()  # another run without it (a student changes something else first)
    assert url(at, "x") == "8", "the URL lost a setting that was only hidden"
    at.radio(key="demo.part").set_value("two").run()
    assert not at.exception, at.exception
    assert at.number_input(key="demo.x").value == 8
    assert url(at, "x") == "8"


def test_a_link_to_a_hidden_setting_keeps_it_until_it_is_drawn():
    at = AppTest.from_string(PAGE)
    at.query_params["x"] = "3"
    at.run().run()
    assert url(at, "x") == "3"
    at.radio(key="demo.part").set_value("two").run()
    assert at.number_input(key="demo.x").value == 3


TAB = Param("tab", "demo.tab", "① One", options=["① One", "② Two"], words={"① One": "one", "② Two": "two"})


@pytest.mark.parametrize("raw", ["two", "② Two"])
def test_words_spell_a_value_in_the_url_and_read_back(raw):
    assert TAB.parse(raw) == "② Two"
    assert TAB.encode("② Two") == "two"


def test_an_unknown_word_is_not_a_choice():
    with pytest.raises(ValueError, match="not one of the choices"):
        TAB.parse("three")
