"""The Embeddings page, driven through Streamlit's AppTest: every widget, found by key, changes what it should;
only the open tab is computed and drawn, and a tab's settings survive a visit to another tab."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from albertviz import count_parameters
from albertviz.data.tokenizer import load_tokenizer
from albertviz_app.ui.models import available_models

PAGE = str(Path(__file__).resolve().parents[2] / "albertviz_app" / "views" / "embeddings.py")
S = "embeddings"
HASH, COLLISIONS, SIZE, PRICE = "① Watch it hash", "② Collisions & neighbours", "③ Size", "④ The price"


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run(timeout=600)
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, tab: str) -> AppTest:
    """Click a tab (the browser sends its label as the tabs widget's value; AppTest has no tab click)."""
    at.session_state[f"{S}.tab"] = tab
    return _rerun(at)


def _url(at: AppTest, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _rerun(at: AppTest) -> AppTest:
    at.run(timeout=600)
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def _frame(at: AppTest, column: str):
    """The first dataframe on the page that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _figure_titles(at: AppTest) -> list[str]:
    return [json.loads(f.proto.spec)["layout"]["title"]["text"] for f in at.get("plotly_chart")]


def test_each_of_the_four_tabs_shows_its_part(app):
    assert not _errors(app)
    assert [t.label for t in app.tabs] == [HASH, COLLISIONS, SIZE, PRICE]
    ngrams = _frame(app, "n-gram")
    assert list(ngrams["n-gram"])[:3] == ["<r", "ru", "un"] and list(ngrams["n-gram"])[-1] == "pooled"  # "running"
    assert any("pooled" in t for t in _figure_titles(app))
    _open(app, COLLISIONS)
    assert app.metric[0].value == f"{load_tokenizer().get_vocab_size():,}"
    assert any("nearest other token" in t for t in _figure_titles(app))
    _open(app, SIZE)
    text = " ".join(m.value for m in app.markdown)
    assert "4.39M" in text and "17.5 MB" in text and "91%" in text and "1.12 MB" in text
    _open(app, PRICE)
    titles = _figure_titles(app)
    assert any("batch of 2,048 tokens" in t for t in titles)
    if "none-full" in available_models():
        assert any("The price" in t for t in titles)
    else:
        assert any("No zoo cell" in i.value for i in app.info)
    assert not _errors(app)


def test_only_the_open_tab_is_computed(app):
    """Tab ① by default: no collision scan (no metric, no histogram), nothing of ③ or ④; clicking ② scans."""
    assert {c.key for c in app.get("plotly_chart")} == {f"{S}.fig_ngrams", f"{S}.fig_strips"}
    assert not app.metric and not app.slider and not app.select_slider  # ②'s, ③'s and ④'s inputs
    assert all("n-gram" in df.value.columns for df in app.dataframe)  # no size table, no accuracy table
    assert not any("4.39M" in m.value for m in app.markdown)
    assert "tab" not in app.query_params  # the first tab is the default: not in the URL
    _open(app, COLLISIONS)
    keys = {c.key for c in app.get("plotly_chart")}
    assert f"{S}.fig_nn" in keys and f"{S}.fig_ngrams" not in keys
    assert [m.label for m in app.metric][0] == "Tokens scanned"
    assert _url(app, "tab") == "collisions"


def test_a_tabs_settings_survive_a_visit_to_another_tab(app):
    _open(app, COLLISIONS)
    app.slider(key=f"{S}.threshold").set_value(0.9)
    _rerun(app)
    _open(app, HASH)
    assert _url(app, "threshold") == "0.9" and "tab" not in app.query_params
    app.selectbox(key=f"{S}.token").set_value("king")  # another run with ② hidden
    _rerun(app)
    assert _url(app, "threshold") == "0.9" and _url(app, "token") == "king"
    _open(app, COLLISIONS)
    assert app.slider(key=f"{S}.threshold").value == 0.9
    assert any(m.label == "Nearest other ≥ 0.90" for m in app.metric)
    assert any("'king'" in m.value for m in app.markdown)  # ② lists the neighbours of ①'s token
    assert _url(app, "token") == "king"  # ①'s widgets are not drawn now, their values are kept
    _open(app, HASH)
    assert app.selectbox(key=f"{S}.token").value == "king"
    assert list(_frame(app, "n-gram")["n-gram"])[0] == "<k"


def test_a_link_opens_a_tab_with_its_settings():
    at = AppTest.from_file(PAGE, default_timeout=600)
    at.query_params.update({"tab": "collisions", "threshold": "0.85", "token": "king"})
    _rerun(at)
    assert not at.toast, [t.value for t in at.toast]
    assert at.slider(key=f"{S}.threshold").value == 0.85
    assert any("'king'" in m.value for m in at.markdown)
    assert f"{S}.fig_ngrams" not in {c.key for c in at.get("plotly_chart")}
    bad = AppTest.from_file(PAGE, default_timeout=600)
    bad.query_params["tab"] = "nowhere"
    _rerun(bad)
    assert any("`tab=nowhere` is not one of the choices" in t.value for t in bad.toast)
    assert f"{S}.fig_ngrams" in {c.key for c in bad.get("plotly_chart")} and "tab" not in bad.query_params


def test_a_typed_word_that_is_no_token_lists_no_neighbours(app):
    app.radio(key=f"{S}.mode").set_value("type any word")
    _rerun(app)
    app.text_input(key=f"{S}.word").set_value("two words")
    _rerun(app)
    _open(app, COLLISIONS)
    assert any("not a single token" in i.value for i in app.info)
    assert not _errors(app)


def test_ngram_range_widgets_change_the_ngrams_and_refuse_a_reversed_range(app):
    app.number_input(key=f"{S}.dim").set_value(16)
    app.number_input(key=f"{S}.nmin").set_value(3)
    _rerun(app)
    assert not _errors(app)
    assert set(_frame(app, "n-gram")["n"].dropna()) == {3, 4}
    assert any("16-dim vector" in c.value for c in app.caption)
    app.number_input(key=f"{S}.nmax").set_value(2)
    _rerun(app)
    assert "reversed" in _errors(app)
    _open(app, COLLISIONS)
    assert any("Fix the hashing settings" in i.value for i in app.info)


def test_dimension_zero_gives_a_clear_message(app):
    app.number_input(key=f"{S}.dim").set_value(0)
    _rerun(app)
    assert "dimension must be at least 1" in _errors(app)


def test_seed_and_pooling_change_the_vector(app):
    app.number_input(key=f"{S}.dim").set_value(16)
    _rerun(app)
    before = _frame(app, "n-gram")
    app.number_input(key=f"{S}.seed").set_value(5)
    _rerun(app)
    after = _frame(app, "n-gram")
    assert list(after["n-gram"]) == list(before["n-gram"])
    assert list(after["64-bit hash"])[:-1] != list(before["64-bit hash"])[:-1]
    app.radio(key=f"{S}.pooling").set_value("sum")
    _rerun(app)
    table = _frame(app, "n-gram")
    grams = table[table["n-gram"] != "pooled"]
    pooled = table[table["n-gram"] == "pooled"].iloc[0]
    assert pooled["v[0]"] == pytest.approx(grams["v[0]"].sum(), abs=0.01)


def test_token_picker_and_typed_words(app):
    app.selectbox(key=f"{S}.token").set_value("king")
    _rerun(app)
    assert list(_frame(app, "n-gram")["n-gram"])[0] == "<k"
    app.radio(key=f"{S}.mode").set_value("type any word")
    _rerun(app)
    app.text_input(key=f"{S}.word").set_value("Unbelievably")
    _rerun(app)
    assert not _errors(app)
    assert list(_frame(app, "n-gram")["n-gram"])[0] == "<u"  # lower-cased like the tokenizer does
    pieces = " · ".join(load_tokenizer().encode("unbelievably", add_special_tokens=False).tokens)
    assert len(pieces.split(" · ")) > 1 and any(pieces in i.value for i in app.info)
    app.text_input(key=f"{S}.word").set_value("\u200b ")
    _rerun(app)
    assert "no visible characters" in _errors(app)


def test_sharing_picker_shows_learned_rows_or_says_the_cell_is_missing(app):
    app.selectbox(key=f"{S}.sharing").set_value("all")
    _rerun(app)
    strips = next(t for t in _figure_titles(app) if "learned rows" in t)
    assert strips
    infos = " ".join(i.value for i in app.info)
    for emb in ("full", "factorized"):
        assert (f"all-{emb}" in available_models()) != (f"**all-{emb}** has not been trained" in infos)


def test_threshold_and_neighbour_sliders(app):
    _open(app, COLLISIONS)
    app.slider(key=f"{S}.threshold").set_value(0.8)
    app.slider(key=f"{S}.k").set_value(4)
    _rerun(app)
    assert any(m.label == "Nearest other ≥ 0.80" for m in app.metric)
    pairs = _frame(app, "nearest")
    assert 0 < len(pairs) <= 4 and (pairs["cosine"] >= 0.8).all()
    hashed_nn = next(df.value for df in app.dataframe if list(df.value.columns) == ["token", "cosine"])
    assert len(hashed_nn) == 4


def test_a_threshold_no_pair_reaches_says_so_instead_of_an_empty_table(app):
    _open(app, COLLISIONS)
    app.slider(key=f"{S}.threshold").set_value(1.0)
    _rerun(app)
    near = next(m for m in app.metric if m.label == "Nearest other ≥ 1.00")
    if near.value != "0 tokens":
        pytest.skip("these hashing settings give exact collisions")
    assert not any("nearest" in df.value.columns for df in app.dataframe)
    assert any("reach cosine 1.00 here: no pairs to list" in c.value for c in app.caption)


def test_size_widgets(app):
    _open(app, SIZE)
    app.select_slider(key=f"{S}.E").set_value(32)
    app.radio(key=f"{S}.dtype").set_value("int8")
    _rerun(app)
    sizes = _frame(app, "embedding share")
    row = sizes[(sizes["model"] == "bert-base") & (sizes["embedding"] == "factorized")].iloc[0]
    assert row["E"] == 32
    from albertviz import PRESETS

    expected = count_parameters(PRESETS["bert-base"].with_(embedding="factorized", embedding_size=32))
    assert row["parameters"] == expected.total and row["MB int8"] == pytest.approx(expected.total / 1e6)
    assert any("in int8" in t for t in _figure_titles(app))


def test_latency_widgets(app):
    _open(app, PRICE)
    app.select_slider(key=f"{S}.batch").set_value(256)
    _rerun(app)
    assert any("batch of 256 tokens" in t for t in _figure_titles(app))
    app.button(key=f"{S}.remeasure").click()
    _rerun(app)
    assert app.session_state[f"{S}.nonce"] == 1
