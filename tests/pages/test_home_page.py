"""Home's picture (issue 16, item 3): every number of the waterfall and the layer stack is count_parameters'
for ALBERT's Table 4 configurations, with the pooler toggle, and the sentence says which printed figure each
setting reproduces."""

import json

import pytest
from conftest import charts, page_file, values
from streamlit.testing.v1 import AppTest

from albertviz import ModelConfig, count_parameters


def albert_base(E: int, sharing: str, pooler: bool) -> ModelConfig:
    """Built here, not with albertviz.paper: ALBERT-base's shape with V=30,000 (BERT-base when E=768, unshared)."""
    return ModelConfig(vocab_size=30000, hidden_size=768, embedding_size=E, num_layers=12, num_heads=12,
                       intermediate_size=3072, sharing=sharing, pooler=pooler,
                       embedding="factorized" if E < 768 else "full")


@pytest.fixture
def home():
    at = AppTest.from_file(page_file("home"), default_timeout=60).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("pooler", [True, False])
def test_the_waterfall_is_the_counter(home, pooler):
    if not pooler:
        home.toggle(key="home.pooler").set_value(False).run()
        assert home.query_params["pooler"] in ("0", ["0"])
    bert, factorized, shared = (count_parameters(albert_base(E, s, pooler)).total
                                for E, s in ((768, "none"), (128, "none"), (128, "all")))
    trace = charts(home)["home.waterfall"]["data"][0]
    y = values(trace["y"])
    assert y == pytest.approx([bert / 1e6, (factorized - bert) / 1e6, factorized / 1e6,
                               (shared - factorized) / 1e6, shared / 1e6])
    assert trace["text"][0] == f"{bert / 1e6:.2f}M" and trace["text"][-1] == f"{shared / 1e6:.2f}M"
    text = " ".join(m.value for m in home.markdown)
    assert f"leaving {shared / 1e6:,.2f}M" in text and f"{bert / shared:.1f}× fewer" in text
    # which of 108M / 89M / 12M round to the count: without the pooler the first two, with it the last
    rounds = [round(n / 1e6) == p for n, p in zip((bert, factorized, shared), (108, 89, 12), strict=True)]
    assert rounds == ([False, False, True] if pooler else [True, True, False])
    assert f"{sum(rounds)} of 3 counts round to it" in text
    assert "No single setting gives all three" in text


def test_the_layer_stack_counts_one_block_against_twelve(home):
    unshared, shared = count_parameters(albert_base(768, "none", True)), count_parameters(albert_base(128, "all", True))
    block = (unshared.by_component["attention"] + unshared.by_component["ffn"]) / 12 / 1e6
    one = (shared.by_component["attention"] + shared.by_component["ffn"]) / 1e6
    notes = " ".join(a["text"] for a in charts(home)["home.stack"]["layout"]["annotations"])
    assert f"12 × {block:.2f}M = {12 * block:.1f}M" in notes and f"{one:.2f}M, run 12×" in notes
    assert "L12 · block 12" in notes  # BERT: every layer its own block
    assert notes.count("· block 1 ") == 12 + 1  # ALBERT: all 12 layers run block 1 (and BERT's layer 1)
    config = json.loads(next(c for c in home.get("plotly_chart") if c.key == "home.stack").proto.config)
    assert config["toImageButtonOptions"]["filename"] == "albertviz-home-stack"
