"""The Train-press load scenarios read the page's own words and judge FIFO order (bench.load_train)."""

import inspect
from types import SimpleNamespace

from albertviz.lessons.run_estimates import Estimate
from albertviz_app.ui import live_results, live_runs
from bench.load_train import FINISHED_TEXT, QUEUE, Press, fifo_violations, queued_unshown


def queue_words(position: int) -> str:
    reg = SimpleNamespace(workers=2, position=lambda run: position,
                          estimate=lambda run: Estimate(12.0, 50.0, "the last runs"))
    return live_runs.queue_text(reg, SimpleNamespace(sessions={"me": 0.0}))


def test_the_queue_parser_reads_the_position_the_page_shows():
    for position in (1, 2, 7):
        m = QUEUE.search(queue_words(position))
        assert m is not None, queue_words(position)
        assert (1 if m.group(2) is None else int(m.group(2))) == position


def test_the_finished_marker_is_what_the_page_writes_under_a_finished_run():
    assert FINISHED_TEXT in inspect.getsource(live_results)


def press(seed: int, asked: float, wait: float, replica: str = "", shown: tuple = ()) -> Press:
    return Press(seed, asked_at=asked, latency=wait, replica=replica, positions=list(shown))


def test_fifo_allows_runs_started_together_to_finish_in_any_order():
    # two trainers: seeds 1 and 2 start together, 3 and 4 after them
    runs = [press(1, 0.0, 60.0), press(2, 0.5, 59.0), press(3, 1.0, 119.0), press(4, 1.5, 118.0)]
    assert fifo_violations(runs, workers=2) == []


def test_fifo_catches_a_run_that_jumped_the_queue():
    runs = [press(1, 0.0, 60.0), press(2, 0.5, 61.0), press(3, 1.0, 30.0)]
    assert fifo_violations(runs, workers=1) == ["seed 3 (asked later) finished before seed 1",
                                                "seed 3 (asked later) finished before seed 2"]


def test_through_nginx_each_replica_keeps_its_own_queue():
    # one trainer per replica; A gets seeds 1, 3, 4 and B gets 2: seed 2 starts at once although asked second,
    # and finishing before seed 1 is no jump — but on A, seed 4 finishing before seed 3 is
    runs = [press(1, 0.0, 60.0, "A"), press(2, 0.5, 30.0, "B"), press(3, 1.0, 119.0, "A", (1,)),
            press(4, 1.5, 100.0, "A", (2,))]
    assert fifo_violations(runs, workers=1) == ["seed 4 (asked later) finished before seed 3"]


def test_a_press_that_had_to_queue_on_its_replica_must_have_been_shown_a_place():
    runs = [press(1, 0.0, 60.0, "A"), press(2, 0.5, 60.0, "B"), press(3, 1.0, 120.0, "A", (1,)),
            press(4, 1.5, 120.0, "B")]
    assert queued_unshown(runs, workers=1) == [4]  # seed 2 started at once on B: it needed no place
    assert queued_unshown(runs, workers=2) == []
