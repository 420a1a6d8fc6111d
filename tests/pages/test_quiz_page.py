"""The Quiz page plays a whole quiz: score, review of mistakes, CSV download, restart, and progress
that survives a visit to another page."""

import io

import pandas as pd
import pytest
from conftest import ROOT, page_file
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from albertviz.quiz import load_bank
from albertviz.quiz.engine import practice_session
from albertviz.quiz.grading import RATINGS

QUIZ, HOME = page_file("quiz"), page_file("home")
PRACTICE_TOPICS = ["sharing", "strategies", "embeddings", "cost", "computed"]


def app() -> AppTest:
    """The real app: app.py with st.navigation over every page."""
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


@pytest.fixture
def downloads(monkeypatch):
    """Every file handed to st.download_button during the test, as (file_name, bytes)."""
    files = []
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        files.append((file_name, path_or_data))
        return original(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return files


def quiz_page() -> AppTest:
    at = app().run()
    assert not at.exception
    at.switch_page(QUIZ).run()
    assert not at.exception and has_button(at, "quiz.start")
    return at


def has_button(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


def pick_seed(length: int) -> int:
    """A seed whose practice quiz has single, multiple and numeric questions among the first `length`."""
    bank = load_bank()
    for seed in range(200):
        kinds = {q.kind for q in practice_session(bank, PRACTICE_TOPICS, length, seed).questions}
        if {"single", "multiple", "numeric"} <= kinds:
            return seed
    raise AssertionError("no seed mixes all kinds")


def answer(at: AppTest, q, i: int, right: bool) -> None:
    """Fill in question i's widget with a right or a wrong answer."""
    if q.kind == "single":
        choice = q.correct[0] if right else (q.correct[0] + 1) % len(q.options)
        at.radio(key=f"quiz.answer.{i}").set_value(choice)
    elif q.kind == "multiple":
        chosen = set(q.correct) if right else (set(q.correct) ^ {0}) or {0, 1}
        for j in chosen:
            at.checkbox(key=f"quiz.answer.{i}.{j}").check()
    else:
        at.text_input(key=f"quiz.answer.{i}").input(str(q.answer if right else q.answer * 3 + 7))


def test_practice_quiz_score_review_csv_page_switch_and_restart(downloads):
    length = 6
    seed = pick_seed(length)
    at = quiz_page()
    at.multiselect(key="quiz.topics").set_value(PRACTICE_TOPICS)
    at.number_input(key="quiz.length").set_value(length)
    at.number_input(key="quiz.seed").set_value(seed)
    at.button(key="quiz.start").click().run()
    assert not at.exception
    questions = at.session_state["quiz.session"].questions
    assert [q.id for q in questions] == [q.id for q in practice_session(load_bank(), PRACTICE_TOPICS, length,
                                                                         seed).questions]
    pattern = [True, False, True, True, False, True]

    # Unusable input is refused without counting as an answer.
    at.button(key="quiz.submit").click().run()
    assert at.warning and at.session_state["quiz.session"].answered == 0

    for i, (q, right) in enumerate(zip(questions, pattern, strict=True)):
        assert any(q.prompt in m.value for m in at.markdown), f"question {i} not shown"
        answer(at, q, i, right)
        at.button(key="quiz.submit").click().run()
        assert not at.exception
        if right:
            assert at.success and "Correct" in at.success[0].value
        else:
            assert at.error and "Right answer" in at.error[0].value
        assert any(q.explanation.split("\n")[0][:40] in m.value for m in at.markdown)
        score = sum(pattern[: i + 1])
        assert next(m.value for m in at.metric if m.label == "Score") == f"{score} / {i + 1}"

        if i == 2:  # leave for the home page mid-quiz, come back: nothing is lost
            at.switch_page(HOME).run()
            assert not at.exception and not has_button(at, "quiz.submit")
            at.switch_page(QUIZ).run()
            assert not at.exception
            s = at.session_state["quiz.session"]
            assert s.position == 2 and s.answered == 3 and s.score == 2
            assert at.success and has_button(at, "quiz.next")  # still showing question 3's feedback
        at.button(key="quiz.next").click().run()

    # The end: score, review of the two mistakes, CSV.
    assert next(m.value for m in at.metric if m.label == "Final score") == "4 / 6"
    wrong = [q for q, ok in zip(questions, pattern, strict=True) if not ok]
    assert len(at.expander) == 2
    for exp, q in zip(at.expander, wrong, strict=True):
        assert q.prompt in exp.label
    name, data = downloads[-1]
    assert name.endswith(f"seed{seed}.csv")
    df = pd.read_csv(io.StringIO(data.decode() if isinstance(data, bytes) else data))
    assert list(df["id"]) == [q.id for q in questions]
    assert list(df["correct"]) == pattern and df["score"].sum() == 4

    at.button(key="quiz.restart").click().run()
    assert "quiz.session" not in at.session_state and has_button(at, "quiz.start")


def test_interview_cards_reveal_rate_and_review(downloads):
    at = quiz_page()
    at.radio(key="quiz.mode").set_value("interview").run()
    at.number_input(key="quiz.length").set_value(3)
    at.toggle(key="quiz.timer").set_value(True).run()
    at.button(key="quiz.start").click().run()
    s = at.session_state["quiz.session"]
    assert s.mode == "interview" and s.time_limit_s == 120 and all(q.kind == "open" for q in s.questions)
    ratings = list(RATINGS)  # Nailed it, Partly, Missed it
    for i, q in enumerate(s.questions):
        assert any(q.prompt in m.value for m in at.markdown)
        assert not any(q.model_answer[:60] in m.value for m in at.markdown)  # hidden until revealed
        assert any("left for this card" in c.value for c in at.caption)
        at.button(key="quiz.reveal").click().run()
        assert any(q.model_answer[:60] in m.value for m in at.markdown)
        at.button(key=f"quiz.rate.{i}").click().run()
        assert not at.exception
        assert ratings[i] in at.session_state["quiz.session"].attempts[i].grade.response
    assert next(m.value for m in at.metric if m.label == "Final score") == "1.5 / 3"
    assert len(at.expander) == 2  # "Partly" and "Missed it" come back for review
    df = pd.read_csv(io.StringIO(downloads[-1][1].decode()))
    assert list(df["score"]) == [1.0, 0.5, 0.0] and df["seconds"].notna().all()


def test_no_topic_or_no_answer_gives_a_hint_not_a_traceback():
    at = AppTest.from_file(QUIZ, default_timeout=60).run()  # the page alone, outside the navigation
    at.multiselect(key="quiz.topics").set_value([])
    at.button(key="quiz.start").click().run()
    assert not at.exception and "choose at least one topic" in at.warning[0].value
    at.multiselect(key="quiz.topics").set_value(["computed"])
    at.number_input(key="quiz.length").set_value(1)
    at.button(key="quiz.start").click().run()
    q = at.session_state["quiz.session"].current
    at.text_input(key="quiz.answer.0").input("twelve million")
    at.button(key="quiz.submit").click().run()
    assert "is not a number" in at.warning[0].value and at.session_state["quiz.session"].answered == 0
    at.text_input(key="quiz.answer.0").input(f"{q.answer:,.3f}")
    at.button(key="quiz.submit").click().run()
    assert not at.exception and at.success  # within the 2% tolerance, link shown as text outside the app
    assert any("Parameter explorer" in c.value for c in at.caption)


def test_interview_notes_and_a_half_given_answer_survive_a_page_switch_and_reach_the_csv(downloads):
    at = quiz_page()
    at.radio(key="quiz.mode").set_value("interview").run()
    assert at.number_input(key="quiz.length").value == 5  # an interview's own default, not practice's 10
    at.number_input(key="quiz.length").set_value(2)
    at.number_input(key="quiz.seed").set_value(7).run()
    at.switch_page(HOME).run()
    at.switch_page(QUIZ).run()
    assert at.radio(key="quiz.mode").value == "interview"  # the setup was kept too
    assert at.number_input(key="quiz.length").value == 2 and at.number_input(key="quiz.seed").value == 7
    at.button(key="quiz.start").click().run()

    at.text_area(key="quiz.notes.0").input("Sharing cuts parameters, not FLOPs.").run()
    at.switch_page(HOME).run()
    assert not at.exception
    at.switch_page(QUIZ).run()
    assert at.text_area(key="quiz.notes.0").value == "Sharing cuts parameters, not FLOPs."
    at.button(key="quiz.reveal").click().run()
    at.button(key="quiz.rate.1").click().run()  # "Partly"
    at.text_area(key="quiz.notes.1").input("Embeddings: V·E + E·H.").run()
    at.button(key="quiz.reveal").click().run()
    at.button(key="quiz.rate.0").click().run()
    assert not at.exception
    assert any("Sharing cuts parameters" in m.value for m in at.markdown)  # the review shows the notes
    df = pd.read_csv(io.StringIO(downloads[-1][1].decode()))
    assert list(df["notes"]) == ["Sharing cuts parameters, not FLOPs.", "Embeddings: V·E + E·H."]
    score = next(m for m in at.metric if m.label == "Final score")
    assert score.value == "1.5 / 2" and score.proto.delta == "75%"
    assert score.proto.direction == MetricProto.MetricDirection.NONE  # a share, not a rise: no "↑ 75%"


def test_a_half_given_practice_answer_survives_a_page_switch():
    at = quiz_page()
    at.multiselect(key="quiz.topics").set_value(["computed"])
    at.number_input(key="quiz.length").set_value(1)
    at.button(key="quiz.start").click().run()
    at.text_input(key="quiz.answer.0").input("12.5").run()
    at.switch_page(HOME).run()
    at.switch_page(QUIZ).run()
    assert at.text_input(key="quiz.answer.0").value == "12.5"
