"""The Convergence page: zoo training logs, a shared gradient taken apart, live experiments that can be stopped,
and the computed verdicts.

Zoo cells land one by one, so the zoo sections run against a small *fake zoo*: untrained cells (3 layers,
H32) with hand-written training logs (and, where a test adds them, extra seeds), loaded through the real zoo
code. The live runs are real: tiny models, a few steps on Shakespeare.
"""

import json
import math
import threading
import time
from dataclasses import replace

import pytest
import torch
from conftest import page_file
from fake_zoo import clear_caches, write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import count_parameters, zoo
from albertviz.core.config import SHARING_MODES
from albertviz.lessons import run_store, runs, shared_run, verdicts
from albertviz.lessons.live_settings import LiveSettings, frequency_only_loss, live_data
from albertviz.training.trainer import Trainer
from albertviz.zoo.cells import zoo_config
from albertviz_app.ui import live_runs

CELLS = ["none-full", "all-full"]


def fake_log(sharing: str) -> list[dict]:
    """A log shaped like the trainer's: the shared block's gradient sums its three uses."""
    names = ["attention.0", "ffn.0"] if sharing == "all" else [f"{k}.{i}" for k in ("attention", "ffn")
                                                                  for i in range(3)]
    scale = 3.0 if sharing == "all" else 1.0
    return [{"step": s, "loss": 10.0 - s / 20, "step_time": 0.2 + s / 1e4,
             "grad_norm": {"embeddings": 1.0, **{n: scale / (1 + s / 50) for n in names}, "head": 0.5},
             **({"held_out_loss": 9.9 - s / 25} if s in (1, 100) else {})} for s in (1, 25, 50, 75, 100)]


def log_entry(name: str) -> dict:
    sharing, embedding = name.split("-")
    return {"sharing": sharing, "embedding": embedding, "params": {"with_head": 1_000_000 if sharing == "none"
                                                                  else 700_000},
            "train_config": {"steps": 100}, "held_out_loss": 5.5, "log": fake_log(sharing)}


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    torch.set_num_threads(1)  # 2 shared cores
    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, CELLS, entry=log_entry)
    with zoo_at(root):
        yield root


@pytest.fixture(autouse=True)
def fresh_live_runs(monkeypatch, tmp_path):
    """Each test gets its own run registry, and finished runs go to a temporary folder, not the user's cache."""
    monkeypatch.setenv("ALBERTVIZ_LIVE_RUNS", str(tmp_path / "live_runs"))
    live_runs.registry.clear()
    yield
    live_runs.registry().join(120)  # no worker outlives its test
    live_runs.registry.clear()


def charts(at) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def new_page() -> AppTest:
    at = AppTest.from_file(page_file("convergence"), default_timeout=900)
    at.run()
    assert not at.exception, at.exception
    return at


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def with_seeds(root, losses: dict[str, dict[int, float]]) -> None:
    """Give the fake zoo's cells these final held-out losses: seed 0 in `models`, others in `seeds` (zoo v2)."""
    path = root / zoo.MANIFEST_NAME
    manifest = json.loads(path.read_text())
    for cell, by_seed in losses.items():
        manifest["models"][cell]["held_out_loss"] = by_seed[0]
        for seed, loss in by_seed.items():
            if seed:
                manifest.setdefault("seeds", {}).setdefault(cell, {})[str(seed)] = {"held_out_loss": loss, "log": []}
    path.write_text(json.dumps(manifest))
    clear_caches()


