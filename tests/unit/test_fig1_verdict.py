"""The Fig. 1 verdict says what the curves show: smoother, rougher or undecided, and never more than one seed allows."""

import pytest

from albertviz.lessons.fig1 import spread, swing, verdict

SMOOTH = [10, 12, 11, 13, 12, 14]  # swings of about 1.6 degrees per layer
ROUGH = [10, 30, 8, 35, 5, 40]  # about 28 degrees per layer


def test_swing_is_the_mean_absolute_change_between_layers():
    assert swing([10, 20, 15]) == pytest.approx((10 + 5) / 2)
    assert swing([7, 7, 7, 7]) == 0.0


def test_seeds_give_mean_and_sample_standard_deviation():
    s = spread([[0, 2], [0, 4], [0, 6]])
    assert (s.mean, s.sd, s.n) == (4.0, pytest.approx(2.0), 3)


def test_smoother_shared_curves_reproduce_the_paper():
    text = verdict([SMOOTH, [11, 12, 12, 13, 13, 14]], [ROUGH, [9, 31, 7, 33, 6, 38]], 6, 4_000_000)
    assert "smoother, as in ALBERT's Fig. 1" in text and "2 seeds" in text


def test_rougher_shared_curves_say_the_paper_does_not_reproduce_and_why():
    text = verdict([ROUGH, [9, 31, 7, 33, 6, 38]], [SMOOTH, [11, 12, 12, 13, 13, 14]], 6, 4_000_000)
    assert "does not reproduce in 6-layer models trained on 4M tokens" in text and "24 layers" in text


def test_overlapping_seeds_are_undecided():
    text = verdict([[10, 20, 10], [10, 11, 10]], [[10, 15, 10], [10, 16, 10]], 3, None)
    assert "within the seed spread" in text


def test_one_seed_is_not_evidence():
    text = verdict([ROUGH], [SMOOTH], 6, None)
    assert "one seed" in text and "not evidence" in text and "does not reproduce" not in text
