"""The Hidden states page: every widget works for every kind of model, and its charts hold the right numbers.

Zoo cells land one by one while the zoo trains, so the page runs against a small *fake zoo*: untrained
cells (3 layers) for every sharing mode and embedding type, written and loaded through the real zoo code.
The real MiniLM is always there, and live surgery always runs on it.
"""

import json

import numpy as np
import pytest
from conftest import charts, page_file, values
from fake_zoo import write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import ModelConfig, count_parameters
from albertviz.figures import hidden as figs
from albertviz_app.ui.models import label

P = "hidden_states"
FAKE_CELLS = ["none-full", "all-full", "ffn-full", "attention-full", "all-factorized", "none-hashed"]
FAKE_LAYERS = 3


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, FAKE_CELLS)
    with zoo_at(root):
        yield root


@pytest.fixture(scope="module")
def page(fake_zoo):
    at = AppTest.from_file(page_file(P), default_timeout=300)
    at.run()
    assert not at.exception
    return at


def fig1_traces(at) -> dict[str, np.ndarray]:
    """Trace name → y values of the left (L2) panel of Fig. 1."""
    fig = charts(at)[f"{P}.fig1"]
    return {t["name"]: values(t["y"]) for t in fig["data"] if t.get("xaxis", "x") == "x"}


def metric(at, name: str) -> str:
    return next(m.value for m in at.metric if m.label == name)


def layers(key: str) -> int:
    return 6 if key == "minilm-l6" else FAKE_LAYERS


def test_defaults_compare_not_shared_with_all_shared(page):
    assert page.selectbox(key=f"{P}.model_a").value == "none-full"
    assert page.selectbox(key=f"{P}.model_b").value == "all-full"
    assert {f"{P}.sim_a", f"{P}.sim_b", f"{P}.traj_a", f"{P}.traj_b"} <= set(charts(page))


@pytest.mark.parametrize("key", [*FAKE_CELLS, "minilm-l6"])
def test_every_model_gives_a_fig1_series_with_one_point_per_layer(page, key):
    page.selectbox(key=f"{P}.model_a").set_value(key).run()
    assert not page.exception and not page.error
    traces = fig1_traces(page)
    mine = traces[f"{label(key)} · this sentence"]
    assert len(mine) == layers(key) and np.all(mine > 0)
    sim = charts(page)[f"{P}.sim_a"]["data"][0]
    z = values(sim["z"])
    assert z.shape == (layers(key) + 1, layers(key) + 1)
    np.testing.assert_allclose(np.diag(z), 1.0, atol=1e-3)


def test_minilm_shows_its_held_out_average_and_fake_cells_a_note(page):
    page.selectbox(key=f"{P}.model_a").set_value("minilm-l6").run()
    page.selectbox(key=f"{P}.model_b").set_value("all-full").run()
    traces = fig1_traces(page)
    assert len(traces[f"{label('minilm-l6')} · held-out mean"]) == 6
    assert not any("held-out" in n and label("all-full") in n for n in traces)
    assert any("No precomputed held-out average" in i.value and label("all-full") in i.value for i in page.info)


def test_similarity_switch_and_token_trajectory(page):
    page.selectbox(key=f"{P}.model_a").set_value("none-full").run()
    page.radio(key=f"{P}.similarity").set_value("linear CKA").run()
    z = values(charts(page)[f"{P}.sim_b"]["data"][0]["z"])
    np.testing.assert_allclose(np.diag(z), 1.0, atol=1e-3)
    assert np.all((z >= -1e-6) & (z <= 1 + 1e-6))  # CKA lies in [0, 1]
    before = values(charts(page)[f"{P}.traj_a"]["data"][1]["x"])
    token_box = page.selectbox(key=f"{P}.token")
    token_box.set_value(token_box.options[3]).run()
    path = charts(page)[f"{P}.traj_a"]["data"][1]
    assert len(values(path["x"])) == FAKE_LAYERS + 1 and path["text"][0] == "emb"
    assert not np.allclose(values(path["x"]), before)
    page.radio(key=f"{P}.similarity").set_value("cosine").run()
    assert not page.exception