def test_zoo_sections_draw_the_logged_numbers(fake_zoo):
    at = new_page()
    figs = charts(at)
    loss = {t["name"]: t for t in figs["convergence.zoo_loss"]["data"]}
    assert loss["not shared · train"]["y"] == [r["loss"] for r in fake_log("none")]
    assert loss["all-shared · held-out"]["x"] == [1, 100]  # the logged evaluations; 100 is the last step
    grads = {t["name"] for t in figs["convergence.zoo_grads"]["data"]}
    assert "all-shared: attention block (used 3×)" in grads
    assert {f"not shared: attention layer {i}" for i in (1, 2, 3)} <= grads
    captions = " ".join(c.value for c in at.caption)
    assert "3.0× a not-shared layer" in captions
    assert "AdamW" in captions and "moves all 3 of its uses at once" in captions  # uses counted from the plan
    assert "distil" not in captions.lower() and "distil" not in text(at).lower()
    assert at.selectbox(key="convergence.peruse_block").options == ["attention block 1", "ffn block 1"]

    # the per-use view splits the real gradient of the fake all-shared cell into its 3 uses
    bars = figs["convergence.peruse_chart"]["data"][0]
    assert bars["x"][:3] == ["use in layer 1", "use in layer 2", "use in layer 3"]
    sum_norm, true_norm = bars["y"][3], bars["y"][4]
    assert sum_norm == pytest.approx(true_norm, rel=1e-4) and true_norm > 0
    diff = next(m for m in at.metric if m.label == "largest element difference")
    assert float(diff.value) < 1e-5



@pytest.mark.slow
def test_timing_the_zoo_shape_puts_parameters_next_to_step_time(fake_zoo):
    """The button times the four sharing modes in turn; the parameter bars are count_parameters' ratios."""
    at = new_page()
    assert "convergence.steptime_zoo" not in charts(at)
    at.button(key="convergence.time_zoo").click().run()
    assert not at.exception, at.exception
    params, times = charts(at)["convergence.steptime_zoo"]["data"]
    counts = [count_parameters(zoo_config(m, "full"), include_head=True).total for m in SHARING_MODES]
    assert params["y"] == pytest.approx([c / counts[0] for c in counts])
    # Measured time: structure, finite and positive only (how much faster is `make bench`'s business, not a test's).
    assert times["x"] == params["x"] and len(times["y"]) == len(SHARING_MODES)
    assert times["y"][0] == pytest.approx(1.0) and all(math.isfinite(t) and t > 0 for t in times["y"])


def test_page_without_a_zoo_still_works(fake_zoo, monkeypatch, tmp_path):
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    clear_caches()
    at = new_page()
    assert any("No zoo model has finished training" in i.value for i in at.info)
    assert at.selectbox(key="convergence.peruse_model").value == "untrained"
    assert "convergence.peruse_chart" in charts(at)
    clear_caches()


def test_the_zoo_verdict_follows_the_seeds_in_the_manifest(tmp_path):
    """One seed: not evidence; three seeds that agree: a gap; three that scatter: no separation."""
    write_fake_zoo(tmp_path, CELLS, entry=log_entry)
    with zoo_at(tmp_path):
        with_seeds(tmp_path, {"none-full": {0: 5.0}, "all-full": {0: 5.4}})
        one = text(new_page())
        assert "All-shared ended 0.40 nats higher than not shared with one seed (seed 0) — one seed: not " \
               "evidence" in one and "one seed per cell" in one
        with_seeds(tmp_path, {"none-full": {0: 5.0, 1: 5.1, 2: 4.9}, "all-full": {0: 5.4, 1: 5.45, 2: 5.35}})
        agree = text(new_page())
        assert "All-shared ended 0.40 ± 0.05 nats higher than not shared over 3 seeds" in agree
        assert "so in these runs all-shared ends higher than not shared" in agree
        with_seeds(tmp_path, {"none-full": {0: 5.0, 1: 5.6, 2: 4.9}, "all-full": {0: 5.4, 1: 5.1, 2: 5.35}})
        scatter = text(new_page())
        assert "over 3 seeds: smaller than the spread between seeds, so these runs do not separate" in scatter
    clear_caches()


def test_the_headline_attributes_the_claim_and_computes_the_rest(fake_zoo):
    at = new_page()
    page = text(at)
    assert "Lin et al. (2023, *Understanding Parameter Sharing in Transformers*) claim**" in page
    assert "sharing helps mainly through better convergence" not in page
    assert f"{verdicts.table_4_drop(768):.1f} Avg points below not-shared at E=768" in page.replace("\n", " ")
    assert "*Live, equal parameters (Lin et al.'s comparison):* not run yet" in page
    vocab = f"{zoo_config('none', 'full').vocab_size:,} word pieces"
    assert vocab in page and ("30,522" not in page or vocab.startswith("30,522"))


