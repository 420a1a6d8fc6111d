"""Shared live runs and the fair queue (albertviz.lessons.runs): one training per run, FIFO, leases, Stop, disk cache.

Real tiny runs (one or two H64 models, a few steps of batch 4); a gate on `Trainer.step` holds the first run so
the queue's order and positions do not depend on how fast the machine is; a fake clock drives the leases.
"""

import json
import threading
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

from albertviz.lessons import run_limits, run_store
from albertviz.lessons.live import LiveRun
from albertviz.lessons.live_settings import LiveSettings, live_data
from albertviz.lessons.run_store import load_run, run_key, save_run
from albertviz.lessons.runs import RunRegistry
from albertviz.lessons.shared_run import CANCELLED, DONE, FAILED, QUEUED, RUNNING, STOPPED
from albertviz.training.data import Data
from albertviz.training.trainer import Trainer

TINY = LiveSettings(modes=("none", "all"), steps=4, batch_size=4, warmup=2, eval_every=2)


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)  # the machine has 2 shared cores
    return live_data()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def steps(monkeypatch):
    """Every Trainer.step taken, as the seed of the model that took it (in order); `steps.gate` holds them."""
    taken: list[int] = []
    gate = threading.Event()
    gate.set()
    original = Trainer.step

    def step(self):
        assert gate.wait(60), "the test never opened the gate"
        taken.append(self.cfg.seed)
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    yield SimpleNamespace(taken=taken, gate=gate)
    gate.set()  # a failed test must not leave a worker waiting


MADE: list[RunRegistry] = []


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test():
    yield
    while MADE:
        MADE.pop().join(120)


def registry(data, **kw) -> RunRegistry:
    """One worker, no disk, and a clock that only the test moves (a slow machine must not expire the leases)."""
    MADE.append(RunRegistry(lambda: data, **{"workers": 1, "folder": None, "clock": Clock(), **kw}))
    return MADE[-1]


def seeded(seed: int) -> LiveSettings:
    return replace(TINY, seeds=(seed,))


def curves(run: LiveRun) -> str:
    """Every recorded number, exactly (repr: a tiny batch can hold no masked token, and nan != nan)."""
    return repr({k: (c.loss, c.held_loss, c.held_accuracy) for k, c in run.curves.items()})


def test_the_key_is_the_settings_the_seeds_and_the_code():
    assert run_key(TINY) == run_key(replace(TINY))
    assert run_key(TINY) != run_key(seeded(1)) != run_key(replace(TINY, lr=1e-3))
    assert run_key(TINY, "code-a") != run_key(TINY, "code-b")
    assert len(run_store.code_version()) == 16


def test_workers_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("ALBERTVIZ_LIVE_WORKERS", raising=False)
    assert run_limits.workers_from_env() == (__import__("os").cpu_count() or 1)
    monkeypatch.setenv("ALBERTVIZ_LIVE_WORKERS", "3")
    assert run_limits.workers_from_env() == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("ALBERTVIZ_LIVE_WORKERS", bad)
        with pytest.raises(ValueError, match="ALBERTVIZ_LIVE_WORKERS"):
            run_limits.workers_from_env()


def test_the_lease_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("ALBERTVIZ_LIVE_LEASE_S", raising=False)
    assert run_limits.lease_from_env() == 30.0
    monkeypatch.setenv("ALBERTVIZ_LIVE_LEASE_S", "4.5")
    assert run_limits.lease_from_env() == 4.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("ALBERTVIZ_LIVE_LEASE_S", bad)
        with pytest.raises(ValueError, match="ALBERTVIZ_LIVE_LEASE_S"):
            run_limits.lease_from_env()


