"""The Attention page draws real attention of every kind of model, and its charts hold the model's numbers.

Zoo cells land one by one while the zoo trains, so most tests run against a small *fake zoo*: untrained
cells (random weights, 3 layers, 2 heads) written and loaded through the real zoo code — one per sharing
mode and one per embedding type. The real MiniLM is always there; real zoo cells are checked when present.
"""

import json
import tracemalloc

import numpy as np
import pytest
import torch
from conftest import charts, grid_panels, page_file, values
from fake_zoo import clear_caches, fake_config, write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import ModelConfig, layer_plan, zoo
from albertviz.data.tokenizer import load_tokenizer, mask_token
from albertviz.zoo.cells import zoo_config
from albertviz_app.ui.models import load_model

FAKE_CELLS = ["none-full", "all-full", "ffn-full", "attention-full", "all-factorized", "none-hashed"]
SENTENCE = "The cat sat on the mat because it was tired."


def peaked_attention(model) -> None:
    """Large query/key weights: peaked, input-dependent maps instead of near-uniform ones."""
    for pname, param in model.named_parameters():
        if ".query." in pname or ".key." in pname:
            torch.nn.init.normal_(param, std=0.5)


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    """A zoo folder with untrained cells, swapped in for the real one while this module runs."""
    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, FAKE_CELLS, prepare=peaked_attention)
    with zoo_at(root):
        yield root


@pytest.fixture
def page(fake_zoo):
    at = AppTest.from_file(page_file("attention"), default_timeout=180)
    at.run()
    assert not at.exception
    return at


def chart(at, prefix: str, model: str) -> dict:
    return charts(at)[f"attention.{prefix}.{model}"]


def iframes(at) -> list[str]:
    return [f.proto.srcdoc for f in at.get("iframe")]


def reference_attention(name: str, text: str = SENTENCE, pair: str | None = None):
    """Attention computed directly from the model (the page's cached copy: loading MiniLM twice costs
    seconds), not through the page's arrays and figures."""
    enc, out = load_model(name).run(text, pair)
    return enc, np.stack([a[0].numpy() for a in out.attentions])


def check_model_charts(at, name: str, cfg: ModelConfig, n_tokens: int):
    """The invariants every model's charts must satisfy."""
    head = chart(at, "head_map", name)["data"][0]
    z = values(head["z"])
    assert z.shape == (n_tokens, n_tokens)
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=n_tokens * 6e-5)  # every query row is a distribution
    grid = grid_panels(chart(at, "grid", name)["data"][0])
    assert len(grid) == cfg.num_layers * cfg.num_heads
    for panel in grid.values():
        np.testing.assert_allclose(panel.sum(-1), 1.0, atol=n_tokens * 6e-5)
    plan = chart(at, "plan", name)["data"][0]
    expected = layer_plan(cfg)
    n_attn = max(a for a, _ in expected) + 1
    z = values(plan["z"])
    assert z[:, 0].tolist() == [a for a, _ in expected]
    assert (z[:, 1] - n_attn).tolist() == [f for _, f in expected]
    summary = chart(at, "summary", name)["data"]
    assert all(len(values(trace["y"])) == cfg.num_layers for trace in summary)


def trained_cells() -> list[str]:
    try:
        return [e["name"] for e in zoo.list_models()]
    except zoo.ZooError:
        return []


def test_real_zoo_cells_when_trained():
    """Runs before the fake zoo is swapped in: every cell the real zoo has so far, through the page."""
    clear_caches()
    trained = trained_cells()  # every sharing mode with full embeddings, one cell of each other embedding
    cells = [c for c in trained if c.endswith("-full")]
    cells += [next(c for c in trained if c.endswith(f"-{e}")) for e in ("factorized", "hashed")
              if any(c.endswith(f"-{e}") for c in trained)]
    if not cells:
        pytest.skip("no zoo cell trained yet")
    at = AppTest.from_file(page_file("attention"), default_timeout=180).run()
    for name in cells:
        at.selectbox(key="attention.model").set_value(name).run()
        assert not at.exception and not at.error, name
        enc, _ = reference_attention(name)
        check_model_charts(at, name, zoo_config(*name.split("-")), len(enc.tokens))
    clear_caches()


def test_default_page_shows_every_chart_of_the_first_model(page):
    name = "none-full"
    enc, attn = reference_attention(name)
    check_model_charts(page, name, fake_config(name), len(enc.tokens))
    assert len(page.caption) >= 5  # a caption under every chart
    assert len(iframes(page)) == 1


