"""Views in the URL (issue 16, item 1): a link opens that view, a changed widget updates the URL, a bad or
unknown parameter falls back to the default with a notice (never an exception), a page visited again comes
back as it was left, and every chart carries the shared modebar config (item 3)."""

import json

import pytest
from conftest import ROOT, page_file
from fake_zoo import write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import PRESETS, count_parameters

CELLS = ["none-full", "all-full", "ffn-full", "all-factorized"]


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, CELLS)
    with zoo_at(root):
        yield root


def open_page(slug: str, **params: str) -> AppTest:
    at = AppTest.from_file(page_file(slug), default_timeout=300)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def notices(at) -> str:
    return " ".join(t.value for t in at.toast)


def link(at) -> str:
    return next(c.value for c in at.code if "?" in c.value or "/" in c.value)


def assert_modebar(at) -> None:
    """Every chart on the page has a download button (PNG by default) named after it, no plotly logo."""
    figures = at.get("plotly_chart")
    assert figures
    for f in figures:
        config = json.loads(f.proto.config)
        assert config["toImageButtonOptions"]["format"] == "png", f.key
        assert config["toImageButtonOptions"]["filename"].startswith("albertviz-"), f.key
        assert config["displaylogo"] is False


# ------------------------------------------------------------------------------------------ Parameter explorer

def test_a_parameter_link_opens_that_view_and_widgets_write_back():
    at = open_page("parameters", preset="bert-large", sharing="all", strategy="cycle", M="3")
    assert at.selectbox(key="parameters.preset").value == "bert-large"
    assert at.radio(key="parameters.sharing").value == "all"
    assert at.selectbox(key="parameters.strategy").value == "cycle"
    assert at.number_input(key="parameters.groups").value == 3
    cfg = PRESETS["bert-large"].with_(sharing="all", share_strategy="cycle", num_groups=3)
    assert metric(at, "Unique parameters") == f"{count_parameters(cfg).total / 1e6:,.2f}M"
    assert not at.toast
    assert_modebar(at)

    at.number_input(key="parameters.groups").set_value(4).run()
    assert at.query_params["M"] == ["4"] or at.query_params["M"] == "4"
    at.toggle(key="parameters.tables_pooler").set_value(False).run()
    assert "pooler" in at.query_params
    # the copy-link control carries the same view
    assert "preset=bert-large" in link(at) and "M=4" in link(at) and "pooler=0" in link(at)


def test_defaults_stay_out_of_the_url():
    at = open_page("parameters")
    assert not {k for k in at.query_params if k != "lecture"}
    at.selectbox(key="parameters.preset").set_value("bert-base").run()
    assert dict(at.query_params) in ({"preset": "bert-base"}, {"preset": ["bert-base"]})  # fields follow it


@pytest.mark.parametrize("params, words", [
    ({"H": "abc"}, "`H=abc` is not a whole number"),
    ({"preset": "gpt-5"}, "`preset=gpt-5` is not one of the choices"),
    ({"M": "-3"}, "`M=-3` is outside"),
    ({"pooler": "maybe"}, "`pooler=maybe` is not on/off"),
    ({"colour": "red"}, "`colour` is not a setting of this page"),
])
def test_a_bad_parameter_falls_back_to_the_default_with_a_notice(params, words):
    at = open_page("parameters", **params)
    assert words in notices(at)
    assert at.selectbox(key="parameters.preset").value == "albert-base"
    assert metric(at, "Unique parameters") == f"{count_parameters(PRESETS['albert-base']).total / 1e6:,.2f}M"
    assert not set(params) & set(at.query_params)  # the bad value left the URL


# ------------------------------------------------------------------------------------------ model pages

def test_an_attention_link_opens_two_models_layer_and_head(fake_zoo):
    at = open_page("attention", model="all-full", compare="1", model2="ffn-full", layer="2", head="2",
                   text="A short sentence about kings.")
    assert at.selectbox(key="attention.model").value == "all-full"
    assert at.toggle(key="attention.compare").value is True
    assert at.selectbox(key="attention.model_b").value == "ffn-full"
    assert at.selectbox(key="attention.layer").value == 2 and at.selectbox(key="attention.head").value == 2
    assert at.text_input(key="attention.text").value == "A short sentence about kings."
    assert not at.toast and not at.warning
    assert_modebar(at)


def test_an_attention_link_with_a_layer_the_model_lacks_shows_layer_1(fake_zoo):
    at = open_page("attention", model="all-full", layer="99", mask="999")
    assert at.selectbox(key="attention.layer").value == 1
    assert "`layer=99` is not one of the choices" in notices(at)
    assert "`mask=999`" in notices(at)


def test_a_hidden_states_link_and_its_charts(fake_zoo):
    at = open_page("hidden_states", modelA="all-full", modelB="ffn-full", similarity="linear CKA",
                   surgery="factorize", E="64")
    assert at.selectbox(key="hidden_states.model_a").value == "all-full"
    assert at.selectbox(key="hidden_states.model_b").value == "ffn-full"
    assert at.radio(key="hidden_states.similarity").value == "linear CKA"
    assert at.slider(key="hidden_states.rank").value == 64
    assert not at.toast
    assert_modebar(at)
    at.radio(key="hidden_states.similarity").set_value("cosine").run()
    assert "similarity" not in at.query_params  # back at its default


