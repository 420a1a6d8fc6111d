"""The hostile inputs of tests/bad_inputs.py typed into the real app in Chromium.

AppTest cannot see what the browser does with the text; here a fired alert() (from a <script> or an
onerror handler smuggled into a chart label, the bertviz iframe or a message) fails the test through the
dialog listener, and Streamlit's exception box must never appear. Inputs are looped within one page visit
per text box to keep the suite fast; each page must still answer a valid input afterwards.
"""

from __future__ import annotations

import pytest
from bad_inputs import BAD_INPUTS, BLANK, INJECTIONS

from albertviz.quiz import TOPICS, load_bank
from albertviz.quiz.engine import practice_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def check(app, box: str, name: str) -> None:
    assert not app.exceptions(), f"{box} ← {name}: {app.exceptions()}"
    assert not app.dialogs, f"{box} ← {name}: dialog {app.dialogs}"
    assert "Traceback" not in app.text(), f"{box} ← {name}"


def test_attention_sentence_and_pair_boxes(app):
    app.visit("attention")
    for name, value in BAD_INPUTS.items():
        app.type("attention.text", value)
        check(app, "attention.text", name)
        if name in BLANK:
            assert any("Type a sentence above" in a for a in app.alerts()), name
        else:
            assert app.charts() >= 4, f"attention.text ← {name}: {app.alerts()}"
    for name in INJECTIONS:  # as the second sentence of a pair, with bertviz showing both
        app.type("attention.text", "The cat sat on the mat.")
        app.type("attention.pair", BAD_INPUTS[name])
        check(app, "attention.pair", name)
        assert app.page.locator("iframe").count() >= 1
    app.type("attention.pair", "")
    app.type("attention.text", "Good night, sweet prince.")
    check(app, "attention.text", "valid")
    assert app.charts() >= 4
    app.assert_healthy()


def test_hidden_states_sentence_box(app):
    app.visit("hidden_states")
    for name in ["whitespace", "10000 characters", "zero-width and control", *sorted(INJECTIONS)]:
        app.type("hidden_states.sentence", BAD_INPUTS[name])
        check(app, "hidden_states.sentence", name)
    app.type("hidden_states.sentence", "Now is the winter of our discontent.")
    assert app.charts("hidden_states.fig1") == 1
    app.assert_healthy()


def test_embeddings_word_box(app):
    app.visit("embeddings")
    app.radio("embeddings.mode", "type any word")
    for name, value in BAD_INPUTS.items():
        app.type("embeddings.word", value)
        check(app, "embeddings.word", name)
        assert app.charts("embeddings.fig_ngrams") == 1 or app.page.locator(
            '[data-testid="stAlertContentError"], [data-testid="stAlert"]').count(), name
    app.type("embeddings.word", "Verona")
    assert app.charts("embeddings.fig_ngrams") == 1
    app.assert_healthy()


def first_numeric_seed() -> int:
    """A seed whose practice quiz (all topics, 10 questions) opens with a numeric question: a text box."""
    bank = load_bank()
    return next(s for s in range(500)
                if practice_session(bank, list(TOPICS), 10, s).questions[0].kind == "numeric")


def test_quiz_number_box_and_interview_notes(app):
    app.visit("quiz")
    app.type("quiz.seed", str(first_numeric_seed())).click("quiz.start")
    for name, value in BAD_INPUTS.items():
        app.type("quiz.answer.0", value).click("quiz.submit")
        check(app, "quiz.answer.0", name)
        assert app.metric("Score") == "0 / 0", name  # not graded: a hint to type a number instead
    app.type("quiz.answer.0", "3").click("quiz.submit")
    assert app.metric("Score") in ("0 / 1", "1 / 1")

    app.click("quiz.restart")
    app.radio("quiz.mode", "Interview — open cards, rate yourself")
    app.click("quiz.start")
    for name in ["10000 characters", *sorted(INJECTIONS)]:
        app.type("quiz.notes.0", BAD_INPUTS[name])
        check(app, "quiz.notes.0", name)
    app.click("quiz.reveal")
    assert "Model answer" in app.text()
    app.assert_healthy()


def test_parameter_explorer_refuses_an_impossible_shape_then_recovers(app):
    app.visit("parameters")
    app.type("parameters.num_heads", "7")
    assert any("not divisible by num_heads 7" in a for a in app.alerts()), app.alerts()
    check(app, "parameters.num_heads", "7 heads")
    app.type("parameters.num_heads", "12")
    assert app.metric("Unique parameters").endswith("M")
    app.assert_healthy()