@pytest.mark.parametrize("name", FAKE_CELLS + ["minilm-l6"])
def test_every_sharing_mode_embedding_type_and_minilm(page, name):
    page.selectbox(key="attention.model").set_value(name).run()
    assert not page.exception and not page.error
    cfg = fake_config(name) if name in FAKE_CELLS else load_model(name).config
    enc, attn = reference_attention(name)
    check_model_charts(page, name, cfg, len(enc.tokens))
    head = values(chart(page, "head_map", name)["data"][0]["z"])
    np.testing.assert_allclose(head, attn[0, 0], atol=1e-4)  # layer 1 head 1 by default


def test_layer_and_head_selectors_pick_that_map(page):
    page.selectbox(key="attention.layer").set_value(3)
    page.selectbox(key="attention.head").set_value(2).run()
    _, attn = reference_attention("none-full")
    head = chart(page, "head_map", "none-full")
    np.testing.assert_allclose(values(head["data"][0]["z"]), attn[2, 1], atol=1e-4)
    assert "layer 3, head 2" in head["layout"]["title"]["text"]


def test_shared_model_reuses_weights_yet_layers_attend_differently(page):
    """The point of the page: all-shared runs one attention block in every layer, maps still differ."""
    page.selectbox(key="attention.model").set_value("all-full").run()
    plan = values(chart(page, "plan", "all-full")["data"][0]["z"])
    assert len(set(plan[:, 0])) == 1
    grid = grid_panels(chart(page, "grid", "all-full")["data"][0])
    first, last = grid[1, 1], grid[max(grid)[0], 1]  # head 1 of the first and of the last layer
    assert np.abs(first - last).max() > 1e-3


def test_compare_mode_draws_both_models_side_by_side(page):
    page.toggle(key="attention.compare").set_value(True).run()
    page.selectbox(key="attention.model_b").set_value("minilm-l6").run()
    assert not page.exception and not page.error
    for name, cfg in (("none-full", fake_config("none-full")), ("minilm-l6", load_model("minilm-l6").config)):
        enc, _ = reference_attention(name)
        check_model_charts(page, name, cfg, len(enc.tokens))
    assert len(iframes(page)) == 2
    # the selectors offer MiniLM's 6 layers and 12 heads; the small model shows its last ones, with a note
    page.selectbox(key="attention.layer").set_value(6)
    page.selectbox(key="attention.head").set_value(12).run()
    assert not page.exception and not page.error
    assert "only 3 layers and 2 heads" in " ".join(c.value for c in page.caption)
    assert "layer 3, head 2" in chart(page, "head_map", "none-full")["layout"]["title"]["text"]
    _, minilm = reference_attention("minilm-l6")
    np.testing.assert_allclose(values(chart(page, "head_map", "minilm-l6")["data"][0]["z"]), minilm[5, 11],
                               atol=1e-4)


def test_sentence_pair_marks_both_segments(page):
    page.text_input(key="attention.pair").input("It slept all day.").run()
    enc, _ = reference_attention("none-full", pair="It slept all day.")
    assert enc.tokens.count("[SEP]") == 2
    check_model_charts(page, "none-full", fake_config("none-full"), len(enc.tokens))
    assert "Sentence A -\\u003e Sentence B" in iframes(page)[0] or "Sentence A -> Sentence B" in iframes(page)[0]


def test_bertviz_model_view_is_offline(page):
    page.radio(key="attention.bertviz_view").set_value("model").run()
    doc = iframes(page)[0]
    assert '"Layers"' in doc  # bertviz's model view script, not the head view's
    assert "cdnjs" not in doc and "require.js/2.3.6" not in doc
    assert "d3js.org v5" in doc and "jQuery v3" in doc


