"""Convergence library: real short training runs, per-use gradient contributions, zoo-log parsing."""

import math
from collections import Counter

import pytest
import torch

from albertviz.convergence import (
    LiveRun,
    LiveSettings,
    block_uses,
    frequency_only_loss,
    grad_series,
    live_config,
    live_data,
    loss_curve,
    median_ratio,
    mlm_batch,
    per_use_gradients,
    shared_vs_unshared,
    step_time_ratios,
    synthetic_data,
    zoo_entries,
)
from albertviz.corpus import CHAR_SPECIALS, load_text
from albertviz.model import MaskedLM

V = len(CHAR_SPECIALS) + len(set(load_text()))  # the live models read characters


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)  # the machine has 2 shared cores
    return live_data()


def test_live_data_is_shakespeare_in_characters(data):
    assert len(data.special) == V and data.special[: len(CHAR_SPECIALS)].all() and not data.special[V - 1]
    assert data.chunks.shape[1] == LiveSettings().seq_len == 16
    body = data.chunks[:3, 1:-1].reshape(-1)
    assert "".join(sorted(set(load_text()))[i - len(CHAR_SPECIALS)] for i in body) == load_text()[:42]


def test_a_short_real_run_logs_a_decreasing_loss(data):
    """40 interleaved steps of two tiny models on Shakespeare: the loss falls well below ln(V) at start."""
    run = LiveRun(LiveSettings(modes=("none", "all"), steps=40, lr=3e-3, warmup=5, batch_size=8,
                               eval_every=20), data)
    run.run()
    assert run.done and run.rounds == 40 and not run.stopped
    for mode, c in run.curves.items():
        assert c.steps == list(range(1, 41)), mode
        assert c.loss[0] == pytest.approx(math.log(V), abs=0.3), "a fresh model is near-uniform"
        first, last = sum(c.loss[:5]) / 5, sum(c.loss[-5:]) / 5
        assert last < first - 0.8, f"{mode}: loss {first:.2f} → {last:.2f} did not decrease"
        assert c.held_steps == [0, 20, 40] and len(c.held_accuracy) == 3
        assert c.held_loss[-1] < c.held_loss[0] - 1.0
        # the trainer's own log (every 10 steps) carries per-component gradient norms
        logged = run.grad_logs()[mode]
        assert [r["step"] for r in logged] == [1, 10, 20, 30, 40]
        assert {"embeddings", "attention.0", "ffn.0", "head"} <= set(logged[0]["grad_norm"])
    # the same seed and batches: both models start from the same loss
    assert run.curves["none"].held_loss[0] == pytest.approx(run.curves["all"].held_loss[0], rel=0.02)


def test_the_frequency_plateau_is_the_texts_character_entropy(data):
    """Independent reference: the entropy of the whole text's character counts (collections.Counter)."""
    counts = Counter(load_text())
    n = sum(counts.values())
    entropy = -sum(c / n * math.log(c / n) for c in counts.values())
    assert frequency_only_loss(data) == pytest.approx(entropy, abs=0.02)
    assert 3.0 < entropy < 3.4  # English letters' entropy, ≈ 4.1-4.4 bits


def test_the_default_run_learns_context_not_just_frequencies(data):
    """600 steps at the page's settings take a model below the frequency-only loss: it reads its neighbours."""
    run = LiveRun(LiveSettings(modes=("none",), steps=600, eval_every=300), data)
    run.run()
    assert run.curves["none"].held_loss[-1] < frequency_only_loss(data) - 0.25


def test_stop_leaves_every_model_at_the_same_step(data):
    run = LiveRun(LiveSettings(modes=("none", "all", "ffn"), steps=50, batch_size=4), data)
    run.run(should_stop=lambda: run.rounds >= 3)
    assert run.stopped and not run.done and run.rounds == 3
    assert {len(c.loss) for c in run.curves.values()} == {3}


def test_live_run_rejects_bad_settings(data):
    with pytest.raises(ValueError, match="at least one"):
        LiveRun(LiveSettings(modes=()), data)
    with pytest.raises(ValueError, match="Unknown sharing"):
        LiveRun(LiveSettings(modes=("everything",)), data)


