"""Convergence library: real short training runs, per-use gradient contributions, zoo-log parsing."""

import math
from collections import Counter

import numpy as np
import pytest
import torch

from albertviz.analysis.gradients import block_uses, per_use_gradients
from albertviz.core.model import MaskedLM
from albertviz.core.params import count_parameters, flops_per_token
from albertviz.core.sharing import layer_plan, plan_letters
from albertviz.data.corpus import CHAR_SPECIALS, load_text
from albertviz.lessons import verdicts
from albertviz.lessons.convergence import (
    grad_series,
    loss_curve,
    median_ratio,
    mlm_batch,
    shared_vs_unshared,
    zoo_entries,
    zoo_seed_losses,
)
from albertviz.lessons.live import LiveRun, pooled_losses
from albertviz.lessons.live_settings import LiveSettings, frequency_only_loss, live_config, live_data, validation_batch
from albertviz.lessons.step_time import step_time_ratios, synthetic_data
from albertviz.training.data import held_out_batch
from albertviz.zoo.cells import zoo_config

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


@pytest.mark.slow
def test_a_short_real_run_logs_a_decreasing_loss(data):
    """40 interleaved steps of two tiny models on Shakespeare: the loss falls well below ln(V) at start."""
    run = LiveRun(LiveSettings(modes=("none", "all"), steps=40, lr=3e-3, warmup=5, batch_size=8,
                               eval_every=20), data)
    run.run()
    assert run.done and run.rounds == 40 and not run.stopped
    assert list(run.curves) == [("none", 0), ("all", 0)]  # (arm, seed)
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
    assert run.curves[("none", 0)].held_loss[0] == pytest.approx(run.curves[("all", 0)].held_loss[0], rel=0.02)


def test_the_frequency_plateau_is_the_texts_character_entropy(data):
    """Independent reference: the entropy of the whole text's character counts (collections.Counter)."""
    counts = Counter(load_text())
    n = sum(counts.values())
    entropy = -sum(c / n * math.log(c / n) for c in counts.values())
    assert frequency_only_loss(data) == pytest.approx(entropy, abs=0.02)
    assert 3.0 < entropy < 3.4  # English letters' entropy, ≈ 4.1-4.4 bits


@pytest.mark.slow
def test_the_default_run_learns_context_not_just_frequencies(data):
    """600 steps at the page's settings take a model below the frequency-only loss: it reads its neighbours."""
    run = LiveRun(LiveSettings(modes=("none",), steps=600, eval_every=300), data)
    run.run()
    assert run.curves[("none", 0)].held_loss[-1] < frequency_only_loss(data) - 0.25


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
    with pytest.raises(ValueError, match="different seeds"):
        LiveRun(LiveSettings(seeds=(1, 1)), data)
    with pytest.raises(ValueError, match="Unknown experiment"):
        LiveRun(LiveSettings(experiment="bigger"), data)


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


