"""The quiz bank is valid data with accurate facts, and the engine grades and keeps score correctly.

Numbers in the bank and in generated questions are checked against independent sources: the
closed-form parameter formula in tests/reference.py, real `Encoder` modules, and the values the papers report.
"""

import io

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from reference import attention_params, ffn_params, param_count, stored_blocks

from albertviz import PRESETS, Encoder, ModelConfig, count_parameters, paper
from albertviz.core.params import flops_per_token
from albertviz.core.sharing import num_blocks
from albertviz.quiz import PAGE_SLUGS, TOPICS, BankError, Question, facts, load_bank, parse_bank
from albertviz.quiz.engine import QuizError, interview_session, practice_session
from albertviz.quiz.generated import generated_question, generated_questions
from albertviz.quiz.grading import RATINGS, AnswerError, grade, parse_number
from albertviz_app.ui.nav import PAGES

TEN_INTERVIEW_QUESTIONS = [
    "What is cross-layer parameter sharing in the context of transformer models?",
    "How does cross-layer parameter sharing reduce the number of parameters in ALBERT?",
    "What are the structural implications of sharing parameters across encoder layers?",
    'Explain the difference between "All-Shared," "Shared Feedforward," and "Shared Attention" in ALBERT.',
    "How does cross-layer parameter sharing contribute to model regularization?",
    "What challenges might arise when implementing cross-layer parameter sharing in transformers?",
    "How does cross-layer parameter sharing affect the model's ability to learn hierarchical features?",
    "Can you compare the training speed and inference latency of ALBERT versus BERT, given parameter sharing?",
    "In what scenarios is cross-layer parameter sharing especially beneficial?",
    "How does cross-layer parameter sharing align with the goal of deploying models in resource-constrained "
    "environments?",
]


@pytest.fixture(scope="module")
def bank() -> list[Question]:
    return load_bank()


def by_id(bank, qid: str) -> Question:
    return next(q for q in bank if q.id == qid)


# ------------------------------------------------------------------------------------------ the bank as data

def test_all_ten_interview_questions_are_present_verbatim_as_open_cards(bank):
    prompts = {q.prompt: q for q in bank}
    for text in TEN_INTERVIEW_QUESTIONS:
        assert text in prompts, f"missing interview question: {text}"
        q = prompts[text]
        assert q.kind == "open" and q.interview
        assert len(q.model_answer) > 200 and q.explanation
    assert sum(q.interview for q in bank) == 10


def test_at_least_twenty_more_questions_of_every_kind_and_topic(bank):
    others = [q for q in bank if not q.interview]
    assert len(others) >= 20
    assert {"single", "multiple", "numeric"} <= {q.kind for q in others}
    assert {"embeddings", "eelbert", "convergence", "strategies", "cost"} <= {q.topic for q in others}


def test_every_page_names_an_existing_page(bank):
    assert set(PAGE_SLUGS) == {p.slug for p in PAGES}, "albertviz.quiz.PAGE_SLUGS must mirror ui.nav.PAGES"
    for q in bank:
        page = ROOT / "albertviz_app" / "views" / f"{q.page}.py"
        assert page.is_file(), f"{q.id}: {page} does not exist"


def test_correct_positions_are_not_all_the_same(bank):
    singles = [q.correct[0] for q in bank if q.kind == "single"]
    assert len(set(singles)) >= 3, "the right answer should not always be in the same place"


# ------------------------------------------------------------------------------------------ validation

GOOD = {"id": "x-1", "topic": "sharing", "kind": "single", "prompt": "P?", "options": ["a", "b"],
        "correct": 1, "explanation": "E.", "page": "parameters"}
NUMERIC = {k: v for k, v in GOOD.items() if k not in ("options", "correct")} | {"kind": "numeric", "answer": 1}
OPEN = {k: v for k, v in GOOD.items() if k not in ("options", "correct")} | {"kind": "open", "model_answer": "M."}


def without(entry: dict, field: str) -> dict:
    return {k: v for k, v in entry.items() if k != field}