@pytest.mark.parametrize("sharing", ["all", "ffn", "attention", "none"])
def test_per_use_contributions_sum_to_the_shared_gradient(data, sharing):
    torch.manual_seed(0)
    cfg = live_config(sharing, V)
    model = MaskedLM(cfg)
    inputs, labels = mlm_batch(data, cfg.vocab_size, n=4)
    results = {(r.kind, r.block): r for r in per_use_gradients(model.encoder, model.head, inputs, labels)}

    # an independent reference: the ordinary .backward() through the model as it is
    model.zero_grad()
    out = model.encoder(inputs, output_attentions=False)
    sel = labels != -100
    torch.nn.functional.cross_entropy(model.logits(out.last_hidden_state[sel]), labels[sel]).backward()
    L = cfg.num_layers
    for kind, blocks in (("attention", model.encoder.attention_blocks), ("ffn", model.encoder.ffn_blocks)):
        shared = sharing in ("all", kind)
        assert len(blocks) == (1 if shared else L)
        for i, block in enumerate(blocks):
            r = results[(kind, i)]
            assert r.layers == (list(range(L)) if shared else [i])
            for name, p in block.named_parameters():
                total = sum(c[name] for c in r.contributions)
                torch.testing.assert_close(total, p.grad, rtol=1e-4, atol=1e-7)
            assert r.max_abs_diff < 1e-6
            assert r.sum_norm == pytest.approx(r.true_norm, rel=1e-4)
            if shared:  # several non-zero terms, and they do not simply line up
                assert len(r.use_norms) == L and min(r.use_norms) > 0
                assert r.sum_norm < sum(r.use_norms)


def test_block_uses_and_log_parsing():
    entry = {
        "sharing": "all", "config": live_config("all", V).to_dict(), "held_out_loss": 5.0,
        "train_config": {"steps": 30},
        "log": [{"step": 1, "loss": 10.0, "held_out_loss": 10.1, "grad_norm": {"attention.0": 2.0, "ffn.0": 4.0}},
                {"step": 26, "loss": 6.0, "grad_norm": {"attention.0": 1.0, "ffn.0": 3.0}}],
    }
    assert block_uses(live_config("all", V)) == {"attention.0": 4, "ffn.0": 4}
    assert block_uses(live_config("ffn", V))["attention.3"] == 1
    curve = loss_curve(entry)
    assert curve.steps == [1, 26] and curve.loss == [10.0, 6.0]
    assert curve.held_steps == [1, 30] and curve.held_loss == [10.1, 5.0]
    assert grad_series(entry)["ffn.0"] == ([1, 26], [4.0, 3.0])
    labels = shared_vs_unshared({"all-full": entry}, "ffn")
    assert list(labels) == ["all-shared: ffn block (used 4×)"]
    assert median_ratio([4.0, 6.0, 9.0], [[1.0, 1.0, 3.0], [3.0, 1.0, 3.0]]) == pytest.approx(3.0)  # 2, 6, 3


def test_zoo_entries_degrade_gracefully(monkeypatch, tmp_path):
    import albertviz.zoo as zoo

    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    assert zoo_entries() == {}  # no manifest yet
    (tmp_path / "manifest.json").write_text('{"models": {"none-full": {"embedding": "full", "log": [')
    assert zoo_entries() == {}  # half-written
    (tmp_path / "manifest.json").write_text('{"models": {"none-full": {"embedding": "full", "log": [{}]}}}')
    assert list(zoo_entries("full")) == ["none-full"] and zoo_entries("hashed") == {}


def test_step_time_ratios_report_params_flops_and_time():
    out = step_time_ratios(modes=("none", "all"), steps=2, warmup_steps=1, batch_size=2, seq_len=16,
                           data=synthetic_data(30522, 16, n=80))
    assert out["none"]["step_time_ratio"] == 1.0
    H, F = 128, 512  # the zoo shape; a layer = Q,K,V,O + LayerNorm, then up, down + LayerNorm
    layer = 4 * (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H
    assert out["none"]["params"] - out["all"]["params"] == 5 * layer  # sharing removes 5 of 6 layers' weights …
    assert out["all"]["params_ratio"] == pytest.approx(1 - 5 * layer / out["none"]["params"])
    assert out["all"]["flops_ratio"] == 1.0  # … but every layer still runs
    assert all(v["median_step_s"] > 0 for v in out.values())
