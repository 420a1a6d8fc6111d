"""The Parameter explorer shows counts that equal count_parameters and refuses bad shapes politely."""

import pytest
from conftest import page_file
from streamlit.testing.v1 import AppTest

from albertviz import PRESETS, ModelConfig, count_parameters, paper


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
    page.radio(key="parameters.embedding").set_value(embedding)
    page.radio(key="parameters.sharing").set_value(sharing).run()
    assert not page.exception and not page.error
    cfg = PRESETS["albert-base"].with_(embedding=embedding, sharing=sharing,
                                       embedding_size=768 if embedding == "full" else 128)
    assert metric(page, "Unique parameters") == f"{count_parameters(cfg).total / 1e6:,.2f}M"


def test_strategy_groups_presets_and_pinning(page):
    page.selectbox(key="parameters.strategy").set_value("cycle_rev")
    page.number_input(key="parameters.groups").set_value(3).run()
    assert "`ABCABCABCCBA`" in " ".join(m.value for m in page.markdown)
    page.button(key="parameters.pin").click().run()
    page.selectbox(key="parameters.preset").set_value("bert-large").run()
    bert_large = count_parameters(PRESETS["bert-large"])
    assert metric(page, "Unique parameters") == f"{bert_large.total / 1e6:,.2f}M"
    assert any("pinned" in m.value for m in page.markdown)
    page.button(key="parameters.unpin").click().run()
    assert not any("📌 pinned:" in m.value for m in page.markdown)


@pytest.mark.parametrize("field, value, words", [
    ("parameters.hidden_size", 100, "not divisible by num_heads"),
    ("parameters.hidden_size", 100000, "too large"),
    ("parameters.groups", 20, "1 ≤ M ≤ L"),
    ("parameters.groups", 0, "at least 1"),
])
def test_bad_shapes_show_a_message_not_a_traceback(page, field, value, words):
    page.number_input(key=field).set_value(value).run()
    assert not page.exception
    assert any(words in e.value for e in page.error)


def test_factorized_e_larger_than_h_is_explained(page):
    page.number_input(key="parameters.embedding_size").set_value(1024).run()
    assert any("larger than hidden_size" in e.value for e in page.error)


# ------------------------------------------------------------------------------------------ ALBERT's tables

def albert_base(E: int, sharing: str, pooler: bool) -> ModelConfig:
    """ALBERT-base as Table 4 describes it, built here rather than with albertviz.paper's helpers."""
    return ModelConfig(vocab_size=30000, hidden_size=768, embedding_size=E, num_layers=12, num_heads=12,
                       intermediate_size=3072, sharing=sharing, pooler=pooler,
                       embedding="factorized" if E < 768 else "full")


def frame(at, key):
    """One of the paper tables, in the order the page draws them (AppTest does not expose dataframe keys)."""
    tables = [d.value for d in at.dataframe if "rounds to the paper" in d.value.columns]
    return tables[["parameters.table1", "parameters.table4", "parameters.table3"].index(key)]


def test_tables_are_in_view_not_in_a_collapsed_expander(page):
    assert not any("ALBERT's tables" in e.label for e in page.expander)
    for key in ("parameters.table1", "parameters.table3", "parameters.table4"):
        assert len(frame(page, key)) > 0
    assert any(h.value.startswith("ALBERT's Tables 1, 3 and 4") for h in page.subheader)


@pytest.mark.parametrize("pooler", [True, False])
def test_table_4_shows_the_paper_and_the_counter_for_each_pooler_setting(page, pooler):
    page.toggle(key="parameters.tables_pooler").set_value(pooler).run()
    t4 = frame(page, "parameters.table4")
    rows = list(paper.ALBERT_TABLE_4)
    assert list(t4["paper (M)"]) == [paper.ALBERT_TABLE_4[k] for k in rows]
    assert list(t4["paper Avg"]) == [paper.ALBERT_TABLE_4_AVG[k] for k in rows]
    for (E, sharing), counted, mark in zip(rows, t4["counted (M)"], t4["rounds to the paper"], strict=True):
        n = count_parameters(albert_base(E, sharing, pooler)).total
        assert counted == round(n / 1e6, 2)
        assert (mark == "✓") == (round(n / 1e6) == paper.ALBERT_TABLE_4[(E, sharing)])


def test_every_table_4_figure_reproduces_with_one_pooler_setting_and_the_page_says_which(page):
    marks = []
    for pooler in (True, False):
        page.toggle(key="parameters.tables_pooler").set_value(pooler).run()
        marks.append(list(frame(page, "parameters.table4")["rounds to the paper"]))
    assert all("✓" in pair for pair in zip(*marks, strict=True))
    text = " ".join(m.value for m in page.markdown)
    assert "Every figure reproduces in one setting or the other" in text
    # 12M and 89M, the examples: the first needs the pooler, the second must leave it out.
    assert round(count_parameters(albert_base(128, "all", True)).total / 1e6) == 12
    assert round(count_parameters(albert_base(128, "none", False)).total / 1e6) == 89


def test_table_1_uses_albert_vocabulary_and_explains_the_two_large_gaps(page):
    t1 = frame(page, "parameters.table1")
    assert list(t1["paper (M)"]) == list(paper.ALBERT_TABLE_1.values())
    bert_base = ModelConfig(vocab_size=30000, hidden_size=768, num_layers=12, num_heads=12, intermediate_size=3072)
    assert t1["counted (M)"][0] == round(count_parameters(bert_base).total / 1e6, 2)
    text = " ".join(m.value for m in page.markdown)
    xxl, xl = count_parameters(PRESETS["albert-xxlarge"]).total, count_parameters(PRESETS["albert-xlarge"]).total
    assert f"{xxl / 1e6:,.2f}M" in text and "235M" in text and "233M" in text and "released checkpoint" in text
    assert f"{xl / 1e6:,.2f}M" in text and "60M" in text
    assert f"{abs(235 - xxl / 1e6):.2f}M apart" in text


def test_the_e_input_is_disabled_for_a_full_table_and_the_factorized_e_comes_back(page):
    def e_box():
        return next(n for n in page.number_input if n.key == "parameters.embedding_size")

    assert not e_box().proto.disabled and e_box().value == 128
    page.radio(key="parameters.embedding").set_value("full").run()
    assert e_box().proto.disabled and e_box().value == 768
    page.number_input(key="parameters.hidden_size").set_value(384).run()
    full = PRESETS["albert-base"].with_(embedding="full", hidden_size=384, embedding_size=384)
    assert e_box().value == 384 and metric(page, "Unique parameters") == f"{count_parameters(full).total / 1e6:,.2f}M"
    page.radio(key="parameters.embedding").set_value("factorized").run()
    assert not e_box().proto.disabled and e_box().value == 128