@pytest.mark.slow
def test_step_time_ratios_report_params_flops_and_time():
    out = step_time_ratios(modes=("none", "all"), steps=2, warmup_steps=1, batch_size=2, seq_len=16,
                           data=synthetic_data(zoo_config("none", "full").vocab_size, 16, n=80))
    assert out["none"]["step_time_ratio"] == 1.0
    H, F = 128, 512  # the zoo shape; a layer = Q,K,V,O + LayerNorm, then up, down + LayerNorm
    layer = 4 * (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H
    assert out["none"]["params"] - out["all"]["params"] == 5 * layer  # sharing removes 5 of 6 layers' weights …
    assert out["all"]["params_ratio"] == pytest.approx(1 - 5 * layer / out["none"]["params"])
    assert out["all"]["flops_ratio"] == 1.0  # … but every layer still runs
    assert all(v["median_step_s"] > 0 and math.isfinite(v["step_time_ratio"]) and v["step_time_ratio"] > 0
               for v in out.values())  # timing ratios themselves belong in `make bench`


# ---------------------------------------------------------------- Takase & Kiyono in the live trainer

@pytest.mark.parametrize(("strategy", "groups", "letters"), [("sequence", 2, "AABB"), ("cycle", 2, "ABAB"),
                                                            ("cycle_rev", 2, "ABBA"), ("cycle", 1, "AAAA")])
def test_strategy_and_groups_reach_the_live_models(data, strategy, groups, letters):
    """The settings build the shared models the plan says (N = 2M here, where every cycle_rev rule agrees)."""
    run = LiveRun(LiveSettings(modes=("none", "all", "ffn"), share_strategy=strategy, num_groups=groups, steps=1,
                               batch_size=2), data)
    for mode in ("all", "ffn"):
        model = run.trainers[(mode, 0)].model
        assert model.config.share_strategy == strategy and model.config.num_groups == groups
        assert model.encoder.plan == layer_plan(model.config)
        assert plan_letters(model.config)[1] == letters  # the FFN plan, shared in both modes
        assert len(model.encoder.ffn_blocks) == groups
    flat = run.trainers[("none", 0)].model
    assert len(flat.encoder.ffn_blocks) == 4 and flat.config.num_groups == 1
    if groups > 1:
        assert "(M=2" in run.labels()["all"]


# ---------------------------------------------------------------- Lin et al.'s equal-parameter experiment

def tiny_lin(**changes) -> LiveSettings:
    from dataclasses import replace

    return replace(LiveSettings.default("equal_params"), steps=4, batch_size=4, eval_every=2, **changes)


@pytest.fixture(scope="module")
def lin_run(data):
    run = LiveRun(tiny_lin(seeds=(0, 1), flops_reference=True), data)
    run.run()
    return run


@pytest.mark.slow
def test_equal_parameter_arms_have_equal_parameters_and_double_flops(lin_run):
    arms = lin_run.arms
    flat, shared = arms["unshared"].config, arms["shared"].config
    assert (flat.num_layers, shared.num_layers, shared.num_groups) == (2, 4, 2)
    assert plan_letters(shared)[0] == "ABAB"  # the default order: the 2-layer stack run twice
    counted = count_parameters(flat, include_head=True).total
    assert count_parameters(shared, include_head=True).total == counted
    for seed in (0, 1):  # the real modules agree with the counter
        for arm in ("unshared", "shared"):
            assert sum(p.numel() for p in lin_run.trainers[(arm, seed)].model.parameters()) == counted
    H, F, T = 64, 256, 16  # independent: per layer Q, K, V, O (4·H²), FFN (2·H·F), scores + mix (2·T·H) MACs
    assert flops_per_token(flat, T) == 2 * 2 * (4 * H * H + 2 * H * F + 2 * T * H)
    assert lin_run.flops_ratio() == 2.0
    rows = {r["arm"]: r for r in lin_run.summary()}
    assert rows["deep"]["flops_per_token"] == rows["shared"]["flops_per_token"]
    assert rows["deep"]["params"] > rows["shared"]["params"] == rows["unshared"]["params"]


@pytest.mark.slow
def test_the_sweep_picks_by_validation_and_reports_on_test(lin_run, data):
    s = lin_run.settings
    assert s.sweep_points() == [(2e-3, 30), (1e-3, 30), (4e-3, 30)]  # the untuned setting first
    val, test = validation_batch(data, V), held_out_batch(data, V)
    assert not set(data.held_idx[-256:]) & set(data.held_idx[:256])  # disjoint windows
    assert not torch.equal(val[0], test[0])
    rows = lin_run.sweep_rows()
    assert len(rows) == 3 and sum(r["chosen"] for r in rows) == 1
    best = min(rows, key=lambda r: r["validation_loss"])
    assert best["chosen"]
    key = lin_run.tuned_key()
    assert (lin_run.arms[key].lr, lin_run.arms[key].warmup) == (best["lr"], best["warmup"])
    tuned = lin_run.losses()["tuned"]
    assert tuned == {seed: lin_run.curves[(key, seed)].held_loss[-1] for seed in (0, 1)}
    assert lin_run.runs_used() == 2 * (3 + 1 + 1)  # (sweep of 3 + shared + deep) × 2 seeds


@pytest.mark.slow
def test_summary_rows_are_the_seeds_mean_and_spread(lin_run):
    assert [r["arm"] for r in lin_run.summary()] == ["unshared", "shared", "tuned", "deep"]
    for row in lin_run.summary():
        finals = list(lin_run.losses()[row["arm"]].values())
        assert row["held_out_loss"] == pytest.approx(np.mean(finals))
        assert row["held_out_sd"] == pytest.approx(np.std(finals, ddof=1))
        assert row["seeds"] == 2 and row["steps"] == 4


@pytest.mark.slow
def test_runs_are_deterministic_per_seed(data):
    a = LiveRun(tiny_lin(seeds=(3,), lr_factors=()), data)
    b = LiveRun(tiny_lin(seeds=(3,), lr_factors=()), data)
    c = LiveRun(tiny_lin(seeds=(4,), lr_factors=()), data)
    for r in (a, b, c):
        r.run()
    assert a.losses() == b.losses()
    assert a.curves[("shared", 3)].loss == b.curves[("shared", 3)].loss
    assert a.losses()["shared"][3] != c.losses()["shared"][4]


def test_pooled_losses_join_runs_that_differ_only_in_seeds(data):
    from dataclasses import replace

    base = LiveSettings(modes=("none", "all"), steps=2, batch_size=2)
    runs = [LiveRun(replace(base, seeds=(seed,)), data) for seed in (0, 1)]
    other = LiveRun(replace(base, seeds=(2,), lr=1e-3), data)  # other settings: not pooled
    for r in [*runs, other]:
        r.run()
    losses, labels = pooled_losses([*runs, other], base)
    assert losses == {"none": {0: runs[0].losses()["none"][0], 1: runs[1].losses()["none"][1]},
                      "all": {0: runs[0].losses()["all"][0], 1: runs[1].losses()["all"][1]}}
    assert labels == {"none": "not shared", "all": "all-shared"}


# ---------------------------------------------------------------- the zoo's seeds

def test_zoo_seed_losses_read_extra_seeds_and_tolerate_their_absence():
    manifest = {"models": {"none-full": {"held_out_loss": 5.0, "log": []},
                           "all-full": {"log": [{"step": 1, "held_out_loss": 9.0}, {"step": 9, "held_out_loss": 6.0}]},
                           "ffn-full": {"log": [{"step": 1, "loss": 3.0}]}},  # no held-out loss anywhere
                "seeds": {"none-full": {"1": {"held_out_loss": 5.2}, "2": {"held_out_loss": 4.9}, "x": {}},
                          "all-full": {"2": {"held_out_loss": 6.1}}}}
    assert zoo_seed_losses(manifest, "full") == {"none": {0: 5.0, 1: 5.2, 2: 4.9}, "all": {0: 6.0, 2: 6.1}}
    assert zoo_seed_losses({"models": manifest["models"]}, "full") == {"none": {0: 5.0}, "all": {0: 6.0}}
    assert zoo_seed_losses({}, "full") == {} and zoo_seed_losses({"models": [], "seeds": 3}, "full") == {}
    assert zoo_seed_losses(manifest, "hashed") == {}


# ---------------------------------------------------------------- verdicts on constructed numbers

def test_a_gap_inside_the_seed_spread_does_not_separate():
    g = verdicts.gap("all-shared", {0: 3.0, 1: 3.5, 2: 2.6, 3: 3.2}, "not shared", {0: 3.3, 1: 3.1, 2: 3.0, 3: 3.45})
    assert g.diffs == pytest.approx((-0.3, 0.4, -0.4, -0.25)) and not g.separated
    assert g.sentence() == ("All-shared ended 0.14 ± 0.36 nats lower than not shared over 4 seeds: smaller than "
                            "the spread between seeds, so these runs do not separate the two.")


def test_a_gap_beyond_the_spread_in_every_seed_separates():
    g = verdicts.gap("all-shared", {0: 2.5, 1: 2.6, 2: 2.55}, "not shared", {0: 2.9, 1: 2.95, 2: 3.0})
    assert g.separated and g.direction == -1
    assert g.sentence().endswith("so in these runs all-shared ends lower than not shared.")
    assert "0.40 ± 0.05 nats lower" in g.sentence()


def test_few_or_disagreeing_seeds_are_not_evidence():
    one = verdicts.gap("a", {7: 1.0}, "b", {7: 1.5, 8: 1.0})  # paired: only seed 7 is shared
    assert one.n == 1 and not one.separated
    assert "0.50 nats lower than b with one seed (seed 7) — one seed: not evidence" in one.sentence()
    two = verdicts.gap("a", {0: 1.0, 1: 1.1}, "b", {0: 1.5, 1: 1.5})
    assert not two.separated and "two seeds are too few" in two.sentence()
    split = verdicts.gap("a", {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}, "b", {0: 2.0, 1: 2.0, 2: 2.0, 3: 0.95})
    assert split.beyond_spread and split.against == 1 and not split.separated
    assert "1 of 4 seeds point the other way" in split.sentence()
    with pytest.raises(ValueError, match="share no seed"):
        verdicts.gap("a", {0: 1.0}, "b", {1: 1.0})


LIN_LABELS = {"unshared": "the unshared model", "shared": "the shared model", "tuned": "the tuned model",
              "deep": "the deep model"}


def lin(shared, unshared, tuned, deep=None, tuned_is_base=False):
    losses = {"unshared": dict(enumerate(unshared)), "shared": dict(enumerate(shared)),
              "tuned": dict(enumerate(tuned))} | ({"deep": dict(enumerate(deep))} if deep else {})
    return " ".join(verdicts.lin_verdict(losses, LIN_LABELS, 2.0, 3, tuned_is_base, steps=400, plateau=3.18))


def test_lin_verdict_when_the_paper_reproduces():
    """Shared (2× FLOPs) beats unshared; tuning the unshared model closes the gap: Lin et al.'s convergence story."""
    text = lin(shared=[2.50, 2.52, 2.51], unshared=[2.70, 2.71, 2.69], tuned=[2.52, 2.49, 2.53])
    assert "The shared model ended 0.19 ± 0.01 nats lower than the unshared model over 3 seeds" in text
    assert "closed the gap" in text and "as Lin et al. argue" in text and "does not reproduce" not in text
    assert "2 extra runs per seed" in text  # the sweep's cost, said


def test_lin_verdict_when_tuning_does_not_close_the_gap():
    text = lin(shared=[2.50, 2.52, 2.51], unshared=[2.70, 2.71, 2.69], tuned=[2.65, 2.66, 2.64])
    assert "did not close the gap" in text and "(complexity)" in text and "as Lin et al. argue" not in text
    same_flops = lin(shared=[2.50, 2.52, 2.51], unshared=[2.70, 2.71, 2.69], tuned=[2.65, 2.66, 2.64],
                     deep=[2.52, 2.49, 2.50])
    assert "won about as much as an unshared model with its 2.0× FLOPs" in same_flops
    base = lin(shared=[2.50, 2.52, 2.51], unshared=[2.70, 2.71, 2.69], tuned=[2.70, 2.71, 2.69], tuned_is_base=True)
    assert "tuned settings are its own" in base


def test_lin_verdict_when_the_paper_does_not_reproduce():
    undecided = lin(shared=[2.95, 2.90, 2.99], unshared=[2.93, 2.96, 2.92], tuned=[2.93, 2.95, 2.92])
    assert "do not separate the two" in undecided and "does not reproduce at this scale" in undecided
    assert "Likely reason: 400 steps" in undecided and "0.25 nats below the 3.18" in undecided
    worse = lin(shared=[2.95, 2.96, 2.97], unshared=[2.80, 2.82, 2.81], tuned=[2.78, 2.80, 2.79])
    assert "did worse despite computing 2.0× the FLOPs" in worse
    assert undecided != worse
    kept = lin(shared=[2.95, 2.90, 2.99], unshared=[2.93, 2.96, 2.92], tuned=[2.93, 2.96, 2.92], tuned_is_base=True)
    assert "did best at its own settings" in kept and "tuned unshared" not in kept


def test_fixed_shape_verdict_and_albert_table_4():
    losses = {"none": {0: 4.8}, "all": {0: 5.3}, "ffn": {1: 5.0}}  # ffn shares no seed with none: skipped
    lines = verdicts.fixed_shape_verdict(losses, {"none": "not shared", "all": "all-shared"})
    assert lines == ["All-shared ended 0.50 nats higher than not shared with one seed (seed 0) — one seed: not "
                     "evidence; run more seeds and set the gap against the spread between them."]
    assert verdicts.fixed_shape_verdict({"all": {0: 1.0}}, {}) == []
    assert (verdicts.table_4_drop(768), verdicts.table_4_drop(128)) == (2.5, 1.5)