# One case per rule parse_bank enforces (facts-related rules are in test_facts_errors_name_the_question).
@pytest.mark.parametrize("entry, message", [
    ({**GOOD, "id": "Bad Id"}, "'id' must be"),
    (without(GOOD, "page"), "missing field"),
    ({**GOOD, "kind": "essay"}, "kind must be one of"),
    ({**GOOD, "answer": 3}, "do not belong to a single"),
    ({**GOOD, "topic": "cooking"}, "topic must be one of"),
    ({**GOOD, "page": "nowhere"}, "page must be one of"),
    ({**GOOD, "interview": "yes"}, "'interview' must be true or false"),
    ({**GOOD, "explanation": "  "}, "'explanation' must be non-empty"),
    ({**GOOD, "options": ["a"]}, "at least 2 options"),
    ({**GOOD, "options": ["a", " "]}, "every option must be non-empty"),
    ({**GOOD, "options": ["a", "a"]}, "same text"),
    ({**GOOD, "correct": [1]}, "one correct index"),
    ({**GOOD, "correct": 2}, "correct option 2"),
    ({**GOOD, "kind": "multiple", "correct": []}, "'correct' must list"),
    ({**GOOD, "kind": "multiple", "correct": [0, 0]}, "repeats an index"),
    (without(NUMERIC, "answer"), "needs an 'answer'"),
    ({**NUMERIC, "answer": float("nan")}, "finite number"),
    ({**NUMERIC, "abs_tol": -1}, "cannot be negative"),
    ({**NUMERIC, "unit": 3}, "'unit' must be text"),
    (without(OPEN, "model_answer"), "model_answer"),
])
def test_malformed_entries_are_refused_with_the_id_and_the_field(entry, message):
    with pytest.raises(BankError, match="#1" if entry["id"] == "Bad Id" else "x-1") as err:
        parse_bank([entry])
    assert message in str(err.value)


def test_well_formed_entries_of_every_kind_parse():
    single, numeric, open_card = parse_bank([GOOD, NUMERIC | {"id": "x-2"}, OPEN | {"id": "x-3"}])
    assert single.options == ("a", "b") and single.correct == (1,)
    assert numeric.answer == 1.0 and open_card.model_answer == "M."


def test_duplicate_ids_non_lists_and_broken_files_are_refused(tmp_path):
    with pytest.raises(BankError, match="used twice"):
        parse_bank([GOOD, GOOD])
    with pytest.raises(BankError, match="non-empty list"):
        parse_bank({"id": "x"})
    with pytest.raises(BankError, match="expected a mapping"):
        parse_bank(["x-1"])
    bad = tmp_path / "bank.yaml"
    bad.write_text("- id: a\n  prompt: colon: here\n", encoding="utf-8")
    with pytest.raises(BankError, match="not valid YAML"):
        load_bank(bad)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump([GOOD]), encoding="utf-8")
    assert load_bank(good)[0].options == ("a", "b")


# ------------------------------------------------------------------------------------------ facts

def within(q: Question, value: float) -> bool:
    return grade(q, value).correct


def test_paper_numbers_in_the_bank_agree_with_the_counter(bank):
    base = PRESETS["albert-base"]
    assert within(by_id(bank, "sharing-table4-e768"), count_parameters(base.with_(embedding_size=768)).total / 1e6)
    assert within(by_id(bank, "sharing-albert-large"), count_parameters(PRESETS["albert-large"]).total / 1e6)
    tiny = count_parameters(PRESETS["bert-tiny"])
    assert within(by_id(bank, "eelbert-bert-tiny"), tiny.total / 1e6)
    assert within(by_id(bank, "eelbert-size-mb"), tiny.sizes_mb["fp32"])
    assert 0.85 < tiny.by_component["embeddings"] / tiny.total < 0.95  # "about 90%"
    layers = base.with_(embedding_size=768, embedding="full", num_groups=3, pooler=False)
    r = count_parameters(layers)
    assert within(by_id(bank, "strategy-group-params"), (r.by_component["attention"] + r.by_component["ffn"]) / 1e6)
    one_layer = base.with_(num_layers=1, sharing="none", embedding="full", embedding_size=768)
    assert within(by_id(bank, "cost-layer-flops"), flops_per_token(one_layer, seq_len=0) / 1e6)
    assert by_id(bank, "embed-factorized-count").answer == pytest.approx((30000 * 128 + 128 * 768) / 1e6, abs=0.01)
    assert by_id(bank, "embed-xxlarge-full").answer == pytest.approx(30000 * 4096 / 1e6)


