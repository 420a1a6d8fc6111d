"""The Attention page's figure builders: numbers checked against direct numpy formulas, shapes against plans."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from conftest import grid_panels, values

from albertviz import PRESETS, layer_plan
from albertviz.figures import attention as fa

TOKENS = ["[CLS]", "to", "be", "or", "not", "[SEP]"]


def random_attention(L=3, H=2, T=6, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((L, H, T, T)) ** 4  # peaked rows
    return a / a.sum(-1, keepdims=True)


def test_layer_summary_matches_the_textbook_formulas():
    attn = random_attention()
    T = attn.shape[-1]
    s = fa.layer_summary(attn, TOKENS)
    entropy = -(attn * np.log(attn)).sum(-1) / np.log(T)
    np.testing.assert_allclose(s["entropy"], entropy.mean(axis=(1, 2)), rtol=1e-9)
    dist = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    np.testing.assert_allclose(s["distance"], (attn * dist).sum(-1).mean(axis=(1, 2)), rtol=1e-9)
    np.testing.assert_allclose(s["special_share"], attn[..., [0, T - 1]].sum(-1).mean(axis=(1, 2)), rtol=1e-9)
    inner = attn[..., 1:-1] / attn[..., 1:-1].sum(-1, keepdims=True)
    ent_inner = -(inner * np.log(inner)).sum(-1) / np.log(T - 2)
    np.testing.assert_allclose(s["entropy_no_special"], ent_inner.mean(axis=(1, 2)), rtol=1e-9)


@pytest.mark.parametrize("L, H, T", [(3, 2, 6), (6, 12, 40), (1, 1, 2)])
def test_grid_shows_every_head_of_every_layer_under_its_own_name(L, H, T):
    attn = random_attention(L, H, T)
    fig = fa.attention_grid(attn, [f"t{i}" for i in range(T)], max_tokens=32)
    sent = json.loads(pio.to_json(fig))
    assert len(sent["data"]) == 1, "one mosaic: one trace per panel cost the browser up to 0.9 s a draw"
    panels = grid_panels(sent["data"][0])
    n = min(T, 32)
    assert sorted(panels) == [(r, c) for r in range(1, L + 1) for c in range(1, H + 1)]
    for (r, c), z in panels.items():
        np.testing.assert_allclose(z, np.round(attn[r - 1, c - 1, :n, :n], 4), atol=1e-7)
    # the cells between panels are blank, not zeros that would read as "no attention"
    z = values(sent["data"][0]["z"])
    assert np.isnan(z).sum() == z.size - L * H * n * n
    assert ("first 32" in fig.layout.title.text) == (T > 32)
    titles = [a["text"] for a in sent["layout"]["annotations"]]
    assert [t for t in titles if t.startswith("layer")] == [f"layer {r}" for r in range(1, L + 1)]


def test_grid_hover_names_the_layer_head_and_token_pair():
    fig = fa.attention_grid(random_attention(2, 3, 5), [f"t{i}" for i in range(5)])
    trace = fig.data[0]
    assert trace.y[0] == "layer 1 · query #0" and trace.x[-1] == "head 3 · key #4"
    assert "%{y} → %{x}" in trace.hovertemplate and trace.hoverongaps is False


def paragraph_tokens(T: int) -> list[str]:
    return ["[CLS]"] + [f"w{i}<b>" for i in range(T - 2)] + ["[SEP]"]  # markup in a token: escaped, not rendered


UNVALIDATED_BUILDERS = {
    "grid": lambda: fa.attention_grid(random_attention(6, 12, 40), paragraph_tokens(40), max_tokens=32),
    "grid one head": lambda: fa.attention_grid(random_attention(1, 1, 2), paragraph_tokens(2)),
    "head map": lambda: fa.head_heatmap(random_attention(1, 1, 12)[0, 0], paragraph_tokens(12), 0, 0),
    "head map, no hover text": lambda: fa.head_heatmap(random_attention(1, 1, 170)[0, 0], paragraph_tokens(170), 2, 3,
                                                      title="a title"),
    "layer plan": lambda: fa.layer_plan_figure(PRESETS["albert-base"].with_(num_layers=4)),
    "layer plan and entropy": lambda: fa.layer_plan_figure(
        PRESETS["albert-base"].with_(num_layers=6, sharing="attention", num_groups=3, share_strategy="cycle_rev"),
        entropy=np.linspace(0.2, 0.9, 6), title="plan <b>x</b>"),
    "summary": lambda: fa.summary_figure(fa.layer_summary(random_attention(4, 2, 9), paragraph_tokens(9))),
    "mask guesses": lambda: fa.mask_predictions_figure(["king", "<i>queen</i>", "."], [0.5, 0.2, 0.1], "MiniLM",
                                                       hidden="king"),
}


@pytest.mark.parametrize("name", UNVALIDATED_BUILDERS)
def test_figures_built_without_plotlys_checks_are_what_the_checks_would_send(name):
    # These builders skip plotly's validation (its cost, on every new sentence); validating a copy must change
    # nothing the browser gets: no magic-underscore names, colour-scale names, bare titles or None left over.
    fig = UNVALIDATED_BUILDERS[name]()
    assert json.loads(pio.to_json(fig)) == json.loads(pio.to_json(go.Figure(fig.to_dict())))


@pytest.mark.parametrize("preset, changes", [
    ("albert-base", {"num_layers": 6}),
    ("bert-base", {"num_layers": 6}),
    ("albert-base", {"num_layers": 6, "sharing": "ffn"}),
    ("albert-base", {"num_layers": 6, "sharing": "attention", "num_groups": 3, "share_strategy": "cycle_rev"}),
])
def test_layer_plan_figure_colours_follow_block_ids(preset, changes):
    cfg = PRESETS[preset].with_(**changes)
    plan = layer_plan(cfg)
    fig = fa.layer_plan_figure(cfg, entropy=np.linspace(0.3, 0.8, cfg.num_layers))
    z = np.asarray(fig.data[0].z)
    n_attn = max(a for a, _ in plan) + 1
    assert z[:, 0].tolist() == [a for a, _ in plan]
    assert (z[:, 1] - n_attn).tolist() == [f for _, f in plan]
    # same block → same bar colour; the bars show each layer's own entropy
    colours = fig.data[1].marker.color
    for i, (a, _) in enumerate(plan):
        for j, (b, _) in enumerate(plan):
            assert (colours[i] == colours[j]) == (a == b)
    np.testing.assert_allclose(fig.data[1].x, np.linspace(0.3, 0.8, cfg.num_layers))


def test_tokens_are_escaped_for_plotly():
    tokens = ["[CLS]", "<b>", "<img src=x onerror=alert(1)>", "[SEP]"]
    fig = fa.head_heatmap(random_attention(T=4)[0, 0], tokens, 0, 0)
    assert list(fig.layout.xaxis.ticktext) == ["[CLS]", "&lt;b&gt;", "&lt;img src=x onerror=alert(1)&gt;", "[SEP]"]
    assert "<img" not in fig.to_json()


def test_a_long_paragraphs_map_labels_every_few_tokens_and_hovers_every_one():
    """128 labels per axis cost the browser ~1 s a draw; the map keeps ≤ MAX_TICKS, evenly spaced, in order."""
    T = 128
    tokens = [f"w{i}" for i in range(T)]
    fig = fa.head_heatmap(random_attention(T=T)[0, 0], tokens, 0, 0)
    names = list(fig.data[0].x)
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        shown = [names.index(v) for v in axis.tickvals]  # category positions of the labelled ticks
        assert len(shown) <= fa.MAX_TICKS and shown[0] == 0
        assert len(set(b - a for a, b in zip(shown, shown[1:], strict=False))) == 1  # evenly spaced
        assert list(axis.ticktext) == [tokens[i] for i in shown]
    # the hover names every token: each row and column is a category named after its token and position
    assert names == list(fig.data[0].y) == [f"{t} (#{i})" for i, t in enumerate(tokens)]
    assert "%{y} → %{x}" in fig.data[0].hovertemplate and fig.data[0].text is None  # no T² hover strings
    short = fa.head_heatmap(random_attention(T=12)[0, 0], tokens[:12], 0, 0)
    assert list(short.layout.xaxis.ticktext) == tokens[:12]
