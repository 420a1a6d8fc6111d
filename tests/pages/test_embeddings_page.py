"""The Embeddings page, driven through Streamlit's AppTest: every widget, found by key, changes what it should."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from albertviz import count_parameters
from albertviz.data.tokenizer import load_tokenizer
from albertviz_app.ui.models import available_models

PAGE = str(Path(__file__).resolve().parents[2] / "albertviz_app" / "views" / "embeddings.py")
S = "embeddings"


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run(timeout=600)  # the first run scans the whole vocabulary once; later runs hit the cache
    assert not at.exception, at.exception
    return at


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


def test_default_page_shows_all_four_parts(app):
    assert not _errors(app)
    assert len(app.tabs) == 4
    ngrams = _frame(app, "n-gram")
    assert list(ngrams["n-gram"])[:3] == ["<r", "ru", "un"] and list(ngrams["n-gram"])[-1] == "pooled"  # "running"
    assert app.metric[0].value == f"{load_tokenizer().get_vocab_size():,}"
    text = " ".join(m.value for m in app.markdown)
    assert "4.39M" in text and "17.5 MB" in text and "91%" in text and "1.12 MB" in text
    titles = _figure_titles(app)
    assert any("pooled" in t for t in titles) and any("nearest other token" in t for t in titles)
    assert any("batch of 2,048 tokens" in t for t in titles)
    if "none-full" in available_models():
        assert any("The price" in t for t in titles)
    else:
        assert any("No zoo cell" in i.value for i in app.info)


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
    app.slider(key=f"{S}.threshold").set_value(0.8)
    app.slider(key=f"{S}.k").set_value(4)
    _rerun(app)
    assert any(m.label == "Nearest other ≥ 0.80" for m in app.metric)
    pairs = _frame(app, "nearest")
    assert 0 < len(pairs) <= 4 and (pairs["cosine"] >= 0.8).all()
    hashed_nn = next(df.value for df in app.dataframe if list(df.value.columns) == ["token", "cosine"])
    assert len(hashed_nn) == 4


def test_size_widgets(app):
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
    app.select_slider(key=f"{S}.batch").set_value(256)
    _rerun(app)
    assert any("batch of 256 tokens" in t for t in _figure_titles(app))
    app.button(key=f"{S}.remeasure").click()
    _rerun(app)
    assert app.session_state[f"{S}.nonce"] == 1