def test_the_speed_and_flops_facts_of_question_8_are_right(bank):
    q8 = next(q for q in bank if q.prompt == TEN_INTERVIEW_QUESTIONS[7])
    text = " ".join(q8.model_answer.split())  # the YAML wraps lines; compare the prose
    assert "not FLOPs per token" in text and "1.7×" in text and "0.3×" in text
    assert "does not reduce latency" in text
    speed = by_id(bank, "cost-albert-large-speed")
    assert speed.options[speed.correct[0]] == "1.7×"
    assert "0.3×" in (x := by_id(bank, "cost-xxlarge-speed")).options[x.correct[0]]
    assert "same" in (f := by_id(bank, "cost-flops-sharing")).options[f.correct[0]].lower()
    shrinks = by_id(bank, "cost-what-shrinks")
    right = {shrinks.options[i] for i in shrinks.correct}
    assert "FLOPs per token" not in right and "Inference latency" not in right
    # and the counter agrees: sharing leaves FLOPs per token unchanged
    base = PRESETS["albert-base"]
    assert count_parameters(base).flops_per_token == count_parameters(base.with_(sharing="none")).flops_per_token


def test_strategy_questions_match_the_layer_plans(bank):
    from albertviz.core.sharing import plan_letters
    for qid, strategy, layers, groups in [("strategy-sequence", "sequence", 6, 3), ("strategy-cycle", "cycle", 6, 3),
                                          ("strategy-cycle-rev", "cycle_rev", 6, 3),
                                          ("strategy-cycle-rev-m4", "cycle_rev", 6, 4),
                                          ("strategy-cycle-rev-8", "cycle_rev", 8, 3)]:
        q = by_id(bank, qid)
        cfg = ModelConfig(hidden_size=64, num_heads=4, intermediate_size=128, num_layers=layers, sharing="all",
                          num_groups=groups, share_strategy=strategy)
        assert q.options[q.correct[0]] == plan_letters(cfg)[0]
    # the released rule's own literal examples (Takase & Kiyono's code), typed here as the independent source
    assert by_id(bank, "strategy-cycle-rev").options[1] == "ABCCBA"
    assert by_id(bank, "strategy-cycle-rev-m4").options[2] == "ABCDDC"
    assert "ABDCBA" in by_id(bank, "strategy-cycle-rev-m4").options  # the old bug, now a distractor


# ------------------------------------------------------------------------------------------ generated questions

def test_generated_questions_agree_with_an_independent_formula_and_the_counter():
    for seed in range(30):
        q = generated_question(seed)
        cfg = ModelConfig.from_dict(q.config)
        assert q.kind == "numeric" and q.topic == "computed" and q.page == "parameters"
        assert round(q.answer * 1e6) == param_count(cfg) == count_parameters(cfg).total
        assert f"L = {cfg.num_layers}" in q.prompt and f"H = {cfg.hidden_size}" in q.prompt
        assert cfg.num_groups == 1 or cfg.num_groups < cfg.num_layers
        assert within(q, q.answer * 1.015) and not within(q, q.answer * 1.05)


def test_the_formula_counts_what_a_real_encoder_holds():
    """The hand formula is itself checked against sum(p.numel()) of real modules (small vocabularies)."""
    seen = set()
    for seed in range(40):
        cfg = ModelConfig.from_dict(generated_question(seed).config).with_(vocab_size=300)
        key = (cfg.sharing, cfg.embedding, cfg.num_groups > 1)
        if key in seen or cfg.hidden_size > 512 or cfg.num_layers > 8:
            continue
        seen.add(key)
        real = sum(p.numel() for p in Encoder(cfg).parameters())
        assert real == param_count(cfg), cfg.describe()
        assert num_blocks(cfg) == stored_blocks(cfg)
    assert len(seen) >= 6


def test_generated_questions_are_reproducible_from_the_seed():
    a, b = generated_questions(5, seed=7), generated_questions(5, seed=7)
    assert [q.prompt for q in a] == [q.prompt for q in b]
    assert [q.prompt for q in a] != [q.prompt for q in generated_questions(5, seed=8)]
    assert len({q.id for q in a}) == 5


# ------------------------------------------------------------------------------------------ grading

def q_single():
    return Question("s", "sharing", "single", "P", "E", "parameters", options=("a", "b", "c"), correct=(1,))


def q_multiple():
    return Question("m", "sharing", "multiple", "P", "E", "parameters", options=("a", "b", "c", "d"),
                    correct=(0, 2))