def test_live_widgets_start_at_the_settings_make_bench_times(fake_zoo):
    at = new_page()
    defaults = LiveSettings.default("same_shape")
    assert at.radio(key="convergence.experiment").value == "same_shape"
    assert at.multiselect(key="convergence.live_modes").value == list(defaults.modes)
    assert at.select_slider(key="convergence.lr").value == defaults.lr
    assert at.number_input(key="convergence.warmup").value == defaults.warmup
    assert at.number_input(key="convergence.steps").value == defaults.steps
    assert at.number_input(key="convergence.seed").value == defaults.seed
    assert at.number_input(key="convergence.seeds").value == len(defaults.seeds)
    assert at.selectbox(key="convergence.strategy").value == defaults.share_strategy
    assert at.number_input(key="convergence.groups").value == defaults.num_groups
    at.radio(key="convergence.experiment").set_value("equal_params").run()
    lin = LiveSettings.default("equal_params")
    assert at.number_input(key="convergence.lin_layers").value == lin.layers
    assert at.selectbox(key="convergence.lin_strategy").value == lin.share_strategy
    assert at.number_input(key="convergence.lin_steps").value == lin.steps
    assert at.number_input(key="convergence.lin_seeds").value == len(lin.seeds)
    assert at.multiselect(key="convergence.lin_lr_factors").value == list(lin.lr_factors)
    assert at.multiselect(key="convergence.lin_sweep_warmups").value == [lin.warmup]
    assert at.checkbox(key="convergence.lin_deep").value is lin.flops_reference


@pytest.mark.slow
def test_the_equal_parameter_experiment_runs_and_reports_each_arm(fake_zoo):
    """Tiny settings: one row per arm whose mean ± s.d. are the seeds' own numbers, and a computed verdict."""
    at = new_page()
    at.radio(key="convergence.experiment").set_value("equal_params").run()
    at.number_input(key="convergence.lin_steps").set_value(3)
    at.number_input(key="convergence.lin_seeds").set_value(2)
    at.button(key="convergence.train").click().run()
    assert not at.exception, at.exception
    run = at.session_state["convergence.run"]
    assert run.done and run.experiment == "equal_params" and run.settings.seeds == (0, 1)
    rows = table(at, "FLOPs / token")
    losses = run.losses()
    assert list(rows["model"]) == [run.labels()[k] for k in ("unshared", "shared", "tuned")]
    for row, arm in zip(rows.to_dict("records"), ("unshared", "shared", "tuned"), strict=True):
        finals = list(losses[arm].values())
        assert row["held-out loss"] == pytest.approx(sum(finals) / 2)
        assert row["± s.d. over seeds"] == pytest.approx(abs(finals[0] - finals[1]) / 2 ** 0.5)
        assert row["seeds"] == 2 and row["steps"] == 3
    assert rows["parameters"].nunique() == 1  # equal parameters by construction …
    assert list(rows["FLOPs / token"])[1] == 2 * list(rows["FLOPs / token"])[0]  # … and twice the FLOPs
    sweep = table(at, "validation loss (picks)")
    assert len(sweep) == 3 and sweep["tuned arm"].sum() == 1
    seeds_chart = {t["name"]: t for t in charts(at)["convergence.live_seeds"]["data"] if t["type"] == "scatter"}
    assert seeds_chart[run.labels()["shared"]]["y"] == pytest.approx(list(losses["shared"].values()))
    expected = verdicts.lin_verdict(losses, run.short_labels(), 2.0, 3, run.tuned_key() == "unshared", 3,
                                    frequency_only_loss(live_data()))
    assert "**What this run shows:** " + " ".join(expected) in text(at)
    assert "*Live, equal parameters (Lin et al.'s comparison):* " + " ".join(expected) in text(at)


