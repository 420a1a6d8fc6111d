"""The Train-press load scenarios read the page's own words and judge FIFO order (bench.load_train)."""

import inspect
from types import SimpleNamespace

from albertviz.lessons.run_estimates import Estimate
from albertviz_app.ui import live_results, live_runs
from bench.load_train import FINISHED_TEXT, QUEUE, Press, fifo_violations


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


def press(seed: int, asked: float, wait: float) -> Press:
    return Press(seed, asked_at=asked, latency=wait)


def test_fifo_allows_runs_started_together_to_finish_in_any_order():
    # two trainers: seeds 1 and 2 start together, 3 and 4 after them
    runs = [press(1, 0.0, 60.0), press(2, 0.5, 59.0), press(3, 1.0, 119.0), press(4, 1.5, 118.0)]
    assert fifo_violations(runs, workers=2) == []


def test_fifo_catches_a_run_that_jumped_the_queue():
    runs = [press(1, 0.0, 60.0), press(2, 0.5, 61.0), press(3, 1.0, 30.0)]
    assert fifo_violations(runs, workers=1) == ["seed 3 (asked later) finished before seed 1",
                                                "seed 3 (asked later) finished before seed 2"]