def q_numeric(abs_tol=0.5, rel_tol=0.0):
    return Question("n", "cost", "numeric", "P", "E", "parameters", answer=10.0, abs_tol=abs_tol,
                    rel_tol=rel_tol, unit="M")


def test_single_choice_grading():
    q = q_single()
    assert grade(q, 1).correct and grade(q, 1).score == 1.0 and grade(q, 1).response == "b"
    assert not grade(q, 0).correct and grade(q, 0).expected == "b"
    for bad in (None, True, 3, -1, "b"):
        with pytest.raises(AnswerError):
            grade(q, bad)


def test_multiple_choice_needs_exactly_the_right_set():
    q = q_multiple()
    assert grade(q, [2, 0]).correct and grade(q, (0, 2, 2)).correct  # order and repeats do not matter
    assert not grade(q, [0]).correct  # a subset is wrong
    assert not grade(q, [0, 1, 2]).correct  # a superset is wrong
    assert grade(q, [0]).score == 0.0
    for bad in ([], None, 0, [7], [True]):
        with pytest.raises(AnswerError):
            grade(q, bad)


def test_numeric_tolerance_is_inclusive_absolute_or_relative():
    q = q_numeric(abs_tol=0.5)
    assert grade(q, 10.5).correct and grade(q, 9.5).correct and grade(q, "  10.2 ").correct
    assert not grade(q, 10.51).correct and not grade(q, 9.49).correct
    rel = q_numeric(abs_tol=0.0, rel_tol=0.1)
    assert grade(rel, 11.0).correct and not grade(rel, 11.2).correct
    exact = q_numeric(abs_tol=0.0)
    assert grade(exact, 10).correct and not grade(exact, 10.001).correct
    for bad in ("", "abc", "nan", "inf", float("-inf"), True, None):
        with pytest.raises(AnswerError):
            grade(q, bad)
    assert parse_number("1,234.5") == 1234.5 and parse_number("1_000") == 1000


def test_open_questions_are_graded_by_self_rating():
    q = Question("o", "sharing", "open", "P", "E", "parameters", model_answer="M")
    assert [grade(q, r).score for r in RATINGS] == [1.0, 0.5, 0.0]
    assert grade(q, "Nailed it").correct and not grade(q, "Partly").correct
    with pytest.raises(AnswerError):
        grade(q, "great")


# ------------------------------------------------------------------------------------------ sessions

def test_practice_session_is_shuffled_by_seed_and_filtered_by_topic(bank):
    def ids(seed):
        return [q.id for q in practice_session(bank, ["embeddings", "eelbert"], 8, seed).questions]

    a = practice_session(bank, ["embeddings", "eelbert"], 8, seed=1)
    assert ids(1) == [q.id for q in a.questions] != ids(2)
    assert len(a.questions) == 8 and {q.topic for q in a.questions} <= {"embeddings", "eelbert"}
    assert all(q.kind != "open" for q in a.questions)
    mixed = practice_session(bank, ["computed"], 3, seed=0)
    assert [q.topic for q in mixed.questions] == ["computed"] * 3
    with pytest.raises(QuizError, match="choose at least one topic"):
        practice_session(bank, [], 5, 0)
    with pytest.raises(QuizError, match="Unknown topic"):
        practice_session(bank, ["astrology"], 5, 0)


def test_session_keeps_score_mistakes_and_writes_a_csv(bank):
    s = practice_session(bank, list(TOPICS), 4, seed=3)
    with pytest.raises(QuizError):
        s.advance()  # must answer first
    right = {"single": lambda q: q.correct[0], "multiple": lambda q: list(q.correct),
             "numeric": lambda q: q.answer}
    wrong = {"single": lambda q: (q.correct[0] + 1) % len(q.options),
             "multiple": lambda q: sorted(set(q.correct) ^ {0}) or [0, 1],
             "numeric": lambda q: q.answer * 3 + 7}
    expected = []
    for i in range(4):
        q = s.current
        ok = i % 2 == 0
        s.submit((right if ok else wrong)[q.kind](q), seconds=2.0)
        with pytest.raises(QuizError):
            s.submit(0)
        expected.append(ok)
        s.advance()
    assert s.finished and s.current is None and s.score == 2 and s.answered == 4
    assert [a.question.id for a in s.mistakes()] == [s.questions[1].id, s.questions[3].id]
    df = pd.read_csv(io.StringIO(s.to_csv()))
    assert list(df["correct"]) == expected and list(df["id"]) == [q.id for q in s.questions]
    assert {"prompt", "your_answer", "expected", "score", "seconds", "topic"} <= set(df.columns)
    assert df["score"].sum() == 2 and (df["seconds"] == 2.0).all()