@pytest.mark.slow
def test_a_tiny_live_run_trains_and_is_cached(fake_zoo):
    at = new_page()
    at.number_input(key="convergence.steps").set_value(4)
    at.number_input(key="convergence.warmup").set_value(2)
    at.button(key="convergence.train").click().run()
    assert not at.exception, at.exception
    run = at.session_state["convergence.run"]
    assert run.done and run.rounds == 4 and set(run.curves) == {("none", 0), ("all", 0)}
    live = {t["name"]: t for t in charts(at)["convergence.live_final"]["data"]}
    assert live["all-shared · train"]["y"] == pytest.approx(run.curves[("all", 0)].loss)
    assert len(live["not shared · train"]["x"]) == 4
    plateau = charts(at)["convergence.live_final"]["layout"]["shapes"][0]
    assert plateau["y0"] == pytest.approx(frequency_only_loss(live_data()))  # the dashed frequency-only line
    summary = table(at, "held-out loss")
    assert list(summary["model"]) == ["not shared", "all-shared"] and (summary["steps"] == 4).all()
    assert list(summary["held-out loss"]) == pytest.approx([run.curves[(m, 0)].held_loss[-1] for m in ("none", "all")])
    assert "convergence.steptime_live" in charts(at)
    assert "with one seed (seed 0) — one seed: not evidence" in text(at)
    assert "± s.d. over seeds" not in summary.columns  # one seed: no column of empty cells, a sentence instead
    assert any("no spread over seeds to show" in c.value for c in at.caption)

    at.run()  # an ordinary rerun shows the same run: nothing retrains
    assert at.session_state["convergence.run"] is run and run.rounds == 4
    at.button(key="convergence.train").click().run()  # same settings again: the cached result
    assert at.session_state["convergence.run"] is run


@pytest.mark.slow
def test_runs_with_other_seeds_are_listed_side_by_side(fake_zoo):
    """Two finished runs (seeds 0 and 1) appear as two rows holding each model's last held-out loss."""
    at = new_page()
    at.number_input(key="convergence.steps").set_value(3)
    runs = []
    for seed in (0, 1):
        at.number_input(key="convergence.seed").set_value(seed)
        at.button(key="convergence.train").click().run()
        assert not at.exception, at.exception
        runs.append(at.session_state["convergence.run"])
    assert runs[0].settings.seed == 0 and runs[1].settings.seed == 1
    finished = table(at, "seed")
    assert list(finished["seed"]) == [0, 1] and (finished["steps"] == 3).all()
    for row, run in zip(finished.to_dict("records"), runs, strict=True):
        seed = run.settings.seed
        assert row["all-shared: held-out loss"] == pytest.approx(run.curves[("all", seed)].held_loss[-1], abs=1e-3)
        assert row["not shared: held-out loss"] == pytest.approx(run.curves[("none", seed)].held_loss[-1], abs=1e-3)
    assert runs[0].curves[("all", 0)].held_loss[-1] != runs[1].curves[("all", 1)].held_loss[-1], "the seed matters"
    # the verdict pools the two runs: they differ only in their seed
    gap = verdicts.gap("all-shared", {r.settings.seed: r.losses()["all"][r.settings.seed] for r in runs},
                       "not shared", {r.settings.seed: r.losses()["none"][r.settings.seed] for r in runs})
    assert gap.n == 2 and "**What this run shows:** " + gap.sentence() in text(at)