@pytest.mark.slow
def test_two_sessions_asking_at_once_share_one_run_that_trains_once(data, steps):
    reg = registry(data, workers=2)
    barrier, got = threading.Barrier(2), {}

    def ask(session):
        barrier.wait()
        got[session] = reg.request(TINY, session)

    threads = [threading.Thread(target=ask, args=(s,)) for s in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got["alice"] is got["bob"]
    assert reg.join(120)
    run = got["alice"]
    assert run.state == DONE and run.live.done and reg.trained_runs == 1
    assert len(steps.taken) == TINY.steps * 2, "two models × 4 steps, once — not once per session"
    # a third session, after the end: the same finished object, nothing trains
    late = reg.request(TINY, "carol")
    assert late is run and late.view() is run.view() is run.live
    assert len(steps.taken) == TINY.steps * 2 and reg.trained_runs == 1


@pytest.mark.slow
def test_one_worker_three_requests_fifo_positions_and_estimates(data, steps):
    steps.gate.clear()  # hold the first run at its first step
    reg = registry(data)
    a, b, c = (reg.request(seeded(s), f"student{s}") for s in (10, 11, 12))
    assert (a.state, b.state, c.state) == (RUNNING, QUEUED, QUEUED)
    assert (reg.position(a), reg.position(b), reg.position(c)) == (None, 1, 2)
    eb, ec = reg.estimate(b), reg.estimate(c)
    assert eb.train_s == pytest.approx(ec.train_s) and eb.train_s > 0
    assert ec.start_s == pytest.approx(eb.start_s + eb.train_s), "C waits for A, then B"
    assert "first guess" in eb.basis
    steps.gate.set()
    assert reg.join(180)
    assert all(r.state == DONE and r.live.rounds == TINY.steps for r in (a, b, c)), "none lost"
    per_run = TINY.steps * 2
    assert steps.taken == [10] * per_run + [11] * per_run + [12] * per_run, "trained one after another, FIFO"
    assert "the last 3 runs" in reg.rate()[1]  # estimates now come from what was measured


@pytest.mark.slow
def test_stop_on_a_queued_run_removes_it_and_the_others_move_up(data, steps):
    steps.gate.clear()
    reg = registry(data)
    a, b, c = (reg.request(seeded(s), f"student{s}") for s in (20, 21, 22))
    assert reg.stop(b, "student21") == "removed"
    assert b.state == CANCELLED and reg.position(c) == 1 and b not in reg.queue()
    assert reg.get(seeded(21)) is None, "forgotten: asking again queues it afresh"
    steps.gate.set()
    assert reg.join(180)
    assert a.state == c.state == DONE and b.live is None
    assert 21 not in steps.taken


@pytest.mark.slow
def test_stop_leaves_a_shared_run_training_and_stops_one_held_alone(data, steps):
    steps.gate.clear()
    long = replace(TINY, steps=40)
    reg = registry(data)
    run = reg.request(long, "alice")
    assert reg.request(long, "bob") is run
    assert reg.stop(run, "alice") == "continues" and run.state == RUNNING and not run.stop_requested
    assert reg.stop(run, "bob") == "stopping"
    steps.gate.set()
    assert reg.join(60)
    assert run.state == STOPPED and run.live.stopped and run.rounds < long.steps
    stopped_at = run.rounds
    # asked for again: it goes on from where it stopped (same models), and no step is trained twice
    assert reg.request(long, "bob") is run
    assert reg.join(300)
    assert run.state == DONE and run.rounds == long.steps
    assert len(steps.taken) == 2 * long.steps
    assert run.live.curves[("none", 0)].steps == list(range(1, long.steps + 1))
    assert stopped_at < long.steps


@pytest.mark.slow
def test_an_expired_lease_frees_its_place(data, steps):
    steps.gate.clear()
    clock = Clock()
    reg = registry(data, clock=clock, lease_s=30)
    a, b, c = (reg.request(seeded(s), f"student{s}") for s in (30, 31, 32))
    clock.t += 20
    reg.renew(a, "student30")
    reg.renew(c, "student32")  # student31 closed the tab: nobody renews B
    clock.t += 15
    assert reg.position(c) == 1 and b.state == CANCELLED, "B's lease (35 s old) expired"
    assert not reg.holds(b, "student31") and reg.holds(c, "student32")
    reg.renew(c, "student32")
    clock.t += 20  # now A's student is gone too: the running run stops and C gets the worker
    reg.renew(c, "student32")
    steps.gate.set()
    assert reg.join(180)
    assert a.state == STOPPED and a.rounds < TINY.steps
    assert c.state == DONE and 31 not in steps.taken


@pytest.mark.slow
def test_views_are_consistent_while_a_run_trains(data):
    """A page reads a run another thread trains: every model at the same step, never done without its scores."""
    reg = registry(data)
    run = reg.request(replace(TINY, steps=30, eval_every=5), "alice")
    seen = []
    while run.active:
        view = run.view()
        if view is not None:
            lengths = {len(c.loss) for c in view.curves.values()} | {view.rounds}
            assert len(lengths) == 1, lengths
            held = {len(c.held_loss) for c in view.curves.values()}
            assert held == {1 + view.rounds // 5 + (view.done and view.rounds % 5 != 0)}, (held, view.rounds)
            seen.append(view.rounds)
        time.sleep(0.002)
    assert run.state == DONE and len(set(seen)) > 1


@pytest.mark.slow
def test_parallel_runs_are_as_deterministic_as_runs_alone(data):
    """Two workers building and training at once give each run the curves it has when trained alone."""
    alone = {}
    for s in (40, 41):
        r = LiveRun(seeded(s), data)
        r.run()
        alone[s] = curves(r)
    reg = registry(data, workers=2)
    both = {s: reg.request(seeded(s), f"student{s}") for s in (40, 41)}
    assert reg.join(120)
    for s, run in both.items():
        assert curves(run.live) == alone[s]


@pytest.mark.slow
def test_a_finished_run_on_disk_is_reused_by_a_fresh_registry(data, steps, tmp_path):
    first = registry(data, folder=tmp_path)
    run = first.request(TINY, "alice")
    assert first.join(120) and run.state == DONE
    trained = len(steps.taken)
    record = json.loads((tmp_path / run.key / "run.json").read_text())
    assert record["key"] == run.key and record["code_version"] == run_store.code_version()

    other = registry(data, folder=tmp_path)  # another replica, or the server after a restart
    again = other.request(TINY, "bob")
    assert again.state == DONE and again.source == "disk" and other.trained_runs == 0
    assert len(steps.taken) == trained, "read back, not retrained"
    assert curves(again.live) == curves(run.live) and again.live.losses() == run.live.losses()
    assert again.live.labels() == run.live.labels() and again.live.grad_logs() == run.live.grad_logs()


@pytest.mark.slow
def test_a_stale_or_broken_record_is_retrained(data, steps, tmp_path):
    reg = registry(data, folder=tmp_path)
    run = reg.request(TINY, "alice")
    assert reg.join(120)
    path = tmp_path / run.key / "run.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "code_version": "older-code"}))
    assert load_run(tmp_path, run.key, TINY) is None
    path.write_text("{ not json")
    assert load_run(tmp_path, run.key, TINY) is None
    fresh = registry(data, folder=tmp_path)
    n = len(steps.taken)
    assert fresh.request(TINY, "bob").source == "trained" and fresh.join(120)
    assert len(steps.taken) == n + 2 * TINY.steps


@pytest.mark.slow
def test_the_disk_cache_is_bounded(data, tmp_path):
    run = LiveRun(TINY, data)
    run.run()
    for i in range(5):
        save_run(tmp_path, f"key{i}", run, limit=3)
        time.sleep(0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key2", "key3", "key4"]


@pytest.mark.slow
def test_the_memory_cache_is_bounded_but_keeps_active_runs(data, steps):
    steps.gate.clear()
    reg = registry(data, cache_size=2)
    held = reg.request(seeded(50), "alice")  # running (held at the gate)
    queued = [reg.request(seeded(s), f"s{s}") for s in (51, 52)]
    assert reg.get(seeded(50)) is held and all(reg.get(r.settings) is r for r in queued)
    steps.gate.set()
    assert reg.join(180)
    reg.request(seeded(53), "bob")
    assert reg.join(120)
    assert reg.get(seeded(50)) is None and reg.get(seeded(53)) is not None
    assert len([s for s in (50, 51, 52, 53) if reg.get(seeded(s))]) == 2


@pytest.mark.slow
def test_a_failed_run_says_why_and_can_be_asked_for_again(data):
    short = Data(data.chunks[:, :8], data.train_idx, data.held_idx, data.special, data.mask_id)  # wrong length
    reg = registry(short)
    run = reg.request(TINY, "alice")
    assert reg.join(60) and run.state == FAILED and "chunks of 8 tokens" in run.error
    assert not run.active and reg.running() == [] and reg.queue() == []
    again = reg.request(TINY, "alice")
    assert again is not run and again.state in (QUEUED, RUNNING)
    assert reg.join(60) and again.state == FAILED


@pytest.mark.slow
def test_a_run_asked_for_again_while_it_stops_goes_on(data, steps):
    """Alice stops the run she held alone; Bob asks for it before its worker finished the round: it goes on."""
    steps.gate.clear()
    reg = registry(data)
    run = reg.request(TINY, "alice")
    assert reg.stop(run, "alice") == "stopping" and run.stop_requested
    assert reg.request(TINY, "bob") is run and not run.stop_requested
    steps.gate.set()
    assert reg.join(120)
    assert run.state == DONE and len(steps.taken) == 2 * TINY.steps