def test_interview_session_uses_open_cards_and_a_timer(bank):
    s = interview_session(bank, 3, seed=5, time_limit_s=60)
    assert len(s.questions) == 3 and all(q.kind == "open" for q in s.questions)
    assert s.remaining(100.0) is None  # clock starts when the card is shown
    s.start_card(100.0)
    s.start_card(130.0)  # a rerun does not restart the clock
    assert s.remaining(145.0) == pytest.approx(15.0) and s.remaining(200.0) < 0
    s.revealed = True
    s.submit("Partly", s.elapsed(150.0))
    s.advance()
    assert not s.revealed and s.started_at is None and s.score == 0.5
    assert s.attempts[0].seconds == pytest.approx(50.0)
    all_cards = interview_session(bank, 50, seed=0)
    assert len(all_cards.questions) == sum(q.kind == "open" for q in bank)
    assert interview_session(bank, 3, 5).questions == interview_session(bank, 3, 5).questions


# ------------------------------------------------------------------------------------------ computed numbers

def independent_answers() -> dict[str, float]:
    """Every numeric question's answer, worked out here: closed-form counts (reference.param_count), FLOPs by
    hand, and paper figures read from albertviz.paper's tables — never from albertviz.quiz.facts."""
    albert, bert, tiny = PRESETS["albert-base"], PRESETS["bert-base"], PRESETS["bert-tiny"]
    H, F = 768, 3072
    speed = paper.ALBERT_TABLE_2_SPEEDUP
    attention, ffn = attention_params(H), ffn_params(H, F)
    t = 1
    while 12 * 12 * t * t <= param_count(albert):
        t += 1
    return {
        "sharing-table4-e768": paper.ALBERT_TABLE_4[(768, "all")],
        "sharing-albert-large": paper.ALBERT_TABLE_1["albert-large"],
        "strategy-group-params": 3 * (attention + ffn) / 1e6,
        "embed-factorized-count": (30000 * 128 + 128 * 768) / 1e6,
        "embed-xxlarge-full": 30000 * 4096 / 1e6,
        "embed-projection-flops": 2 * 128 * 768 / 1e6,
        "eelbert-bert-tiny": param_count(tiny) / 1e6,
        "eelbert-size-mb": 4 * param_count(tiny) / 1e6,
        "lin-sum": 12,
        "cost-layer-flops": 2 * (4 * H * H + 2 * H * F) / 1e6,
        "cost-same-shape-speedup": speed["albert-base"] / speed["bert-base"],
        "cost-adam-memory": 16 * param_count(albert) / 1e6,
        "sop-table5-nsp-on-sop": paper.ALBERT_TABLE_5["NSP"]["SOP"],
        "sop-table5-avg": paper.ALBERT_TABLE_5["SOP"]["Avg"] - paper.ALBERT_TABLE_5["NSP"]["Avg"],
        "dropout-table8": paper.ALBERT_TABLE_8_AVG["without dropout"] - paper.ALBERT_TABLE_8_AVG["with dropout"],
        "equal-time-table6": paper.ALBERT_TABLE_6["albert-xxlarge"]["Avg"] - paper.ALBERT_TABLE_6["bert-large"]["Avg"],
        "quant-int8-albert": param_count(albert) / 1e6,
        "quant-times-sharing": 4 * param_count(bert) / param_count(albert),
        "memory-activations-long": t,
    }


def test_every_numeric_answer_is_computed_not_typed(bank):
    raw = yaml.safe_load((ROOT / "albertviz" / "quiz" / "bank.yaml").read_text(encoding="utf-8"))
    typed = [e["id"] for e in raw if e["kind"] == "numeric" and "answer" in e]
    assert typed == [], f"numeric answers typed into the bank: {typed}"
    assert all(q.computed in facts.FACTS for q in bank if q.kind == "numeric")