@pytest.mark.parametrize("k", [1, 6])
def test_tie_slider_count_equals_count_parameters(page, k):
    page.radio(key=f"{P}.surgery_op").set_value("tie").run()
    page.slider(key=f"{P}.tie_k").set_value(k).run()
    assert not page.exception and not page.error
    expect = count_parameters(minilm_config().with_(sharing="all", num_groups=1)).total
    assert metric(page, "Parameters after surgery") == f"{expect:,}"
    tv = values(charts(page)[f"{P}.drift_attention"]["data"][0]["y"])
    assert len(tv) == 6 and np.all(tv >= 0)
    if k == 1:  # layer 1 still runs its own weights on the same embedding output: attention unchanged
        assert tv[0] < 1e-3 < tv[1]


def minilm_config() -> ModelConfig:
    from albertviz import PRESETS

    return PRESETS["minilm-l6"]


def test_average_count_equals_count_parameters(page):
    page.radio(key=f"{P}.surgery_op").set_value("average").run()
    assert not page.exception and not page.error
    expect = count_parameters(minilm_config().with_(sharing="all")).total
    assert metric(page, "Parameters after surgery") == f"{expect:,}"


@pytest.mark.parametrize("E", [2, 128, 384])
def test_rank_slider_count_equals_count_parameters(page, E):
    page.radio(key=f"{P}.surgery_op").set_value("factorize").run()
    page.slider(key=f"{P}.rank").set_value(E).run()
    assert not page.exception and not page.error
    expect = count_parameters(minilm_config().with_(embedding="factorized", embedding_size=E)).total
    assert metric(page, "Parameters after surgery") == f"{expect:,}"
    cos = values(charts(page)[f"{P}.drift_tokens"]["data"][0]["y"])
    if E == 384:
        np.testing.assert_allclose(cos, 1.0, atol=1e-4)
    assert f"{P}.spectrum" in charts(page)


def test_empty_long_and_html_input(page):
    page.text_input(key=f"{P}.sentence").set_value("   ").run()
    assert not page.exception and any("Type a sentence" in i.value for i in page.info)
    page.text_input(key=f"{P}.sentence").set_value("word " * 1000).run()
    assert not page.exception and any("cut to fit" in w.value for w in page.warning)
    page.text_input(key=f"{P}.sentence").set_value("<script>alert(1)</script> <b>bold</b>").run()
    assert not page.exception
    payload = json.dumps(charts(page))
    assert "<script" not in payload and "<b>" not in payload and "&lt;" in payload


def test_switching_back_to_a_model_rebuilds_no_figure(page, monkeypatch):
    """Issue 16, item 6: a warm rerun after a model switch reuses the cached figures (building them — a PCA and
    plotly's validation — was most of the rerun); the page still shows the chosen model's numbers."""
    for key in ("ffn-full", "none-full"):  # both models seen once: everything they need is cached
        page.selectbox(key=f"{P}.model_a").set_value(key).run()
    built: list[str] = []

    def counted(name: str):
        build = getattr(figs, name)
        return lambda *args, **kwargs: built.append(name) or build(*args, **kwargs)

    for name in ("fig1_figure", "similarity_heatmap", "trajectory_figure", "token_drift_figure",
                 "attention_drift_figure"):
        monkeypatch.setattr(figs, name, counted(name))
    page.selectbox(key=f"{P}.model_a").set_value("ffn-full").run()
    assert not page.exception and not built, built
    assert any(label("ffn-full") in name for name in fig1_traces(page))
    page.selectbox(key=f"{P}.model_a").set_value("attention-full").run()  # a model not seen yet is drawn afresh
    assert "trajectory_figure" in built and any(label("attention-full") in name for name in fig1_traces(page))
