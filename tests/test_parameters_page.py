"""The Parameter explorer shows counts that equal count_parameters and refuses bad shapes politely."""

import pytest
from conftest import page_file
from streamlit.testing.v1 import AppTest

from albertviz import PRESETS, count_parameters


@pytest.fixture
def page():
    at = AppTest.from_file(page_file("parameters"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_default_is_albert_base_with_its_real_counts(page):
    r = count_parameters(PRESETS["albert-base"])
    assert metric(page, "Unique parameters") == f"{r.total / 1e6:,.2f}M"
    assert metric(page, "Without sharing (unrolled)") == f"{r.unrolled / 1e6:,.2f}M"


@pytest.mark.parametrize("sharing", ["none", "all", "ffn", "attention"])
@pytest.mark.parametrize("embedding", ["full", "factorized", "hashed"])
def test_every_mode_and_embedding_switches_live(page, sharing, embedding):
    page.radio(key="params_embedding").set_value(embedding)
    page.radio(key="params_sharing").set_value(sharing).run()
    assert not page.exception and not page.error
    cfg = PRESETS["albert-base"].with_(embedding=embedding, sharing=sharing,
                                       embedding_size=768 if embedding == "full" else 128)
    assert metric(page, "Unique parameters") == f"{count_parameters(cfg).total / 1e6:,.2f}M"


def test_strategy_groups_presets_and_pinning(page):
    page.selectbox(key="params_strategy").set_value("cycle_rev")
    page.number_input(key="params_groups").set_value(3).run()
    assert "`ABCABCABCCBA`" in " ".join(m.value for m in page.markdown)
    page.button(key="params_pin").click().run()
    page.selectbox(key="params_preset").set_value("bert-large").run()
    bert_large = count_parameters(PRESETS["bert-large"])
    assert metric(page, "Unique parameters") == f"{bert_large.total / 1e6:,.2f}M"
    assert any("pinned" in m.value for m in page.markdown)
    page.button(key="params_unpin").click().run()
    assert not any("📌 pinned:" in m.value for m in page.markdown)


@pytest.mark.parametrize("field, value, words", [
    ("params_hidden_size", 100, "not divisible by num_heads"),
    ("params_hidden_size", 100000, "too large"),
    ("params_groups", 20, "1 ≤ M ≤ L"),
    ("params_groups", 0, "at least 1"),
])
def test_bad_shapes_show_a_message_not_a_traceback(page, field, value, words):
    page.number_input(key=field).set_value(value).run()
    assert not page.exception
    assert any(words in e.value for e in page.error)


def test_factorized_e_larger_than_h_is_explained(page):
    page.number_input(key="params_embedding_size").set_value(1024).run()
    assert any("larger than hidden_size" in e.value for e in page.error)
