"""Computed sentences (albertviz.lessons) and the paper tables they read (albertviz.paper).

Each sentence builder is fed constructed inputs that come out both ways, so a sentence cannot keep a
claim its numbers contradict; the paper-derived figures are checked against arithmetic done here.
"""

import pytest

from albertviz import PRESETS, ModelConfig, count_parameters, lessons, paper
from albertviz.core.params import flops_per_token


def rep(label, paper_m, with_m, without_m, sharing="all"):
    return paper.Reproduction(label, paper_m, int(with_m * 1e6), int(without_m * 1e6), sharing)


def test_reproduction_is_rounding_to_whole_millions():
    r = rep("x", 12, 11.68, 11.09)
    assert r.reproduces(True) and not r.reproduces(False) and r.reproduced_by == "with the pooler"
    assert rep("y", 31, 31.11, 30.52).reproduced_by == "both"
    assert rep("z", 60, 58.72, 54.53).reproduced_by == "neither"
    assert paper.paper_round(108_490_752) == 108 and paper.paper_round(109_081_344) == 109


def test_reproduction_sentence_says_every_figure_or_names_the_ones_that_fail():
    good = [rep("a", 12, 11.68, 11.09), rep("b", 89, 89.65, 89.06, "none")]
    text = lessons.reproduction_sentence("Table X", good, pooler=True)
    assert "1 of 2" in text and "Every figure reproduces" in text and "neither" not in text
    assert "Every shared row matches a count with the pooler" in text
    bad = good + [rep("c", 60, 58.72, 54.53)]
    text = lessons.reproduction_sentence("Table X", bad, pooler=False)
    assert "1 of 3" in text and "in neither setting — c" in text and "Every figure" not in text
    assert "Every shared row" not in text


def test_size_gap_sentence_separates_rounding_from_a_real_gap():
    far = paper.SizeGap("albert-xxlarge", 235, 222_595_584, 16_781_312)
    text = lessons.size_gap_sentence(far)
    assert "12.40M apart" in text and "more than rounding" in text and "205.81M, further away" in text
    assert "released checkpoint (≈223M)" in text and "233M" in text
    near = paper.SizeGap("other", 60, 59_700_000, 100_000)
    assert "within rounding" in lessons.size_gap_sentence(near)


def test_the_large_table_1_gaps_are_xlarge_and_xxlarge_only():
    gaps = {g.name: g for g in paper.size_gaps()}
    assert set(gaps) == {"albert-xlarge", "albert-xxlarge"}
    assert gaps["albert-xxlarge"].counted == count_parameters(PRESETS["albert-xxlarge"]).total
    assert all(g.beyond_rounding for g in gaps.values())


def test_every_table_3_and_4_figure_reproduces_shared_with_pooler_not_shared_without():
    for r in paper.table_4_reproductions() + paper.table_3_reproductions():
        assert r.reproduces(r.sharing != "none"), r


def test_table_4_deltas_and_cost_sentence_follow_the_table():
    assert paper.table_4_avg_delta(768, "all") == pytest.approx(79.8 - 82.3)
    assert paper.table_4_avg_delta(128, "all") == pytest.approx(80.1 - 81.6)
    assert paper.table_4_avg_delta(128, "attention") == pytest.approx(0.1)
    text = lessons.table_4_cost_sentence()
    assert "loses 2.5 Avg points" in text and "loses 1.5 Avg points" in text and "RACE" in text
    none = ModelConfig(vocab_size=30000, hidden_size=768, num_heads=12, intermediate_size=3072, pooler=False)
    saved = 1 - count_parameters(none.with_(sharing="all")).total / count_parameters(none).total
    assert f"saves {saved:.0%}" in text
    assert "−" not in lessons.sharing_setting_sentence() and "2.5 (E=768) and 1.5 (E=128) points below" in (
        lessons.sharing_setting_sentence())


def test_other_paper_derivations():
    assert paper.table_3_best_e("all") == 128 and paper.table_3_best_e("none") == 768
    assert paper.same_shape_speedup() == pytest.approx(5.6 / 4.7)
    assert set(paper.ALBERT_TABLE_4) == set(paper.ALBERT_TABLE_4_AVG)


def test_projection_flops_are_e_times_h_multiply_adds():
    albert = PRESETS["albert-base"]
    assert lessons.projection_flops(albert) == 2 * 128 * 768
    assert lessons.projection_flops(PRESETS["bert-base"]) == 0
    text = lessons.flops_help()
    assert "0.197 MFLOPs" in text and "98,304 multiply-adds" in text
    assert f"{flops_per_token(albert) / flops_per_token(PRESETS['bert-base']):.4f}×" in text


@pytest.mark.parametrize("entries, words, absent", [
    ([{"teacher": None}, {"teacher": None}], "no teacher", "TinyBERT"),
    ([{"distilled_from": "all-MiniLM-L6-v2"}], "TinyBERT's per-layer recipe", "no teacher"),
    ([], "none is installed", "teacher"),
])
def test_zoo_sentence_reads_the_manifest(entries, words, absent):
    text = lessons.zoo_training_sentence(entries)
    assert words in text and absent not in text


def test_albert_choices_sentence_reads_tables_5_and_8():
    text = lessons.albert_choices_sentence()
    assert "Avg 80.1 against 79.2 (Table 5)" in text and "52.0% on SOP" in text
    assert "Avg 90.7 without, 90.4 with (Table 8)" in text