def test_every_numeric_answer_equals_an_independent_computation(bank):
    expected = independent_answers()
    numeric = {q.id: q for q in bank if q.kind == "numeric"}
    assert set(numeric) == set(expected), "each numeric question needs an independent check here"
    for qid, value in expected.items():
        assert numeric[qid].answer == pytest.approx(value, rel=1e-9, abs=1e-9), qid


def card(bank, number: int) -> str:
    """Interview card `number` (1-based) as one line of prose."""
    return " ".join(next(q for q in bank if q.prompt == TEN_INTERVIEW_QUESTIONS[number - 1]).model_answer.split())


def test_paper_figures_quoted_in_texts_come_from_the_tables(bank):
    q4 = card(bank, 4)
    d = {k: paper.ALBERT_TABLE_4_AVG[k] - paper.ALBERT_TABLE_4_AVG[(k[0], "none")] for k in paper.ALBERT_TABLE_4_AVG}
    assert f"at E=768 all-shared {d[(768, 'all')]:+.1f}, shared-FFN {d[(768, 'ffn')]:+.1f}" in q4
    assert f"at E=128 all-shared {d[(128, 'all')]:+.1f}" in q4 and "-2.5" in q4 and "-1.5" in q4
    q8 = card(bank, 8)
    assert "ALBERT-base (5.6×) against BERT-base (4.7×)" in q8 and "1.19×" in q8 and "an inference" in q8
    assert "Avg 87.2" in q8 and "88.7" in q8
    q5 = card(bank, 5)
    assert "act as a form of regularization" in q5 and "90.4 with dropout, 90.7 without" in q5
    for number in (9, 10):
        albert_int8 = param_count(PRESETS["albert-base"]) / 1e6
        assert f"{albert_int8:.1f} MB in int8" in card(bank, number) and "activations" in card(bank, number)
    assert "GLUE points" not in " ".join(q.model_answer + q.explanation for q in bank)


def test_no_placeholder_is_left_unfilled(bank):
    for q in bank:
        for text in (q.prompt, q.explanation, q.model_answer, *q.options):
            assert "{" not in text and "}" not in text, q.id


def test_facts_errors_name_the_question():
    base = {"id": "x-1", "topic": "cost", "kind": "numeric", "prompt": "P?", "explanation": "E.", "page": "parameters"}
    with pytest.raises(BankError, match="x-1.*unknown fact 'nope'"):
        parse_bank([base | {"compute": "nope"}])
    with pytest.raises(BankError, match="either 'answer' or 'compute'"):
        parse_bank([base | {"compute": "layer_m", "answer": 7}])
    with pytest.raises(BankError, match="x-1.*in 'prompt'.*unknown fact 'missing'"):
        parse_bank([base | {"compute": "layer_m", "prompt": "How big is {missing}?"}])
    with pytest.raises(BankError, match="not a number"):
        parse_bank([base | {"compute": "plan_cycle_6_3"}])
    q = parse_bank([base | {"compute": "layer_m", "prompt": "Layer {layer_m:.3f}M, plan {plan_cycle_rev_6_4}?"}])[0]
    assert q.prompt == "Layer 7.088M, plan ABCDDC?" and q.answer == pytest.approx(7.087872)


UPGRADED = ["sharing-ffn-vs-attention", "sharing-table4-drop", "sharing-fig1", "strategy-purpose", "eelbert-what",
            "eelbert-uno", "lin-finding", "lin-gradient", "lin-practice", "cost-flops-sharing"]


def test_upgraded_items_cannot_be_guessed_by_the_longest_option(bank):
    for qid in UPGRADED:
        q = by_id(bank, qid)
        lengths = [len(o) for o in q.options]
        right = lengths[q.correct[0]]
        others = sorted(v for i, v in enumerate(lengths) if i != q.correct[0])
        assert len(q.options) >= 4, qid
        assert right <= 1.4 * others[len(others) // 2], (qid, lengths)


def test_new_topics_have_questions_and_the_bank_grew(bank):
    assert len(bank) >= 49 + 15
    topics = {q.topic for q in bank}
    assert {"training", "deploy"} <= topics
    ids = {q.id for q in bank}
    assert {"sop-what", "dropout-table8", "embed-e-sweep-shared", "equal-time-table6", "sharing-universal-transformer",
            "strategy-findings", "quant-int8-albert", "eelbert-measured-latency", "eelbert-tradeoffs",
            "sharing-when-it-hurts"} <= ids
    assert "ALBERT" in by_id(bank, "sharing-what-is-stored").prompt