def stop_when(at: AppTest, rounds: int) -> threading.Thread:
    """Press 'stop' (set the flag the Stop button sets) once the shared run has trained `rounds` rounds."""
    def watch():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            shared = at.session_state.get("convergence.shared")
            if shared is not None and shared.rounds >= rounds:
                at.session_state["convergence.stop_flag"] = True
                return
            time.sleep(0.02)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_stop_is_honoured_and_train_resumes(fake_zoo):
    at = new_page()
    at.number_input(key="convergence.steps").set_value(500)
    at.button(key="convergence.train").click()
    watcher = stop_when(at, 2)
    at.run()
    watcher.join()
    assert not at.exception, at.exception
    shared, run = at.session_state["convergence.shared"], at.session_state["convergence.run"]
    assert shared.state == shared_run.STOPPED, "the only session watching it stopped it: its worker is free again"
    assert run.stopped and 2 <= run.rounds < 500
    assert len({len(c.loss) for c in run.curves.values()}) == 1, "interleaved: every model stopped at one step"
    assert any("Stopped after" in w.value for w in at.warning)

    done = shared.rounds
    at.button(key="convergence.stop").click().run()  # pressing Stop again trains nothing
    assert shared.rounds == done and shared.state == shared_run.STOPPED

    at.button(key="convergence.train").click()  # same settings: go on from where it stopped
    watcher = stop_when(at, done + 2)
    at.run()
    watcher.join()
    assert at.session_state["convergence.shared"] is shared and done + 2 <= shared.rounds < 500
    assert at.session_state["convergence.run"].curves[("all", 0)].steps == list(range(1, shared.rounds + 1))


def count_steps(monkeypatch) -> list[int]:
    taken = []
    original = Trainer.step

    def step(self):
        taken.append(self.cfg.seed)
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    return taken


@pytest.mark.slow
def test_two_sessions_pressing_train_with_equal_settings_share_one_run(fake_zoo, monkeypatch):
    """Two students, same settings, Train at the same time: one training, the same finished numbers on both pages."""
    sessions = [new_page(), new_page()]
    taken = count_steps(monkeypatch)
    for at in sessions:
        at.number_input(key="convergence.steps").set_value(6)
        at.number_input(key="convergence.warmup").set_value(2)
        at.button(key="convergence.train").click()
    other = threading.Thread(target=sessions[1].run)
    other.start()
    sessions[0].run()
    other.join(600)
    for at in sessions:
        assert not at.exception, at.exception
    a, b = (at.session_state["convergence.run"] for at in sessions)
    assert a is b and a.done and a.rounds == 6
    assert len(taken) == 6 * 2, "two models × 6 steps, trained once for both sessions"
    tables = [table(at, "held-out loss") for at in sessions]
    assert tables[0].equals(tables[1])
    assert list(tables[0]["held-out loss"]) == pytest.approx([a.curves[(m, 0)].held_loss[-1] for m in ("none", "all")])
    assert [charts(at)["convergence.live_final"]["data"] for at in sessions][0] == \
        charts(sessions[1])["convergence.live_final"]["data"]

    # a third student, later: answered from the cache (memory, and the disk folder a replica would read)
    third = new_page()
    third.number_input(key="convergence.steps").set_value(6)
    third.number_input(key="convergence.warmup").set_value(2)
    third.button(key="convergence.train").click().run()
    assert third.session_state["convergence.run"] is a and len(taken) == 12
    key = third.session_state["convergence.shared"].key
    assert (run_store.runs_folder() / key / "run.json").exists()


def test_a_queued_session_sees_its_place_and_an_estimate(fake_zoo, monkeypatch):
    """The words a waiting student reads: the place in the queue, the workers, the estimate and its basis."""
    gate = threading.Event()
    original = Trainer.step
    monkeypatch.setattr(Trainer, "step", lambda self: (gate.wait(60), original(self))[1])
    reg = runs.RunRegistry(live_data, workers=1, folder=None)
    tiny = LiveSettings(modes=("none",), steps=3, batch_size=4)
    first, second, third = (reg.request(replace(tiny, seeds=(s,)), f"s{s}") for s in (0, 1, 2))
    try:
        assert "next in line" in live_runs.queue_text(reg, second)
        text = live_runs.queue_text(reg, third)
        assert "number 2 in the queue" in text and "trains 1 run at once" in text and "first guess" in text
        assert f"≈ {live_runs.seconds(reg.estimate(third).start_s)}" in text
        reg.request(replace(tiny, seeds=(2,)), "another student")
        assert "1 other session asked for the same run" in live_runs.queue_text(reg, third)
    finally:
        gate.set()
        reg.join(120)
    assert first.state == second.state == third.state == shared_run.DONE
