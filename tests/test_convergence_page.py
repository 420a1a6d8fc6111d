"""The Convergence page: zoo training logs, a shared gradient taken apart, and a live run that can be stopped.

Zoo cells land one by one, so the zoo sections run against a small *fake zoo*: untrained cells (3 layers,
H32) with hand-written training logs, loaded through the real zoo code. The live run is real: tiny models,
a few steps on Shakespeare.
"""

import json
import threading
import time

import pytest
import torch
from conftest import page_file
from fake_zoo import clear_caches, write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import count_parameters, zoo
from albertviz.config import SHARING_MODES
from albertviz.convergence import LiveSettings, frequency_only_loss, live_data
from albertviz.train import zoo_config

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


def charts(at) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def new_page() -> AppTest:
    at = AppTest.from_file(page_file("convergence"), default_timeout=900)
    at.run()
    assert not at.exception, at.exception
    return at


def test_zoo_sections_draw_the_logged_numbers(fake_zoo):
    at = new_page()
    figs = charts(at)
    loss = {t["name"]: t for t in figs["convergence_zoo_loss"]["data"]}
    assert loss["not shared · train"]["y"] == [r["loss"] for r in fake_log("none")]
    assert loss["all-shared · held-out"]["x"] == [1, 100]  # the logged evaluations; 100 is the last step
    grads = {t["name"] for t in figs["convergence_zoo_grads"]["data"]}
    assert "all-shared: attention block (used 3×)" in grads
    assert {f"not shared: attention layer {i}" for i in (1, 2, 3)} <= grads
    assert "3.0× a not-shared layer" in " ".join(c.value for c in at.caption)

    # the per-use view splits the real gradient of the fake all-shared cell into its 3 uses
    bars = figs["convergence_peruse_chart"]["data"][0]
    assert bars["x"][:3] == ["use in layer 1", "use in layer 2", "use in layer 3"]
    sum_norm, true_norm = bars["y"][3], bars["y"][4]
    assert sum_norm == pytest.approx(true_norm, rel=1e-4) and true_norm > 0
    diff = next(m for m in at.metric if m.label == "largest element difference")
    assert float(diff.value) < 1e-5



def test_timing_the_zoo_shape_puts_parameters_next_to_step_time(fake_zoo):
    """The button times the four sharing modes in turn; the parameter bars are count_parameters' ratios."""
    at = new_page()
    assert "convergence_steptime_zoo" not in charts(at)
    at.button(key="convergence_time_zoo").click().run()
    assert not at.exception, at.exception
    params, times = charts(at)["convergence_steptime_zoo"]["data"]
    counts = [count_parameters(zoo_config(m, "full"), include_head=True).total for m in SHARING_MODES]
    assert params["y"] == pytest.approx([c / counts[0] for c in counts])
    assert times["y"][0] == pytest.approx(1.0) and all(0.3 < t < 3 for t in times["y"])


def test_page_without_a_zoo_still_works(fake_zoo, monkeypatch, tmp_path):
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    clear_caches()
    at = new_page()
    assert any("No zoo model has finished training" in i.value for i in at.info)
    assert at.selectbox(key="convergence_peruse_model").value == "untrained"
    assert "convergence_peruse_chart" in charts(at)
    clear_caches()


def test_live_widgets_start_at_the_settings_make_bench_times(fake_zoo):
    at = new_page()
    defaults = LiveSettings()
    assert at.multiselect(key="convergence_live_modes").value == list(defaults.modes)
    assert at.select_slider(key="convergence_lr").value == defaults.lr
    assert at.number_input(key="convergence_warmup").value == defaults.warmup
    assert at.number_input(key="convergence_steps").value == defaults.steps
    assert at.number_input(key="convergence_seed").value == defaults.seed


def test_a_tiny_live_run_trains_and_is_cached(fake_zoo):
    at = new_page()
    at.number_input(key="convergence_steps").set_value(4)
    at.number_input(key="convergence_warmup").set_value(2)
    at.button(key="convergence_train").click().run()
    assert not at.exception, at.exception
    run = at.session_state["convergence_run"]
    assert run.done and run.rounds == 4 and set(run.curves) == {"none", "all"}
    live = {t["name"]: t for t in charts(at)["convergence_live_final"]["data"]}
    assert live["all-shared · train"]["y"] == pytest.approx(run.curves["all"].loss)
    assert len(live["not shared · train"]["x"]) == 4
    plateau = charts(at)["convergence_live_final"]["layout"]["shapes"][0]
    assert plateau["y0"] == pytest.approx(frequency_only_loss(live_data()))  # the dashed frequency-only line
    table = at.dataframe[0].value
    assert list(table["model"]) == ["not shared", "all-shared"] and (table["steps"] == 4).all()
    assert list(table["held-out loss"]) == pytest.approx([run.curves[m].held_loss[-1] for m in ("none", "all")])
    assert "convergence_steptime_live" in charts(at)

    at.run()  # an ordinary rerun shows the same run: nothing retrains
    assert at.session_state["convergence_run"] is run and run.rounds == 4
    at.button(key="convergence_train").click().run()  # same settings again: the cached result
    assert at.session_state["convergence_run"] is run


def test_runs_with_other_seeds_are_listed_side_by_side(fake_zoo):
    """Two finished runs (seeds 0 and 1) appear as two rows holding each model's last held-out loss."""
    at = new_page()
    at.number_input(key="convergence_steps").set_value(3)
    runs = []
    for seed in (0, 1):
        at.number_input(key="convergence_seed").set_value(seed)
        at.button(key="convergence_train").click().run()
        assert not at.exception, at.exception
        runs.append(at.session_state["convergence_run"])
    assert runs[0].settings.seed == 0 and runs[1].settings.seed == 1
    table = next(d.value for d in at.dataframe if "seed" in d.value.columns)
    assert list(table["seed"]) == [0, 1] and (table["steps"] == 3).all()
    for row, run in zip(table.to_dict("records"), runs, strict=True):
        assert row["all-shared: held-out loss"] == pytest.approx(run.curves["all"].held_loss[-1], abs=1e-3)
        assert row["not shared: held-out loss"] == pytest.approx(run.curves["none"].held_loss[-1], abs=1e-3)
    assert runs[0].curves["all"].held_loss[-1] != runs[1].curves["all"].held_loss[-1], "the seed matters"


def stop_when(at: AppTest, rounds: int) -> threading.Thread:
    """Press 'stop' (set the flag the Stop button sets) once the running script has done `rounds` rounds."""
    def watch():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            run = at.session_state.get("convergence_run")
            if run is not None and run.rounds >= rounds:
                at.session_state["convergence_stop_flag"] = True
                return
            time.sleep(0.02)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_stop_is_honoured_and_train_resumes(fake_zoo):
    at = new_page()
    at.number_input(key="convergence_steps").set_value(500)
    at.button(key="convergence_train").click()
    watcher = stop_when(at, 2)
    at.run()
    watcher.join()
    assert not at.exception, at.exception
    run = at.session_state["convergence_run"]
    assert run.stopped and 2 <= run.rounds < 500
    assert len({len(c.loss) for c in run.curves.values()}) == 1, "interleaved: every model stopped at one step"
    assert any("Stopped after" in w.value for w in at.warning)

    done = run.rounds
    at.button(key="convergence_stop").click().run()  # pressing Stop again trains nothing
    assert at.session_state["convergence_run"].rounds == done

    at.button(key="convergence_train").click()  # same settings: go on from where it stopped
    watcher = stop_when(at, done + 2)
    at.run()
    watcher.join()
    assert at.session_state["convergence_run"] is run and done + 2 <= run.rounds < 500