def test_mask_a_token_follows_the_model_picker_and_minilm_says_why_not(page):
    tok = load_tokenizer()
    page.toggle(key="attention.compare").set_value(True).run()
    page.selectbox(key="attention.model_b").set_value("minilm-l6").run()
    page.selectbox(key="attention.mask_pos").set_value(2)  # "cat"
    page.number_input(key="attention.mask_topk").set_value(4).run()
    assert not page.exception and not page.error
    masked = mask_token(tok, SENTENCE, 2)
    assert masked == "The [MASK] sat on the mat because it was tired."
    assert [k for k in charts(page) if k.startswith("attention.mask_chart.")] == ["attention.mask_chart.none-full"]
    assert any("cannot fill in [MASK]" in i.value for i in page.info)
    # now pick other models above: the section follows them
    page.selectbox(key="attention.model").set_value("none-hashed").run()
    page.selectbox(key="attention.model_b").set_value("all-full").run()
    assert not page.exception and not page.error
    names = [k for k in charts(page) if k.startswith("attention.mask_chart.")]
    assert names == ["attention.mask_chart.none-hashed", "attention.mask_chart.all-full"]
    for name in ("none-hashed", "all-full"):
        expected = load_model(name).predict_masked(masked, top_k=4, target="cat")[0]
        fig = chart(page, "mask_chart", name)
        np.testing.assert_allclose(values(fig["data"][0]["x"]), expected["probs"], rtol=1e-5)
        assert fig["layout"]["xaxis"]["range"] == [0, 1]
        probs = torch.softmax(load_model(name).as_masked_lm()(torch.tensor([tok.encode(masked).ids]))[0][0, 2], -1)
        rank = int((probs > probs[tok.token_to_id("cat")]).sum()) + 1  # independent of predict_masked's count
        assert expected["target_rank"] == rank
        assert any(f"rank {rank:,} of" in c.value for c in page.caption), name


def test_same_weights_sentence_is_computed_from_the_bars(page):
    page.selectbox(key="attention.model").set_value("all-full").run()
    bars = chart(page, "plan", "all-full")["data"][-1]
    ent = values(bars["x"])
    line = next(m.value for m in page.markdown if m.value.startswith("**On this sentence:**"))
    assert f"{ent.min():.2f} to {ent.max():.2f}" in line and "layers 1, 2, 3" in line
    page.selectbox(key="attention.model").set_value("none-full").run()
    assert any("no block is shared" in m.value for m in page.markdown)


def test_empty_input_gives_a_hint_and_no_charts(page):
    page.text_input(key="attention.text").input("   ").run()
    assert not page.exception
    assert any("Type a sentence" in i.value for i in page.info)
    assert not page.get("plotly_chart")


def test_5000_characters_are_cut_to_the_model_maximum_with_a_notice(page):
    page.text_input(key="attention.text").input("to be or not to be " * 264).run()  # 5016 characters
    assert not page.exception
    assert any("5,016 characters" in i.value for i in page.info)
    assert any("reads at most 64" in w.value for w in page.warning)
    head = values(chart(page, "head_map", "none-full")["data"][0]["z"])
    assert head.shape == (64, 64)
    np.testing.assert_allclose(head.sum(-1), 1.0, atol=64 * 6e-5)
    assert "first 32 of 64 tokens" in chart(page, "grid", "none-full")["layout"]["title"]["text"]


def test_html_in_the_sentence_is_shown_as_text_everywhere(page):
    """MiniLM's vocabulary has '<' and '>' as pieces (the zoo's reads them as [UNK]), so its labels carry them."""
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
    page.selectbox(key="attention.model").set_value("minilm-l6")
    page.text_input(key="attention.text").input(hostile).run()
    assert not page.exception and not page.error
    for name, fig in charts(page).items():
        assert "<script" not in json.dumps(fig) and "<img" not in json.dumps(fig), name
    ticks = chart(page, "head_map", "minilm-l6")["layout"]["xaxis"]["ticktext"]
    assert "&lt;" in ticks and "&gt;" in ticks
    doc = iframes(page)[0]
    assert "<img" not in doc and "alert(1)" not in doc.split("const params")[0]
    assert "\\u003c" in doc


def test_bertviz_pages_do_not_pile_up_in_memory(page):
    """st.iframe parses its HTML as a possible URL, and Python 3.11's urlsplit caches its last 128 inputs: each
    bertviz page (0.1–1 MB) stayed alive there until the page clears that cache after drawing its frames."""
    tracemalloc.start()
    try:
        for i in range(6):
            page.text_input(key="attention.text").set_value(f"{SENTENCE} Number {i}.").run()
            assert iframes(page) and len(iframes(page)[0]) > 20_000  # a bertviz page was drawn
        held = sum(s.size for s in tracemalloc.take_snapshot().statistics("filename")
                   if s.traceback[0].filename.endswith("urllib/parse.py"))
    finally:
        tracemalloc.stop()
    assert held < 100_000, f"urllib.parse still holds {held / 1e6:.1f} MB after 6 bertviz pages"
