"""Replicas that share a runs folder train each live run once (albertviz.lessons.run_claims, issue 15).

Two `RunRegistry` objects with one folder stand for two replicas of the server; real tiny runs, a gate on
`Trainer.step` holds the first replica's training so the second one asks while it is in progress.
"""

import os
import threading
import time

import pytest
from test_runs import TINY, Clock, data, steps  # noqa: F401 - fixtures shared with the registry's own tests

from albertviz.lessons import run_claims
from albertviz.lessons.run_claims import claim_path, holder_of, release_claim, try_claim
from albertviz.lessons.runs import RunRegistry
from albertviz.lessons.shared_run import DONE, RUNNING

MADE: list[RunRegistry] = []


@pytest.fixture(autouse=True)
def joined():
    yield
    while MADE:
        MADE.pop().join(120)


def replica(data, folder) -> RunRegistry:  # noqa: F811
    MADE.append(RunRegistry(lambda: data, workers=1, folder=folder, clock=Clock()))
    return MADE[-1]


def until(condition, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_claim_has_one_holder_until_released(tmp_path):
    assert try_claim(tmp_path, "k", "replica-a")
    assert not try_claim(tmp_path, "k", "replica-b"), "a fresh claim is not taken"
    assert try_claim(tmp_path, "k", "replica-a"), "its holder may claim it again"
    assert holder_of(tmp_path, "k") == "replica-a"
    release_claim(tmp_path, "k", "replica-b")  # not its claim: nothing happens
    assert holder_of(tmp_path, "k") == "replica-a"
    release_claim(tmp_path, "k", "replica-a")
    assert holder_of(tmp_path, "k") is None and not claim_path(tmp_path, "k").exists()
    assert try_claim(tmp_path, "k", "replica-b")


def test_racing_claimants_get_one_winner(tmp_path):
    barrier, won = threading.Barrier(8), []

    def claim(name):
        barrier.wait()
        if try_claim(tmp_path, "k", name):
            won.append(name)

    threads = [threading.Thread(target=claim, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and holder_of(tmp_path, "k") == won[0]


def test_a_stale_claim_is_taken_over(tmp_path):
    assert try_claim(tmp_path, "k", "dead-replica")
    old = time.time() - run_claims.CLAIM_FRESH_S - 5
    os.utime(claim_path(tmp_path, "k"), (old, old))
    assert holder_of(tmp_path, "k") is None
    assert try_claim(tmp_path, "k", "live-replica") and holder_of(tmp_path, "k") == "live-replica"


@pytest.mark.slow
def test_a_second_replica_waits_for_the_first_instead_of_training_the_same_run(data, steps, tmp_path):  # noqa: F811
    a, b = replica(data, tmp_path), replica(data, tmp_path)
    steps.gate.clear()  # replica a's run stops at its first step
    first = a.request(TINY, "alice")
    assert until(lambda: holder_of(tmp_path, first.key) == a.holder)
    second = b.request(TINY, "bob")
    assert until(lambda: second.elsewhere), "replica b says another replica trains it"
    assert second.state == RUNNING and second.live is None
    steps.gate.set()
    assert a.join(120) and b.join(120)
    assert first.state == second.state == DONE
    assert first.source == "trained" and second.source == "disk"
    assert len(steps.taken) == 2 * TINY.steps, "two models × 4 steps, trained by one replica only"
    assert second.live.losses() == first.live.losses()
    assert not claim_path(tmp_path, first.key).exists(), "the finished run's claim is gone"


@pytest.mark.slow
def test_a_replica_trains_a_run_whose_claim_was_left_by_a_dead_one(data, steps, tmp_path):  # noqa: F811
    reg = replica(data, tmp_path)
    key = reg.request(TINY, "probe").key
    assert reg.join(120)
    (tmp_path / key / "run.json").unlink()  # as if never finished …
    reg2 = replica(data, tmp_path)
    assert try_claim(tmp_path, key, "crashed-replica")  # … and held by a replica that died mid-run
    old = time.time() - run_claims.CLAIM_FRESH_S - 5
    os.utime(claim_path(tmp_path, key), (old, old))
    n = len(steps.taken)
    run = reg2.request(TINY, "alice")
    assert reg2.join(120) and run.state == DONE and run.source == "trained"
    assert len(steps.taken) == n + 2 * TINY.steps


@pytest.mark.slow
def test_a_waiting_replica_takes_over_when_the_holder_lets_go(data, steps, tmp_path):  # noqa: F811
    reg = replica(data, tmp_path)
    key = reg.request(TINY, "probe").key
    assert reg.join(120)
    (tmp_path / key / "run.json").unlink()
    reg2 = replica(data, tmp_path)
    assert try_claim(tmp_path, key, "other-replica")  # fresh: reg2 must wait
    run = reg2.request(TINY, "alice")
    assert until(lambda: run.elsewhere)
    n = len(steps.taken)
    time.sleep(0.5)
    assert len(steps.taken) == n, "nothing trains while the other replica holds the claim"
    release_claim(tmp_path, key, "other-replica")  # that replica stopped the run without finishing it
    assert reg2.join(120) and run.state == DONE and run.source == "trained" and not run.elsewhere