def test_an_embeddings_link(fake_zoo):
    at = open_page("embeddings", nmin="3", E="64", token="king", dim="nope")
    assert at.number_input(key="embeddings.nmin").value == 3
    assert at.selectbox(key="embeddings.token").value == "king"
    assert at.number_input(key="embeddings.dim").value == 128 and "`dim=nope`" in notices(at)
    assert_modebar(at)
    assert at.query_params["E"] in ("64", ["64"])  # tab ③'s setting, kept while tab ① is the one open
    at.session_state["embeddings.tab"] = "③ Size"  # a click on the tab
    at.run()
    assert at.select_slider(key="embeddings.E").value == 64
    assert at.query_params["tab"] in ("size", ["size"]) and "tab=size" in link(at)
    assert_modebar(at)


# ------------------------------------------------------------------------------------------ coming back

def test_a_page_visited_again_comes_back_as_it_was_left(fake_zoo):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.switch_page(page_file("parameters")).run()
    at.selectbox(key="parameters.preset").set_value("bert-base").run()
    at.radio(key="parameters.sharing").set_value("ffn").run()
    at.number_input(key="parameters.groups").set_value(2).run()
    at.switch_page(page_file("quiz")).run()
    assert not at.exception
    at.query_params.clear()  # the menu drops a page's query string
    at.switch_page(page_file("parameters")).run()
    assert not at.exception
    assert at.selectbox(key="parameters.preset").value == "bert-base"
    assert at.radio(key="parameters.sharing").value == "ffn" and at.number_input(key="parameters.groups").value == 2
    assert not at.toast


# ------------------------------------------------------------------------------------------ Convergence

def test_a_convergence_link_sets_up_the_experiment_and_widgets_write_back(fake_zoo):
    from albertviz.lessons.live_settings import LiveSettings

    at = open_page("convergence", experiment="equal_params", L="2", lin_lr="0.002", order="cycle", kind="ffn",
                   flops_ref="0")
    assert not at.toast, notices(at)
    assert at.radio(key="convergence.experiment").value == "equal_params"
    assert at.number_input(key="convergence.lin_layers").value == 2
    assert at.select_slider(key="convergence.lin_lr").value == 0.002
    assert at.selectbox(key="convergence.lin_strategy").value == "cycle"
    assert at.checkbox(key="convergence.lin_deep").value is False
    assert at.session_state["convergence.kind"] == "ffn"  # (its radio needs zoo logs, which this fake zoo lacks)
    shown = " ".join(m.value for m in at.markdown)
    assert "unshared 2-layer model against a 4-layer model that runs each of its 2 blocks twice" in shown
    assert_modebar(at)

    at.number_input(key="convergence.lin_steps").set_value(300).run()
    assert at.query_params["lin_steps"] in ("300", ["300"])
    assert "lin_steps=300" in link(at) and "experiment=equal_params" in link(at)
    # back to the other experiment: its settings are in the URL, the hidden form's are not
    at.radio(key="convergence.experiment").set_value("same_shape").run()
    assert not {"L", "lin_lr", "lin_steps", "order"} & set(at.query_params)
    at.number_input(key="convergence.groups").set_value(2).run()
    assert at.query_params["M"] in ("2", ["2"])
    assert at.number_input(key="convergence.steps").value == LiveSettings.default("same_shape").steps
    assert "steps" not in at.query_params  # defaults stay out


@pytest.mark.parametrize("params, words, key, default", [
    ({"experiment": "equal_params", "L": "9"}, "`L=9` is outside", "convergence.lin_layers", 1),
    ({"lr": "0.7"}, "`lr=0.7` is not one of the choices", "convergence.lr", None),
    ({"kind": "embeddings"}, "`kind=embeddings` is not one of the choices", "convergence.kind", "attention"),
    ({"block": "nonsense"}, "`block=nonsense` is not one of the choices", "convergence.peruse_block", None),
])
def test_a_bad_convergence_parameter_falls_back_with_a_notice(fake_zoo, params, words, key, default):
    from albertviz.lessons.live_settings import LiveSettings

    at = open_page("convergence", **params)
    assert words in notices(at)
    value = at.session_state[key]
    if key == "convergence.lin_layers":
        default = LiveSettings.default("equal_params").layers
    elif key == "convergence.lr":
        default = LiveSettings.default("same_shape").lr
    elif key == "convergence.peruse_block":
        default = at.selectbox(key=key).options[0]
    assert value == default
    assert not (set(params) - {"experiment"}) & set(at.query_params)


def test_a_remembered_view_that_no_longer_fits_falls_back_quietly(fake_zoo):
    """Back through the menu the URL is empty and the page restores its last view; a stored value that no longer
    parses (here a negative token position) must fall back to the default — it once raised KeyError deleting a
    URL key that was never there (found by `make load` through two replicas)."""
    at = AppTest.from_file(page_file("attention"), default_timeout=300)
    at.session_state["_view_params"] = {"attention": {"mask": "-1"}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["attention.mask_pos"] >= 0
    assert "mask" not in at.query_params
    assert "link's" not in notices(at), "a stored view is not a link: no notice about one"
